"""Downsampling keeps a history's shape: ends, extremes, order, and the size asked for."""

from __future__ import annotations

import math
import random

import pytest

from jupyter_mlops.tracking import MetricPoint, downsample


def series(values: list[float | None]) -> list[MetricPoint]:
    return [MetricPoint(step=i, timestamp=1000 + i, value=v) for i, v in enumerate(values)]


def test_a_short_history_is_returned_whole() -> None:
    points = series([3.0, 1.0, 2.0])
    assert downsample(points, 10) == points


@pytest.mark.parametrize("limit", [4, 5, 50, 999])
def test_never_more_points_than_asked_in_step_order(limit: int) -> None:
    rng = random.Random(limit)
    points = series([rng.gauss(0, 1) for _ in range(10_000)])
    kept = downsample(points, limit)
    assert len(kept) <= limit and len(kept) >= min(limit, 4) - 1
    steps = [p.step for p in kept]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)


def test_first_last_and_extremes_survive() -> None:
    rng = random.Random(7)
    values: list[float | None] = [rng.uniform(-1, 1) for _ in range(25_000)]
    values[12_345], values[777] = 50.0, -50.0
    kept = downsample(series(values), 100)
    steps = {p.step for p in kept}
    assert {0, 24_999, 12_345, 777} <= steps


def test_each_bucket_keeps_its_own_low_and_high() -> None:
    # A sawtooth: every bucket has a 0 and a 9, so a chart of the result still spans 0..9.
    kept = downsample(series([float(i % 10) for i in range(1_000)]), 22)
    inner = [p.value for p in kept[1:-1]]
    assert inner.count(0.0) == 10 and inner.count(9.0) == 10


def test_values_that_are_not_numbers_are_not_picked_as_extremes() -> None:
    values: list[float | None] = [1.0] + [math.nan, None, math.inf, 2.0] * 100 + [3.0]
    kept = downsample(series(values), 10)
    assert [p.value for p in kept[1:-1]] == [2.0] * len(kept[1:-1])
    assert kept[0].value == 1.0 and kept[-1].value == 3.0


def test_too_few_points_asked_is_refused() -> None:
    with pytest.raises(ValueError, match="4 or more"):
        downsample(series([1.0] * 10), 3)
