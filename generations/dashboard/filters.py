"""Gallery filters: a date range (two dates, inclusive, in the dashboard's time zone), the engine that ran,
the product and the customer id. Each one narrows the already scoped queryset; none reads another account."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.utils import timezone


def _day_start(value: str) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


class DateRangeFilter(admin.ListFilter):
    """?created_from=YYYY-MM-DD&created_to=YYYY-MM-DD, both optional; a bad date is ignored (shown as empty)."""

    title = "date range"
    template = "admin/generations/generation/date_range_filter.html"
    parameters = ("created_from", "created_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value

    def has_output(self) -> bool:
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def queryset(self, request, queryset):
        start = _day_start(self.values.get("created_from", ""))
        end = _day_start(self.values.get("created_to", ""))
        if start is not None:
            queryset = queryset.filter(created_at__gte=start)
        if end is not None:
            queryset = queryset.filter(created_at__lt=end + timedelta(days=1))
        return queryset

    def choices(self, changelist):
        # One "choice": the form, with the other current filters kept as hidden fields.
        keep = {key: value for key, value in changelist.get_filters_params().items() if key not in self.parameters}
        yield {
            "from": self.values.get("created_from", "") if _day_start(self.values.get("created_from", "")) else "",
            "to": self.values.get("created_to", "") if _day_start(self.values.get("created_to", "")) else "",
            "keep": [(key, value[-1] if isinstance(value, list) else value) for key, value in keep.items()],
            "clear_url": changelist.get_query_string(remove=list(self.parameters)),
        }


class _TextFilter(admin.SimpleListFilter):
    """A filter whose choices are the distinct values present in the viewer's own (scoped) rows."""

    field = ""

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


class EngineFilter(_TextFilter):
    title = "engine"
    parameter_name = "engine_ran"
    field = "timings__engine"

    def lookups(self, request, model_admin):
        names = model_admin.get_queryset(request).exclude(timings={}).values_list("timings__engine", flat=True)
        return [(name, name) for name in sorted({name for name in names.distinct()[:200] if name})]


class ProductFilter(_TextFilter):
    title = "product"
    parameter_name = "product"
    field = "product_external_id"

    def lookups(self, request, model_admin):
        rows = (
            model_admin.get_queryset(request)
            .order_by("product_external_id")
            .values_list("product_external_id", "product_snapshot__title")
            .distinct()[:200]
        )
        labels: dict[str, str] = {}
        for external_id, title in rows:
            labels.setdefault(external_id, f"{title} ({external_id})" if title else external_id)
        return sorted(labels.items(), key=lambda item: item[1].lower())


class CustomerFilter(admin.SimpleListFilter):
    """?customer=<id>: exact match, so one shopper's generations can be linked to (the customer page does)."""

    title = "customer id"
    parameter_name = "customer"
    template = "admin/generations/generation/text_filter.html"

    def lookups(self, request, model_admin):
        # The admin shows a filter only if it has choices; the template draws a text box instead of these.
        return [("", "any")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(customer_id=value) if value else queryset

    def choices(self, changelist):
        keep = {key: value for key, value in changelist.get_filters_params().items() if key != self.parameter_name}
        yield {
            "value": self.value() or "",
            "name": self.parameter_name,
            "keep": [(key, value[-1] if isinstance(value, list) else value) for key, value in keep.items()],
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }
