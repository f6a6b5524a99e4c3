"""What is configured and what answers: the status the sidebar, `%mlops status` and Python share."""

from __future__ import annotations

import datetime as dt
import html
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from . import __version__
from .config import NO_CLUSTER, MLOpsConfig, NamespaceSource, Settings, resolve
from .errors import root_cause
from .tracking.client import WORKSPACE_HEADER

if TYPE_CHECKING:
    from .tracking import Tracking

CHECK_TIMEOUT = 2.0

#: How a backend is reached: the cluster in-cluster or by kubeconfig, Kubeflow Pipelines on the
#: cluster, an MLflow tracking server, this machine, or not at all.
Mode = Literal["in-cluster", "kubeconfig", "cluster", "server", "local", "none"]
Auth = Literal["none", "token", "basic", "kubernetes"]


class Identity(BaseModel):
    """Who the extension acts as: the namespace and how it was found."""

    namespace: str | None = Field(description="Namespace shown and used for runs.")
    source: NamespaceSource = Field(description="Where the namespace came from.")
    in_pod: bool = Field(description="True inside a Kubernetes pod with a ServiceAccount.")


class BackendStatus(BaseModel):
    """How one backend (cluster, pipelines, tracking) is reached, and whether it answers."""

    mode: Mode
    reachable: bool
    endpoint: str | None = Field(default=None, description="Where it is reached, if anywhere.")
    reason: str | None = Field(default=None, description="Why it is not reachable, in words.")
    hint: str | None = Field(default=None, description="How to connect, when not configured.")
    ui_url: str | None = Field(
        default=None, description="The backend's own web UI, as the browser reaches it."
    )
    auth: Auth | None = Field(
        default=None,
        description="How requests prove who sends them (tracking): a bearer token, basic "
        "auth, the Kubernetes ServiceAccount token, or nothing. Never the secret itself.",
    )
    acting_as: str | None = Field(
        default=None, description="Who the requests are sent as, in words; never a secret."
    )
    workspace: str | None = Field(
        default=None, description="The MLflow workspace used, when the server has workspaces."
    )
    checked_at: str = Field(description="ISO-8601 time of the check.")

    def who(self) -> str:
        """The identity and workspace in words, or "" when the section has none."""
        parts = [f"as {self.acting_as}"] if self.acting_as else []
        if self.workspace:
            parts.append(f"workspace {self.workspace}")
        return ", ".join(parts)


# A dot and a word in the theme's colours: emoji render as empty boxes without an emoji font.
_STATE = {
    True: '<span style="color: var(--jp-success-color1, green)">\u25cf</span> reachable',
    False: '<span style="color: var(--jp-error-color1, red)">\u25cf</span> not reachable',
}


class StatusReport(BaseModel):
    """Answer of `GET /mlops/api/status`, `jupyter_mlops.status()` and `%mlops status`."""

    version: str
    read_only: bool
    identity: Identity
    cluster: BackendStatus
    pipelines: BackendStatus
    tracking: BackendStatus

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{name}</th><td>{html.escape(b.mode)}</td>"
            f"<td>{_STATE[b.reachable]}</td>"
            f"<td>{html.escape(b.endpoint or '')}</td>"
            f"<td>{html.escape(b.who())}</td>"
            f"<td>{html.escape(b.reason or b.hint or '')}</td></tr>"
            for name, b in self._sections()
        )
        ns = html.escape(self.identity.namespace or "none")
        return (
            f"<p>jupyter-mlops {html.escape(self.version)} · namespace <b>{ns}</b> "
            f"({html.escape(self.identity.source)}){' · read-only' if self.read_only else ''}</p>"
            "<table><tr><th></th><th>mode</th><th>state</th><th>endpoint</th><th>identity</th>"
            "<th>notes</th></tr>"
            f"{rows}</table>"
        )

    def __str__(self) -> str:
        lines = [
            f"jupyter-mlops {self.version}, namespace {self.identity.namespace or 'none'} "
            f"({self.identity.source}){', read-only' if self.read_only else ''}"
        ]
        for name, b in self._sections():
            state = "reachable" if b.reachable else "not reachable"
            note = b.reason or b.hint
            who = b.who()
            lines.append(
                f"  {name:<10}{b.mode:<11}{state:<14}{b.endpoint or ''}"
                + (f"\n  {'':<10}{who}" if who else "")
                + (f"\n  {'':<10}{note}" if note else "")
            )
        return "\n".join(lines)

    def _sections(self) -> list[tuple[str, BackendStatus]]:
        return [("Cluster", self.cluster), ("Pipelines", self.pipelines), ("MLflow", self.tracking)]


def status(config: MLOpsConfig | None = None, *, settings: Settings | None = None) -> StatusReport:
    """Check every backend in parallel, each within a short timeout, and report."""
    settings = settings if settings is not None else resolve(config)
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="mlops-status") as pool:
        cluster = pool.submit(check_cluster, settings)
        pipelines = pool.submit(check_pipelines, settings)
        tracking = pool.submit(check_tracking, settings)
        return StatusReport(
            version=__version__,
            read_only=settings.read_only,
            identity=Identity(
                namespace=settings.namespace,
                source=settings.namespace_source,
                in_pod=settings.in_pod,
            ),
            cluster=cluster.result(),
            pipelines=pipelines.result(),
            tracking=tracking.result(),
        )


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def check_cluster(settings: Settings) -> BackendStatus:
    """Ask the Kubernetes API for its version, then whether pods can be listed in the namespace.

    Two requests to the API server per check: the server keeps a report for `STATUS_TTL`
    (60 s, server/state.py), so a revoked token or a dead API server shows within a minute
    while the sidebar is open, and at once when the status is asked for afresh.
    """
    if settings.cluster == "none":
        return BackendStatus(
            mode="none",
            reachable=False,
            hint=NO_CLUSTER,
            checked_at=_now(),
        )
    from .kube.connect import probe

    reachable, reason = probe(settings, timeout=CHECK_TIMEOUT)
    return BackendStatus(
        mode=settings.cluster,
        reachable=reachable,
        endpoint=settings.cluster_endpoint,
        reason=reason,
        checked_at=_now(),
    )


def check_pipelines(settings: Settings) -> BackendStatus:
    """Local runs need only kfp installed; the cluster's Pipelines API must accept our
    credentials."""
    if settings.pipelines == "local":
        from importlib.util import find_spec

        have_kfp = find_spec("kfp") is not None
        return BackendStatus(
            mode="local",
            reachable=have_kfp,
            endpoint=str(settings.state_dir / "pipelines"),
            reason=None if have_kfp else "the kfp package is not installed",
            hint="Pipelines run on this machine (kfp.local). Set $KF_PIPELINES_ENDPOINT or "
            "c.MLOpsConfig.kfp_endpoint to run them on Kubeflow.",
            checked_at=_now(),
        )
    from .pipelines.auth import auth_headers, explain_refusal

    assert settings.kfp_endpoint is not None
    headers, missing = auth_headers(settings)
    # healthz answers without credentials; a one-item list in the namespace tests them too.
    query = "page_size=1" + (f"&namespace={settings.namespace}" if settings.namespace else "")
    reachable, reason = _http_probe(
        f"{settings.kfp_endpoint.rstrip('/')}/apis/v2beta1/experiments?{query}", headers
    )
    if not reachable and reason and reason.startswith("HTTP 40"):
        reason = explain_refusal(settings, reason, missing)
    return BackendStatus(
        mode="cluster",
        reachable=reachable,
        endpoint=settings.kfp_endpoint,
        reason=reason,
        ui_url=settings.pipelines_ui_url,
        checked_at=_now(),
    )


def check_tracking(settings: Settings) -> BackendStatus:
    """An MLflow tracking server must answer a one-item experiment search in our workspace, with
    our identity; a local store is local."""
    if settings.tracking == "local":
        return BackendStatus(
            mode="local",
            reachable=True,
            endpoint=settings.tracking_uri,
            hint="MLflow runs are stored in the workspace. Set $MLFLOW_TRACKING_URI to use "
            "a tracking server.",
            checked_at=_now(),
        )
    from .errors import Forbidden, MLOpsError
    from .tracking import Tracking

    tracking = Tracking(settings, timeout=CHECK_TIMEOUT)
    workspace: str | None = None
    reachable, reason = False, None
    headers: dict[str, str] = {}
    try:
        headers = tracking.request_headers()
    except Forbidden as exc:
        reachable, reason = False, exc.message
    except MLOpsError:
        # The server did not say whether it has workspaces: the probe below says why.
        headers = {}
    if reason is None:
        workspace = headers.get(WORKSPACE_HEADER)
        basic = tracking.auth == "basic"
        reachable, reason = _http_probe(
            settings.tracking_uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1",
            headers,
            basic=(
                settings.env.get("MLFLOW_TRACKING_USERNAME", "") if basic else "",
                settings.env.get("MLFLOW_TRACKING_PASSWORD", "") if basic else "",
            ),
        )
        if reason == "HTTP 404 Not Found" and workspace:
            reason = f"{reason}: the server has no workspace {workspace!r}"
    return BackendStatus(
        mode="server",
        reachable=reachable,
        endpoint=settings.tracking_uri,
        reason=reason,
        ui_url=settings.tracking_ui_url,
        auth=tracking.auth,
        acting_as=_tracking_identity(tracking),
        workspace=workspace,
        checked_at=_now(),
    )


def _tracking_identity(tracking: Tracking) -> str:
    """Who tracking requests are sent as: the kind of credential, never its value."""
    from .tracking.client import kubernetes_token_source

    if tracking.auth == "kubernetes":
        return kubernetes_token_source(tracking.settings)
    if tracking.auth == "basic":
        return f"user {tracking.settings.env.get('MLFLOW_TRACKING_USERNAME')} (basic auth)"
    if tracking.auth == "token":
        return "bearer token ($MLFLOW_TRACKING_TOKEN)"
    return "anonymous (no credentials)"


def _http_probe(
    url: str, headers: dict[str, str], basic: tuple[str, str] = ("", "")
) -> tuple[bool, str | None]:
    import requests

    try:
        response = requests.get(
            url,
            headers=headers,
            timeout=CHECK_TIMEOUT,
            auth=basic if basic[0] else None,
            allow_redirects=False,
        )
    except requests.Timeout:
        return False, f"no answer within {CHECK_TIMEOUT:g} s"
    except requests.ConnectionError as exc:
        return False, f"cannot connect: {root_cause(exc)}"
    if response.status_code in (301, 302, 303, 307, 308):
        # Behind the Kubeflow login an unauthenticated request is sent to the Dex login page.
        return False, "redirected to a login page: the request carries no valid session"
    if response.status_code >= 400:
        return False, f"HTTP {response.status_code} {response.reason}"
    return True, None
