"""Pipelines routes under `mlops/api/pipelines/`: local and cluster runs side by side.

Each answer is what `server/models/pipelines.py` names (`PipelineRunsPage`, `PipelineRunDetail`,
...); the route tests validate every one against `api/schemas.json`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import BadInput, MLOpsError, NotFound
from ..policy import Source, run_source
from .base import MLOpsHandler

if TYPE_CHECKING:
    from ..pipelines.backend import PipelineBackend
    from ..pipelines.models import Run, Task
    from ..pipelines.sources import PipelineSources
    from .state import Backend

RUN = r"(?P<run_id>[^/]+)"
TASK = r"(?P<task>[^/]+)"
PIPELINE = r"(?P<pipeline_id>[^/]+)"
# The shape of a pipeline's id (KFP's own; uploaded pipelines are cluster-side only).
_ID = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,127}")
LOG_TAIL = 5000


class PipelinesHandler(MLOpsHandler):
    """Shared parsing of the pipelines routes' arguments."""

    def pipelines(self) -> PipelineSources:
        return self.state.connection.pipelines()

    def sources(self) -> tuple[Source, ...]:
        """The sources asked for: `source=local|cluster|all` (all configured when not given)."""
        return self.pipelines().asked(self.get_query_argument("source", "all"))

    def run_source(self, run_id: str) -> Source:
        """Which backend holds a run: `source=` if given, else told by the id's shape."""
        return run_source(run_id, self.get_query_argument("source", None))

    def backend(self, source: Source) -> PipelineBackend:
        """The backend of a source (blocking: call it through `state.run`)."""
        return self.pipelines().backend(source)

    def pool(self, *sources: str) -> Backend:
        """The pool for calls to these sources: Kubeflow Pipelines', or the local disk's."""
        return "pipelines" if "cluster" in sources else "local"


def _run_json(run: Run, source: str) -> dict[str, Any]:
    answer = run.model_dump(mode="json")
    answer["source"] = source
    answer["links"] = {"dashboard": run.url} if run.url else {}
    if run.mlflow is not None and run.mlflow.url:
        answer["links"]["mlflow"] = run.mlflow.url  # the Pipelines server's own MLflow run
    return answer


class ExperimentsHandler(PipelinesHandler):
    """`GET pipelines/experiments?source=`: experiments of each source, marked with it."""

    example = "pipelines/experiments"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        sources = self.sources()

        def experiments() -> dict[str, Any]:
            merged = self.pipelines().list_experiments(sources)
            return {
                "experiments": [
                    {**e.model_dump(mode="json"), "source": s} for s, e in merged.items
                ],
                "errors": {s: exc.to_json() for s, exc in merged.errors.items()},
            }

        self.finish(await self.state.run(experiments, backend=self.pool(*sources)))


class RunsHandler(PipelinesHandler):
    """`GET pipelines/runs?source=&page_token=&page_size=&sort=&status=&experiment=`.

    Rows of every source asked for, each marked with its `source`; `pages` holds each
    source's next page token and total, `errors` what a source that failed said, so that
    one unreachable backend leaves the other listed. `page_token` needs a single source.
    """

    example = "pipelines/runs"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..pipelines.backend import parse_sort
        from ..pipelines.models import ListRunsQuery, RunStatus

        sources = self.sources()
        token = self.get_query_argument("page_token", "") or ""
        if token and len(sources) > 1:
            raise BadInput("page_token belongs to one source: add source=local or source=cluster")
        status = self.get_query_argument("status", None) or None
        if status is not None and status.upper() not in RunStatus.__members__:
            raise BadInput(f"status must be one of {', '.join(RunStatus.__members__)}")
        sort = self.get_query_argument("sort", "created_at desc") or "created_at desc"
        parse_sort(sort)
        query = ListRunsQuery(
            page_size=self.integer("page_size", 20, 1, 200),
            page_token=token,
            sort=sort,
            status=RunStatus(status.upper()) if status else None,
            experiment=self.get_query_argument("experiment", None) or None,
        )

        def runs() -> dict[str, Any]:
            merged = self.pipelines().list_runs(query, sources)
            return {
                "runs": [{**r.model_dump(mode="json"), "source": s} for s, r in merged.items],
                "pages": {
                    s: {"next_page_token": token, "total_size": total}
                    for s, (token, total) in merged.pages.items()
                },
                "errors": {s: exc.to_json() for s, exc in merged.errors.items()},
            }

        self.finish(await self.state.run(runs, backend=self.pool(*sources)))


class RunHandler(PipelinesHandler):
    """`GET pipelines/runs/ID[?source=]`: tasks, states, parameters, outputs and links."""

    example = "pipelines/runs/x"

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        source = self.run_source(run_id)
        run = await self.state.run(
            lambda: self.backend(source).get_run(run_id), backend=self.pool(source)
        )
        answer = _run_json(run, source)
        answer["mlflow"] = await self.state.run(self.mlflow_links, run, backend="tracking")
        self.finish(answer)

    def mlflow_links(self, run: Run) -> list[dict[str, Any]] | dict[str, str]:
        """The MLflow runs recorded for this run; an unreachable MLflow is said, not raised."""
        from ..lineage import linked_runs

        try:
            return [link.model_dump() for link in linked_runs(run, self.state.tracking())]
        except MLOpsError as exc:
            return exc.to_json()


class TaskLogHandler(PipelinesHandler):
    """`GET pipelines/runs/ID/tasks/TASK/log?tail=`: what the task printed."""

    example = "pipelines/runs/x/tasks/y/log"

    @web.authenticated
    @authorized
    async def get(self, run_id: str, task: str) -> None:
        source = self.run_source(run_id)
        tail = self.integer("tail", LOG_TAIL, 0, 100_000)
        text = await self.state.run(
            lambda: self.backend(source).task_logs(run_id, task, tail), backend=self.pool(source)
        )
        self.finish({"run": run_id, "task": task, "source": source, "text": text})


class TaskFindingsHandler(PipelinesHandler):
    """`GET pipelines/runs/ID/tasks/TASK/findings?source=cluster`: why a cluster task failed.

    The doctor's report on the task: its executor pod's diagnosis, or, once the pod is gone,
    the last state Kubeflow Pipelines keeps. A local task's error is in its log already.
    """

    example = "pipelines/runs/x/tasks/y/findings"

    @web.authenticated
    @authorized
    async def get(self, run_id: str, task: str) -> None:
        if self.run_source(run_id) != "cluster":
            raise BadInput(
                "Only a cluster run's tasks have findings (source=cluster): a local task's "
                "error is in its log."
            )
        run = await self.state.run(
            lambda: self.state.connection.cluster_pipelines().get_run(run_id), backend="pipelines"
        )
        found = _task_of(run, task)
        self.finish(await self.state.run(self.report, run, found))

    def report(self, run: Run, task: Task) -> dict[str, Any]:
        """The doctor on the server's shared watches (blocking: the cluster pool calls it)."""
        from ..kube.doctor import examine_run_task

        namespace = self.state.connection.cluster_pipelines().namespace or None
        report = examine_run_task(self.state.watch_cache(), run, task, namespace)
        return report.model_dump(mode="json")


def _task_of(run: Run, task: str) -> Task:
    try:
        return run.task(task)
    except KeyError:
        names = ", ".join(t.name for t in run.tasks) or "none yet"
        raise NotFound(f"Run {run.id} has no task {task!r}; its tasks: {names}.") from None


class TerminateHandler(PipelinesHandler):
    """`POST pipelines/runs/ID/terminate`: stop a run that goes on."""

    example = "pipelines/runs/x/terminate"

    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        source = self.run_source(run_id)
        run = await self.state.run(
            lambda: self.backend(source).terminate(run_id), backend=self.pool(source)
        )
        self.finish(_run_json(run, source))


class RetryHandler(PipelinesHandler):
    """`POST pipelines/runs/ID/retry`: run an ended run again."""

    example = "pipelines/runs/x/retry"

    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        source = self.run_source(run_id)
        run = await self.state.run(
            lambda: self.backend(source).retry(run_id), backend=self.pool(source)
        )
        self.finish(_run_json(run, source))


class PipelineListHandler(PipelinesHandler):
    """`GET pipelines/pipelines?page_token=&page_size=&shared=`: uploaded pipelines (cluster)."""

    example = "pipelines/pipelines"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        token = self.get_query_argument("page_token", "") or ""
        size = self.integer("page_size", 50, 1, 200)
        shared = self.get_query_argument("shared", "0") in ("1", "true")
        page = await self.state.run(
            lambda: self.state.connection.cluster_pipelines().list_pipelines(
                token, size, shared=shared
            ),
            backend="pipelines",
        )
        self.finish(page.model_dump_json(include={"pipelines", "next_page_token", "total_size"}))


class PipelineVersionsHandler(PipelinesHandler):
    """`GET pipelines/pipelines/ID/versions?page_token=&page_size=`: a pipeline's versions."""

    example = "pipelines/pipelines/x/versions"

    @web.authenticated
    @authorized
    async def get(self, pipeline_id: str) -> None:
        if not _ID.fullmatch(pipeline_id):
            raise BadInput(f"{pipeline_id!r} is not a pipeline id")
        token = self.get_query_argument("page_token", "") or ""
        size = self.integer("page_size", 50, 1, 200)
        page = await self.state.run(
            lambda: self.state.connection.cluster_pipelines().list_pipeline_versions(
                pipeline_id, token, size
            ),
            backend="pipelines",
        )
        self.finish(page.model_dump_json(include={"versions", "next_page_token", "total_size"}))


PIPELINES_ROUTES: list[tuple[str, Any]] = [
    ("pipelines/experiments", ExperimentsHandler),
    ("pipelines/runs", RunsHandler),
    (f"pipelines/runs/{RUN}/tasks/{TASK}/log", TaskLogHandler),
    (f"pipelines/runs/{RUN}/tasks/{TASK}/findings", TaskFindingsHandler),
    (f"pipelines/runs/{RUN}/terminate", TerminateHandler),
    (f"pipelines/runs/{RUN}/retry", RetryHandler),
    (f"pipelines/runs/{RUN}", RunHandler),
    ("pipelines/pipelines", PipelineListHandler),
    (f"pipelines/pipelines/{PIPELINE}/versions", PipelineVersionsHandler),
]
