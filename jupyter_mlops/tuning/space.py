"""The search space: each parameter's range (`uniform`, `loguniform`, `integer`, `choice`),
read from Python or from text such as `lr=loguniform(1e-4,1e-1)`."""

from __future__ import annotations

import ast
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import BadInput

Kind = Literal["uniform", "loguniform", "int", "choice"]
Value = float | int | str | bool
#: Grid points a float range without a step would give: refused instead of guessed.
MAX_GRID = 10_000
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TEXT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([a-z]+)\s*\((.*)\)\s*", re.DOTALL)
FORMS = "uniform(LOW,HIGH), loguniform(LOW,HIGH), int(LOW,HIGH) or choice(A,B,...)"


@dataclass(frozen=True)
class Param:
    """One searched parameter: a range (`low`..`high`, with an optional grid `step`) or a list
    of `values` to choose from."""

    kind: Kind
    low: float | None = None
    high: float | None = None
    step: float | None = None
    values: tuple[Value, ...] = ()

    def sample(self, rng: random.Random) -> Value:
        """A value drawn at random: uniformly, uniformly in log scale, or one of the values."""
        if self.kind == "choice":
            return rng.choice(self.values)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return rng.randint(int(self.low), int(self.high))
        if self.kind == "loguniform":
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)

    def grid(self, name: str) -> list[Value]:
        """Every value a grid search tries, in order; `BadInput` for a range it cannot cut."""
        if self.kind == "choice":
            return list(self.values)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            step = int(self.step or 1)
            return list(range(int(self.low), int(self.high) + 1, step))
        if self.kind == "loguniform":
            raise BadInput(
                f"{name}: a grid search cannot cut loguniform(); list the values with choice(...)"
            )
        if self.step is None:
            raise BadInput(
                f"{name}: a grid search needs a step for uniform(), e.g. "
                f"uniform({self.low:g},{self.high:g},step=0.1)"
            )
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        if count > MAX_GRID:
            raise BadInput(
                f"{name}: a step of {self.step:g} gives {count} points; use a larger one"
            )
        return [round(self.low + i * self.step, 12) for i in range(count)]

    def describe(self) -> str:
        """The parameter as a user writes it: `loguniform(0.0001,0.1)`."""
        if self.kind == "choice":
            shown = (repr(v) if isinstance(v, str) else str(v) for v in self.values)
            return f"choice({','.join(shown)})"
        step = f",step={self.step:g}" if self.step is not None else ""
        low, high = (
            (int(self.low or 0), int(self.high or 0))
            if self.kind == "int"
            else (
                self.low,
                self.high,
            )
        )
        return f"{self.kind}({low:g},{high:g}{step})"


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadInput(f"{what} must be a finite number, not {value!r}")
    return float(value)


def _bounds(low: Any, high: Any, what: str) -> tuple[float, float]:
    lo, hi = _number(low, f"{what}: the low end"), _number(high, f"{what}: the high end")
    if lo >= hi:
        raise BadInput(f"{what}: the low end ({lo:g}) must be below the high end ({hi:g})")
    return lo, hi


def _step(step: Any, what: str) -> float | None:
    if step is None:
        return None
    value = _number(step, f"{what}: the step")
    if value <= 0:
        raise BadInput(f"{what}: the step must be above 0, not {value:g}")
    return value


def uniform(low: float, high: float, step: float | None = None) -> Param:
    """A float drawn evenly between `low` and `high` (a grid search steps by `step`)."""
    lo, hi = _bounds(low, high, "uniform()")
    return Param("uniform", lo, hi, _step(step, "uniform()"))


def loguniform(low: float, high: float) -> Param:
    """A float whose logarithm is drawn evenly: learning rates, regularisation strengths."""
    lo, hi = _bounds(low, high, "loguniform()")
    if lo <= 0:
        raise BadInput(f"loguniform(): the low end must be above 0, not {lo:g}")
    return Param("loguniform", lo, hi)


def integer(low: int, high: int, step: int | None = None) -> Param:
    """An integer from `low` to `high`, both included (in text: `int(2,8)`)."""
    for end in (low, high):
        if isinstance(end, bool) or not isinstance(end, int):
            raise BadInput(f"int(): the ends must be integers, not {end!r}")
    if low >= high:
        raise BadInput(f"int(): the low end ({low}) must be below the high end ({high})")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step <= 0):
        raise BadInput(f"int(): the step must be a whole number above 0, not {step!r}")
    return Param("int", float(low), float(high), float(step) if step is not None else None)


def choice(*values: Value) -> Param:
    """One of `values` (numbers, strings or booleans, at least two, no repeats)."""
    if len(values) < 2:
        raise BadInput("choice(): give at least two values to choose from")
    for value in values:
        if not isinstance(value, (int, float, str, bool)):
            raise BadInput(f"choice(): {value!r} is not a number, a string or a boolean")
    # By type too: 1 and True are equal in Python, not to the component.
    if len({(type(v), v) for v in values}) != len(values):
        raise BadInput("choice(): a value is listed twice")
    return Param("choice", values=tuple(values))


_FORMS = {"uniform": uniform, "loguniform": loguniform, "int": integer, "choice": choice}


def parse_param(text: str) -> tuple[str, Param]:
    """`name=form(args)` as the magic's `--param` takes it, e.g. `depth=int(2,8)`."""
    found = _TEXT.fullmatch(text)
    if found is None:
        raise BadInput(f"--param {text!r}: write NAME={FORMS}")
    name, form, inside = found.groups()
    make = _FORMS.get(form)
    if make is None:
        raise BadInput(f"--param {text!r}: {form}() is not a range; use {FORMS}")
    try:
        call = ast.parse(f"f({inside})", mode="eval").body
        assert isinstance(call, ast.Call)
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg is not None}
    except (SyntaxError, ValueError, AssertionError):
        raise BadInput(f"--param {text!r}: the arguments of {form}() must be literals") from None
    try:
        param: Param = make(*args, **kwargs)  # type: ignore[operator]
    except TypeError as error:
        raise BadInput(f"--param {text!r}: {error}") from None
    return name, param


def check_space(space: Mapping[str, Param]) -> dict[str, Param]:
    """The space as a dict, each name an identifier and each value a `Param`."""
    if not space:
        raise BadInput("the search space is empty: give at least one parameter")
    checked: dict[str, Param] = {}
    for name, param in space.items():
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            raise BadInput(f"{name!r} cannot name a parameter: use a Python identifier")
        if not isinstance(param, Param):
            raise BadInput(f"{name}: {param!r} is not a range; use {FORMS}")
        checked[name] = param
    return checked


def parse_space(texts: Iterable[str]) -> dict[str, Param]:
    """The space from several `--param` texts; a name given twice is refused."""
    space: dict[str, Param] = {}
    for text in texts:
        name, param = parse_param(text)
        if name in space:
            raise BadInput(f"--param {name} is given twice")
        space[name] = param
    return check_space(space)


__all__ = [
    "FORMS",
    "Param",
    "Value",
    "check_space",
    "choice",
    "integer",
    "loguniform",
    "parse_param",
    "parse_space",
    "uniform",
]
