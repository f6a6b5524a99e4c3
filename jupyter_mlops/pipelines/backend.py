"""The one interface every pipelines backend implements, and the rules they share."""

from __future__ import annotations

import abc
import base64
import binascii
import datetime as dt
import hashlib
import json
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import BadInput, Unavailable
from jupyter_mlops.pipelines.models import (
    Experiment,
    ListRunsQuery,
    Run,
    RunPage,
    RunStatus,
    RunSummary,
)

DEFAULT_EXPERIMENT = "Default"
SORT_FIELDS = ("created_at", "finished_at", "name", "status")

# KFP's parameter type names, as they appear in a compiled pipeline spec.
_PARAMETER_TYPES = {
    1: "float",  # NUMBER_DOUBLE
    2: "int",  # NUMBER_INTEGER
    3: "str",  # STRING
    4: "bool",  # BOOLEAN
    5: "list",  # LIST
    6: "dict",  # STRUCT
    7: "dict",  # TASK_FINAL_STATUS
}


class PipelineBackend(abc.ABC):
    """Compile, run and inspect Kubeflow Pipelines v2 pipelines on one backend."""

    #: 'local' or 'cluster', shown beside every run.
    kind: str = ""

    def compile(self, pipeline: Any, path: str | Path | None = None) -> str:
        """The pipeline's compiled YAML; also written to `path` when given."""
        return compile_pipeline(pipeline, path)

    @abc.abstractmethod
    def submit(
        self,
        pipeline: Any,
        arguments: dict[str, Any] | None = None,
        *,
        experiment: str = DEFAULT_EXPERIMENT,
        run_name: str | None = None,
    ) -> Run:
        """Start a run of `pipeline` (a pipeline object or a compiled YAML file); don't wait."""

    @abc.abstractmethod
    def create_experiment(self, name: str, description: str = "") -> Experiment:
        """Create an experiment; Conflict if it exists."""

    @abc.abstractmethod
    def list_experiments(self) -> list[Experiment]:
        """Every experiment, by name."""

    @abc.abstractmethod
    def list_runs(self, query: ListRunsQuery | None = None) -> RunPage:
        """One page of runs, filtered and sorted as `query` says."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its tasks; NotFound if there is none."""

    @abc.abstractmethod
    def task_logs(self, run_id: str, task: str | None = None, tail_lines: int | None = None) -> str:
        """A task's captured log (its id or name), or the whole run's log when task is None."""

    @abc.abstractmethod
    def terminate(self, run_id: str) -> Run:
        """Stop a run that goes on; Conflict if it has ended."""

    @abc.abstractmethod
    def retry(self, run_id: str) -> Run:
        """Run an ended run again with the same pipeline and arguments."""

    def watch(
        self, run_id: str, interval: float = 0.5, timeout: float | None = None
    ) -> Iterator[Run]:
        """Yield the run each time it changes, the last time when it has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last = ""
        while True:
            run = self.get_run(run_id)
            state = run.model_dump_json()
            if state != last:
                last = state
                yield run
            if run.status.finished:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            self._pause(run_id, interval)

    def wait(self, run_id: str, timeout: float | None = None) -> Run:
        """Block until the run ends and return it; Unavailable if `timeout` passes first."""
        run = None
        for seen in self.watch(run_id, timeout=timeout):
            run = seen
        if run is None or not run.status.finished:
            raise Unavailable(self.kind, f"Run {run_id} did not end within {timeout} s.")
        return run

    def _pause(self, run_id: str, seconds: float) -> None:
        """Wait between two looks at a run; a backend may wake earlier on an event."""
        time.sleep(seconds)


def compile_pipeline(pipeline: Any, path: str | Path | None = None) -> str:
    """Compile a pipeline (or a component) to KFP v2 YAML, optionally writing it to `path`."""
    if path is not None:
        return write_compiled(pipeline, path).read_text()
    with tempfile.TemporaryDirectory() as tmp:
        return write_compiled(pipeline, Path(tmp) / "pipeline.yaml").read_text()


def write_compiled(pipeline: Any, path: str | Path) -> Path:
    """Compile a pipeline (or a component) to a KFP v2 YAML file, creating its folder."""
    from kfp import compiler

    target = Path(path)
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True)
    compiler.Compiler().compile(pipeline, str(target))
    return target


def parameter_types(spec: Any) -> dict[str, tuple[str, bool]]:
    """A compiled pipeline's parameters: name -> (python type name, required)."""
    result: dict[str, tuple[str, bool]] = {}
    for name, param in spec.root.input_definitions.parameters.items():
        required = not param.is_optional and not param.HasField("default_value")
        result[name] = (_PARAMETER_TYPES.get(int(param.parameter_type), "str"), required)
    return result


def coerce_arguments(spec: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """Check arguments against the pipeline's parameters and turn text into their types."""
    params = parameter_types(spec)
    unknown = sorted(set(arguments) - set(params))
    if unknown:
        known = ", ".join(sorted(params)) or "none"
        raise BadInput(
            f"Unknown pipeline parameter(s): {', '.join(unknown)}. Its parameters: {known}."
        )
    missing = sorted(n for n, (_, required) in params.items() if required and n not in arguments)
    if missing:
        raise BadInput(f"Missing value for pipeline parameter(s): {', '.join(missing)}.")
    return {name: coerce_value(name, value, params[name][0]) for name, value in arguments.items()}


def coerce_value(name: str, value: Any, type_name: str) -> Any:
    """`value` as `type_name`; text is parsed (JSON for lists and dicts, true/false for bool)."""
    if not isinstance(value, str) or type_name == "str":
        return value
    text = value.strip()
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
        if type_name == "bool":
            lowered = text.lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(text)
        parsed = json.loads(text)
    except ValueError:
        raise BadInput(f"Parameter {name} takes {type_name} values, got {value!r}.") from None
    expected = list if type_name == "list" else dict
    if not isinstance(parsed, expected):
        raise BadInput(f"Parameter {name} takes {type_name} values (JSON), got {value!r}.")
    return parsed


def _query_fingerprint(query: ListRunsQuery) -> str:
    key = f"{query.sort}|{query.status}|{query.experiment}|{query.page_size}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def page_token(query: ListRunsQuery, offset: int) -> str:
    """The opaque token of the page starting at `offset` for this query."""
    raw = json.dumps({"o": offset, "q": _query_fingerprint(query)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _token_offset(query: ListRunsQuery) -> int:
    if not query.page_token:
        return 0
    token = query.page_token + "=" * (-len(query.page_token) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
        fingerprint = str(data["q"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise BadInput("The page token is not one this API gave out.") from None
    if fingerprint != _query_fingerprint(query) or offset < 0:
        raise BadInput("The page token belongs to a different query; start again from page 1.")
    return offset


def parse_sort(sort: str) -> tuple[str, bool]:
    """('field', descending) from 'field [asc|desc]'; BadInput for anything else."""
    parts = sort.split()
    field = parts[0] if parts else ""
    order = parts[1].lower() if len(parts) > 1 else "asc"
    if field not in SORT_FIELDS or order not in ("asc", "desc") or len(parts) > 2:
        raise BadInput(
            f"Cannot sort by {sort!r}: use one of {', '.join(SORT_FIELDS)}, then asc or desc."
        )
    return field, order == "desc"


def page_runs(runs: Iterable[RunSummary], query: ListRunsQuery) -> RunPage:
    """Filter, sort and cut one page out of every run a backend holds."""
    field, descending = parse_sort(query.sort)
    offset = _token_offset(query)
    chosen = [
        r
        for r in runs
        if (query.status is None or r.status == query.status)
        and (query.experiment is None or r.experiment == query.experiment)
    ]
    oldest = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    def key(run: RunSummary) -> tuple[Any, str]:
        value: Any = getattr(run, field)
        if field == "finished_at":
            value = value or oldest
        elif isinstance(value, RunStatus):
            value = value.value
        # The id breaks ties so that pages never overlap or skip a run.
        return value, run.id

    chosen.sort(key=key, reverse=descending)
    page = chosen[offset : offset + query.page_size]
    end = offset + len(page)
    return RunPage(
        runs=page,
        next_page_token=page_token(query, end) if end < len(chosen) else "",
        total_size=len(chosen),
    )


def summaries(runs: Iterable[Run]) -> list[RunSummary]:
    """Each run as a list shows it."""
    return [run.summary() for run in runs]
