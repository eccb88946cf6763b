"""Views mounted only in tests, to drive the error shape through paths no public endpoint takes yet."""

from django.urls import include, path, re_path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tryon_project import urls as project_urls


class _Item(serializers.Serializer):
    url = serializers.URLField()


class _Body(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    images = _Item(many=True)


class BoomApi(APIView):
    def get(self, request):
        raise RuntimeError("secret internal detail /etc/passwd")


class EchoApi(APIView):
    def post(self, request):
        body = _Body(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(body.validated_data)


urlpatterns = [
    path(
        "tryon/v1/_test/",
        include([re_path(r"^boom/?$", BoomApi.as_view()), re_path(r"^echo/?$", EchoApi.as_view())]),
    ),
    *project_urls.urlpatterns,
]
