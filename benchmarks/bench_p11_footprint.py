"""P11: the runtime footprint, a venv with what `make demo` installs, against bare JupyterLab.

Both venvs are made side by side in one run, from the same package index and the same Python,
so the ratio compares like with like. Writes entry P11 of benchmarks/results.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import record

ROOT = Path(__file__).parents[1]
GOAL_RATIO = 1.6  # the product may weigh at most 60 % more than the JupyterLab it extends


def venv_with(folder: Path, *requirements: str) -> int:
    """Make a venv in `folder` with `requirements`; its size in bytes."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    env = {**os.environ, "HATCH_JUPYTER_BUILDER_SKIP_NPM": "1"}
    subprocess.run([*pip, *requirements], check=True, env=env, cwd=ROOT)
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def biggest(folder: Path, count: int = 8) -> dict[str, float]:
    """The heaviest installed distributions, in MB, to say what pulls the weight."""
    site = next((folder / "lib").glob("python3*/site-packages"))
    sizes = {
        entry.name: sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
        for entry in site.iterdir()
        if entry.is_dir() and not entry.name.endswith((".dist-info", "__pycache__"))
    }
    top = sorted(sizes.items(), key=lambda item: -item[1])[:count]
    return {name: round(size / 2**20, 1) for name, size in top}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        jupyterlab = venv_with(Path(tmp) / "lab", "jupyterlab>=4.6,<4.7")
        product = venv_with(Path(tmp) / "product", str(ROOT))
        heaviest = biggest(Path(tmp) / "product")
    ratio = product / jupyterlab
    entry = record(
        "P11",
        value=round(product / 2**20),
        unit="MB installed by make demo",
        goal=f"<= {GOAL_RATIO} x bare JupyterLab",
        baseline=f"bare JupyterLab {round(jupyterlab / 2**20)} MB in the same run",
        met=ratio <= GOAL_RATIO,
        ratio=round(ratio, 2),
        heaviest_mb=heaviest,
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
