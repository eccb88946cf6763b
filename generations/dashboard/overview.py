"""The overview page's figures and the CSV export of generations.

Everything is computed from a queryset the caller has already scoped to what the viewer may see (one account for
a merchant; all, or one chosen, for an operator), so nothing here can widen what a page shows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Account, CreditLedgerEntry, LedgerKind
from generations.dashboard.charts import Day
from generations.models import Generation, GenerationStatus

TREND_DAYS = 30
COMPLETED = Q(status=GenerationStatus.COMPLETED)
FAILED = Q(status=GenerationStatus.FAILED)


def _percentile(*, durations: QuerySet, count: int, share: float) -> int | None:
    """Nearest-rank percentile, read with one ordered OFFSET query (portable: SQLite has no percentile)."""
    if not count:
        return None
    rank = max(1, -(-int(share * 1000) * count // 1000))  # ceil(share * count) without float surprises
    return durations.order_by("duration_ms")[rank - 1]


def overview_stats(*, generations: QuerySet[Generation], now: datetime) -> dict:
    """Counts for the cards (today, last 7 days) and the 30-day trend for the charts."""
    local_now = timezone.localtime(now)
    today_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = Q(created_at__gte=now - timedelta(days=7))
    counts = generations.aggregate(
        today=Count("id", filter=Q(created_at__gte=today_start)),
        week=Count("id", filter=week),
        completed=Count("id", filter=week & COMPLETED),
        failed=Count("id", filter=week & FAILED),
        avg_ms=Avg("duration_ms", filter=week & COMPLETED),
    )
    finished = counts["completed"] + counts["failed"]
    top_errors = (
        generations.filter(week & FAILED)
        .values("error_code")
        .annotate(count=Count("id"))
        .order_by("-count", "error_code")[:5]
    )
    return {
        **counts,
        "success_rate": round(100 * counts["completed"] / finished, 1) if finished else None,
        "avg_seconds": round(counts["avg_ms"] / 1000, 1) if counts["avg_ms"] is not None else None,
        "top_errors": list(top_errors),
        **trend_stats(generations=generations, today=local_now.date()),
    }


def trend_stats(*, generations: QuerySet[Generation], today: date) -> dict:
    first_day = today - timedelta(days=TREND_DAYS - 1)
    start = timezone.make_aware(datetime.combine(first_day, time.min))
    window = generations.filter(created_at__gte=start)
    per_day = {
        row["day"]: row
        for row in window.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .order_by("day")
        .annotate(
            completed=Count("id", filter=COMPLETED),
            failed=Count("id", filter=FAILED),
            avg_ms=Avg("duration_ms", filter=COMPLETED),
        )
    }
    days, average = [], []
    for offset in range(TREND_DAYS):
        day = first_day + timedelta(days=offset)
        row = per_day.get(day, {})
        days.append(Day(label=day.strftime("%m-%d"), completed=row.get("completed", 0), failed=row.get("failed", 0)))
        avg_ms = row.get("avg_ms")
        average.append((day.strftime("%m-%d"), round(avg_ms / 1000, 2) if avg_ms is not None else None))
    completed = window.filter(COMPLETED).exclude(duration_ms=None).values_list("duration_ms", flat=True)
    done = completed.count()
    totals = window.aggregate(completed=Count("id", filter=COMPLETED), failed=Count("id", filter=FAILED))
    finished = totals["completed"] + totals["failed"]
    top_products = list(
        window.values("product_external_id")
        .annotate(count=Count("id"), completed=Count("id", filter=COMPLETED))
        .order_by("-count", "product_external_id")[:5]
    )
    titles = dict(
        window.filter(product_external_id__in=[row["product_external_id"] for row in top_products]).values_list(
            "product_external_id", "product_snapshot__title"
        )
    )
    for row in top_products:
        row["title"] = titles.get(row["product_external_id"]) or ""
    failures = list(
        window.filter(FAILED).values("error_code").annotate(count=Count("id")).order_by("-count", "error_code")[:10]
    )
    peak = max((row["count"] for row in failures), default=0)
    for row in failures:
        row["share"] = round(100 * row["count"] / peak) if peak else 0
    p50, p95 = (_percentile(durations=completed, count=done, share=share) for share in (0.5, 0.95))
    return {
        "days": days,
        "daily_average": average,
        "trend_completed": totals["completed"],
        "trend_failed": totals["failed"],
        "trend_success_rate": round(100 * totals["completed"] / finished, 1) if finished else None,
        "p50_seconds": round(p50 / 1000, 1) if p50 is not None else None,
        "p95_seconds": round(p95 / 1000, 1) if p95 is not None else None,
        "top_products": top_products,
        "failures": failures,
        "trend_start": start,
    }


def credits_consumed(*, accounts: QuerySet[Account], since: datetime) -> int:
    """Credits spent since ``since``: reserves (one per accepted generation) less the refunds of failed ones."""
    moved = CreditLedgerEntry.objects.filter(
        account__in=accounts,
        created_at__gte=since,
        kind__in=(LedgerKind.RESERVE, LedgerKind.REFUND),
    ).aggregate(total=Sum("amount"))["total"]
    return -(moved or 0)


# --- CSV export --------------------------------------------------------------------------------------------------
CSV_COLUMNS = (
    "id",
    "created_at",
    "status",
    "product_external_id",
    "product_title",
    "customer_id",
    "engine",
    "duration_ms",
    "error_code",
    "error_message",
    "result_deleted",
    # The IANA zone of created_at (ISO 8601 with its offset), so a spreadsheet can tell where the day begins.
    "time_zone",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is quoted as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def generations_csv_rows(
    *, generations: QuerySet[Generation], time_zone: tzinfo, with_account: bool = False
) -> Iterator[str]:
    """The rows of the export, times in ``time_zone``; ``with_account`` (operators, who may export several
    accounts) adds the account. The zone is a parameter, not the active one: a streamed response is written
    after the view (and the middleware that activated the account's zone) has returned."""
    zone_name = str(getattr(time_zone, "key", "") or time_zone)
    writer = csv.writer(_Echo())
    yield writer.writerow((*CSV_COLUMNS, "account") if with_account else CSV_COLUMNS)
    rows = generations.order_by("created_at", "id").values_list(
        "id",
        "created_at",
        "status",
        "product_external_id",
        "product_snapshot__title",
        "customer_id",
        "engine",
        "timings__engine",
        "duration_ms",
        "error_code",
        "error_message",
        "result_deleted",
        "account__name",
    )
    for (
        pk,
        created_at,
        status,
        external_id,
        title,
        customer_id,
        engine,
        engine_ran,
        duration_ms,
        error_code,
        error_message,
        result_deleted,
        account_name,
    ) in rows.iterator(chunk_size=500):
        values = [
            pk,
            created_at.astimezone(time_zone).isoformat(),
            status,
            external_id,
            title,
            customer_id,
            engine_ran or engine or "default",
            duration_ms,
            error_code,
            error_message,
            "yes" if result_deleted else "no",
            zone_name,
        ]
        if with_account:
            values.append(account_name)
        yield writer.writerow([_cell(value) for value in values])
