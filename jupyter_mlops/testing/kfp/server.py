"""The KFP API emulator: tornado handlers for the v2beta1 REST API, served from its own thread."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, TypeVar

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPServerRequest
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler

from ..control_plane import ControlPlane
from .execution import KubePods, Schedule, TaskRunner
from .pipeline_spec import root_dag
from .resources import FINAL_STATES, Experiment, mlflow_plugin_output, now
from .service import DEFAULT_EXPERIMENT, Identity, KfpService, ListParams
from .wire import ApiError, GrpcCode

__all__ = ["DEFAULT_EXPERIMENT", "DEFAULT_NAMESPACE", "DEFAULT_USER", "KfpEmulator"]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_NAMESPACE = "kubeflow-user-example-com"
DEFAULT_USER = "user@example.com"
SESSION_COOKIE = "authservice_session"
API = "/apis/v2beta1"
ID = r"([^/:]+)"

MISSING_IDENTITY = ApiError(
    GrpcCode.UNAUTHENTICATED,
    "Failed to authorize with API: Unauthenticated: Request header error: there is no user "
    "identity header.",
    "Request header error: there is no user identity header.",
)
REFUSED_TOKEN = ApiError(
    GrpcCode.UNAUTHENTICATED,
    "Failed to authorize with API: Authentication failure: Unauthenticated: "
    "Review.Status.Authenticated is false: Failed to authenticate token review",
    "Review.Status.Authenticated is false",
)

# A small compiled pipeline (the IR kfp 2.17 writes) used when seeding runs without a spec.
SEED_SPEC: dict[str, Any] = {
    "pipelineInfo": {"name": "seeded-pipeline"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.0",
    "components": {
        "comp-prepare": {"executorLabel": "exec-prepare"},
        "comp-train": {"executorLabel": "exec-train"},
    },
    "deploymentSpec": {
        "executors": {
            "exec-prepare": {"container": {"image": "python:3.11", "command": ["python"]}},
            "exec-train": {"container": {"image": "python:3.11", "command": ["python"]}},
        }
    },
    "root": {
        "dag": {
            "tasks": {
                "prepare": {
                    "componentRef": {"name": "comp-prepare"},
                    "taskInfo": {"name": "prepare"},
                },
                "train": {
                    "componentRef": {"name": "comp-train"},
                    "dependentTasks": ["prepare"],
                    "taskInfo": {"name": "train"},
                },
            }
        }
    },
}


class _Handler(RequestHandler):
    """Base of every route: latency, injected faults, authentication, JSON in and out."""

    public = False

    def initialize(self, emulator: KfpEmulator) -> None:
        self.emulator = emulator
        self.who = Identity(user=emulator.user)

    @property
    def service(self) -> KfpService:
        return self.emulator.service

    async def prepare(self) -> None:
        self.emulator.requests[f"{self.request.method} {self.request.path}"] += 1
        if self.emulator.latency > 0:
            await asyncio.sleep(self.emulator.latency)
        if self.public:
            return
        self.emulator._take_fault()
        self.who = self.emulator._authenticate(self.request)

    def send(self, body: dict[str, Any]) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def arg(self, name: str) -> str:
        return self.get_argument(name, "") or ""

    def list_params(self) -> ListParams:
        return ListParams(
            page_token=self.arg("page_token"),
            page_size=self.arg("page_size"),
            sort_by=self.arg("sort_by"),
            filter=self.arg("filter"),
        )

    def json_body(self) -> dict[str, Any]:
        raw = self.request.body
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(
                GrpcCode.INVALID_ARGUMENT, f"proto: syntax error (line 1:1): {error}"
            ) from error
        if not isinstance(body, dict):
            raise ApiError(
                GrpcCode.INVALID_ARGUMENT,
                "proto: syntax error (line 1:1): unexpected token, want an object",
            )
        return body

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if not isinstance(error, ApiError):
            if isinstance(error, HTTPError) and error.status_code == 405:
                # grpc-gateway's routing error for a known path with another method.
                error = ApiError(GrpcCode.UNIMPLEMENTED, "Method Not Allowed")
            elif isinstance(error, HTTPError):
                reason = error.reason or self._reason
                error = ApiError(GrpcCode.for_http_status(error.status_code), reason)
            else:
                # Never send a traceback: the message names the failure only.
                error = ApiError(GrpcCode.INTERNAL, f"Internal error: {error!r}")
        self.set_status(error.http_status)
        self.clear_header("Content-Type")
        self.send(error.body())

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(value, ApiError):
            log.debug("%s %s -> %s", self.request.method, self.request.path, value.message)
            return
        super().log_exception(typ, value, tb)


class _NotFound(_Handler):
    public = True

    def prepare(self) -> None:  # type: ignore[override]
        raise ApiError(GrpcCode.NOT_FOUND, "Not Found")


class _Healthz(_Handler):
    public = True

    def get(self) -> None:
        self.send(
            {
                "commit_sha": "emulated",
                "tag_name": "2.5.0",
                "multi_user": self.service.multi_user,
                "pipeline_store": "database",
            }
        )


class _Experiments(_Handler):
    def get(self) -> None:
        self.send(
            self.service.list_experiments(self.who, self.arg("namespace"), self.list_params())
        )

    def post(self) -> None:
        self.send(self.service.create_experiment(self.who, self.json_body()))


class _Experiment(_Handler):
    def get(self, experiment_id: str) -> None:
        self.send(self.service.get_experiment(self.who, experiment_id))

    def delete(self, experiment_id: str) -> None:
        self.service.delete_experiment(self.who, experiment_id)
        self.send({})


class _ExperimentAction(_Handler):
    def post(self, experiment_id: str, action: str) -> None:
        self.service.archive_experiment(self.who, experiment_id, archived=action == "archive")
        self.send({})


class _Pipelines(_Handler):
    def get(self) -> None:
        self.send(self.service.list_pipelines(self.who, self.arg("namespace"), self.list_params()))

    def post(self) -> None:
        self.send(self.service.create_pipeline(self.who, self.json_body()))


class _PipelineAndVersion(_Handler):
    def post(self) -> None:
        self.send(self.service.create_pipeline_and_version(self.who, self.json_body()))


class _Upload(_Handler):
    def _file(self) -> tuple[str, bytes]:
        files = self.request.files.get("uploadfile") or []
        if not files:
            raise ApiError(
                GrpcCode.INVALID_ARGUMENT,
                "Failed to create a pipeline and a pipeline version: Invalid input error: "
                "Failed to read pipeline from file: http: no such file",
                "Failed to read pipeline from file",
            )
        return files[0]["filename"], files[0]["body"]


class _UploadPipeline(_Upload):
    def post(self) -> None:
        filename, content = self._file()
        self.send(
            self.service.upload_pipeline(
                self.who,
                filename=filename,
                content=content,
                name=self.arg("name"),
                display_name=self.arg("display_name"),
                description=self.arg("description"),
                namespace=self.arg("namespace"),
                tags=self.arg("tags"),
            )
        )


class _UploadVersion(_Upload):
    def post(self) -> None:
        filename, content = self._file()
        self.send(
            self.service.upload_version(
                self.who,
                filename=filename,
                content=content,
                pipeline_id=self.arg("pipelineid"),
                name=self.arg("name"),
                display_name=self.arg("display_name"),
                description=self.arg("description"),
                tags=self.arg("tags"),
            )
        )


class _PipelineByName(_Handler):
    def get(self, name: str) -> None:
        self.send(self.service.get_pipeline_by_name(self.who, name, self.arg("namespace")))


class _Pipeline(_Handler):
    def get(self, pipeline_id: str) -> None:
        self.send(self.service.get_pipeline(self.who, pipeline_id))

    def delete(self, pipeline_id: str) -> None:
        cascade = self.arg("cascade").lower() == "true"
        self.service.delete_pipeline(self.who, pipeline_id, cascade=cascade)
        self.send({})


class _Versions(_Handler):
    def get(self, pipeline_id: str) -> None:
        self.send(self.service.list_versions(self.who, pipeline_id, self.list_params()))

    def post(self, pipeline_id: str) -> None:
        self.send(self.service.create_version(self.who, pipeline_id, self.json_body()))


class _Version(_Handler):
    def get(self, pipeline_id: str, version_id: str) -> None:
        self.send(self.service.get_version(self.who, pipeline_id, version_id))

    def delete(self, pipeline_id: str, version_id: str) -> None:
        self.service.delete_version(self.who, pipeline_id, version_id)
        self.send({})


class _Runs(_Handler):
    def get(self) -> None:
        self.send(
            self.service.list_runs(
                self.who, self.arg("namespace"), self.arg("experiment_id"), self.list_params()
            )
        )

    def post(self) -> None:
        body = self.json_body()
        self.send(self.service.create_run(self.who, body, self.arg("experiment_id")))


class _Run(_Handler):
    def get(self, run_id: str) -> None:
        self.send(self.service.get_run(self.who, run_id))

    def delete(self, run_id: str) -> None:
        self.service.delete_run(self.who, run_id)
        self.send({})


class _RunAction(_Handler):
    async def post(self, run_id: str, action: str) -> None:
        if action in ("archive", "unarchive"):
            self.service.archive_run(self.who, run_id, archived=action == "archive")
        elif action == "terminate":
            self.service.terminate_run(self.who, run_id)
        else:
            await self.service.retry_run(self.who, run_id)
        self.send({})


class _RecurringRuns(_Handler):
    def get(self) -> None:
        self.send(
            self.service.list_recurring_runs(
                self.who, self.arg("namespace"), self.arg("experiment_id"), self.list_params()
            )
        )

    def post(self) -> None:
        self.send(self.service.create_recurring_run(self.who, self.json_body()))


class _RecurringRun(_Handler):
    def get(self, recurring_run_id: str) -> None:
        self.send(self.service.get_recurring_run(self.who, recurring_run_id))

    def delete(self, recurring_run_id: str) -> None:
        self.service.delete_recurring_run(self.who, recurring_run_id)
        self.send({})


class _RecurringRunAction(_Handler):
    def post(self, recurring_run_id: str, action: str) -> None:
        self.service.set_recurring_run_mode(self.who, recurring_run_id, action == "enable")
        self.send({})


def _routes(emulator: KfpEmulator) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    table: list[tuple[str, type[RequestHandler]]] = [
        (f"{API}/healthz", _Healthz),
        (f"{API}/experiments", _Experiments),
        (f"{API}/experiments/{ID}:(archive|unarchive)", _ExperimentAction),
        (f"{API}/experiments/{ID}", _Experiment),
        (f"{API}/pipelines", _Pipelines),
        (f"{API}/pipelines/create", _PipelineAndVersion),
        (f"{API}/pipelines/upload", _UploadPipeline),
        (f"{API}/pipelines/upload_version", _UploadVersion),
        (f"{API}/pipelines/names/{ID}", _PipelineByName),
        (f"{API}/pipelines/{ID}/versions", _Versions),
        (f"{API}/pipelines/{ID}/versions/{ID}", _Version),
        (f"{API}/pipelines/{ID}", _Pipeline),
        (f"{API}/runs", _Runs),
        (f"{API}/runs/{ID}:(archive|unarchive|terminate|retry)", _RunAction),
        (f"{API}/runs/{ID}", _Run),
        (f"{API}/recurringruns", _RecurringRuns),
        (f"{API}/recurringruns/{ID}:(enable|disable)", _RecurringRunAction),
        (f"{API}/recurringruns/{ID}", _RecurringRun),
    ]
    return [(pattern, handler, {"emulator": emulator}) for pattern, handler in table]


class KfpEmulator:
    """A Kubeflow Pipelines API server (v2beta1 REST) on loopback, for tests, demo, benchmarks.

    It serves from its own thread and event loop, so the blocking ``kfp.Client`` and async
    code on another loop can both call it::

        with KfpEmulator(token="t0k3n", step_seconds=0.05) as kfp_api:
            client = kfp.Client(host=kfp_api.url, existing_token="t0k3n",
                                namespace="kubeflow-user-example-com")

    Multi-user by default, like a Kubeflow cluster: experiments and runs belong to a profile
    namespace, and each listed namespace starts with a ``Default`` experiment. With ``token``
    or ``session_cookie`` set, every call but ``healthz`` needs that bearer token (or
    ``authservice_session`` cookie). Runs move PENDING, RUNNING, then SUCCEEDED or FAILED
    through the nodes of an Argo Workflow as KFP 2.x compiles it (drivers, task DAGs,
    sub-pipelines, ParallelFor iterations, ``dsl.If`` branches, exit handlers): one step of
    ``step_seconds`` per state and ``task_seconds`` per task; with ``kube_url`` each executor
    is a pod in that Kubernetes API, with its phase and log kept current. Recurring runs are
    kept, and their periodic triggers start runs.

    The JSON is the real server's: fields left empty are absent (an empty list is ``{}``),
    run times not reached yet are ``1970-01-01T00:00:00Z``, and ``run_details.task_details``
    has one entry per workflow node (see ``workflow``). Stop and start again keep the port
    and all state; unfinished runs resume.

    Test controls: ``fail_task``, ``fail_tasks_named``, ``set_task_seconds`` and
    ``set_task_output`` shape runs; ``set_mlflow_output`` links one to MLflow as the server's
    MLflow integration does; ``wait_for_run_state``, ``wait_for_task_state`` and
    ``wait_for_scheduled_runs`` block until it happened (woken by the change, no polling);
    ``fail_next``, ``latency``, ``expire_token`` inject trouble; ``seed_runs`` adds thousands
    of finished runs at once; ``requests`` counts calls.
    """

    def __init__(
        self,
        port: int = 0,
        kube_url: str | None = None,
        *,
        kube_token: str | None = None,
        control_plane: ControlPlane | None = None,
        host: str = "127.0.0.1",
        token: str | None = None,
        session_cookie: str | None = None,
        user: str = DEFAULT_USER,
        multi_user: bool = True,
        namespaces: Iterable[str] = (DEFAULT_NAMESPACE,),
        step_seconds: float = 1.0,
        task_seconds: float | None = None,
        failing_task_names: Iterable[str] = (),
        latency: float = 0.0,
    ) -> None:
        self.host = host
        self.user = user
        #: Seconds every request waits before it is handled; change it at any time.
        self.latency = latency
        #: Requests served, by ``"METHOD /path"``.
        self.requests: Counter[str] = Counter()
        self.schedule = Schedule(
            step_seconds=step_seconds,
            task_seconds=task_seconds,
            failing_task_names=set(failing_task_names),
        )
        self._port = port
        if control_plane is not None:
            kube_url, kube_token = control_plane.url, control_plane.token
        self._pods = KubePods(kube_url, kube_token, plane=control_plane) if kube_url else None
        self._changed = threading.Condition()
        self._tokens: dict[str, Identity] = {}
        self._sessions: dict[str, Identity] = {}
        self._faults: list[int] = []
        self._faults_lock = threading.Lock()
        self.service = KfpService(
            multi_user=multi_user, runner=TaskRunner(self.schedule, self._pods, self._notify)
        )
        for namespace in namespaces if multi_user else ("",):
            self.service.ensure_default_experiment(namespace)
        if token:
            self.add_token(token)
        if session_cookie:
            self.add_session_cookie(session_cookie)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HTTPServer | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (chosen at the first start when 0 was asked for)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL, ``http://host:port``, for ``kfp.Client(host=...)``."""
        return f"http://{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> KfpEmulator:
        """Serve from a new thread; returns once the port accepts connections."""
        if self.running:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                sockets = bind_sockets(self._port, self.host)
                self._port = sockets[0].getsockname()[1]
                app = Application(
                    _routes(self),
                    default_handler_class=_NotFound,
                    default_handler_args={"emulator": self},
                )
                self._server = HTTPServer(app, max_body_size=64 * 1024 * 1024)
                self._server.add_sockets(sockets)
                loop.call_soon(self._resume_runs)
            except BaseException as error:
                failure.append(error)
                ready.set()
                loop.close()
                return
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(
            target=serve, name=f"kfp-emulator-{self._port}", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def _resume_runs(self) -> None:
        for run in self.service.runs.values():
            if not run.finished:
                self.service.runner.start(run)
        self.service.start_schedules()

    def stop(self) -> None:
        """Stop serving (connections close, runs pause); ``start()`` again resumes."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._thread = None
        self._loop = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
        await self.service.stop_schedules()
        await self.service.runner.shutdown()
        if self._pods is not None:
            self._pods.close()

    def __enter__(self) -> KfpEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the server's loop (state belongs to it) and return its result."""
        loop = self._loop
        if loop is None or not self.running:
            return work()

        async def on_loop() -> T:
            return work()

        return asyncio.run_coroutine_threadsafe(on_loop(), loop).result(timeout=30)

    def _call_async(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Await ``work()`` on the server's loop (or on a loop of its own when not serving)."""
        loop = self._loop
        if loop is None or not self.running:
            return asyncio.run(work())
        return asyncio.run_coroutine_threadsafe(work(), loop).result(timeout=300)

    # -- identities ----------------------------------------------------------------------

    def add_token(
        self, token: str, user: str | None = None, namespaces: Iterable[str] | None = None
    ) -> None:
        """Accept ``Authorization: Bearer <token>`` for ``user``, in ``namespaces`` (None: all)."""
        scope = None if namespaces is None else frozenset(namespaces)
        self._tokens[token] = Identity(user=user or self.user, namespaces=scope)

    def add_session_cookie(
        self, value: str, user: str | None = None, namespaces: Iterable[str] | None = None
    ) -> None:
        """Accept the Dex session cookie ``authservice_session=<value>`` for ``user``."""
        scope = None if namespaces is None else frozenset(namespaces)
        self._sessions[value] = Identity(user=user or self.user, namespaces=scope)

    def expire_token(self, token: str) -> None:
        """Make ``token`` (or a session cookie value) answer 401 from now on."""
        for table in (self._tokens, self._sessions):
            if token in table:
                identity = table[token]
                table[token] = Identity(identity.user, identity.namespaces, expired=True)

    def _authenticate(self, request: HTTPServerRequest) -> Identity:
        if not self._tokens and not self._sessions:
            return Identity(user=self.user)
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            identity = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            if identity is None or identity.expired:
                raise REFUSED_TOKEN
            return identity
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie is not None:
            identity = self._sessions.get(cookie.value)
            if identity is None or identity.expired:
                raise REFUSED_TOKEN
            return identity
        raise MISSING_IDENTITY

    # -- faults and schedule -------------------------------------------------------------

    def fail_next(self, count: int = 1, code: int = 503) -> None:
        """Answer the next ``count`` API calls (not ``healthz``) with HTTP status ``code``."""
        with self._faults_lock:
            self._faults.extend([code] * count)

    def _take_fault(self) -> None:
        with self._faults_lock:
            if not self._faults:
                return
            code = self._faults.pop(0)
        raise ApiError(
            GrpcCode.for_http_status(code),
            f"Injected fault: the server answers HTTP {code}",
        )

    def fail_task(self, run_id: str, task_name: str) -> None:
        """Make ``task_name`` of run ``run_id`` end FAILED (once), if it has not ended yet."""
        self._call(lambda: self.schedule.failing_tasks.add((run_id, task_name)))

    def fail_tasks_named(self, *names: str) -> None:
        """Make every task with one of ``names``, in every run from now on, end FAILED."""
        self._call(lambda: self.schedule.failing_task_names.update(names))

    def set_task_output(self, task_name: str, key: str, value: Any) -> None:
        """What tasks named ``task_name`` output as ``key`` (conditions and loops read it)."""
        self._call(lambda: self.schedule.task_outputs.__setitem__((task_name, key), value))

    def set_mlflow_output(self, run_id: str, **entries: str) -> None:
        """Put ``plugins_output.mlflow`` on run ``run_id``, as a server with MLflow on does;
        ``entries`` go to :func:`resources.mlflow_plugin_output` (``root_run_id``, ...)."""
        output = mlflow_plugin_output(**entries)
        self._call(lambda: self.service.runs[run_id].plugins_output.__setitem__("mlflow", output))

    def set_task_seconds(self, task_name: str, seconds: float) -> None:
        """How long tasks named ``task_name`` stay RUNNING."""
        self._call(lambda: self.schedule.task_durations.__setitem__(task_name, seconds))

    @property
    def kube_errors(self) -> list[str]:
        """Failed calls to the Kubernetes API, newest last."""
        return list(self._pods.errors) if self._pods is not None else []

    # -- state, for tests and seeding ----------------------------------------------------

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def run_state(self, run_id: str) -> str:
        """The current state of a run."""
        return self._call(lambda: self.service.runs[run_id].state)

    def wait_for_run_state(self, run_id: str, *states: str, timeout: float = 30.0) -> str:
        """Block until run ``run_id`` is in one of ``states`` (default: any final state).

        Woken by the state changes themselves, never by polling; raises TimeoutError.
        """
        wanted = set(states) or set(FINAL_STATES)

        def reached() -> bool:
            run = self.service.runs.get(run_id)
            return run is not None and run.state in wanted

        with self._changed:
            if not self._changed.wait_for(reached, timeout=timeout):
                run = self.service.runs.get(run_id)
                current = run.state if run else "deleted"
                raise TimeoutError(f"run {run_id} is {current}, not {sorted(wanted)}")
        return self.service.runs[run_id].state

    def wait_for_task_state(
        self, run_id: str, task_name: str, *states: str, timeout: float = 30.0
    ) -> str:
        """Block until a task of run ``run_id`` is in one of ``states``."""

        def current() -> str:
            run = self.service.runs.get(run_id)
            task = run.task(task_name) if run else None
            return task.state if task else ""

        with self._changed:
            if not self._changed.wait_for(lambda: current() in states, timeout=timeout):
                raise TimeoutError(f"task {task_name} is {current()!r}, not {sorted(states)}")
        return current()

    def wait_for_scheduled_runs(
        self, recurring_run_id: str, count: int, timeout: float = 30.0
    ) -> list[str]:
        """Block until the recurring run started ``count`` runs; their ids, oldest first."""

        def started() -> list[str]:
            # Copied at once: the server's thread may add runs meanwhile.
            every = list(self.service.runs.values())
            runs = [r for r in every if r.recurring_run_id == recurring_run_id]
            return [r.run_id for r in sorted(runs, key=lambda r: r.created_at)]

        with self._changed:
            if not self._changed.wait_for(lambda: len(started()) >= count, timeout=timeout):
                raise TimeoutError(f"{len(started())} runs of {recurring_run_id}, not {count}")
        return started()

    def add_experiment(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> str:
        """Create an experiment directly (no request); returns its id."""

        def create() -> str:
            body = {"display_name": name, "namespace": namespace}
            created = self.service.create_experiment(Identity(self.user), body)
            return str(created["experiment_id"])

        return self._call(create)

    def default_experiment_id(self, namespace: str = DEFAULT_NAMESPACE) -> str:
        """The id of the namespace's ``Default`` experiment (created when missing)."""
        return self._call(lambda: self.service.ensure_default_experiment(namespace).experiment_id)

    def seed_runs(
        self,
        count: int,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        experiment_id: str | None = None,
        pipeline_spec: dict[str, Any] | None = None,
        states: tuple[str, ...] = ("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED"),
        spacing_seconds: int = 60,
        name_prefix: str = "seeded-run-",
    ) -> list[str]:
        """Add ``count`` finished runs at once, one every ``spacing_seconds`` up to now.

        They have task details but no pods; returns their ids, oldest first.
        """
        if not set(states) <= {"SUCCEEDED", "FAILED", "CANCELED"}:
            raise ValueError("seeded runs end SUCCEEDED, FAILED or CANCELED")
        spec = pipeline_spec or SEED_SPEC
        root_dag(spec)

        async def seed() -> list[str]:
            experiment: Experiment
            if experiment_id:
                experiment = self.service.experiments[experiment_id]
            else:
                experiment = self.service.ensure_default_experiment(namespace)
            return await self.service.seed_runs(
                count=count,
                experiment=experiment,
                spec=spec,
                states=states,
                newest_at=now(),
                spacing_seconds=spacing_seconds,
                name_prefix=name_prefix,
            )

        return self._call_async(seed)
