"""Downsampling a metric history to a few points while keeping its shape."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .models import MetricPoint

MIN_POINTS = 4


def downsample(points: Sequence[MetricPoint], limit: int) -> list[MetricPoint]:
    """At most `limit` points of `points` (in step order): the first, the last, and the lowest
    and highest value of each of `(limit - 2) // 2` equal buckets in between.

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
    kept: list[MetricPoint] = [points[0]]
    for bucket in range(buckets):
        start, stop = int(bucket * width), int((bucket + 1) * width)
        lowest: tuple[float, int] | None = None
        highest: tuple[float, int] | None = None
        for index in range(start, stop):
            value = inner[index].value
            if value is None or not math.isfinite(value):
                continue
            if lowest is None or value < lowest[0]:
                lowest = (value, index)
            if highest is None or value > highest[0]:
                highest = (value, index)
        picked = sorted({found[1] for found in (lowest, highest) if found is not None})
        kept.extend(inner[i] for i in picked)
    kept.append(points[-1])
    return kept
