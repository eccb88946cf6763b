"""The baseline of bench/api.py: the same JSON as a generation poll, without auth, rate limiting or database."""

from django.http import JsonResponse

_BODY = {
    "generationId": "gen_0123456789abcdefghijkl",
    "status": "COMPLETED",
    "productExternalId": "bench-mock",
    "resultImageUrl": "http://127.0.0.1:8000/files/result/2026/01/01/abcdefghijklmnopqrstuvwx.jpg?exp=1&sig=0",
    "resultImageExpiresAt": "2026-01-01T00:00:00.000Z",
    "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z",
    "completedAt": "2026-01-01T00:00:00.000Z",
    "durationMs": 0,
}


def bare_generation_view(request):
    return JsonResponse(_BODY)
