"""Reading compiled KFP pipelines: packages (YAML, JSON, zip, tar.gz) and the IR's root DAG."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .wire import invalid_input

__all__ = ["PipelineTask", "pipeline_name", "read_package", "tasks_of"]


@dataclass(frozen=True)
class PipelineTask:
    """One task of the root DAG: its name, component, image and the tasks it waits for."""

    name: str
    component: str
    image: str
    depends_on: tuple[str, ...] = field(default=())


def read_package(filename: str, content: bytes) -> dict[str, Any]:
    """The pipeline spec inside an uploaded package, as a JSON dict; raises ApiError (400).

    Like the server, a ``.zip`` or ``.tar.gz`` holds one YAML file (``pipeline.yaml`` wins
    when several do); a plain file is YAML or JSON, possibly followed by a platform spec.
    """
    lower = filename.lower()
    try:
        if lower.endswith((".tar.gz", ".tgz")):
            content = _from_tar(content)
        elif lower.endswith(".zip"):
            content = _from_zip(content)
        documents = [d for d in yaml.safe_load_all(io.BytesIO(content)) if d is not None]
    except (yaml.YAMLError, tarfile.TarError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise invalid_input(f"Failed to parse the pipeline file {filename}: {error}") from error
    if not documents or not isinstance(documents[0], dict):
        raise invalid_input(f"The pipeline file {filename} holds no pipeline spec")
    spec = documents[0]
    if len(documents) > 1 and isinstance(documents[1], dict):
        # A platform spec follows the pipeline spec; the server keeps both, as the client does.
        spec = {"pipeline_spec": documents[0], "platform_spec": documents[1]}
    tasks_of(spec)
    return spec


def _from_tar(content: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
        names = [m.name for m in archive.getmembers() if m.isfile()]
        member = archive.extractfile(_choose(names))
        if member is None:
            raise tarfile.TarError("the pipeline file is not a regular file")
        return member.read()


def _from_zip(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read(_choose(archive.namelist()))


def _choose(names: list[str]) -> str:
    candidates = [n for n in names if n.endswith((".yaml", ".yml", ".json"))]
    if not candidates:
        raise invalid_input("Invalid package. Missing pipeline yaml file in the package.")
    for name in candidates:
        if name.rsplit("/", 1)[-1] == "pipeline.yaml":
            return name
    if len(candidates) > 1:
        raise invalid_input("Invalid package. There are multiple yaml files in the package.")
    return candidates[0]


def _ir(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = spec.get("pipeline_spec")
    return inner if isinstance(inner, Mapping) else spec


def pipeline_name(spec: Mapping[str, Any]) -> str:
    """``pipelineInfo.name`` of a spec, or an empty string."""
    info = _ir(spec).get("pipelineInfo") or {}
    name = info.get("name") if isinstance(info, Mapping) else None
    return name if isinstance(name, str) else ""


def tasks_of(spec: Mapping[str, Any]) -> list[PipelineTask]:
    """The root DAG's tasks in dependency order (upstream first); raises ApiError (400).

    Nested DAG components count as one task: the emulator runs the root DAG only.
    """
    ir = _ir(spec)
    root = ir.get("root")
    dag = root.get("dag") if isinstance(root, Mapping) else None
    raw_tasks = dag.get("tasks") if isinstance(dag, Mapping) else None
    if not isinstance(raw_tasks, Mapping) or not raw_tasks:
        raise invalid_input(
            "Failed to create a run due to invalid pipeline spec: the pipeline spec has no "
            "root.dag.tasks"
        )
    if not pipeline_name(spec):
        raise invalid_input(
            "Failed to create a run due to invalid pipeline spec: pipelineInfo.name is empty"
        )
    components = ir.get("components") or {}
    executors = (ir.get("deploymentSpec") or {}).get("executors") or {}
    tasks: dict[str, PipelineTask] = {}
    for name, raw in raw_tasks.items():
        if not isinstance(raw, Mapping):
            raise invalid_input(f"Failed to create a run: task {name} is not an object")
        component = str((raw.get("componentRef") or {}).get("name") or "")
        executor_label = (components.get(component) or {}).get("executorLabel") or ""
        container = (executors.get(executor_label) or {}).get("container") or {}
        depends = raw.get("dependentTasks") or []
        unknown = [d for d in depends if d not in raw_tasks]
        if unknown:
            raise invalid_input(
                f"Failed to create a run: task {name} depends on unknown task {unknown[0]}"
            )
        tasks[name] = PipelineTask(
            name=str(name),
            component=component,
            image=str(container.get("image") or ""),
            depends_on=tuple(str(d) for d in depends),
        )
    return _in_dependency_order(tasks)


def _in_dependency_order(tasks: Mapping[str, PipelineTask]) -> list[PipelineTask]:
    ordered: list[PipelineTask] = []
    done: set[str] = set()
    remaining = dict(tasks)
    while remaining:
        ready = [t for t in remaining.values() if all(d in done for d in t.depends_on)]
        if not ready:
            raise invalid_input(
                "Failed to create a run: the root DAG has a dependency cycle among "
                + ", ".join(sorted(remaining))
            )
        for task in sorted(ready, key=lambda t: t.name):
            ordered.append(task)
            done.add(task.name)
            del remaining[task.name]
    return ordered
