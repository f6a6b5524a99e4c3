"""The cluster backend: Kubeflow Pipelines on the cluster, through the official kfp.Client."""

from __future__ import annotations

import datetime as dt
import json
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jupyter_mlops.config import Settings
from jupyter_mlops.errors import (
    BadInput,
    Conflict,
    Forbidden,
    MLOpsError,
    NotFound,
    Unavailable,
    check_page_token,
    root_cause,
)
from jupyter_mlops.pipelines.auth import auth_headers, explain_refusal
from jupyter_mlops.pipelines.backend import (
    DEFAULT_EXPERIMENT,
    PipelineBackend,
    coerce_arguments,
    compile_pipeline,
    parse_sort,
)
from jupyter_mlops.pipelines.local import load_spec
from jupyter_mlops.pipelines.models import (
    Experiment,
    ListRunsQuery,
    MlflowLink,
    Pipeline,
    PipelinePage,
    PipelineVersion,
    Run,
    RunPage,
    RunStatus,
    Task,
)
from jupyter_mlops.pipelines.sources import UNSENT, keep_unsent, pipelines_root
from jupyter_mlops.pipelines.task_tree import read_tasks
from jupyter_mlops.policy import refuse_writes

if TYPE_CHECKING:
    from jupyter_mlops.kube.cluster import Cluster

#: Seconds to connect; the answer then has `Settings.backend_timeout` seconds to come.
CONNECT_TIMEOUT = 2.0
#: Bound on pages read when every experiment is wanted.
MAX_EXPERIMENT_PAGES = 50
RUN_ID_LABEL = "pipeline/runid"
TASK_CONTAINER = "main"

_STATES = {
    "PENDING": RunStatus.PENDING,
    "RUNNING": RunStatus.RUNNING,
    "CANCELING": RunStatus.RUNNING,
    "PAUSED": RunStatus.RUNNING,
    "SUCCEEDED": RunStatus.SUCCEEDED,
    "SKIPPED": RunStatus.SUCCEEDED,
    "CACHED": RunStatus.SUCCEEDED,
    "FAILED": RunStatus.FAILED,
    "CANCELED": RunStatus.CANCELED,
}
# Our sort fields, as KFP's list API names them.
_SORT_KEYS = {
    "created_at": "created_at",
    "finished_at": "finished_at",
    "name": "display_name",
    "status": "state",
}
_EPOCH = dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)


def _time(value: Any) -> dt.datetime | None:
    """A KFP time, or None for the 1970 placeholder of a time not reached yet."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return None if value < _EPOCH else value


def _state(value: Any) -> RunStatus:
    return _STATES.get(str(value or ""), RunStatus.PENDING)


def mlflow_link(plugins_output: Any) -> MlflowLink | None:
    """The MLflow run in a run's `plugins_output.mlflow`, if the server made one.

    Its entries carry `root_run_id` (the KEP's first text named it `run_id`), `experiment_id`,
    `experiment_name` and `run_url`; without a run id (MLflow was down at creation) there is no
    run to link to.
    """
    output = (plugins_output or {}).get("mlflow") if isinstance(plugins_output, dict) else None
    if output is None:
        return None
    entries = _field(output, "entries") or {}

    def entry(name: str) -> str:
        found = entries.get(name) if isinstance(entries, dict) else None
        value = _field(found, "value") if found is not None else None
        return str(value) if value not in (None, "") else ""

    run_id = entry("root_run_id") or entry("run_id")
    if not run_id:
        return None
    return MlflowLink(
        run_id=run_id,
        experiment_id=entry("experiment_id"),
        experiment_name=entry("experiment_name"),
        url=entry("run_url") or None,
        state=str(_field(output, "state") or ""),
        message=str(_field(output, "state_message") or ""),
    )


def _field(item: Any, name: str) -> Any:
    """A field of a generated API model, or of the plain JSON it came from."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


class _FreshCredentials:
    """A kfp.Client credentials hook: the token is read again before every request.

    The projected ServiceAccount token rotates and expires, so one read at start goes stale.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def refresh_api_key_hook(self, config: Any) -> None:
        headers, missing = auth_headers(self.settings)
        bearer = headers.get("Authorization", "")
        if not bearer.startswith("Bearer "):
            # Refused here, before the request: the server would only say "no identity".
            reason = "No credentials for Kubeflow Pipelines"
            raise Forbidden(explain_refusal(self.settings, reason, missing or "no token"))
        config.api_key["authorization"] = bearer[len("Bearer ") :]
        config.api_key_prefix["authorization"] = "Bearer"


class ClusterPipelines(PipelineBackend):
    """Runs and experiments in the user's profile namespace of a Kubeflow Pipelines API.

    One `kfp.Client` is made on first use and kept: it costs little to make (about 0.2 ms)
    but its connection pool saves a TCP handshake per call, and credentials are re-read on
    every request anyway through its credentials hook. Task logs come from the task's pod,
    read through `cluster` (a factory of the Kubernetes connection) when one is configured.
    """

    kind = "cluster"

    def __init__(
        self,
        settings: Settings,
        cluster: Callable[[], Cluster] | None = None,
        *,
        unsent: Path | None = None,
    ) -> None:
        if not settings.kfp_endpoint:
            raise Unavailable("pipelines", "No Kubeflow Pipelines endpoint is configured.")
        self.settings = settings
        self.endpoint = settings.kfp_endpoint.rstrip("/")
        self.namespace = settings.namespace
        self._cluster = cluster
        #: Where a run's compiled pipeline is kept when the server cannot be reached.
        self.unsent = unsent if unsent is not None else pipelines_root(settings) / UNSENT
        self._client: Any = None
        self._lock = threading.Lock()
        self._experiment_names: dict[str, str] = {}
        self._version_specs: dict[str, dict[str, Any]] = {}

    # -- the client ----------------------------------------------------------------------

    def client(self) -> Any:
        """The kfp.Client of this backend (made once; it never calls the server to start)."""
        with self._lock:
            if self._client is None:
                import kfp

                with warnings.catch_warnings():
                    # kfp warns on every construction that it needs a v2 server; ours is.
                    warnings.simplefilter("ignore", FutureWarning)
                    # A namespace other than 'kubeflow' keeps the constructor from asking the
                    # server's healthz, which retries five times with sleeps when unreachable.
                    # A session cookie is used only when no token is found at start.
                    headers, _ = auth_headers(self.settings)
                    cookie = headers.get("Cookie")
                    client = kfp.Client(
                        host=self.endpoint,
                        namespace=self.namespace or "default",
                        cookies=cookie,
                        credentials=None if cookie else _FreshCredentials(self.settings),
                    )
                _without_retries(client)
                self._client = client
            return self._client

    @contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        """Turn the client's failures into our typed errors, in words."""
        from kfp_server_api.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            yield
        except ApiException as exc:
            raise self._refusal(exc, what) from None
        except HTTPError as exc:
            raise self._no_answer(exc, what) from None

    def _no_answer(self, exc: Exception, what: str) -> Unavailable:
        """Which deadline ran out, or why the connection failed, in words."""
        from urllib3.exceptions import (
            ConnectTimeoutError,
            MaxRetryError,
            NewConnectionError,
            ReadTimeoutError,
        )

        # With retries off, a GET's failure comes wrapped once; a POST's comes bare.
        cause = exc.reason if isinstance(exc, MaxRetryError) and exc.reason is not None else exc
        where = f"Kubeflow Pipelines at {self.endpoint}"
        if isinstance(cause, ReadTimeoutError):
            text = (
                f"{where} connected but sent no answer within {self.settings.backend_timeout:g} s"
            )
        elif isinstance(cause, NewConnectionError):
            # Refused or not resolved; checked first, as urllib3 makes it a connect timeout too.
            text = f"cannot reach {where}: {root_cause(cause)}"
        elif isinstance(cause, ConnectTimeoutError):
            text = f"cannot reach {where}: could not connect within {CONNECT_TIMEOUT:g} s"
        else:
            text = f"{where} does not answer ({root_cause(cause)})"
        return Unavailable("pipelines", f"{text} while trying to {what}.")

    def _refusal(self, exc: Any, what: str) -> MLOpsError:
        status = int(exc.status or 0)
        detail = _server_message(exc)
        if status in (401, 403):
            _, missing = auth_headers(self.settings)
            reason = f"HTTP {status} from Kubeflow Pipelines ({what})"
            return Forbidden(explain_refusal(self.settings, reason, missing), verb=what)
        if status == 404:
            return NotFound(f"Cannot {what}: not found in Kubeflow Pipelines. {detail}".strip())
        if status == 409:
            return Conflict(f"Cannot {what}: {detail}")
        if status in (400, 422):
            return BadInput(f"Cannot {what}: {detail}")
        return Unavailable(
            "pipelines",
            f"Kubeflow Pipelines at {self.endpoint} failed to {what} (HTTP {status}): {detail}",
        )

    def _options(self) -> dict[str, Any]:
        return {"_request_timeout": (CONNECT_TIMEOUT, self.settings.backend_timeout)}

    def _namespace_args(self) -> dict[str, Any]:
        return {"namespace": self.namespace} if self.namespace else {}

    def url(self, run_id: str) -> str:
        """The run's page in the Kubeflow dashboard, keeping its frame and the namespace."""
        return f"/_/pipeline/?ns={quote(self.namespace or '')}#/runs/details/{run_id}"

    # -- runs ----------------------------------------------------------------------------

    def submit(
        self,
        pipeline: Any,
        arguments: dict[str, Any] | None = None,
        *,
        experiment: str = DEFAULT_EXPERIMENT,
        run_name: str | None = None,
    ) -> Run:
        """Compile the pipeline and start a run of it in the profile namespace.

        When Kubeflow Pipelines cannot be reached the compiled pipeline is kept under the
        workspace's .mlops/pipelines/unsent, and the error says where.
        """
        refuse_writes(self.settings, "submitting runs to Kubeflow Pipelines")
        import yaml
        from kfp_server_api import V2beta1Run, V2beta1RuntimeConfig

        spec = load_spec(pipeline)
        arguments = coerce_arguments(spec, arguments or {})
        experiment = experiment.strip()
        if not experiment:
            raise BadInput("The experiment name is empty.")
        if isinstance(pipeline, (str, Path)):
            text = Path(pipeline).read_text()
        else:
            text = compile_pipeline(pipeline)
        documents = [d for d in yaml.safe_load_all(text) if d]
        body: dict[str, Any] = (
            documents[0]
            if len(documents) == 1
            else {"pipeline_spec": documents[0], "platform_spec": documents[1]}
        )
        name = spec.pipeline_info.name
        created = dt.datetime.now(dt.timezone.utc)
        try:
            experiment_id = self._experiment_id(experiment) or self.create_experiment(experiment).id
            with self._calling(f"start a run of {name}"):
                answer = self.client().runs.run_service_create_run(
                    run=V2beta1Run(
                        experiment_id=experiment_id,
                        display_name=run_name or f"{name} {created:%Y-%m-%d %H:%M:%S}",
                        pipeline_spec=body,
                        runtime_config=V2beta1RuntimeConfig(parameters=arguments),
                    ),
                    **self._options(),
                )
        except Unavailable as exc:
            saved = keep_unsent(self.unsent, name, text, created)
            raise Unavailable(
                "pipelines", f"{exc.message} The compiled pipeline is saved in {saved}."
            ) from None
        self._experiment_names[experiment_id] = experiment
        return self._run(answer)

    def list_runs(self, query: ListRunsQuery | None = None) -> RunPage:
        """One page of the namespace's runs, filtered and sorted by the KFP API itself."""
        query = query or ListRunsQuery()
        token = check_page_token(query.page_token)
        field, descending = parse_sort(query.sort)
        sort_by = _SORT_KEYS[field] + (" desc" if descending else "")
        predicates = []
        if query.status is not None:
            wanted = [k for k, v in _STATES.items() if v == query.status]
            predicates.append(
                {"operation": "IN", "key": "state", "string_values": {"values": wanted}}
            )
        scope = self._namespace_args()
        if query.experiment is not None:
            experiment_id = self._experiment_id(query.experiment)
            if experiment_id is None:
                return RunPage(runs=[], next_page_token="", total_size=0)
            scope = {"experiment_id": experiment_id}
        with self._calling("list runs"):
            answer = self.client().runs.run_service_list_runs(
                page_token=token,
                page_size=query.page_size,
                sort_by=sort_by,
                filter=json.dumps({"predicates": predicates}) if predicates else None,
                **scope,
                **self._options(),
            )
        runs = [self._run(r).summary() for r in answer.runs or []]
        return RunPage(
            runs=runs,
            next_page_token=answer.next_page_token or "",
            total_size=int(answer.total_size or 0),
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its tasks and their states; NotFound naming it."""
        try:
            with self._calling(f"get run {run_id}"):
                answer = self.client().runs.run_service_get_run(run_id=run_id, **self._options())
        except NotFound:
            raise NotFound(
                f"No run {run_id!r} in Kubeflow Pipelines (namespace {self.namespace})."
            ) from None
        return self._run(answer)

    def terminate(self, run_id: str) -> Run:
        """Ask KFP to stop the run; it ends CANCELED once its running tasks stopped."""
        refuse_writes(self.settings, "terminating Kubeflow Pipelines runs")
        run = self.get_run(run_id)
        if run.status.finished:
            raise Conflict(f"Run {run_id} has already ended ({run.status.value}).")
        with self._calling(f"terminate run {run_id}"):
            self.client().runs.run_service_terminate_run(run_id=run_id, **self._options())
        return self.get_run(run_id)

    def retry(self, run_id: str) -> Run:
        """Run the failed or canceled tasks of an ended run again (KFP keeps the run's id)."""
        refuse_writes(self.settings, "retrying Kubeflow Pipelines runs")
        run = self.get_run(run_id)
        if run.status not in (RunStatus.FAILED, RunStatus.CANCELED):
            raise Conflict(
                f"Run {run_id} is {run.status.value}; only a FAILED or CANCELED run can be retried."
            )
        with self._calling(f"retry run {run_id}"):
            self.client().runs.run_service_retry_run(run_id=run_id, **self._options())
        return self.get_run(run_id)

    def task_logs(self, run_id: str, task: str | None = None, tail_lines: int | None = None) -> str:
        """A task's log read from its pod (the whole run's tasks, one after another, if None)."""
        run = self.get_run(run_id)
        if task is None:
            parts = []
            for each in run.tasks:
                text = self._pod_log(run, each, tail_lines)
                # The id says which iteration or sub-pipeline; at the top level it is the name.
                parts.append(f"----- {each.id} -----\n{text}")
            return "".join(parts)
        try:
            found = run.task(task)
        except KeyError:
            names = ", ".join(t.name for t in run.tasks) or "none yet"
            raise NotFound(f"Run {run_id} has no task {task!r}; its tasks: {names}.") from None
        return self._pod_log(run, found, tail_lines)

    def _pod_log(self, run: Run, task: Task, tail_lines: int | None) -> str:
        if self._cluster is None:
            raise Unavailable(
                "cluster",
                "Task logs are read from the task's pod, and no cluster is configured: point "
                "$KUBECONFIG (or c.MLOpsConfig.kubeconfig) at the cluster running the pipelines. "
                "The Kubeflow dashboard shows them too: " + (run.url or ""),
            )
        cluster = self._cluster()
        pod = task.pod or self._find_pod(cluster, run.id, task.name)
        if pod is None:
            return ""
        lines = cluster.logs(pod, TASK_CONTAINER, tail=tail_lines)
        try:
            return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        finally:
            lines.close()

    def _find_pod(self, cluster: Cluster, run_id: str, task_name: str) -> str | None:
        """The executor pod of a task, by the run id label and the task's Argo node name."""
        pods = cluster.list("pods", selector=f"{RUN_ID_LABEL}={run_id}").items
        for pod in pods:
            meta = pod.get("metadata") or {}
            node = (meta.get("annotations") or {}).get("workflows.argoproj.io/node-name", "")
            if f".{task_name}.executor" in node or node.endswith(f".{task_name}"):
                return str(meta.get("name"))
        return None

    # -- experiments ---------------------------------------------------------------------

    def create_experiment(self, name: str, description: str = "") -> Experiment:
        """A new experiment in the namespace; Conflict if one has this name."""
        refuse_writes(self.settings, "creating Kubeflow Pipelines experiments")
        from kfp_server_api import V2beta1Experiment

        name = name.strip()
        if not name:
            raise BadInput("The experiment name is empty.")
        with self._calling(f"create experiment {name!r}"):
            answer = self.client().experiments.experiment_service_create_experiment(
                experiment=V2beta1Experiment(
                    display_name=name, description=description, namespace=self.namespace
                ),
                **self._options(),
            )
        return self._experiment(answer)

    def list_experiments(self) -> list[Experiment]:
        """Every experiment of the namespace, by name."""
        found: list[Experiment] = []
        token = ""
        for _ in range(MAX_EXPERIMENT_PAGES):
            with self._calling("list experiments"):
                answer = self.client().experiments.experiment_service_list_experiments(
                    page_token=token, page_size=200, **self._namespace_args(), **self._options()
                )
            found.extend(self._experiment(e) for e in answer.experiments or [])
            token = answer.next_page_token or ""
            if not token:
                break
        return sorted(found, key=lambda e: e.name)

    def _experiment(self, answer: Any) -> Experiment:
        self._experiment_names[answer.experiment_id] = answer.display_name
        return Experiment(
            id=answer.experiment_id,
            name=answer.display_name,
            description=answer.description or "",
            created_at=_time(answer.created_at) or _EPOCH,
        )

    def _experiment_id(self, name: str) -> str | None:
        """The id of the namespace's experiment with this name, if there is one."""
        predicate = {"operation": "EQUALS", "key": "display_name", "string_value": name}
        with self._calling(f"find experiment {name!r}"):
            answer = self.client().experiments.experiment_service_list_experiments(
                filter=json.dumps({"predicates": [predicate]}),
                page_size=1,
                **self._namespace_args(),
                **self._options(),
            )
        if answer.experiments:
            return str(self._experiment(answer.experiments[0]).id)
        return None

    def _experiment_name(self, experiment_id: str) -> str:
        if experiment_id and experiment_id not in self._experiment_names:
            try:
                with self._calling("get an experiment"):
                    answer = self.client().experiments.experiment_service_get_experiment(
                        experiment_id=experiment_id, **self._options()
                    )
                self._experiment(answer)
            except (NotFound, Forbidden):
                self._experiment_names[experiment_id] = experiment_id
        return self._experiment_names.get(experiment_id, experiment_id)

    # -- pipelines -----------------------------------------------------------------------

    def list_pipelines(
        self, page_token: str = "", page_size: int = 50, *, shared: bool = False
    ) -> PipelinePage:
        """One page of the pipelines uploaded to the namespace, or of the shared ones."""
        scope = {} if shared else self._namespace_args()
        with self._calling("list pipelines"):
            answer = self.client().pipelines.pipeline_service_list_pipelines(
                page_token=check_page_token(page_token),
                page_size=page_size,
                sort_by="created_at desc",
                **scope,
                **self._options(),
            )
        return PipelinePage(
            pipelines=[
                Pipeline(
                    id=p.pipeline_id,
                    name=p.name or p.display_name or "",
                    display_name=p.display_name or p.name or "",
                    description=p.description or "",
                    created_at=_time(p.created_at) or _EPOCH,
                    namespace=p.namespace or "",
                )
                for p in answer.pipelines or []
            ],
            next_page_token=answer.next_page_token or "",
            total_size=int(answer.total_size or 0),
        )

    def list_pipeline_versions(
        self, pipeline_id: str, page_token: str = "", page_size: int = 50
    ) -> PipelinePage:
        """One page of a pipeline's versions, newest first."""
        with self._calling(f"list the versions of pipeline {pipeline_id}"):
            answer = self.client().pipelines.pipeline_service_list_pipeline_versions(
                pipeline_id=pipeline_id,
                page_token=check_page_token(page_token),
                page_size=page_size,
                sort_by="created_at desc",
                **self._options(),
            )
        return PipelinePage(
            versions=[
                PipelineVersion(
                    id=v.pipeline_version_id,
                    pipeline_id=v.pipeline_id or pipeline_id,
                    name=v.name or v.display_name or "",
                    display_name=v.display_name or v.name or "",
                    description=v.description or "",
                    created_at=_time(v.created_at) or _EPOCH,
                )
                for v in answer.pipeline_versions or []
            ],
            next_page_token=answer.next_page_token or "",
            total_size=int(answer.total_size or 0),
        )

    # -- mapping -------------------------------------------------------------------------

    def _run(self, answer: Any) -> Run:
        """Our Run from a V2beta1Run."""
        spec = self._spec_of(answer)
        info = spec.get("pipelineInfo") or spec.get("pipeline_info") or {}
        reference = answer.pipeline_version_reference
        pipeline_name = str(info.get("name") or "")
        if not pipeline_name and reference is not None:
            pipeline_name = str(reference.pipeline_id or reference.pipeline_version_id or "")
        history = answer.state_history or []
        stopping = [_time(h.update_time) for h in history if str(h.state) == "CANCELING"]
        tree = read_tasks(
            answer.run_details.task_details if answer.run_details is not None else None,
            spec,
            _state,
            _time,
            canceled_at=stopping[-1] if stopping else None,
        )
        tasks = tree.tasks
        started = next(
            (_time(h.update_time) for h in history if str(h.state) == "RUNNING"),
            min((t.started_at for t in tasks if t.started_at), default=None),
        )
        status = _state(answer.state)
        runtime = answer.runtime_config
        error = answer.error.message if answer.error is not None else None
        return Run(
            id=answer.run_id,
            name=answer.display_name or answer.run_id,
            pipeline_name=pipeline_name,
            experiment=self._experiment_name(answer.experiment_id or ""),
            status=status,
            backend=self.kind,
            created_at=_time(answer.created_at) or _EPOCH,
            started_at=started,
            finished_at=_time(answer.finished_at) if status.finished else None,
            tasks_done=sum(1 for t in tasks if t.state.finished),
            tasks_total=max(tree.planned, len(tasks)),
            url=self.url(answer.run_id),
            parameters=dict(runtime.parameters or {}) if runtime is not None else {},
            tasks=tasks,
            error=error or None,
            mlflow=mlflow_link(answer.plugins_output),
        )

    def _spec_of(self, answer: Any) -> dict[str, Any]:
        """The run's compiled pipeline: in the run, or in the pipeline version it ran."""
        spec = _ir(answer.pipeline_spec)
        reference = answer.pipeline_version_reference
        if spec or reference is None or not reference.pipeline_version_id:
            return spec
        version_id = str(reference.pipeline_version_id)
        if version_id not in self._version_specs:
            try:
                with self._calling(f"read pipeline version {version_id}"):
                    version = self.client().pipelines.pipeline_service_get_pipeline_version(
                        pipeline_id=reference.pipeline_id,
                        pipeline_version_id=version_id,
                        **self._options(),
                    )
                found = _ir(version.pipeline_spec)
            except (NotFound, Forbidden):
                found = {}
            # A version never changes: one read serves every run of it.
            self._version_specs[version_id] = found
        return self._version_specs[version_id]


def _ir(spec: Any) -> dict[str, Any]:
    """The pipeline spec itself, out of a spec that may carry a platform spec beside it."""
    spec = spec if isinstance(spec, dict) else {}
    if "pipeline_spec" in spec and "root" not in spec:
        spec = spec["pipeline_spec"] if isinstance(spec["pipeline_spec"], dict) else {}
    return dict(spec)


def _without_retries(client: Any) -> None:
    """Make `client` try each request once: urllib3 would repeat a timed-out GET three times.

    kfp.Client builds its connection pool from a configuration made inside it, so the pool is
    made again from that configuration with retries turned off.
    """
    from kfp_server_api.rest import RESTClientObject
    from urllib3.util.retry import Retry

    api = client.runs.api_client
    # Redirects are still followed, as before; only failed attempts are not repeated.
    api.configuration.retries = Retry(total=None, connect=0, read=0, other=0, status=0, redirect=3)
    api.rest_client.pool_manager.clear()
    api.rest_client = RESTClientObject(api.configuration)


def _server_message(exc: Any) -> str:
    """The `message` of KFP's error body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    text = body.get("message") if isinstance(body, dict) else None
    return str(text or exc.reason or "").strip()


__all__ = ["ClusterPipelines"]
