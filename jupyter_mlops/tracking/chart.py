"""A small SVG line chart of metric histories, one line per run, with a legend.

Ticks and run colours follow the same rules as the sidebar's charts
(`labextension/src/chartScale.ts`): a test runs both on the same inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from .models import MetricHistory

# The light theme's values of the sidebar's chart colours (mlflow.css), in the same order:
# brand, warn, success, error, purple, info, brown, pink.
RUN_COLOURS = (
    "#1976d2",
    "#f57c00",
    "#388e3c",
    "#d32f2f",
    "#9c27b0",
    "#0097a7",
    "#795548",
    "#e91e63",
)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 16, 24, 44
LEGEND_LINE = 18
TEXT_COLOUR = "#616161"
GRID_COLOUR = "#e0e0e0"
SQRT2, SQRT10, SQRT50 = math.sqrt(2), math.sqrt(10), math.sqrt(50)


@dataclass(frozen=True)
class Axis:
    """The range an axis draws, its ticks and the distance between two of them."""

    low: float
    high: float
    step: float
    ticks: tuple[float, ...]


def run_colour_index(run_id: str) -> int:
    """The palette index of a run: FNV-1a of its id's UTF-8 bytes, whatever else is charted."""
    value = 0x811C9DC5
    for byte in run_id.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % len(RUN_COLOURS)


def run_colour(run_id: str) -> str:
    """The colour a run is drawn in, here and in the sidebar."""
    return RUN_COLOURS[run_colour_index(run_id)]


def nice_step(span: float, count: int) -> float:
    """The round step (1, 2 or 5 times a power of 10) that cuts `span` into about `count` parts."""
    rough = span / max(1, count)
    power = math.pow(10, math.floor(math.log10(rough)))
    fraction = rough / power
    # The thresholds are the geometric means of 1, 2, 5 and 10, as d3 rounds its ticks.
    nice = 1 if fraction < SQRT2 else 2 if fraction < SQRT10 else 5 if fraction < SQRT50 else 10
    return nice * power


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def nice_axis(low: float, high: float, count: int = 5, integer: bool = False) -> Axis:
    """An axis over `low`..`high` with about `count` round ticks, widened to the ticks around
    them; a single value gets an axis around it, and `integer` axes tick only on integers."""
    if low == high:
        if integer:
            return Axis(low - 1, high + 1, 1, (low,))
        pad = 1.0 if low == 0 else abs(low) * 0.1
        low, high = low - pad, high + pad
    step = nice_step(high - low, count)
    if integer:
        step = max(1, round(step))
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    decimals = _decimals(step)
    ticks = tuple(round(i * step, decimals) for i in range(first, last + 1))
    return Axis(ticks[0], ticks[-1], step, ticks)


def tick_label(value: float, step: float) -> str:
    """A tick's label with as many decimals as its step needs: 0.25, 1.5, 20, 1e-7."""
    if value == 0:
        return "0"
    decimals = _decimals(step)
    if decimals > 6 or step >= 1e6:
        digits = max(0, math.floor(math.log10(abs(value))) - math.floor(math.log10(step)))
        mantissa, exponent = f"{value:.{min(digits, 6)}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.{decimals}f}"


def _number(value: float) -> str:
    return f"{value:.4g}"


def metric_chart(
    histories: Sequence[MetricHistory],
    labels: Sequence[str] | None = None,
    *,
    width: int = 560,
    height: int = 260,
) -> str:
    """An SVG document drawing each history's finite values against steps.

    Every tick is labelled with a round value, both axes are titled, each run has the colour
    its id gives (dashed when an earlier line has the same colour), and a single logged value
    is drawn as a labelled dot in the middle of its axes. `labels` name the lines in the legend
    (default: the run ids); every label and the metric name are escaped, so a run name cannot
    inject markup.
    """
    names = list(labels) if labels is not None else [h.run_id for h in histories]
    if len(names) != len(histories):
        raise ValueError("give one label per history")
    series = [
        [(p.step, p.value) for p in h.points if p.value is not None and math.isfinite(p.value)]
        for h in histories
    ]
    styles = _line_styles([h.run_id for h in histories])
    legend_height = LEGEND_LINE * len(histories)
    total_height = height + legend_height
    title = escape(", ".join(sorted({h.key for h in histories})) or "metric")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_height}" '
        f'viewBox="0 0 {width} {total_height}" font-family="sans-serif" font-size="11">',
        f"<title>{title}</title>",
        f'<text x="{MARGIN_LEFT}" y="14" font-weight="bold">{title}</text>',
    ]
    points = [xy for line in series for xy in line]
    left, top = MARGIN_LEFT, MARGIN_TOP
    right, bottom = width - MARGIN_RIGHT, height - MARGIN_BOTTOM
    if points:
        x_axis = nice_axis(min(x for x, _ in points), max(x for x, _ in points), 6, integer=True)
        y_axis = nice_axis(min(y for _, y in points), max(y for _, y in points), 5)

        def sx(x: float) -> float:
            return left + (x - x_axis.low) / (x_axis.high - x_axis.low) * (right - left)

        def sy(y: float) -> float:
            return bottom - (y - y_axis.low) / (y_axis.high - y_axis.low) * (bottom - top)

        parts.extend(_axes(x_axis, y_axis, sx, sy, (left, top, right, bottom), title))
        for index, line in enumerate(series):
            if not line:
                continue
            colour, dashed = styles[index]
            if len(line) == 1:
                step, value = line[0]
                parts.append(
                    f'<circle cx="{sx(step):.1f}" cy="{sy(value):.1f}" r="4" fill="{colour}"/>'
                    f'<text x="{sx(step) + 7:.1f}" y="{sy(value) - 7:.1f}" '
                    f'fill="{TEXT_COLOUR}">{_number(value)}</text>'
                )
                continue
            drawn = " ".join(f"{sx(step):.1f},{sy(value):.1f}" for step, value in line)
            dash = ' stroke-dasharray="6 3"' if dashed else ""
            parts.append(
                f'<polyline points="{drawn}" fill="none" stroke="{colour}" '
                f'stroke-width="1.5"{dash}/>'
            )
    else:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{TEXT_COLOUR}">'
            "no values logged</text>"
        )
    for index, (name, history) in enumerate(zip(names, histories, strict=True)):
        colour, _ = styles[index]
        row = height + index * LEGEND_LINE + 4
        note = f" ({history.total} points)" if history.downsampled else ""
        parts.append(
            f'<rect x="{left}" y="{row}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + 18}" y="{row + 10}">{escape(name)}{escape(note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _line_styles(run_ids: Sequence[str]) -> list[tuple[str, bool]]:
    """Each run's colour, and whether an earlier run of the chart took it (then: dashed)."""
    taken: set[int] = set()
    styles = []
    for run_id in run_ids:
        index = run_colour_index(run_id)
        styles.append((RUN_COLOURS[index], index in taken))
        taken.add(index)
    return styles


def _axes(
    x_axis: Axis,
    y_axis: Axis,
    sx: Callable[[float], float],
    sy: Callable[[float], float],
    box: tuple[float, float, float, float],
    title: str,
) -> list[str]:
    """Grid lines and a label at every tick, and the title of each axis."""
    left, top, right, bottom = box
    parts = []
    for value in y_axis.ticks:
        y = sy(value)
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT_COLOUR}">'
            f"{tick_label(value, y_axis.step)}</text>"
        )
    for step in x_axis.ticks:
        x = sx(step)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#888"/>'
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="{TEXT_COLOUR}">'
            f"{tick_label(step, x_axis.step)}</text>"
        )
    parts.append(
        f'<path d="M{left},{top} L{left},{bottom} L{right},{bottom}" fill="none" '
        'stroke="#888" stroke-width="1"/>'
        f'<text x="{(left + right) / 2}" y="{bottom + 34}" text-anchor="middle">step</text>'
        f'<text transform="translate(14 {(top + bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle">{title}</text>'
    )
    return parts
