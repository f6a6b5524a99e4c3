"""Read and update benchmarks/results.json, the one file every figure is recorded in."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


def record(
    figure: str,
    *,
    value: float,
    unit: str,
    goal: str,
    baseline: str,
    met: bool,
    **extra: Any,
) -> dict[str, Any]:
    """Write one figure's entry, leaving the other figures as they are."""
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    entry = {
        "value": value,
        "unit": unit,
        "goal": goal,
        "baseline": baseline,
        "met": bool(met),
        "measured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }
    results[figure] = entry
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return entry
