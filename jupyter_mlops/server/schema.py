"""The JSON Schema of every request and response model: `python -m jupyter_mlops.server.schema`.

`api/schemas.json` is generated from it; the TypeScript types are generated from that file, so
Python and the browser share one definition. A test keeps the file up to date.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from ..checks import StatusReport
from ..kube.doctor import DoctorReport
from ..kube.resources import MyPod, NextPodHits, ResourcesReport
from .models import kube, pipelines, serving, socket, tracking, tuning


class ErrorBody(BaseModel):
    """What every route answers on failure; never a traceback."""

    reason: str = Field(description="Short name of the failure, e.g. 'Not found'.")
    message: str = Field(description="What went wrong and what to do, in words.")


MODELS: list[type[BaseModel]] = [
    StatusReport,
    ErrorBody,
    DoctorReport,
    ResourcesReport,
    MyPod,
    NextPodHits,
    *kube.MODELS,
    *tracking.MODELS,
    *pipelines.MODELS,
    *serving.MODELS,
    *tuning.MODELS,
    *socket.MODELS,
]


def api_schema() -> dict[str, Any]:
    """One schema document whose `$defs` holds every model of the API."""
    _, schema = models_json_schema(
        [(model, "serialization") for model in MODELS],
        title="jupyter-mlops API models",
        ref_template="#/$defs/{model}",
    )
    return schema


def main() -> None:
    print(json.dumps(api_schema(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
