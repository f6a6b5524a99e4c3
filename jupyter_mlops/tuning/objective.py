"""The objective: a metric name and a direction, read from what a trial returned or printed.

Printed metrics are read as Katib's StdOut metrics collector reads them: a line is looked at
only if it contains a wanted metric's name, and every `name=value` in it counts (`loss=0.3`,
`accuracy = .98`, `score=-7.53e-05`); a metric printed several times is kept as its min, max
and latest, and the objective's value is the max when maximizing, the min when minimizing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import BadInput

Direction = Literal["maximize", "minimize"]
#: Katib's default metrics filter (its `DefaultFilter`): a name of word characters, '|' or
#: '-', then '=', then a decimal number with an optional exponent.
METRIC_LINE = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")
_NAME = re.compile(r"[\w|-]+")


@dataclass(frozen=True)
class MetricValues:
    """One metric as a trial reported it: its lowest, highest and last value."""

    min: float
    max: float
    latest: float

    def add(self, value: float) -> MetricValues:
        return MetricValues(min(self.min, value), max(self.max, value), value)


@dataclass(frozen=True)
class Objective:
    """What a search optimises: `metric` in `direction`; `additional` are recorded too."""

    metric: str
    direction: Direction = "maximize"
    additional: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in (self.metric, *self.additional):
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise BadInput(
                    f"{name!r} cannot name a metric: use letters, digits, '_' or '-' "
                    "(the metrics collector reads only those)"
                )
        if self.direction not in ("maximize", "minimize"):
            raise BadInput(f"the direction is 'maximize' or 'minimize', not {self.direction!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.metric, *(n for n in self.additional if n != self.metric))

    def better(self, value: float, than: float | None) -> bool:
        """Whether `value` beats `than` (anything beats nothing)."""
        if than is None:
            return True
        return value > than if self.direction == "maximize" else value < than

    def pick(self, values: MetricValues) -> float:
        """The value Katib takes as the objective's: the best one the trial reported."""
        return values.max if self.direction == "maximize" else values.min

    def read(self, outputs: Mapping[str, Any], printed: str) -> dict[str, float]:
        """Every wanted metric of a trial: from its outputs, else from its printed lines.

        An output named as a metric is that metric; a component's single unnamed output
        (`Output`) is the objective's metric when the component printed no value for it.
        """
        found = {name: self.pick(v) for name, v in metrics_from_lines(printed, self.names).items()}
        for name in self.names:
            value = _finite(outputs.get(name))
            if value is not None:
                found[name] = value
        single = _finite(outputs.get("Output")) if len(outputs) == 1 else None
        if self.metric not in found and single is not None:
            found[self.metric] = single
        return found


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def metrics_from_lines(text: str, names: Iterable[str]) -> dict[str, MetricValues]:
    """The `name=value` metrics of `names` printed in `text`, as the StdOut collector reads
    them (lines without a wanted name are skipped; values that are not numbers are too)."""
    wanted = tuple(names)
    found: dict[str, MetricValues] = {}
    for line in text.splitlines():
        if not any(name in line for name in wanted):
            continue
        for match in METRIC_LINE.finditer(line):
            name, raw = match.group(1).strip(), match.group(2).strip()
            if name not in wanted:
                continue
            try:
                value = float(raw)
            except ValueError:
                continue  # "=" followed by no number: Katib records it as unavailable
            if not math.isfinite(value):
                continue
            before = found.get(name)
            found[name] = MetricValues(value, value, value) if before is None else before.add(value)
    return found


def metric_lines(values: Mapping[str, float]) -> str:
    """Metrics printed as the StdOut collector reads them, one `name=value` a line."""
    return "".join(f"{name}={value!r}\n" for name, value in values.items())


__all__ = [
    "METRIC_LINE",
    "Direction",
    "MetricValues",
    "Objective",
    "metric_lines",
    "metrics_from_lines",
]
