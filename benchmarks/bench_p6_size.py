"""P6: size of the labextension's static JavaScript, as shipped in the wheel.

Measures the production build in jupyter_mlops/labextension/static (run `npm run build:prod`
first). Writes entry P6 of benchmarks/results.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from _results import record

STATIC = Path(__file__).parents[1] / "jupyter_mlops" / "labextension" / "static"
GOAL_KB = 250


def main() -> None:
    files = sorted(STATIC.glob("*.js"))
    if not files:
        raise SystemExit(f"no built labextension in {STATIC}: run `npm run build:prod`")
    total_kb = sum(f.stat().st_size for f in files) / 1024
    entry = record(
        "P6",
        value=round(total_kb, 1),
        unit="KB of static JS",
        goal=f"<= {GOAL_KB} KB",
        baseline="goal only; for comparison other notebook MLOps extensions ship 741 KB and 9.5 MB",
        met=total_kb <= GOAL_KB,
        files={f.name: f.stat().st_size for f in files},
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
