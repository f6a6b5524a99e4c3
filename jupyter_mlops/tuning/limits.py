"""How far a search goes: trials in all, at once, and failures it tolerates."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput


@dataclass(frozen=True)
class Limits:
    """`max_trials` in all, `parallel` at a time; the search stops failed once more than
    `max_failed` trials have failed (Katib's maxTrialCount, parallelTrialCount and
    maxFailedTrialCount)."""

    max_trials: int = 12
    parallel: int = 3
    max_failed: int = 3

    def __post_init__(self) -> None:
        for name, value, least in (
            ("max_trials", self.max_trials, 1),
            ("parallel", self.parallel, 1),
            ("max_failed", self.max_failed, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise BadInput(f"{name} must be a whole number of at least {least}, not {value!r}")
        if self.parallel > self.max_trials:
            raise BadInput(
                f"parallel ({self.parallel}) cannot exceed max_trials ({self.max_trials})"
            )
        if self.max_failed > self.max_trials:
            raise BadInput(
                f"max_failed ({self.max_failed}) cannot exceed max_trials ({self.max_trials})"
            )


__all__ = ["Limits"]
