"""A finished local pipeline run written into a workspace's history, as an earlier
`%kfp run --local` leaves it, for tests that read runs without running one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jupyter_mlops.pipelines import Run, RunStatus
from jupyter_mlops.pipelines.record import write_run

CREATED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.timezone.utc)


def recorded_run(workspace: Path, run_id: str, pipeline_name: str = "train-model") -> Run:
    """A succeeded run of `pipeline_name`, 4 s long, kept under `workspace`/.mlops/pipelines."""
    run = Run(
        id=run_id,
        name="local try",
        pipeline_name=pipeline_name,
        experiment="Default",
        status=RunStatus.SUCCEEDED,
        created_at=CREATED,
        started_at=CREATED,
        finished_at=CREATED + dt.timedelta(seconds=4),
    )
    folder = workspace / ".mlops" / "pipelines" / run.id
    folder.mkdir(parents=True)
    write_run(folder, run)
    return run
