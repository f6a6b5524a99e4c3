"""The on-disk record of a local run: one folder per run with run.json and per-task logs."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jupyter_mlops.pipelines.models import Run

RECORD = "run.json"
SPEC = "pipeline.pb"
RUN_LOG = "run.log"
TASK_LOGS = "logs"
_UNSAFE = re.compile(r"[^A-Za-z0-9._#-]")


def read_run(run_dir: Path) -> Run:
    """The run recorded in `run_dir`."""
    return Run.model_validate_json((run_dir / RECORD).read_bytes())


def write_run(run_dir: Path, run: Run) -> None:
    """Replace the record at once, so a reader never sees half of it."""
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".run-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(run.model_dump_json(indent=2))
        os.replace(tmp, run_dir / RECORD)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def task_log_path(run_dir: Path, task_id: str) -> Path:
    """Where a task's captured output is kept."""
    return run_dir / TASK_LOGS / (_UNSAFE.sub("_", task_id) + ".log")


def jsonable(value: Any) -> Any:
    """Parameters as they are; artifacts as their type, URI and metadata."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    uri = getattr(value, "uri", None)
    if uri is not None:
        return {
            "artifact": type(value).__name__,
            "name": getattr(value, "name", ""),
            "uri": uri,
            "metadata": jsonable(getattr(value, "metadata", {}) or {}),
        }
    return repr(value)
