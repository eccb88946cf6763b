"""The overview page (cards, 30-day charts, top products, failures by code) and the CSV export."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.admin_scoping import is_operator, request_account
from accounts.models import Account
from generations.dashboard import charts
from generations.dashboard.filters import DateRangeFilter
from generations.dashboard.overview import credits_consumed, generations_csv_rows, overview_stats


def _visible_accounts(request):
    """A merchant's own account; for an operator every account, or the one chosen with ?account=."""
    if not is_operator(request):
        return Account.objects.filter(pk=getattr(request_account(request), "pk", None)), None
    accounts = Account.objects.all()
    if request.GET.get("account", "").isdigit():
        chosen = accounts.filter(pk=int(request.GET["account"])).first()
        return accounts.filter(pk=getattr(chosen, "pk", None)), chosen
    return accounts, None


def overview_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    accounts, chosen = _visible_accounts(request)
    generations = model_admin.get_queryset(request).filter(account__in=accounts)
    now = timezone.now()
    stats = overview_stats(generations=generations, now=now)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Overview",
        "opts": model_admin.model._meta,
        "stats": stats,
        "credits_left": accounts.aggregate(total=Sum("credit_balance"))["total"] or 0,
        "credits_consumed": credits_consumed(accounts=accounts, since=stats["trend_start"]),
        "per_day_chart": charts.stacked_days(days=stats["days"], chart_id="chart-per-day"),
        "time_chart": charts.line(points=stats["daily_average"], chart_id="chart-time", unit="s"),
        "zone": timezone.get_current_timezone_name(),
        "is_operator": is_operator(request),
        "account_choices": Account.objects.order_by("name") if is_operator(request) else (),
        "chosen_account": chosen,
        "export_from": (timezone.localtime(now) - timedelta(days=29)).date().isoformat(),
        "export_to": timezone.localtime(now).date().isoformat(),
    }
    return TemplateResponse(request, "admin/generations/overview.html", context)


def export_view(model_admin, request):
    """GET ?created_from=&created_to= (dates, inclusive; optional) and ?status=: a CSV of the viewer's own
    generations, streamed row by row."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    accounts, _ = _visible_accounts(request)
    generations = model_admin.get_queryset(request).filter(account__in=accounts)
    params = {name: request.GET[name] for name in DateRangeFilter.parameters if name in request.GET}
    generations = DateRangeFilter(request, dict(params), model_admin.model, model_admin).queryset(request, generations)
    status = request.GET.get("status__exact") or request.GET.get("status")
    if status:
        generations = generations.filter(status=status)
    response = StreamingHttpResponse(
        generations_csv_rows(
            generations=generations, time_zone=timezone.get_current_timezone(), with_account=is_operator(request)
        ),
        content_type="text/csv",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="generations-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
