"""Local runs started from a plain script, with no main guard, or from a script on stdin.

Workers must not run the caller's main script again: a script without `if __name__ ==
"__main__"` would start a second run from inside the first, and one read from stdin cannot
be run again at all.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def double(x: int) -> int:
    return 2 * x


@dsl.pipeline(name="doubling")
def doubling(x: int = 3) -> None:
    double(x=x)


SCRIPT = """
from jupyter_mlops.pipelines.local import LocalPipelines

backend = LocalPipelines({root!r})
run = backend.submit({pipeline!r}, {{"x": 4}})
print("ended", backend.wait(run.id, timeout=120).status.value)
"""


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_script_without_a_main_guard_starts_exactly_one_run(how: str, tmp_path: Path) -> None:
    pipeline = tmp_path / "doubling.yaml"
    compiler.Compiler().compile(doubling, str(pipeline))
    root = tmp_path / "runs"
    source = SCRIPT.format(root=str(root), pipeline=str(pipeline))
    if how == "file":
        script = tmp_path / "train.py"
        script.write_text(source)
        command, given = [sys.executable, str(script)], None
    else:
        command, given = [sys.executable, "-"], source
    done = subprocess.run(
        command, input=given, capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "ended SUCCEEDED", done.stdout
    assert len([p for p in root.iterdir() if p.is_dir()]) == 1
