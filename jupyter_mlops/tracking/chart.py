"""A small SVG line chart of metric histories, one line per run, with a legend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from .models import MetricHistory

# Distinct on light and dark backgrounds alike.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 24, 36
LEGEND_LINE = 18


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

    `labels` name the lines in the legend (default: the run ids); every label and the metric
    name are escaped, so a run name cannot inject markup.
    """
    names = list(labels) if labels is not None else [h.run_id for h in histories]
    if len(names) != len(histories):
        raise ValueError("give one label per history")
    series = [
        [(p.step, p.value) for p in h.points if p.value is not None and math.isfinite(p.value)]
        for h in histories
    ]
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
        x_low, x_high = min(x for x, _ in points), max(x for x, _ in points)
        y_low, y_high = min(y for _, y in points), max(y for _, y in points)
        x_span = (x_high - x_low) or 1
        y_span = (y_high - y_low) or abs(y_high) or 1.0

        def sx(x: float) -> float:
            return left + (x - x_low) / x_span * (right - left)

        def sy(y: float) -> float:
            return bottom - (y - y_low) / y_span * (bottom - top)

        parts.append(
            f'<path d="M{left},{top} L{left},{bottom} L{right},{bottom}" fill="none" '
            'stroke="#888" stroke-width="1"/>'
        )
        for text, x, y, anchor in (
            (_number(y_high), left - 4, top + 4, "end"),
            (_number(y_low), left - 4, bottom, "end"),
            (f"step {x_low}", left, bottom + 14, "start"),
            (f"step {x_high}", right, bottom + 14, "end"),
        ):
            parts.append(f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="#666">{text}</text>')
        for index, line in enumerate(series):
            if not line:
                continue
            colour = COLOURS[index % len(COLOURS)]
            if len(line) == 1:
                step, value = line[0]
                parts.append(
                    f'<circle cx="{sx(step):.1f}" cy="{sy(value):.1f}" r="2.5" fill="{colour}"/>'
                )
                continue
            drawn = " ".join(f"{sx(step):.1f},{sy(value):.1f}" for step, value in line)
            parts.append(
                f'<polyline points="{drawn}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
    else:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#666">'
            "no values logged</text>"
        )
    for index, (name, history) in enumerate(zip(names, histories, strict=True)):
        colour = COLOURS[index % len(COLOURS)]
        row = height + index * LEGEND_LINE + 4
        note = f" ({history.total} points)" if history.downsampled else ""
        parts.append(
            f'<rect x="{left}" y="{row}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + 18}" y="{row + 10}">{escape(name)}{escape(note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
