"""`Tracking`: MLflow experiments, runs, metrics, artifacts and registered models, read-only.

Over the official MLflow client, imported only when a method is called. Every failure becomes
one of the typed errors of `jupyter_mlops.errors`, worded for the user.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from ..config import Settings
from ..errors import (
    BadInput,
    Forbidden,
    MLOpsError,
    NotFound,
    Unavailable,
    check_page_token,
    root_cause,
)
from ..policy import refuse_writes
from .downsample import MIN_POINTS, downsample
from .models import (
    Artifact,
    Experiment,
    ExperimentPage,
    MetricHistory,
    MetricPoint,
    ModelVersion,
    ModelVersionPage,
    RegisteredModel,
    RegisteredModelPage,
    Run,
    RunPage,
    RunSummary,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

MAX_RESULTS = 1000
FULL_RUN_ID = 32
SHORT_RUN_ID = 8
_HEX = re.compile(r"[0-9a-f]+")
DEFAULT_PAGE = 100
#: Seconds to connect; the answer then has `Settings.backend_timeout` seconds to come.
CONNECT_TIMEOUT = 2.0
MAX_POINTS = 100_000

#: MLflow's request auth providers that send the Kubernetes identity as a bearer token; the
#: namespaced one also names the namespace as the workspace.
KUBERNETES_AUTH = ("kubernetes", "kubernetes-namespaced")
#: The header an MLflow server with workspaces reads the workspace from.
WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"
#: Answers without credentials, and says whether the server has workspaces.
SERVER_INFO = "/api/3.0/mlflow/server-info"
#: Seconds the server's answer is kept: workspaces are switched on only by a server restart.
SERVER_INFO_TTL = 300.0

#: How a server without the server-info route answers it.
NO_SUCH_ROUTE = (404, 405, 501)

AuthKind = Literal["none", "token", "basic", "kubernetes"]


@dataclass(frozen=True)
class _Call:
    """What the requests of one `Tracking` call carry, to its own servers only.

    Held by the calling thread alone: two calls at once, or a forked worker, never see
    another call's credentials. Nothing of it passes through `os.environ`.
    """

    servers: frozenset[str]  # the origins (scheme://host:port) the credentials are for
    deadlines: tuple[float, float]  # (connect, read) seconds
    authorization: str | None
    #: MLflow's own Kubernetes provider, asked when we hold no token (an exec plugin, say).
    provider: str | None
    workspace: str | None
    verify: bool | str
    cert: str | None

    def covers(self, url: str) -> bool:
        return _origin(url) in self.servers

    def prepare(self, request: Any) -> Any:
        """The request with exactly this call's identity and workspace, none of MLflow's."""
        request.headers.pop("Authorization", None)
        request.headers.pop(WORKSPACE_HEADER, None)
        # Workspace routes name the workspace in their path; MLflow sends no header to them.
        if self.workspace and "/mlflow/workspaces" not in urlparse(request.url).path:
            request.headers[WORKSPACE_HEADER] = self.workspace
        if self.authorization:
            request.headers["Authorization"] = self.authorization
        elif self.provider:
            from mlflow.tracking.request_auth import registry

            providers: Any = registry
            request = providers.fetch_auth(self.provider)(request)
        return request


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}".lower()


class _Calls(threading.local):
    """The `Tracking` call this thread is making, if any."""

    value: _Call | None = None


_CALLS = _Calls()


class _CallAdapter:
    """Sends MLflow's requests; a `Tracking` call's go out with its identity, workspace and
    deadlines, through MLflow's own retry-less adapter (our calls are never retried)."""

    def __init__(self, inner: Any, once: Any) -> None:
        self.inner = inner
        self.once = once

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        call = _CALLS.value
        if call is None or not call.covers(request.url):
            return self.inner.send(request, *args, **kwargs)
        request = call.prepare(request)
        kwargs.update(timeout=call.deadlines, verify=call.verify, cert=call.cert)
        return self.once.send(request, *args, **kwargs)

    def close(self) -> None:
        self.inner.close()


def _mlflow_session(max_retries: int | None, raise_on_status: bool) -> Any:
    """The HTTP session MLflow's requests use with these settings (MLflow keeps one per
    process and settings); the others from MLflow's environment variables, as MLflow reads them."""
    from mlflow import environment_variables
    from mlflow.utils import request_utils

    variables: Any = environment_variables
    requests_of: Any = request_utils
    return requests_of._get_request_session(
        variables.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() if max_retries is None else max_retries,
        variables.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get(),
        variables.MLFLOW_HTTP_REQUEST_BACKOFF_JITTER.get(),
        requests_of._TRANSIENT_FAILURE_RESPONSE_CODES,
        raise_on_status,
        variables.MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER.get(),
    )


def _route_calls() -> None:
    """Put `_CallAdapter` in front of the sessions MLflow's REST calls use: its default one
    and the retry-less ones of its version and server-info probes. Other requests pass as
    MLflow makes them."""
    for raise_on_status in (True, False):
        once = _mlflow_session(0, raise_on_status)
        sessions = {id(s): s for s in (_mlflow_session(None, raise_on_status), once)}
        for prefix in ("http://", "https://"):
            plain = once.get_adapter(prefix)
            plain = plain.inner if isinstance(plain, _CallAdapter) else plain
            for session in sessions.values():
                inner = session.get_adapter(prefix)
                if not isinstance(inner, _CallAdapter):
                    session.mount(prefix, _CallAdapter(inner, plain))


#: Run states after which nothing more is logged.
FINISHED = ("FINISHED", "FAILED", "KILLED")
#: Points of finished runs' histories kept in memory, all histories together.
HISTORY_POINTS_KEPT = 2_000_000

Point = tuple[int, int, float | None]


class _FinishedHistories:
    """Finished runs' metric histories, newest use last, bounded by their points."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], tuple[object, list[Point]]] = {}
        self._points = 0
        self._lock = threading.Lock()

    def get(self, run_id: str, key: str, stamp: object) -> list[Point] | None:
        with self._lock:
            found = self._kept.pop((run_id, key), None)
            if found is None:
                return None
            self._kept[(run_id, key)] = found  # used: the last to go
            # Logged to after it ended (MLflow allows it): the stamp moved, read it again.
            return found[1] if found[0] == stamp else None

    def put(self, run_id: str, key: str, stamp: object, points: list[Point]) -> None:
        if len(points) > HISTORY_POINTS_KEPT:
            return
        with self._lock:
            old = self._kept.pop((run_id, key), None)
            self._points += len(points) - (len(old[1]) if old else 0)
            self._kept[(run_id, key)] = (stamp, points)
            while self._points > HISTORY_POINTS_KEPT:
                oldest = next(iter(self._kept))
                self._points -= len(self._kept.pop(oldest)[1])


class Tracking:
    """MLflow as a data scientist browses it: experiments, runs, metric charts, models.

    >>> tracking = Tracking.connect()        # $MLFLOW_TRACKING_URI, else the workspace's store
    >>> [e.name for e in tracking.experiments().experiments]

    Searches are paged (at most 1000 items a page). Each request has 2 s to connect and
    `timeout` seconds (`Settings.backend_timeout` by default) to answer, and is never retried.
    """

    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        self.settings = settings
        self.uri = settings.tracking_uri
        self.local = settings.tracking == "local"
        self.timeout = settings.backend_timeout if timeout is None else timeout
        self._client: MlflowClient | None = None
        self._lock = threading.Lock()
        self._histories = _FinishedHistories()
        self.auth_provider = (settings.env.get("MLFLOW_TRACKING_AUTH") or "").strip() or None
        self.auth = auth_kind(settings)
        self._workspaces: tuple[float, bool] | None = None  # (when asked, the answer)
        registry = settings.env.get("MLFLOW_REGISTRY_URI") or self.uri
        self._servers = frozenset(_origin(uri) for uri in (self.uri, registry))

    @classmethod
    def connect(cls, settings: Settings | None = None) -> Tracking:
        """Tracking from the resolved configuration (a local store when nothing is set)."""
        from ..config import resolve

        return cls(settings if settings is not None else resolve())

    @property
    def where(self) -> str:
        """The store in words, for messages."""
        if self.local:
            return f"the local MLflow store {self.uri}"
        return f"the MLflow server at {self.uri}"

    # -- identity and workspace ------------------------------------------------------------

    def kubernetes_token(self) -> str | None:
        """The Kubernetes identity's token, read now: the projected token file rotates."""
        return service_account_token(self.settings)

    def workspace(self) -> str | None:
        """The MLflow workspace calls go to: $MLFLOW_WORKSPACE, else the profile namespace when
        the server has workspaces (or the namespaced Kubernetes auth asks for one), else none."""
        explicit = (self.settings.env.get("MLFLOW_WORKSPACE") or "").strip()
        if explicit:
            return explicit
        if self.local:
            return None
        if self.auth_provider == "kubernetes-namespaced" or self.workspaces_enabled():
            return self.settings.namespace
        return None

    def task_environment(self, *, cluster: bool) -> dict[str, str]:
        """What a pipeline task is given to log where this notebook looks: the store's URI
        and the workspace, never a credential (a pipeline spec is no place for a token).

        A cluster task gets only a server's URI: a local store's path means nothing in a pod.
        When the server cannot be asked whether it has workspaces, none is named, and the
        pipeline is still made: its tasks log as they did before workspaces.
        """
        if cluster and not self.uri.startswith(("http://", "https://")):
            return {}
        values = {"MLFLOW_TRACKING_URI": self.uri}
        try:
            workspace = self.workspace()
        except (Unavailable, Forbidden):
            workspace = None
        if workspace:
            values["MLFLOW_WORKSPACE"] = workspace
        return values

    def workspaces_enabled(self) -> bool:
        """Whether the server has workspaces, from its server-info answer (kept a while).

        A server too old to have the route has none. `Unavailable` when the server does not
        answer: guessing could write to another workspace.
        """
        if self.local:
            return False
        with self._lock:
            known = self._workspaces
        if known is not None and time.monotonic() - known[0] < SERVER_INFO_TTL:
            return known[1]
        enabled = self._ask_workspaces()
        with self._lock:
            self._workspaces = (time.monotonic(), enabled)
        return enabled

    def _ask_workspaces(self) -> bool:
        import requests

        env = self.settings.env
        bearer = self._bearer()
        try:
            answer = requests.get(
                self.uri.rstrip("/") + SERVER_INFO,
                # Open on MLflow itself; a gateway in front may still want our identity.
                headers={"Authorization": f"Bearer {bearer}"} if bearer else {},
                auth=(
                    (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"])
                    if self.auth == "basic"
                    else None
                ),
                timeout=(CONNECT_TIMEOUT, self.timeout),
                verify=self._verify(),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._network_failure(exc) or Unavailable(
                "tracking", f"{self.where} failed: {root_cause(exc)}"
            ) from None
        if answer.status_code in NO_SUCH_ROUTE:
            return False  # a server older than workspaces
        if answer.status_code in (401, 403):
            raise Forbidden(f"{self.where} refused the request: {self._check()}")
        if answer.status_code != 200:
            raise Unavailable(
                "tracking",
                f"{self.where} answered HTTP {answer.status_code} to {SERVER_INFO}: cannot "
                "tell whether it has workspaces",
            )
        try:
            info = answer.json()
        except ValueError:
            return False
        return isinstance(info, dict) and info.get("workspaces_enabled") is True

    def _verify(self) -> bool | str:
        env = self.settings.env
        if (env.get("MLFLOW_TRACKING_INSECURE_TLS") or "").lower() == "true":
            return False
        return env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or True

    def request_headers(self) -> dict[str, str]:
        """The bearer token and workspace header a direct request to the server carries."""
        headers: dict[str, str] = {}
        token = self._bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        workspace = self.workspace()
        if workspace:
            headers[WORKSPACE_HEADER] = workspace
        return headers

    def _bearer(self) -> str | None:
        if self.auth == "kubernetes":
            return self.kubernetes_token()
        if self.auth == "token":
            return self.settings.env.get("MLFLOW_TRACKING_TOKEN") or None
        return None  # basic auth wins over a token in MLflow too

    def _call(self) -> _Call:
        """What this call's requests carry: this moment's identity, the workspace, our deadlines.

        The Kubernetes token is read at every call, so a rotated one is used at once (MLflow's
        own provider keeps it 60 s); without a token file or a kubeconfig token, MLflow's
        provider is left to find the identity (a kubeconfig exec plugin, say).
        """
        env = self.settings.env
        authorization: str | None = None
        provider: str | None = None
        if self.auth == "basic":
            pair = f"{env['MLFLOW_TRACKING_USERNAME']}:{env['MLFLOW_TRACKING_PASSWORD']}"
            authorization = "Basic " + base64.standard_b64encode(pair.encode()).decode()
        else:
            token = self._bearer()
            if token:
                authorization = f"Bearer {token}"
            elif self.auth == "kubernetes":
                # The plain provider: the namespaced one would also set $MLFLOW_WORKSPACE.
                provider = "kubernetes"
        workspace = self.workspace()
        if workspace and not self.workspaces_enabled():
            # As MLflow refuses it: the server would ignore the workspace and use its default.
            raise Unavailable(
                "tracking",
                f"workspace {workspace!r} cannot be used: {self.where} has no workspaces "
                "(unset $MLFLOW_WORKSPACE, or start the server with --enable-workspaces)",
            )
        return _Call(
            servers=self._servers,
            deadlines=(CONNECT_TIMEOUT, self.timeout),
            authorization=authorization,
            provider=provider,
            workspace=workspace,
            verify=self._verify(),
            cert=env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None,
        )

    # -- transport -------------------------------------------------------------------------

    def client(self) -> MlflowClient:
        """The official client, made once."""
        with self._lock:
            if self._client is None:
                from mlflow import MlflowClient

                parsed = urlparse(self.uri)
                if parsed.scheme == "sqlite" and parsed.path not in ("", "/:memory:"):
                    # sqlite creates the database file, not the folders it lives in.
                    Path(parsed.path).parent.mkdir(parents=True, exist_ok=True)
                registry = self.settings.env.get("MLFLOW_REGISTRY_URI") or self.uri
                self._client = MlflowClient(tracking_uri=self.uri, registry_uri=registry)
            return self._client

    def writer(self) -> contextlib.AbstractContextManager[MlflowClient]:
        """The official client for writes, with the same timeouts, credentials and errors.

        `ReadOnly` in read-only mode, for a server and for the workspace's local store alike.
        """
        refuse_writes(self.settings, f"writing to {self.where}")
        return self._calling()

    @contextlib.contextmanager
    def _calling(self, missing: str = "") -> Iterator[MlflowClient]:
        """The client, with short timeouts and our credentials; MLflow's errors made typed."""
        outer = _CALLS.value
        try:
            if not self.local:
                _route_calls()
                _CALLS.value = self._call()
            yield self.client()
        except MLOpsError:
            raise
        except Exception as exc:
            raise self._error(exc, missing) from None
        finally:
            _CALLS.value = outer

    def _error(self, exc: Exception, missing: str) -> MLOpsError:
        from mlflow.exceptions import MlflowException

        if isinstance(exc, MlflowException):
            code = str(exc.error_code)
            message = _plain(exc.message, code)
            if code == "RESOURCE_DOES_NOT_EXIST":
                return NotFound(f"{missing} in {self.where}" if missing else message)
            if code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE"):
                return BadInput(message)
            if code in ("UNAUTHENTICATED", "PERMISSION_DENIED", "CUSTOMER_UNAUTHORIZED"):
                return Forbidden(f"{self.where} refused the request ({message}); {self._check()}")
            failure = self._network_failure(exc)
            if failure is not None:
                return failure
            return Unavailable("tracking", f"{self.where} failed: {message}")
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 404:
            return NotFound(f"{missing} in {self.where}" if missing else str(exc))
        if status == 400:
            return BadInput(f"{self.where} refused the request: {_response_message(exc)}")
        if status in (401, 403):
            return Forbidden(f"{self.where} refused the request: {_response_message(exc)}")
        failure = self._network_failure(exc)
        if failure is not None:
            return failure
        return Unavailable("tracking", f"{self.where} failed: {root_cause(exc)}")

    def _check(self) -> str:
        """What to check when the server refuses our identity."""
        if self.auth == "kubernetes":
            return (
                "the Kubernetes ServiceAccount token was sent: check that its account may use "
                f"workspace {self.workspace() or '(none)'}"
            )
        return "check $MLFLOW_TRACKING_TOKEN, or $MLFLOW_TRACKING_USERNAME and _PASSWORD"

    def _network_failure(self, exc: BaseException) -> Unavailable | None:
        """Which deadline ran out, or why the connection failed, if that is what `exc` is."""
        cause = _network_cause(exc)
        if cause is None:
            return None
        kind, words = cause
        if kind == "read":
            return Unavailable(
                "tracking",
                f"{self.where} is still computing after {self.timeout:g} s (it goes on "
                "without us: narrow the filter or the sort, or try again)",
            )
        if kind == "dropped":
            return Unavailable(
                "tracking", f"{self.where} closed the connection unanswered: {words}"
            )
        if kind == "connect-timeout":
            words = f"could not connect within {CONNECT_TIMEOUT:g} s"
        return Unavailable("tracking", f"cannot reach {self.where}: {words}")

    # -- experiments -----------------------------------------------------------------------

    def experiments(
        self, name: str = "", *, max_results: int = DEFAULT_PAGE, page_token: str | None = None
    ) -> ExperimentPage:
        """Active experiments whose name contains `name` (any case), by name, one page."""
        text = _quoted(f"%{name}%", "name") if name else None
        token = _page_token(page_token)
        with self._calling() as client:
            page = client.search_experiments(
                max_results=_page_size(max_results),
                filter_string=f"name ILIKE {text}" if text else None,
                order_by=["name ASC"],
                page_token=token,
            )
        return ExperimentPage(
            experiments=[_experiment(e) for e in page], next_page_token=page.token or None
        )

    def experiment(self, name_or_id: str) -> Experiment:
        """The experiment of this name, else of this id; `NotFound` naming it otherwise."""
        if not name_or_id:
            raise BadInput("name the experiment")
        with self._calling(f"no experiment named {name_or_id!r}") as client:
            found = client.get_experiment_by_name(name_or_id)
            if found is None and name_or_id.isdigit():
                found = client.get_experiment(name_or_id)
        if found is None:
            raise NotFound(f"no experiment named {name_or_id!r} in {self.where}")
        return _experiment(found)

    # -- runs ------------------------------------------------------------------------------

    def runs(
        self,
        experiment_id: str,
        *,
        filter: str = "",
        order_by: Sequence[str] = (),
        max_results: int = DEFAULT_PAGE,
        page_token: str | None = None,
        params: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
    ) -> RunPage:
        """One page of an experiment's active runs, filtered with MLflow's search syntax
        (`metrics.loss < 0.2 and params.lr = '0.1'`) and ordered (`metrics.loss ASC`; newest
        first by default). `params` and `metrics` choose the columns kept (all when None)."""
        token = _page_token(page_token)
        with self._calling(f"no experiment with id {experiment_id!r}") as client:
            page = client.search_runs(
                [experiment_id],
                filter_string=filter,
                max_results=_page_size(max_results),
                order_by=list(order_by) or None,
                page_token=token,
            )
            if not page and not token:
                # A search in a missing experiment finds nothing rather than failing.
                client.get_experiment(experiment_id)
        return RunPage(
            experiment_id=experiment_id,
            runs=[_run_summary(r, params, metrics) for r in page],
            next_page_token=page.token or None,
        )

    def run(self, run_id: str) -> Run:
        """A run with all its params, latest metrics and tags; `run_id` may be the first
        characters of the id (8 or more), as the product prints it."""
        run_id = self.full_run_id(run_id)
        with self._calling(f"no run {run_id!r}") as client:
            found = client.get_run(run_id)
        summary = _run_summary(found, None, None)
        return Run(
            **summary.model_dump(),
            lifecycle_stage=found.info.lifecycle_stage,
            artifact_uri=found.info.artifact_uri or "",
            tags=dict(found.data.tags),
        )

    def full_run_id(self, run_id: str) -> str:
        """The whole id of the run whose id starts with `run_id`, among the newest runs.

        MLflow finds runs by whole ids only, so a shorter one is looked for among the
        `MAX_RESULTS` newest runs of every experiment: bounded, and enough for ids just shown.
        """
        run_id = run_id.strip().lower()
        if not SHORT_RUN_ID <= len(run_id) < FULL_RUN_ID or not _HEX.fullmatch(run_id):
            return run_id  # a whole id, or not one the product prints: MLflow says what it is
        with self._calling() as client:
            experiments = [
                e.experiment_id for e in client.search_experiments(max_results=MAX_RESULTS)
            ]
            found = (
                client.search_runs(
                    experiments, max_results=MAX_RESULTS, order_by=["attributes.start_time DESC"]
                )
                if experiments
                else []
            )
        matches = sorted({str(r.info.run_id) for r in found if r.info.run_id.startswith(run_id)})
        if not matches:
            raise NotFound(f"no run whose id starts with {run_id!r} in {self.where}")
        if len(matches) > 1:
            raise BadInput(f"{run_id!r} starts {len(matches)} run ids; give more of it")
        return matches[0]

    def metric_history(self, run_id: str, key: str, *, points: int | None = None) -> MetricHistory:
        """Every logged value of metric `key`, in step order; with `points`, at most that many,
        keeping the first and last point and each stretch's lowest and highest value."""
        if not key:
            raise BadInput("name the metric (key)")
        if points is not None and not MIN_POINTS <= points <= MAX_POINTS:
            raise BadInput(f"points must be between {MIN_POINTS} and {MAX_POINTS}")
        with self._calling(f"no run {run_id!r}") as client:
            run = client.get_run(run_id)
            if key not in run.data.metrics:
                raise NotFound(f"run {run_id!r} has no metric {key!r}")
            # A finished run's history does not change: kept as plain tuples, it is served
            # again without MLflow's get-history, its protobuf or a model per point.
            stamp = (run.info.status, run.info.end_time, run.data.metrics[key])
            logged = self._histories.get(run_id, key, stamp)
            if logged is None:
                # The client pages through the server's get-history answers itself.
                logged = sorted(
                    (
                        (m.step, m.timestamp, m.value)
                        for m in client.get_metric_history(run_id, key)
                    ),
                    key=lambda p: (p[0], p[1]),
                )
                if run.info.status in FINISHED:
                    self._histories.put(run_id, key, stamp, logged)
        kept = logged if points is None else downsample(logged, points, itemgetter(2))
        return MetricHistory.model_construct(
            run_id=run_id,
            key=key,
            total=len(logged),
            downsampled=len(kept) < len(logged),
            points=[
                MetricPoint.model_construct(step=step, timestamp=time, value=value)
                for step, time, value in kept
            ],
        )

    # -- artifacts -------------------------------------------------------------------------

    def artifacts(self, run_id: str, path: str = "") -> list[Artifact]:
        """The files and folders directly under `path` among a run's artifacts."""
        relative = artifact_path(path, allow_root=True)
        with self._calling(f"no run {run_id!r}") as client:
            infos = client.list_artifacts(run_id, relative or None)
        return [Artifact(path=i.path, is_dir=i.is_dir, size=i.file_size) for i in infos]

    def download_artifact(self, run_id: str, path: str, folder: str | os.PathLike[str]) -> Path:
        """Download one artifact file into `folder` (which must exist), under its own name; its
        local path."""
        relative = artifact_path(path)
        with self._calling(f"run {run_id!r} has no artifact {relative!r}") as client:
            parent = str(PurePosixPath(relative).parent)
            listed = client.list_artifacts(run_id, None if parent == "." else parent)
            entry = next((i for i in listed if i.path == relative), None)
            if entry is None:
                raise NotFound(f"run {run_id!r} has no artifact {relative!r}")
            if entry.is_dir:
                raise BadInput(f"{relative!r} is a folder: download its files one by one")
            artifact_uri = client.get_run(run_id).info.artifact_uri
            local = Path(folder).resolve() / PurePosixPath(relative).name
            _download_file(artifact_uri, self.uri, relative, local)
        return local

    # -- registered models -----------------------------------------------------------------

    def models(
        self, name: str = "", *, max_results: int = DEFAULT_PAGE, page_token: str | None = None
    ) -> RegisteredModelPage:
        """Registered models whose name contains `name` (any case), by name, one page."""
        text = _quoted(f"%{name}%", "name") if name else None
        token = _page_token(page_token)
        with self._calling() as client:
            page = client.search_registered_models(
                filter_string=f"name ILIKE {text}" if text else None,
                max_results=_page_size(max_results),
                order_by=["name ASC"],
                page_token=token,
            )
        return RegisteredModelPage(
            models=[_registered_model(m) for m in page], next_page_token=page.token or None
        )

    def model(self, name: str) -> RegisteredModel:
        """A registered model with its aliases."""
        with self._calling(f"no registered model named {name!r}") as client:
            return _registered_model(client.get_registered_model(name))

    def model_versions(
        self, name: str, *, max_results: int = DEFAULT_PAGE, page_token: str | None = None
    ) -> ModelVersionPage:
        """One page of a registered model's versions, newest first, each with its aliases."""
        quoted = _quoted(name, "name")
        token = _page_token(page_token)
        with self._calling(f"no registered model named {name!r}") as client:
            # Searched versions may come without aliases: the model itself has them all.
            model = client.get_registered_model(name)
            page = client.search_model_versions(
                filter_string=f"name = {quoted}",
                max_results=_page_size(max_results),
                order_by=["version_number DESC"],
                page_token=token,
            )
        by_version: dict[str, list[str]] = {}
        for alias, version in sorted((model.aliases or {}).items()):
            by_version.setdefault(str(version), []).append(alias)
        return ModelVersionPage(
            name=name,
            versions=[_model_version(v, by_version.get(str(v.version), [])) for v in page],
            next_page_token=page.token or None,
        )


# -- helpers -------------------------------------------------------------------------------


def _download_file(artifact_uri: str, tracking_uri: str, relative: str, local: Path) -> None:
    """Copy one artifact file to `local` in this thread: MLflow's own download hands files to
    a thread pool, whose threads would send none of this call's credentials."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository: Any = get_artifact_repository(artifact_uri, tracking_uri=tracking_uri)
    # The one method every artifact repository implements: a file, in the calling thread.
    repository._download_file(relative, str(local))


def auth_kind(settings: Settings) -> AuthKind:
    """How requests to the tracking server prove who sends them, as MLflow decides it."""
    env = settings.env
    if (env.get("MLFLOW_TRACKING_AUTH") or "").strip() in KUBERNETES_AUTH:
        return "kubernetes"
    if env.get("MLFLOW_TRACKING_USERNAME") and env.get("MLFLOW_TRACKING_PASSWORD"):
        return "basic"
    if env.get("MLFLOW_TRACKING_TOKEN"):
        return "token"
    return "none"


def service_account_token(settings: Settings) -> str | None:
    """The pod's ServiceAccount token, else the kubeconfig user's token, as MLflow looks."""
    from ..config import kubeconfig_token

    try:
        token = (settings.serviceaccount_dir / "token").read_text().strip()
    except OSError:
        token = ""
    return token or kubeconfig_token(settings)


def kubernetes_token_source(settings: Settings) -> str:
    """Whose Kubernetes token `service_account_token` finds, in words."""
    from ..config import kubeconfig_token

    if (settings.serviceaccount_dir / "token").is_file():
        return "the pod's Kubernetes ServiceAccount (its token)"
    if kubeconfig_token(settings):
        return "the kubeconfig user (its Kubernetes token)"
    return "the Kubernetes identity MLflow's provider finds"


def artifact_path(path: str, *, allow_root: bool = False) -> str:
    """`path` as a clean path relative to a run's artifact root; `BadInput` if it leaves it."""
    text = (path or "").strip()
    if "\\" in text or "\x00" in text:
        raise BadInput(f"{path!r} is not an artifact path")
    pure = PurePosixPath(text)
    if pure.is_absolute() or ".." in pure.parts:
        raise BadInput(f"{path!r} leaves the run's artifacts: give a path inside them")
    clean = "" if str(pure) == "." else str(pure)
    if not clean and not allow_root:
        raise BadInput("name the artifact file (path)")
    return clean


def _page_token(token: str | None) -> str | None:
    """The token as given (None for the first page), if it can be one MLflow gave out."""
    return check_page_token(token) if token else None


def _page_size(max_results: int) -> int:
    if max_results < 1:
        raise BadInput("max_results must be 1 or more")
    return min(max_results, MAX_RESULTS)


def _quoted(value: str, what: str) -> str:
    """A string literal of MLflow's filter syntax, which has no escapes: pick a free quote."""
    for quote in ("'", '"'):
        if quote not in value:
            return f"{quote}{value}{quote}"
    raise BadInput(f"a {what} cannot hold both ' and \" here")


def _plain(message: str, code: str) -> str:
    prefix = f"{code}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _network_cause(exc: BaseException) -> tuple[str, str] | None:
    """What failed on the wire behind `exc`, if anything did, and its words. The kind is "read"
    (connected, no answer in time), "connect-timeout", "connect" (refused, not resolved) or
    "dropped" (connected, then the connection broke)."""
    import requests
    import urllib3.exceptions as wire

    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, requests.ConnectTimeout):
            return "connect-timeout", root_cause(seen)
        if isinstance(seen, requests.Timeout):
            return "read", root_cause(seen)
        if isinstance(seen, requests.ConnectionError):
            # With retries off, urllib3's error comes wrapped, and requests then calls a read
            # timeout a connection error too.
            inner = seen.args[0] if seen.args else None
            reason = getattr(inner, "reason", inner)
            if isinstance(reason, wire.ReadTimeoutError):
                return "read", root_cause(reason)
            # A refused connection is a connect timeout to urllib3, for its history's sake.
            if isinstance(reason, wire.NewConnectionError):
                return "connect", root_cause(reason)
            if isinstance(reason, wire.ConnectTimeoutError):
                return "connect-timeout", root_cause(reason)
            if isinstance(reason, (wire.ProtocolError, ConnectionError)):
                return "dropped", root_cause(reason)
            return "connect", root_cause(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _response_message(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or getattr(response, "reason", None) or exc)


def _time(ms: int | None) -> dt.datetime | None:
    if ms is None or ms <= 0:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)


def _experiment(e: Any) -> Experiment:
    return Experiment(
        id=str(e.experiment_id),
        name=e.name,
        lifecycle_stage=e.lifecycle_stage,
        artifact_location=e.artifact_location or "",
        created_at=_time(e.creation_time),
        updated_at=_time(e.last_update_time),
        tags=dict(e.tags or {}),
    )


def _run_summary(r: Any, params: Sequence[str] | None, metrics: Sequence[str] | None) -> RunSummary:
    info, data = r.info, r.data
    all_params: dict[str, str] = dict(data.params)
    all_metrics: dict[str, float | None] = dict(data.metrics)
    return RunSummary(
        id=info.run_id,
        name=info.run_name or "",
        experiment_id=str(info.experiment_id),
        status=str(info.status),
        user=info.user_id or "",
        started_at=_time(info.start_time),
        ended_at=_time(info.end_time),
        params=all_params
        if params is None
        else {k: all_params[k] for k in params if k in all_params},
        metrics=(
            all_metrics
            if metrics is None
            else {k: all_metrics[k] for k in metrics if k in all_metrics}
        ),
    )


def _registered_model(m: Any) -> RegisteredModel:
    return RegisteredModel(
        name=m.name,
        description=m.description or "",
        created_at=_time(m.creation_timestamp),
        updated_at=_time(m.last_updated_timestamp),
        aliases={alias: str(version) for alias, version in (m.aliases or {}).items()},
        tags=dict(m.tags or {}),
    )


def _model_version(v: Any, aliases: list[str]) -> ModelVersion:
    return ModelVersion(
        name=v.name,
        version=str(v.version),
        run_id=v.run_id or None,
        source=v.source or "",
        status=str(v.status or ""),
        description=v.description or "",
        created_at=_time(v.creation_timestamp),
        updated_at=_time(v.last_updated_timestamp),
        aliases=aliases,
        tags=dict(v.tags or {}),
    )
