"""The search algorithms: which parameters each next trial gets.

Locally `random` and `grid` run here; Katib also runs `bayesianoptimization` (and the same
two) by its suggestion service.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping

from ..errors import BadInput
from .space import Param, Value

LOCAL = ("random", "grid")
KATIB = ("random", "grid", "bayesianoptimization")


def check_algorithm(name: str, *, cluster: bool) -> str:
    """The algorithm's name if it can run where asked; `BadInput` naming those that can."""
    known = KATIB if cluster else LOCAL
    if name not in known:
        where = "on Katib" if cluster else "locally"
        more = "" if cluster else " (bayesianoptimization runs on Katib: use --cluster)"
        raise BadInput(f"{name!r} does not run {where}; use {' or '.join(known)}{more}")
    return name


def suggestions(
    algorithm: str, space: Mapping[str, Param], seed: int | None = None
) -> Iterator[dict[str, Value]]:
    """Parameter sets, one per trial: random draws forever, or each point of the grid once."""
    if algorithm == "grid":
        names = list(space)
        axes = [space[name].grid(name) for name in names]
        for point in itertools.product(*axes):
            yield dict(zip(names, point, strict=True))
        return
    if algorithm != "random":
        raise BadInput(f"{algorithm!r} does not run locally; use random or grid")
    rng = random.Random(seed)
    while True:
        yield {name: param.sample(rng) for name, param in space.items()}


def grid_size(space: Mapping[str, Param]) -> int:
    """How many points the grid of `space` has."""
    size = 1
    for name, param in space.items():
        size *= len(param.grid(name))
    return size


__all__ = ["KATIB", "LOCAL", "check_algorithm", "grid_size", "suggestions"]
