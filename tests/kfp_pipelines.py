"""The small pipelines the KFP tests run, compiled by kfp's own compiler."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")  # type: ignore[untyped-decorator]
def load_data(rows: int) -> int:
    return rows


@dsl.component(base_image="python:3.11")  # type: ignore[untyped-decorator]
def train_model(rows: int) -> float:
    return rows / 10


@dsl.component(base_image="python:3.11-slim")  # type: ignore[untyped-decorator]
def report(rows: int, score: float) -> str:
    return f"{rows} rows, score {score}"


@dsl.pipeline(name="two-step-training")  # type: ignore[untyped-decorator]
def two_steps(rows: int = 100) -> None:
    train_model(rows=load_data(rows=rows).output)


@dsl.pipeline(name="three-step-training")  # type: ignore[untyped-decorator]
def three_step_pipeline(rows: int = 100) -> None:
    loaded = load_data(rows=rows)
    trained = train_model(rows=loaded.output)
    report(rows=loaded.output, score=trained.output)


def compiled(pipeline: object, folder: Path) -> Path:
    """The pipeline's IR YAML, written in `folder`."""
    path = folder / f"{getattr(pipeline, 'name', 'pipeline')}.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return path
