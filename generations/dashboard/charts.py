"""Charts drawn on the server as inline SVG: no script, no chart library, nothing loaded from another host.

Every label and value goes through ``format_html`` (escaped); sizes are in SVG user units and the SVG scales to
its container."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

COMPLETED_COLOUR = "#4c9a63"
FAILED_COLOUR = "#c0564b"
LINE_COLOUR = "#417690"


@dataclass(frozen=True)
class Day:
    label: str  # "12-01"
    completed: int
    failed: int


def _nice_max(value: float) -> float:
    """The axis top: the smallest of 1, 2, 5 x 10^n not below ``value`` (so ticks are round numbers)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def stacked_days(*, days: Sequence[Day], chart_id: str, width: int = 720, height: int = 220) -> SafeString:
    """Completed (bottom) and failed (top) generations per day, one bar per day, with a y axis."""
    left, bottom, top = 36, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max((day.completed + day.failed for day in days), default=0))
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)
    bars = []
    for index, day in enumerate(days):
        x = left + index * slot + (slot - bar_w) / 2
        done_h = plot_h * day.completed / peak
        fail_h = plot_h * day.failed / peak
        y_done = top + plot_h - done_h
        title = f"{day.label}: {day.completed} completed, {day.failed} failed"
        bars.append(
            format_html(
                '<g class="day" data-day="{}" data-completed="{}" data-failed="{}"><title>{}</title>'
                '<rect class="completed" x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
                '<rect class="failed" x="{}" y="{}" width="{}" height="{}" fill="{}"/></g>',
                day.label,
                day.completed,
                day.failed,
                title,
                _n(x),
                _n(y_done),
                _n(bar_w),
                _n(done_h),
                COMPLETED_COLOUR,
                _n(x),
                _n(y_done - fail_h),
                _n(bar_w),
                _n(fail_h),
                FAILED_COLOUR,
            )
        )
    ticks = format_html_join(
        "",
        (
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e3e3e3"/>'
            '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#777">{}</text>'
        ),
        (
            (
                left,
                width - 8,
                _n(top + plot_h * (1 - share)),
                _n(top + plot_h * (1 - share)),
                left - 4,
                _n(top + plot_h * (1 - share) + 3),
                _tick(peak * share),
            )
            for share in (0, 0.5, 1)
        ),
    )
    every = max(1, round(len(days) / 10))
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#777">{}</text>',
        (
            (_n(left + index * slot + slot / 2), height - 10, day.label)
            for index, day in enumerate(days)
            if index % every == 0 or index == len(days) - 1
        ),
    )
    legend = format_html(
        '<rect x="{}" y="2" width="10" height="10" fill="{}"/><text x="{}" y="11" font-size="11">completed</text>'
        '<rect x="{}" y="2" width="10" height="10" fill="{}"/><text x="{}" y="11" font-size="11">failed</text>',
        width - 170,
        COMPLETED_COLOUR,
        width - 156,
        width - 80,
        FAILED_COLOUR,
        width - 66,
    )
    return _svg(
        chart_id=chart_id,
        width=width,
        height=height,
        label="Generations per day, completed and failed",
        body=_concat(ticks, *bars, labels, legend),
    )


def line(
    *, points: Sequence[tuple[str, float | None]], chart_id: str, unit: str, width: int = 720, height: int = 180
) -> SafeString:
    """One series over days (None: no value that day, the line breaks)."""
    left, bottom, top = 44, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max((value for _, value in points if value is not None), default=0))
    slot = plot_w / max(len(points) - 1, 1)
    segments, current = [], []
    dots = []
    for index, (label, value) in enumerate(points):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        x, y = left + index * slot, top + plot_h * (1 - value / peak)
        current.append(f"{x:.1f},{y:.1f}")
        dots.append(
            format_html(
                '<circle cx="{}" cy="{}" r="2.5" fill="{}"><title>{}: {} {}</title></circle>',
                _n(x),
                _n(y),
                LINE_COLOUR,
                label,
                _tick(value),
                unit,
            )
        )
    if current:
        segments.append(current)
    paths = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
        ((" ".join(segment), LINE_COLOUR) for segment in segments),
    )
    ticks = format_html_join(
        "",
        (
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e3e3e3"/>'
            '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#777">{} {}</text>'
        ),
        (
            (
                left,
                width - 8,
                _n(top + plot_h * (1 - share)),
                _n(top + plot_h * (1 - share)),
                left - 4,
                _n(top + plot_h * (1 - share) + 3),
                _tick(peak * share),
                unit,
            )
            for share in (0, 0.5, 1)
        ),
    )
    every = max(1, round(len(points) / 10))
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#777">{}</text>',
        (
            (_n(left + index * slot), height - 10, label)
            for index, (label, _) in enumerate(points)
            if index % every == 0 or index == len(points) - 1
        ),
    )
    return _svg(
        chart_id=chart_id,
        width=width,
        height=height,
        label=f"Per day, in {unit}",
        body=_concat(ticks, paths, *dots, labels),
    )


def _concat(*parts: SafeString) -> SafeString:
    # Each part is already escaped markup (format_html); joining keeps it so without mark_safe.
    return format_html_join("", "{}", ((part,) for part in parts))


def _n(value: float) -> str:
    """A coordinate as text: format_html escapes its arguments to strings before formatting them."""
    return f"{value:.1f}"


def _tick(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _svg(*, chart_id: str, width: int, height: int, label: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg id="{}" class="dash-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" '
        'height="{}" role="img" aria-label="{}">{}</svg>',
        chart_id,
        width,
        height,
        width,
        height,
        label,
        body,
    )
