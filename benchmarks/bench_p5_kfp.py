"""P5: the pipelines magics against the KFP SDK used by hand, side by side in one process.

Two figures, each the ratio of medians over alternating repetitions:
- `%%kfp_component` + `%kfp compile` vs a hand-written `@dsl.component` + `Compiler().compile`
  of the same function (goal <= 1.10);
- `%kfp run --local --wait` of a 3-step pipeline vs calling the same pipeline under raw
  `kfp.local` (goal <= 1.05).
Both sides run as notebook cells in one real IPython shell. Run: python benchmarks/bench_p5_kfp.py
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FUNCTION = """def scale(values: list, factor: float = 2.0) -> list:
    import statistics
    mean = statistics.mean(values)
    return [(v - mean) * factor for v in values]
"""

MAGIC_STEPS = """
%%kfp_component add
def add(a: int, b: int) -> int:
    print("adding", a, b)
    return a + b
"""

MAGIC_DOUBLE = """
%%kfp_component double
def double(x: int) -> int:
    return 2 * x
"""

MAGIC_PIPELINE = """
%%kfp_pipeline magic_three --params a:int=1,b:int=2
total = add(a=a, b=b)
twice = double(x=total.output)
double(x=twice.output)
"""

RAW = """
from kfp import compiler, dsl, local

@dsl.component(base_image="python:3.11")
def raw_add(a: int, b: int) -> int:
    print("adding", a, b)
    return a + b

@dsl.component(base_image="python:3.11")
def raw_double(x: int) -> int:
    return 2 * x

@dsl.pipeline(name="raw-three")
def raw_three(a: int = 1, b: int = 2):
    total = raw_add(a=a, b=b)
    twice = raw_double(x=total.output)
    raw_double(x=twice.output)
"""


def timed(action: Callable[[], object]) -> float:
    """Wall time of one call; as timeit does, the garbage collector waits until after it."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        action()
        return time.perf_counter() - start
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--component-reps", type=int, default=200)
    parser.add_argument("--run-reps", type=int, default=11)
    options = parser.parse_args()

    from _results import record
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_mlops.magics.kfp import KfpMagics

    workspace = Path(tempfile.mkdtemp(prefix="bench-p5-"))
    os.chdir(workspace)
    shell = InteractiveShell.instance()
    magics = KfpMagics(shell=shell, pipelines_dir=str(workspace / "history"))
    shell.register_magics(magics)

    def cell(source: str) -> object:
        result = shell.run_cell(source, store_history=False)
        result.raise_error()
        return result.result

    quiet = open(os.devnull, "w")  # noqa: SIM115 - open for the whole benchmark

    def component_by_magic() -> None:
        with contextlib.redirect_stdout(quiet):
            cell(f"%%kfp_component\n{FUNCTION}")
            cell("%kfp compile scale -o magic.yaml")

    def component_by_hand() -> None:
        with contextlib.redirect_stdout(quiet):
            cell(f'@dsl.component(base_image="python:3.11")\n{FUNCTION}')
            cell("compiler.Compiler().compile(scale, 'hand.yaml')")

    def run_by_magic() -> None:
        with contextlib.redirect_stdout(quiet):
            run = cell("%kfp run magic_three --local --param a=3 --wait")
        assert run.status.value == "SUCCEEDED", run

    def run_by_hand() -> None:
        with contextlib.redirect_stdout(quiet):
            task = cell("raw_three(a=3, b=2)")
        assert task is not None

    cell("from kfp import compiler, dsl")
    for source in (MAGIC_STEPS, MAGIC_DOUBLE, MAGIC_PIPELINE):
        with contextlib.redirect_stdout(quiet):
            cell(source)
    cell(RAW)
    cell(
        "local.init(runner=local.SubprocessRunner(use_venv=False), "
        f"pipeline_root={str(workspace / 'raw-outputs')!r})"
    )

    # One of each first: imports, the worker process server, file system caches.
    warm = {
        "component_magic": timed(component_by_magic),
        "component_hand": timed(component_by_hand),
        "run_magic": timed(run_by_magic),
        "run_hand": timed(run_by_hand),
    }

    component_magic: list[float] = []
    component_hand: list[float] = []
    for i in range(options.component_reps):
        pair = [(component_by_magic, component_magic), (component_by_hand, component_hand)]
        for action, samples in pair if i % 2 == 0 else reversed(pair):
            samples.append(timed(action))

    run_magic: list[float] = []
    run_hand: list[float] = []
    for i in range(options.run_reps):
        pair = [(run_by_magic, run_magic), (run_by_hand, run_hand)]
        for action, samples in pair if i % 2 == 0 else reversed(pair):
            samples.append(timed(action))

    component_ratio = statistics.median(component_magic) / statistics.median(component_hand)
    run_ratio = statistics.median(run_magic) / statistics.median(run_hand)
    met = component_ratio <= 1.10 and run_ratio <= 1.05
    entry = record(
        "P5",
        value=round(max(component_ratio / 1.10, run_ratio / 1.05), 3),
        unit="ratio",
        goal="<= 1.10 (component) and <= 1.05 (local run)",
        baseline="hand-written @dsl.component / raw kfp.local",
        met=met,
        component_ratio=round(component_ratio, 3),
        run_ratio=round(run_ratio, 3),
        component_median_ms={
            "magic": round(statistics.median(component_magic) * 1000, 2),
            "hand": round(statistics.median(component_hand) * 1000, 2),
        },
        run_median_s={
            "magic": round(statistics.median(run_magic), 3),
            "hand": round(statistics.median(run_hand), 3),
        },
        repetitions={"component": options.component_reps, "run": options.run_reps},
        first_call_s={k: round(v, 3) for k, v in warm.items()},
        note="value is the worse of the two ratios, each divided by its goal (<= 1 means met)",
    )
    print(
        f"component: magic {entry['component_median_ms']['magic']} ms vs hand "
        f"{entry['component_median_ms']['hand']} ms, ratio {component_ratio:.3f} (goal <= 1.10)"
    )
    print(
        f"local run: magic {entry['run_median_s']['magic']} s vs raw kfp.local "
        f"{entry['run_median_s']['hand']} s, ratio {run_ratio:.3f} (goal <= 1.05)"
    )
    print(f"first calls (s): {entry['first_call_s']}; met: {met}")
    print(f"run samples (s): magic {[round(x, 3) for x in run_magic]}")
    print(f"                 hand  {[round(x, 3) for x in run_hand]}")


if __name__ == "__main__":
    main()
