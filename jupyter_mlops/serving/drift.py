"""Drift of a model's inputs from its training data: the population stability index (PSI) and
the two-sample Kolmogorov-Smirnov statistic per feature, and the histograms behind them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import BadInput
from .models import FeatureDrift, Histogram

#: PSI above 0.2 is the usual mark of a shift worth acting on (0.1 to 0.2: watch it).
PSI_THRESHOLD = 0.2
#: A KS statistic above 0.1: the two distributions differ by 10 % of the data somewhere.
KS_THRESHOLD = 0.1
BINS = 10
#: Share given to an empty bin, so PSI stays finite.
FLOOR = 1e-4


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """sum of (current - reference) * ln(current / reference) over the bins' shares."""
    total = 0.0
    for expected, actual in zip(reference, current, strict=True):
        e, a = max(expected, FLOOR), max(actual, FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def _numeric(series: Any) -> bool:
    import pandas as pd  # type: ignore[import-untyped]

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _shares(counts: Any) -> tuple[float, ...]:
    total = float(sum(counts))
    return tuple(float(c) / total if total else 0.0 for c in counts)


def _numeric_feature(
    name: str, reference: Any, current: Any, psi_limit: float, ks_limit: float
) -> tuple[FeatureDrift, Histogram]:
    import numpy as np
    from scipy import stats  # type: ignore[import-untyped]

    ref = reference.to_numpy(dtype=float)
    cur = current.to_numpy(dtype=float)
    # Bins hold a tenth of the training data each; the outer ones reach past both samples.
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, BINS + 1))[1:-1])
    counting = np.concatenate(([-np.inf], inner, [np.inf]))
    ref_shares = _shares(np.histogram(ref, counting)[0])
    cur_shares = _shares(np.histogram(cur, counting)[0])
    low, high = float(min(ref.min(), cur.min())), float(max(ref.max(), cur.max()))
    edges = (low, *(float(e) for e in inner), high)
    test = stats.ks_2samp(ref, cur)
    index = psi(ref_shares, cur_shares)
    ks = float(test.statistic)
    drift = FeatureDrift(
        feature=name,
        kind="numeric",
        psi=index,
        ks=ks,
        ks_pvalue=float(test.pvalue),
        drifted=index > psi_limit or ks > ks_limit,
    )
    return drift, Histogram(name, edges, (), ref_shares, cur_shares)


def _categorical_feature(
    name: str, reference: Any, current: Any, psi_limit: float
) -> tuple[FeatureDrift, Histogram]:
    ref = reference.astype(str).value_counts()
    cur = current.astype(str).value_counts()
    categories = tuple(sorted(set(ref.index) | set(cur.index)))
    ref_shares = _shares([int(ref.get(c, 0)) for c in categories])
    cur_shares = _shares([int(cur.get(c, 0)) for c in categories])
    index = psi(ref_shares, cur_shares)
    drift = FeatureDrift(
        feature=name,
        kind="categorical",
        psi=index,
        ks=None,
        ks_pvalue=None,
        drifted=index > psi_limit,
    )
    return drift, Histogram(name, (), categories, ref_shares, cur_shares)


def compare(
    reference: Any,
    current: Any,
    features: Sequence[str],
    *,
    psi_threshold: float = PSI_THRESHOLD,
    ks_threshold: float = KS_THRESHOLD,
) -> tuple[tuple[FeatureDrift, ...], tuple[Histogram, ...]]:
    """Drift of each of `features` (columns of both DataFrames), with its histogram."""
    missing = [f for f in features if f not in current.columns]
    if missing:
        raise BadInput(f"the inputs lack the model's features {', '.join(missing)}")
    results, plots = [], []
    for feature in features:
        ref, cur = reference[feature].dropna(), current[feature].dropna()
        if ref.empty or cur.empty:
            raise BadInput(f"feature {feature!r} has no values to compare")
        if _numeric(ref) and _numeric(cur):
            drift, plot = _numeric_feature(feature, ref, cur, psi_threshold, ks_threshold)
        else:
            drift, plot = _categorical_feature(feature, ref, cur, psi_threshold)
        results.append(drift)
        plots.append(plot)
    return tuple(results), tuple(plots)
