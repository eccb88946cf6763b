"""The product page's statistics and recent generations. The catalog app sits below generations, so the
product page asks for this panel through a hook (products/admin.py) instead of importing upwards."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.admin.utils import quote
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.admin_display import seconds, when
from generations.dashboard import charts, display
from generations.models import Generation, GenerationStatus
from generations.selectors import product_generation_stats
from products.models import Product

RECENT = 6
DAYS = 30


def product_panel(*, product: Product) -> str:
    """The same figures as `GET /products/{id}/stats` (all time), the last 30 days as a chart, and the last
    generations as pictures."""
    stats = product_generation_stats(
        account=product.account, external_id=product.external_id, date_from=None, date_to=None
    )
    generations = Generation.objects.filter(account=product.account, product_external_id=product.external_id)
    today = timezone.localdate()
    first = today - timedelta(days=DAYS - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    rows = {
        row["day"]: row
        for row in generations.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .order_by("day")
        .annotate(
            completed=Count("id", filter=Q(status=GenerationStatus.COMPLETED)),
            failed=Count("id", filter=Q(status=GenerationStatus.FAILED)),
        )
    }
    days = []
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        row = rows.get(day, {})
        days.append(
            charts.Day(label=day.strftime("%m-%d"), completed=row.get("completed", 0), failed=row.get("failed", 0))
        )
    recent = [
        {
            "id": generation.pk,
            "url": reverse("admin:generations_generation_change", args=(quote(generation.pk),)),
            "pictures": display.triptych(generation),
            "status": display.status_badge(generation),
            "error": display.error_in_words(generation),
            "created": when(generation.created_at),
        }
        for generation in generations.order_by("-created_at")[:RECENT]
    ]
    return render_to_string(
        "admin/products/product/panel.html",
        {
            "stats": stats,
            "average": seconds(stats["avgGenerationTimeMs"]) if stats["completedGenerations"] else "—",
            "chart": charts.stacked_days(days=days, chart_id="chart-product-days", height=180),
            "recent": recent,
            "all_url": reverse("admin:generations_generation_changelist")
            + "?"
            + urlencode({"product": product.external_id}),
        },
    )
