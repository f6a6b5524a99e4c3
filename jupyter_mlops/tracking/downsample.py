"""Downsampling a metric history to a few points while keeping its shape."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

MIN_POINTS = 4
P = TypeVar("P")


def _value_of(point: Any) -> float | None:
    value: float | None = point.value
    return value


def downsample(
    points: Sequence[P], limit: int, value: Callable[[P], float | None] = _value_of
) -> list[P]:
    """At most `limit` points of `points` (in step order): the first, the last, and the lowest
    and highest value of each of `(limit - 2) // 2` equal buckets in between. `value` reads a
    point's value (a `MetricPoint`'s by default).

    Every extreme survives (the overall lowest and highest value are some bucket's), so spikes
    and dips stay visible, which evenly spaced picks would lose. Values that are not numbers
    (NaN, infinities, None) are kept only as a first or last point.
    """
    if limit < MIN_POINTS:
        raise ValueError(f"limit must be {MIN_POINTS} or more, not {limit}")
    if len(points) <= limit:
        return list(points)
    inner = points[1:-1]
    buckets = (limit - 2) // 2
    width = len(inner) / buckets
    kept: list[P] = [points[0]]
    for bucket in range(buckets):
        start, stop = int(bucket * width), int((bucket + 1) * width)
        lowest: tuple[float, int] | None = None
        highest: tuple[float, int] | None = None
        for index in range(start, stop):
            number = value(inner[index])
            if number is None or not math.isfinite(number):
                continue
            if lowest is None or number < lowest[0]:
                lowest = (number, index)
            if highest is None or number > highest[0]:
                highest = (number, index)
        picked = sorted({found[1] for found in (lowest, highest) if found is not None})
        kept.extend(inner[i] for i in picked)
    kept.append(points[-1])
    return kept
