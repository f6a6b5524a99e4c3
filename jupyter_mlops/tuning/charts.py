"""The search's two SVG charts: the objective by trial (with the best so far), and parallel
coordinates (one axis per parameter and one for the objective, one line per trial).

Axes, ticks and colours follow the metric charts of `jupyter_mlops.tracking.chart`. Every
text drawn is escaped, so a parameter's value cannot inject markup.
"""

from __future__ import annotations

import math
from html import escape

from ..tracking.chart import GRID_COLOUR, TEXT_COLOUR, nice_axis, tick_label
from .models import Trial, TrialState, Tuning

BEST = "#388e3c"
LINE = "#1976d2"
FAILED = "#d32f2f"
MARGIN = 56


def _known(value: object) -> bool:
    """Whether a value can be placed on an axis: given, and not a NaN or an infinity."""
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def _scored(tuning: Tuning) -> list[tuple[int, Trial]]:
    return [(n, t) for n, t in enumerate(tuning.trials, 1) if _known(t.objective)]


def _header(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{MARGIN}" y="14" font-weight="bold">{escape(title)}</text>',
    ]


def _empty(parts: list[str], width: int, height: int, words: str) -> str:
    parts.append(
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{TEXT_COLOUR}">'
        f"{escape(words)}</text></svg>"
    )
    return "".join(parts)


def metric_by_trial(tuning: Tuning, *, width: int = 480, height: int = 220) -> str:
    """The objective of each trial that reported it (dots), and the best so far (a line)."""
    title = f"{tuning.metric} by trial ({tuning.direction})"
    parts = _header(width, height, title)
    scored = _scored(tuning)
    if not scored:
        return _empty(parts, width, height, "no trial has reported the objective yet")
    left, top, right, bottom = MARGIN, 28, width - 16, height - 36
    xs = nice_axis(1, max(len(tuning.trials), 1), 6, integer=True)
    values = [t.objective or 0.0 for _, t in scored]
    ys = nice_axis(min(values), max(values), 5)

    def sx(x: float) -> float:
        return left + (x - xs.low) / (xs.high - xs.low) * (right - left)

    def sy(y: float) -> float:
        return bottom - (y - ys.low) / (ys.high - ys.low) * (bottom - top)

    for tick in ys.ticks:
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" '
            f'stroke="{GRID_COLOUR}"/><text x="{left - 4}" y="{sy(tick) + 4:.1f}" '
            f'text-anchor="end" fill="{TEXT_COLOUR}">{tick_label(tick, ys.step)}</text>'
        )
    for tick in xs.ticks:
        parts.append(
            f'<text x="{sx(tick):.1f}" y="{bottom + 14}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}">{tick_label(tick, xs.step)}</text>'
        )
    parts.append(
        f'<text x="{(left + right) / 2}" y="{bottom + 30}" text-anchor="middle">trial</text>'
    )
    best: float | None = None
    steps = []
    for index, trial in scored:
        value = trial.objective or 0.0
        if best is None or (value > best if tuning.direction == "maximize" else value < best):
            best = value
        steps.append(f"{sx(index):.1f},{sy(best):.1f}")
        label = escape(f"{trial.name}: {tuning.metric}={value:.4g}")
        parts.append(
            f'<circle cx="{sx(index):.1f}" cy="{sy(value):.1f}" r="3.5" fill="{LINE}">'
            f"<title>{label}</title></circle>"
        )
    parts.append(
        f'<polyline points="{" ".join(steps)}" fill="none" stroke="{BEST}" stroke-width="1.5"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _position(value: object, values: list[object]) -> float | None:
    """Where a value sits on its axis, 0 (bottom) to 1 (top); numbers by value, others by
    order of first appearance."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) == len(values) and isinstance(value, (int, float)):
        low, high = min(numbers), max(numbers)
        return 0.5 if high == low else (float(value) - low) / (high - low)
    order = list(dict.fromkeys(str(v) for v in values))
    return 0.5 if len(order) == 1 else order.index(str(value)) / (len(order) - 1)


def parallel_coordinates(tuning: Tuning, *, width: int = 480, height: int = 220) -> str:
    """One vertical axis per parameter and one for the objective; each trial a line across
    them (the best one green and on top, failed ones red and dashed)."""
    names = list(tuning.space) or sorted({k for t in tuning.trials for k in t.parameters})
    axes = [*names, tuning.metric]
    parts = _header(width, height, "parameters and " + tuning.metric)
    ended = [t for t in tuning.trials if t.state.finished]
    if not ended:
        return _empty(parts, width, height, "no trial has ended yet")
    left, top, right, bottom = MARGIN, 32, width - MARGIN, height - 30
    gap = (right - left) / max(len(axes) - 1, 1)
    columns = {
        axis: [t.parameters.get(axis) if axis != tuning.metric else t.objective for t in ended]
        for axis in axes
    }
    best = tuning.best()
    drawn = sorted(ended, key=lambda t: best is not None and t.name == best.name)
    for trial in drawn:
        points = []
        for n, axis in enumerate(axes):
            value = trial.parameters.get(axis) if axis != tuning.metric else trial.objective
            known = [v for v in columns[axis] if _known(v)]
            if not _known(value):
                continue
            where = _position(value, known)
            if where is not None:
                points.append(f"{left + n * gap:.1f},{bottom - where * (bottom - top):.1f}")
        is_best = best is not None and trial.name == best.name
        failed = trial.state != TrialState.SUCCEEDED
        colour = BEST if is_best else FAILED if failed else LINE
        extra = ' stroke-dasharray="4 3"' if failed else ""
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="{2.5 if is_best else 1.2}" opacity="{1 if is_best else 0.6}"{extra}>'
            f"<title>{escape(trial.name)}</title></polyline>"
        )
    for n, axis in enumerate(axes):
        x = left + n * gap
        known = [v for v in columns[axis] if _known(v)]
        low, high = _ends(known)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#888"/>'
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(axis)}</text>'
            f'<text x="{x + 3:.1f}" y="{top - 4}" fill="{TEXT_COLOUR}">{escape(high)}</text>'
            f'<text x="{x + 3:.1f}" y="{bottom - 3}" fill="{TEXT_COLOUR}">{escape(low)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _ends(values: list[object]) -> tuple[str, str]:
    """The labels at the bottom and top of an axis."""
    if not values:
        return "", ""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        return f"{min(numbers):.4g}", f"{max(numbers):.4g}"
    order = list(dict.fromkeys(str(v) for v in values))
    return order[0], order[-1]


__all__ = ["metric_by_trial", "parallel_coordinates"]
