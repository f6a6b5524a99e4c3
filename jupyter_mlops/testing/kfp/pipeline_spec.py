"""Reading compiled KFP pipelines: packages (YAML, JSON, zip, tar.gz) and the IR's DAGs."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .wire import invalid_input

__all__ = [
    "Dag",
    "Loop",
    "PipelineTask",
    "Step",
    "loop_items",
    "pipeline_name",
    "read_package",
    "root_dag",
    "root_inputs",
    "tasks_of",
]

# Nested DAGs deeper than this are refused: a compiled pipeline never nests so deep.
MAX_DEPTH = 30


@dataclass(frozen=True)
class PipelineTask:
    """One container task of a DAG: its name, component, image and the tasks it waits for."""

    name: str
    component: str
    image: str
    depends_on: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Loop:
    """A ParallelFor: the items (a raw JSON list or an input of the task) and its limit."""

    item_input: str
    raw: str = ""
    input_parameter: str = ""
    parallelism: int = 0


@dataclass(frozen=True)
class Step:
    """One task of a DAG in the IR: a container, or a sub-DAG (sub-pipeline, loop, branch)."""

    key: str
    component: str
    depends_on: tuple[str, ...]
    inputs: Mapping[str, Any]
    condition: str = ""
    loop: Loop | None = None
    exit_task: bool = False
    body: Dag | None = None
    container: PipelineTask | None = None


@dataclass(frozen=True)
class Dag:
    """The tasks of one DAG component in dependency order, and where its outputs come from."""

    steps: tuple[Step, ...]
    outputs: Mapping[str, tuple[str, str]] = field(default_factory=dict)


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


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def pipeline_name(spec: Mapping[str, Any]) -> str:
    """``pipelineInfo.name`` of a spec, or an empty string."""
    name = _mapping(_ir(spec).get("pipelineInfo")).get("name")
    return name if isinstance(name, str) else ""


def root_inputs(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The pipeline's parameters with their default values (None when there is none)."""
    definitions = _mapping(_mapping(_mapping(_ir(spec).get("root")).get("inputDefinitions")))
    parameters = _mapping(definitions.get("parameters"))
    return {str(k): _mapping(v).get("defaultValue") for k, v in parameters.items()}


def tasks_of(spec: Mapping[str, Any]) -> list[PipelineTask]:
    """The container tasks of every DAG, upstream first; raises ApiError (400) on a bad spec."""
    found: list[PipelineTask] = []

    def collect(dag: Dag) -> None:
        for step in dag.steps:
            if step.container is not None:
                found.append(step.container)
            if step.body is not None:
                collect(step.body)

    collect(root_dag(spec))
    return found


def root_dag(spec: Mapping[str, Any]) -> Dag:
    """The root DAG with its sub-DAGs read in; raises ApiError (400) as the server would."""
    ir = _ir(spec)
    raw_tasks = _mapping(_mapping(ir.get("root")).get("dag")).get("tasks")
    if not isinstance(raw_tasks, Mapping) or not raw_tasks:
        raise invalid_input(
            "Failed to create a run due to invalid pipeline spec: the pipeline spec has no "
            "root.dag.tasks"
        )
    if not pipeline_name(spec):
        raise invalid_input(
            "Failed to create a run due to invalid pipeline spec: pipelineInfo.name is empty"
        )
    return _Reader(ir).dag(raw_tasks, {}, 0)


class _Reader:
    """Reads DAGs of the IR: components, their executors and the tasks of each DAG."""

    def __init__(self, ir: Mapping[str, Any]) -> None:
        self.components = _mapping(ir.get("components"))
        self.executors = _mapping(_mapping(ir.get("deploymentSpec")).get("executors"))

    def dag(self, raw_tasks: Mapping[str, Any], outputs: Mapping[str, Any], depth: int) -> Dag:
        if depth > MAX_DEPTH:
            raise invalid_input("Failed to create a run: the pipeline's DAGs nest too deeply")
        steps = {str(k): self.step(str(k), v, raw_tasks, depth) for k, v in raw_tasks.items()}
        return Dag(steps=_in_dependency_order(steps), outputs=_dag_outputs(outputs))

    def step(self, key: str, raw: Any, siblings: Mapping[str, Any], depth: int) -> Step:
        if not isinstance(raw, Mapping):
            raise invalid_input(f"Failed to create a run: task {key} is not an object")
        component = str(_mapping(raw.get("componentRef")).get("name") or "")
        inputs = _mapping(raw.get("inputs"))
        depends = _dependencies(key, raw, inputs, siblings)
        spec = _mapping(self.components.get(component))
        body: Dag | None = None
        container: PipelineTask | None = None
        if isinstance(spec.get("dag"), Mapping):
            dag_spec = _mapping(spec.get("dag"))
            body = self.dag(
                _mapping(dag_spec.get("tasks")), _mapping(dag_spec.get("outputs")), depth + 1
            )
        else:
            executor = _mapping(self.executors.get(str(spec.get("executorLabel") or "")))
            image = str(_mapping(executor.get("container")).get("image") or "")
            container = PipelineTask(name=key, component=component, image=image, depends_on=depends)
        policy = _mapping(raw.get("triggerPolicy"))
        return Step(
            key=key,
            component=component,
            depends_on=depends,
            inputs=_mapping(inputs.get("parameters")),
            condition=str(policy.get("condition") or ""),
            loop=_loop(raw),
            exit_task=policy.get("strategy") == "ALL_UPSTREAM_TASKS_COMPLETED",
            body=body,
            container=container,
        )


def _dependencies(
    key: str, raw: Mapping[str, Any], inputs: Mapping[str, Any], siblings: Mapping[str, Any]
) -> tuple[str, ...]:
    # Like the Argo compiler, a task also waits for every task whose outputs it reads.
    depends = [str(d) for d in raw.get("dependentTasks") or []]
    for kind, source in (
        ("parameters", "taskOutputParameter"),
        ("artifacts", "taskOutputArtifact"),
    ):
        for value in _mapping(inputs.get(kind)).values():
            producer = _mapping(_mapping(value).get(source)).get("producerTask")
            if isinstance(producer, str) and producer and producer not in depends:
                depends.append(producer)
    unknown = [d for d in depends if d not in siblings]
    if unknown:
        raise invalid_input(
            f"Failed to create a run: task {key} depends on unknown task {unknown[0]}"
        )
    return tuple(depends)


def _loop(raw: Mapping[str, Any]) -> Loop | None:
    iterator = raw.get("parameterIterator")
    if not isinstance(iterator, Mapping):
        return None
    items = _mapping(iterator.get("items"))
    limit = _mapping(raw.get("iteratorPolicy")).get("parallelismLimit")
    return Loop(
        item_input=str(iterator.get("itemInput") or ""),
        raw=str(items.get("raw") or ""),
        input_parameter=str(items.get("inputParameter") or ""),
        parallelism=int(limit) if isinstance(limit, (int, float)) else 0,
    )


def _dag_outputs(outputs: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for name, value in _mapping(outputs.get("parameters")).items():
        source = _mapping(_mapping(value).get("valueFromParameter"))
        if source.get("producerSubtask"):
            found[str(name)] = (
                str(source["producerSubtask"]),
                str(source.get("outputParameterKey")),
            )
    return found


def loop_items(loop: Loop, value: Any) -> list[Any]:
    """The items a ParallelFor iterates over: its raw list, or ``value`` (a list or JSON list)."""
    items: Any = value
    if loop.raw:
        items = loop.raw
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError:
            return []
    return list(items) if isinstance(items, list) else []


def _in_dependency_order(steps: Mapping[str, Step]) -> tuple[Step, ...]:
    ordered: list[Step] = []
    done: set[str] = set()
    remaining = dict(steps)
    while remaining:
        ready = [s for s in remaining.values() if all(d in done for d in s.depends_on)]
        if not ready:
            raise invalid_input(
                "Failed to create a run: a DAG has a dependency cycle among "
                + ", ".join(sorted(remaining))
            )
        for step in sorted(ready, key=lambda s: s.key):
            ordered.append(step)
            done.add(step.key)
            del remaining[step.key]
    return tuple(ordered)
