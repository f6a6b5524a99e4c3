"""MLflow workspaces and Kubernetes auth, against a real MLflow server started with workspaces.

The profile namespace is the workspace; the ServiceAccount token is the bearer token. The MLflow
server cannot check a Kubernetes token itself, so a loopback proxy in front of the real server
does what an authenticating gateway does: it lets through only the tokens it is told are valid,
and records the headers it saw.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_mlops.checks import status
from jupyter_mlops.config import SERVICEACCOUNT_DIR, Settings, configure, resolve
from jupyter_mlops.errors import Forbidden, NotFound
from jupyter_mlops.testing.mlflow_server import MlflowServer, free_port
from jupyter_mlops.tracking import Tracking
from jupyter_mlops.tracking.client import WORKSPACE_HEADER


@pytest.fixture(scope="module")
def workspace_server() -> Iterator[MlflowServer]:
    with MlflowServer(workspaces=True) as server:
        yield server


def new_workspace(server: MlflowServer) -> str:
    name = f"team-{uuid.uuid4().hex[:8]}"
    server.create_workspace(name)
    return name


def settings_for(uri: str, tmp_path: Path, *, namespace: str | None, **env: str) -> Settings:
    """A notebook's settings with $MLFLOW_TRACKING_URI, its profile namespace and `env`."""
    config = configure(workspace=str(tmp_path))
    if namespace:
        config.namespace = namespace
    return resolve(config, env={"MLFLOW_TRACKING_URI": uri, **env}, root=tmp_path)


def server_answer(url: str, path: str, workspace: str | None) -> requests.Response:
    """The server's own answer, asked directly with (or without) a workspace header."""
    headers = {WORKSPACE_HEADER: workspace} if workspace else {}
    return requests.get(url + path, headers=headers, timeout=30)


def log_a_run(tracking: Tracking, experiment: str) -> str:
    with tracking.writer() as client:
        experiment_id = client.create_experiment(experiment)
        run_id = client.create_run(experiment_id, run_name="in-workspace").info.run_id
        client.log_metric(run_id, "loss", 0.25)
        client.set_terminated(run_id)
    return str(run_id)


# -- workspaces ---------------------------------------------------------------------------


def test_runs_land_in_the_profile_namespaces_workspace_and_no_other(
    workspace_server: MlflowServer, tmp_path: Path
) -> None:
    mine, theirs = new_workspace(workspace_server), new_workspace(workspace_server)
    tracking = Tracking(settings_for(workspace_server.url, tmp_path, namespace=mine))
    other = Tracking(settings_for(workspace_server.url, tmp_path, namespace=theirs))
    # No $MLFLOW_WORKSPACE: the server says it has workspaces, so the namespace is used.
    assert tracking.workspaces_enabled() and tracking.workspace() == mine

    experiment = f"churn-{uuid.uuid4().hex[:6]}"
    run_id = log_a_run(tracking, experiment)

    assert [e.name for e in tracking.experiments(experiment).experiments] == [experiment]
    assert tracking.run(run_id).metrics == {"loss": 0.25}
    assert other.experiments(experiment).experiments == []
    with pytest.raises(NotFound):
        other.run(run_id)
    # The server's own answers: the run is in our workspace, not in theirs nor the default.
    path = f"/api/2.0/mlflow/runs/get?run_id={run_id}"
    assert server_answer(workspace_server.url, path, mine).status_code == 200
    assert server_answer(workspace_server.url, path, theirs).status_code == 404
    assert server_answer(workspace_server.url, path, None).status_code == 404


def test_mlflow_workspace_wins_over_the_namespace(
    workspace_server: MlflowServer, tmp_path: Path
) -> None:
    chosen, namespace = new_workspace(workspace_server), new_workspace(workspace_server)
    tracking = Tracking(
        settings_for(workspace_server.url, tmp_path, namespace=namespace, MLFLOW_WORKSPACE=chosen)
    )
    assert tracking.workspace() == chosen
    experiment = f"chosen-{uuid.uuid4().hex[:6]}"
    log_a_run(tracking, experiment)
    search = f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={experiment}"
    assert server_answer(workspace_server.url, search, chosen).status_code == 200
    assert server_answer(workspace_server.url, search, namespace).status_code == 404


def test_a_namespace_without_a_workspace_is_named_in_the_error(
    workspace_server: MlflowServer, tmp_path: Path
) -> None:
    missing = f"nobody-{uuid.uuid4().hex[:6]}"
    tracking = Tracking(settings_for(workspace_server.url, tmp_path, namespace=missing))
    with pytest.raises(NotFound, match=missing):
        tracking.experiments()


def test_a_server_without_workspaces_gets_no_workspace(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    tracking = Tracking(settings_for(mlflow_server.url, tmp_path, namespace="team-a"))
    assert not tracking.workspaces_enabled() and tracking.workspace() is None
    experiment = f"plain-{uuid.uuid4().hex[:6]}"
    log_a_run(tracking, experiment)  # a workspace header here would be refused
    assert [e.name for e in tracking.experiments(experiment).experiments] == [experiment]


# -- Kubernetes auth ----------------------------------------------------------------------


@dataclass
class Gateway:
    """A loopback proxy to the real server that admits only `valid` bearer tokens."""

    target: str
    valid: set[str]
    seen: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            gateway.seen.append({"path": self.path.split("?")[0], **headers})
            bearer = headers.get("Authorization", "").removeprefix("Bearer ")
            # server-info answers without credentials on the real server too.
            if bearer not in gateway.valid and not self.path.endswith("/server-info"):
                self._answer(401, b'{"error_code": "UNAUTHENTICATED", "message": "bad token"}')
                return
            length = int(self.headers.get("Content-Length") or 0)
            answer = requests.request(
                self.command,
                gateway.target + self.path,
                data=self.rfile.read(length) if length else None,
                headers=headers,
                timeout=30,
            )
            self._answer(answer.status_code, answer.content)

        def _answer(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def gateway(workspace_server: MlflowServer) -> Iterator[Gateway]:
    found = Gateway(target=workspace_server.url, valid=set())
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    found.url = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:
        yield found
    finally:
        proxy.shutdown()
        proxy.server_close()


def pod_settings(tmp_path: Path, uri: str, namespace: str, token: str, auth: str) -> Settings:
    """A notebook pod's settings: the ServiceAccount's token and namespace files."""
    account = tmp_path / SERVICEACCOUNT_DIR
    account.mkdir(parents=True)
    (account / "token").write_text(token)
    (account / "namespace").write_text(namespace)
    env = {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(free_port()),
        "KF_PIPELINES_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_TRACKING_AUTH": auth,
    }
    return resolve(configure(workspace=str(tmp_path)), env=env, root=tmp_path)


def sent(gateway: Gateway, name: str) -> set[str]:
    """The values of header `name` on the API requests (server-info aside) seen so far."""
    return {h.get(name, "") for h in gateway.seen if not h["path"].endswith("/server-info")}


@pytest.mark.parametrize("auth", ["kubernetes", "kubernetes-namespaced"])
def test_kubernetes_auth_sends_the_serviceaccount_token_and_follows_its_rotation(
    workspace_server: MlflowServer, gateway: Gateway, tmp_path: Path, auth: str
) -> None:
    namespace = new_workspace(workspace_server)
    first, second = f"sa-{uuid.uuid4().hex}", f"sa-{uuid.uuid4().hex}"
    gateway.valid = {first}
    settings = pod_settings(tmp_path, gateway.url, namespace, first, auth)
    assert settings.namespace == namespace and settings.namespace_source == "serviceaccount"
    tracking = Tracking(settings)

    experiment = f"pod-{uuid.uuid4().hex[:6]}"
    run_id = log_a_run(tracking, experiment)
    assert sent(gateway, "Authorization") == {f"Bearer {first}"}
    assert sent(gateway, WORKSPACE_HEADER) == {namespace}
    assert server_answer(
        workspace_server.url, f"/api/2.0/mlflow/runs/get?run_id={run_id}", namespace
    ).ok

    # The kubelet rotates the projected token; the old one stops being accepted.
    (settings.serviceaccount_dir / "token").write_text(second)
    gateway.valid, gateway.seen = {second}, []
    assert tracking.run(run_id).name == "in-workspace"
    assert sent(gateway, "Authorization") == {f"Bearer {second}"}

    (settings.serviceaccount_dir / "token").write_text("revoked")
    with pytest.raises(Forbidden, match="ServiceAccount"):
        tracking.run(run_id)


def test_kubernetes_auth_outside_a_pod_takes_the_kubeconfig_users_token(
    workspace_server: MlflowServer, gateway: Gateway, tmp_path: Path
) -> None:
    namespace = new_workspace(workspace_server)
    token = f"kc-{uuid.uuid4().hex}"
    gateway.valid = {token}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "me", "user": {"token": token}}],
                "contexts": [
                    {"name": "x", "context": {"cluster": "c", "user": "me", "namespace": namespace}}
                ],
                "current-context": "x",
            }
        )
    )
    settings = settings_for(
        gateway.url,
        tmp_path,
        namespace=None,
        KUBECONFIG=str(kubeconfig),
        MLFLOW_TRACKING_AUTH="kubernetes",
    )
    assert settings.namespace == namespace
    log_a_run(Tracking(settings), f"laptop-{uuid.uuid4().hex[:6]}")
    assert sent(gateway, "Authorization") == {f"Bearer {token}"}
    assert sent(gateway, WORKSPACE_HEADER) == {namespace}


# -- status -------------------------------------------------------------------------------


def test_the_status_names_the_workspace_and_the_serviceaccount_identity(
    workspace_server: MlflowServer, gateway: Gateway, tmp_path: Path
) -> None:
    namespace = new_workspace(workspace_server)
    token = f"sa-{uuid.uuid4().hex}"
    gateway.valid = {token}
    settings = pod_settings(tmp_path, gateway.url, namespace, token, "kubernetes")

    report = status(settings=settings)

    tracking = report.tracking
    assert tracking.reachable, tracking.reason
    assert (tracking.auth, tracking.workspace) == ("kubernetes", namespace)
    assert sent(gateway, "Authorization") == {f"Bearer {token}"}
    text, page, body = str(report), report._repr_html_(), report.model_dump_json()
    for shown in (text, page):
        assert "ServiceAccount" in shown and f"workspace {namespace}" in shown
    for shown in (text, page, body):
        assert token not in shown


def test_the_status_names_a_token_identity_without_the_token(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    token = f"secret-{uuid.uuid4().hex}"
    settings = settings_for(
        mlflow_server.url, tmp_path, namespace="team-a", MLFLOW_TRACKING_TOKEN=token
    )
    report: Any = status(settings=settings)
    assert report.tracking.reachable, report.tracking.reason
    assert (report.tracking.auth, report.tracking.workspace) == ("token", None)
    assert "bearer token" in str(report)
    assert token not in str(report) + report._repr_html_() + report.model_dump_json()
