"""The notebook's metric chart: round ticks, every tick labelled, titled axes, a colour per run
that the sidebar's chart gives it too, and a readable single point."""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from jupyter_mlops.tracking import MetricHistory, MetricPoint
from jupyter_mlops.tracking.chart import (
    RUN_COLOURS,
    metric_chart,
    nice_axis,
    run_colour,
    run_colour_index,
    tick_label,
)

REPO = Path(__file__).resolve().parents[2]
CHART_SCALE_TS = REPO / "labextension" / "src" / "chartScale.ts"
TYPESCRIPT = REPO / "node_modules" / "typescript"
# Ranges a training run logs: losses, learning rates, accuracies, steps, one value.
RANGES = [
    (0.0, 39.0),
    (0.0, 0.00017),
    (0.2, 0.95),
    (-3.0, 12.0),
    (5.0, 5.0),
    (0.0, 0.0),
    (1e-9, 5e-9),
    (0.0, 2e7),
    (0.0123, 0.0456),
    (100.0, 10_000.0),
]
RUN_IDS = [uuid.UUID(int=n * 7919).hex for n in range(40)] + ["a", "run-0", "Ünïcode", ""]


def history(run_id: str, values: list[float], key: str = "loss") -> MetricHistory:
    points = [MetricPoint(step=i, timestamp=1000 + i, value=v) for i, v in enumerate(values)]
    return MetricHistory(
        run_id=run_id, key=key, total=len(points), downsampled=False, points=points
    )


def labels(svg: str, anchor: str) -> list[str]:
    """The tick labels of one axis: the y axis's end at the left, the x axis's are centred."""
    return re.findall(
        rf'<text x="[^"]+" y="[^"]+" text-anchor="{anchor}" fill="[^"]+">([^<]+)<', svg
    )


def is_round(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(abs(mantissa - m) < 1e-9 for m in (1, 2, 5, 10))


@pytest.mark.parametrize(("low", "high"), RANGES)
def test_ticks_fall_on_round_steps_and_cover_the_values(low: float, high: float) -> None:
    axis = nice_axis(low, high)
    assert is_round(axis.step)
    assert axis.low <= low and axis.high >= high
    gaps = {round(b - a, 12) for a, b in itertools.pairwise(axis.ticks)}
    assert gaps == {round(axis.step, 12)}
    assert 3 <= len(axis.ticks) <= 11


def test_the_issues_ranges_read_as_round_numbers() -> None:
    steps = nice_axis(0, 39, 6, integer=True)
    assert [tick_label(t, steps.step) for t in steps.ticks] == [
        "0", "5", "10", "15", "20", "25", "30", "35", "40",
    ]  # fmt: skip
    small = nice_axis(0, 1.7e-4)
    assert [tick_label(t, small.step) for t in small.ticks] == [
        "0", "0.00005", "0.00010", "0.00015", "0.00020",
    ]  # fmt: skip


def test_every_tick_of_both_axes_is_labelled_and_the_axes_are_titled() -> None:
    svg = metric_chart([history("r1", [1 / (1 + s) for s in range(40)])], ["fast"])
    y_axis = nice_axis(1 / 40, 1.0)
    x_axis = nice_axis(0, 39, 6, integer=True)
    assert labels(svg, "end") == [tick_label(t, y_axis.step) for t in y_axis.ticks]
    assert labels(svg, "middle") == [tick_label(t, x_axis.step) for t in x_axis.ticks]
    assert re.search(r'<text x="[^"]+" y="250" text-anchor="middle">step</text>', svg)
    assert 'rotate(-90)" text-anchor="middle">loss</text>' in svg


def test_a_run_has_its_own_colour_wherever_it_is_charted() -> None:
    a, b, c = "0a1b2c3d4e5f", "ffeeddccbbaa", "1234abcd"
    together = metric_chart([history(a, [1, 2]), history(b, [2, 1])])
    alone = metric_chart([history(c, [1, 3]), history(a, [3, 1])])
    assert f'stroke="{run_colour(a)}"' in together and f'stroke="{run_colour(a)}"' in alone
    assert run_colour_index(a) == run_colour_index(a)
    assert len(set(RUN_COLOURS)) == len(RUN_COLOURS)


def test_two_runs_of_one_colour_are_told_apart_by_a_dash() -> None:
    first = RUN_IDS[0]
    twin = next(r for r in RUN_IDS[1:] if run_colour_index(r) == run_colour_index(first))
    svg = metric_chart([history(first, [1, 2]), history(twin, [2, 1])])
    lines = re.findall(r"<polyline [^>]+>", svg)
    assert len(lines) == 2
    assert "stroke-dasharray" not in lines[0] and "stroke-dasharray" in lines[1]


def test_a_single_value_sits_mid_chart_with_its_value_and_its_step() -> None:
    svg = metric_chart([history("one", [0.8123])], width=560, height=260)
    (dot,) = re.findall(r'<circle cx="([^"]+)" cy="([^"]+)"', svg)
    left, right, top, bottom = 72, 560 - 16, 24, 260 - 44
    assert float(dot[0]) == pytest.approx((left + right) / 2, abs=1)
    quarter = (bottom - top) / 4
    assert top + quarter < float(dot[1]) < bottom - quarter
    assert ">0.8123<" in svg
    # One step, one tick: no step -1 or 1 that was never logged.
    assert labels(svg, "middle") == ["0"]
    assert all(0.7 <= float(v) <= 0.9 for v in labels(svg, "end"))


def typescript_answers(ids: list[str], ranges: list[tuple[float, float]]) -> dict[str, object]:
    """What chartScale.ts answers for the same ids and ranges, run through node."""
    node = shutil.which("node")
    # `make test` installs both; without them this comparison fails rather than pass unseen.
    assert node is not None and TYPESCRIPT.exists(), "run `npm install`: node and tsc are needed"
    script = f"""
const ts = require({json.dumps(str(TYPESCRIPT))});
const fs = require('fs');
const source = fs.readFileSync({json.dumps(str(CHART_SCALE_TS))}, 'utf8');
const js = ts.transpileModule(source, {{
  compilerOptions: {{ module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 }}
}}).outputText;
const scale = {{}};
new Function('exports', js)(scale);
const ids = {json.dumps(ids)};
const ranges = {json.dumps(ranges)};
const axes = ranges.map(([low, high]) => {{
  const axis = scale.niceAxis(low, high);
  const steps = scale.niceAxis(Math.round(low), Math.round(high), 6, true);
  return {{
    ticks: axis.ticks.map(t => scale.tickLabel(t, axis.step)),
    steps: steps.ticks.map(t => scale.tickLabel(t, steps.step))
  }};
}});
console.log(JSON.stringify({{
  palette: scale.PALETTE_SIZE,
  colours: ids.map(id => scale.runColourIndex(id)),
  axes
}}));
"""
    done = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, check=True, timeout=60
    )
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_the_sidebar_and_the_notebook_agree_on_colours_and_ticks() -> None:
    answer = typescript_answers(RUN_IDS, RANGES)
    assert answer["palette"] == len(RUN_COLOURS)
    assert answer["colours"] == [run_colour_index(run_id) for run_id in RUN_IDS]
    expected = []
    for low, high in RANGES:
        axis = nice_axis(low, high)
        steps = nice_axis(round(low), round(high), 6, integer=True)
        expected.append(
            {
                "ticks": [tick_label(t, axis.step) for t in axis.ticks],
                "steps": [tick_label(t, steps.step) for t in steps.ticks],
            }
        )
    assert answer["axes"] == expected
