"""Geometry of the server-side SVG charts on the insights page (the template draws it)."""

import math
from dataclasses import dataclass

from django.utils import timezone

from lookup.insights.queries import OUTCOMES, Bucket, Window

WIDTH, HEIGHT = 900, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 44  # room for the y labels and the x labels below
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def y_scale(value: int) -> tuple[int, int]:
    """(top, step) of the y axis: a whole 1/2/5 x 10^k step, at most five of them up to the top."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if math.ceil(value / (m * step)) <= 5:
                return max(1, math.ceil(value / (m * step))) * m * step, m * step
        step *= 10


@dataclass
class Segment:
    outcome: str
    y: float
    height: float


@dataclass
class Bar:
    x: float
    width: float
    label_x: float
    title: str
    segments: list[Segment]
    label: str  # shown under the bar when not empty


def bucket_label(window: Window, start) -> str:
    local = timezone.localtime(start)
    return f"{local:%H:%M}" if window.unit == "hour" else f"{local:%b} {local.day}"


def bucket_title(window: Window, bucket: Bucket) -> str:
    """The tooltip of one bar: when, total, and each outcome's count."""
    local = timezone.localtime(bucket.start)
    when = f"{local:%a %b} {local.day}, {local:%H:00}" if window.unit == "hour" else f"{local:%a %b} {local.day}"
    parts = ", ".join(f"{o.label.lower()} {bucket.counts[o.value]:,}" for o in OUTCOMES)
    return f"{when}: {bucket.total:,} lookups ({parts})"


def stacked_bars(window: Window, series: list[Bucket]) -> dict:
    """Bars stacked by outcome, y gridlines and x labels for the template's <svg>."""
    top, step = y_scale(max((b.total for b in series), default=0))
    slot = PLOT_W / max(len(series), 1)
    gap = max(1.0, slot * 0.15)
    label_every = max(1, round(len(series) / 12))  # about a dozen x labels whatever the window
    bars = []
    for index, bucket in enumerate(series):
        y = TOP + PLOT_H
        segments = []
        for outcome in OUTCOMES:
            n = bucket.counts[outcome.value]
            if n:
                height = PLOT_H * n / top
                y -= height
                segments.append(Segment(outcome.value, round(y, 2), round(height, 2)))
        bars.append(
            Bar(
                x=round(LEFT + index * slot + gap / 2, 2),
                width=round(slot - gap, 2),
                label_x=round(LEFT + index * slot + slot / 2, 2),
                title=bucket_title(window, bucket),
                segments=segments,
                label=bucket_label(window, bucket.start) if (len(series) - 1 - index) % label_every == 0 else "",
            )
        )
    gridlines = [
        {"y": round(TOP + PLOT_H - PLOT_H * value / top, 2), "value": f"{value:,}"} for value in range(0, top + 1, step)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "plot_h": PLOT_H,
        "baseline": TOP + PLOT_H,
        "label_y": TOP + PLOT_H + 18,
        "axis_title_y": HEIGHT - 4,
        "mid_x": LEFT + PLOT_W / 2,
        "mid_y": TOP + PLOT_H / 2,
        "bars": bars,
        "gridlines": gridlines,
        "x_title": "Hour (local time)" if window.unit == "hour" else "Day (local time)",
        "y_title": "Lookups",
    }


LATENCY_LABEL_W, LATENCY_TRACK_W, LATENCY_ROW_H = 64, 400, 26


def latency_bars(percentiles: dict[int, float | None], budget_ms: int, alert_ms: int) -> dict:
    """One horizontal bar per percentile on a 0..budget track, coloured by how close it gets."""
    rows = []
    for index, (p, value) in enumerate(percentiles.items()):
        y = 8 + index * LATENCY_ROW_H
        row = {"p": p, "value": value, "y": y, "mid_y": y + 8, "width": 0, "level": "none"}
        if value is not None:
            row["level"] = "bad" if value >= budget_ms else ("warn" if value > alert_ms else "ok")
            row["width"] = round(max(min(value / budget_ms, 1) * LATENCY_TRACK_W, 1), 1)
        rows.append(row)
    track_end = LATENCY_LABEL_W + LATENCY_TRACK_W
    return {
        "rows": rows,
        "left": LATENCY_LABEL_W,
        "track_w": LATENCY_TRACK_W,
        "track_end": track_end,
        "alert_x": LATENCY_LABEL_W + LATENCY_TRACK_W * alert_ms / budget_ms,
        "value_x": track_end + 8,
        "height": 8 + len(rows) * LATENCY_ROW_H + 18,
        "axis_y": 8 + len(rows) * LATENCY_ROW_H + 12,
        "width": track_end + 110,
    }
