"""Real JupyterLab servers and a headless Chromium for the sidebar's browser tests; the
cluster tests' labs talk to the real control plane (tests/plane.py)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE as KFP_NAMESPACE
from jupyter_mlops.testing.kfp import KfpEmulator
from tests import traffic_scan
from tests.plane import Namespace, ProfileNamespace, wait_for
from tests.server_process import server_args, server_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Variables that would point the server at a cluster, Pipelines or MLflow: the tests start
# from "nothing configured", whatever the machine running them has.
CONFIG_PREFIXES = ("KUBERNETES_", "KF_", "MLFLOW_")
CONFIG_NAMES = ("KUBECONFIG", "JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR")
# Other work may share the machine's two cores: give the UI time to catch up before failing.
expect.set_options(timeout=10_000)

# Our sidebar's tab: once it is in the page, JupyterLab has loaded the extension.
SIDEBAR_TAB = '.jp-SideBar li[data-id="jupyter-mlops-sidebar"]'
SIDEBAR = "#jupyter-mlops-sidebar"
#: JupyterLab's default width of the left sidebar.
DEFAULT_WIDTH = 250


@dataclass
class Lab:
    """A running `jupyter lab` and how to talk to it as its user."""

    base_url: str
    token: str
    root_dir: Path
    log_file: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, path: str) -> Any:
        response = requests.get(self.url(path), headers=self._auth(), timeout=30)
        response.raise_for_status()
        return response.json()

    def answering(self) -> bool:
        """Whether the server answers its status (it does once it has started)."""
        self.get_json("api/status")
        return True

    def put_settings(self, plugin_id: str, settings: dict[str, Any]) -> None:
        """Save a plugin's user settings as the settings editor would."""
        response = requests.put(
            self.url(f"lab/api/settings/{plugin_id}"),
            headers=self._auth(),
            json={"raw": json.dumps(settings)},
            timeout=30,
        )
        response.raise_for_status()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_json(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))


@contextmanager
def running_lab(
    base: Path,
    server_config: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    scan_token: bool = True,
) -> Iterator[Lab]:
    """Start `jupyter lab` in its own home under `base`, wait until it answers, stop it after.

    `server_config` is written as the user's `jupyter_server_config.json`; `env` adds variables
    to an environment cleared of every cluster, Pipelines and MLflow setting. With
    `scan_token` false its token is not looked for in the traffic (see its one caller).
    """
    home = base / "home"
    root = base / "root"
    root.mkdir(parents=True)
    config_dir = home / ".jupyter"
    # A home of its own keeps user settings and workspaces from leaking in or out.
    _write_json(
        config_dir
        / "lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    if server_config is not None:
        _write_json(config_dir / "jupyter_server_config.json", server_config)
    lab_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(CONFIG_PREFIXES) and key not in CONFIG_NAMES
    }
    lab_env.update(env or {}, HOME=str(home), JUPYTER_CONFIG_DIR=str(config_dir))
    port = _free_port()
    token = secrets.token_hex(16)
    if scan_token:
        traffic_scan.register_secret(token, "Jupyter token")
    args = [str(Path(sys.executable).with_name("jupyter-lab")), *server_args(port, token, root)]
    lab = Lab(f"http://127.0.0.1:{port}", token, root, base / "lab.log")
    with server_process(args, lab_env, lab.log_file, lab.answering, "jupyter lab", cwd=root):
        yield lab


REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "jupyter_mlops" / "labextension" / "package.json"
SOURCES = [
    REPO / "labextension" / "src",
    REPO / "labextension" / "schema",
    REPO / "labextension" / "style",
]


def _check_built() -> None:
    """Fail early, saying what to run, if the labextension is missing or older than its sources."""
    if not BUILT.exists():
        pytest.fail("The labextension is not built: run `npm run build` first.")
    built_at = BUILT.stat().st_mtime
    newer = [
        path.relative_to(REPO)
        for folder in SOURCES
        for path in folder.rglob("*")
        if path.is_file() and path.stat().st_mtime > built_at
    ]
    if newer:
        pytest.fail(f"The labextension is older than {newer[0]}: run `npm run build` first.")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab with the extension and nothing configured: no cluster, local backends."""
    _check_built()
    with running_lab(tmp_path_factory.mktemp("lab")) as server:
        served = requests.get(
            server.url("lab/extensions/jupyter-mlops/static/style.js"), timeout=30
        )
        if served.status_code != 200:
            pytest.fail(
                "JupyterLab does not serve the labextension: run "
                "`jupyter labextension develop --overwrite .` (or `pip install .`)."
            )
        yield server


@pytest.fixture(scope="module")
def lab_without_server_extension(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving the labextension while the server extension is turned off."""
    config = {"ServerApp": {"jpserver_extensions": {"jupyter_mlops": False}}}
    # Without the server extension, Jupyter's own 404 page answers /mlops/api/ and carries the
    # page config with the signed-in user's token, as every Jupyter page does: not our answer.
    lab = running_lab(tmp_path_factory.mktemp("lab-off"), server_config=config, scan_token=False)
    with lab as server:
        yield server


@pytest.fixture(scope="module")
def lab_with_unreachable_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab configured for a cluster, Pipelines and MLflow that all refuse connections."""
    base = tmp_path_factory.mktemp("lab-unreachable")
    closed = f"127.0.0.1:{_free_port()}"
    kubeconfig = base / "kubeconfig.yaml"
    # JSON is YAML too, and the kubeconfig loader reads YAML.
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "team", "cluster": {"server": f"https://{closed}"}}],
                "users": [{"name": "notebook-user", "user": {"token": "not-a-real-token"}}],
                "contexts": [
                    {
                        "name": "team",
                        "context": {
                            "cluster": "team",
                            "user": "notebook-user",
                            "namespace": "team-a",
                        },
                    }
                ],
                "current-context": "team",
            }
        )
    )
    env = {
        "KUBECONFIG": str(kubeconfig),
        "KF_PIPELINES_ENDPOINT": f"http://{closed}",
        "MLFLOW_TRACKING_URI": f"http://{closed}",
    }
    with running_lab(base, env=env) as server:
        yield server


CLUSTER_NAMESPACE = "team-a"
NAMESPACE_GONE_TIMEOUT = 120.0


def namespace_exists(plane: ControlPlane, name: str) -> bool:
    try:
        plane.api("GET", f"/api/v1/namespaces/{name}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise
    return True


@contextmanager
def named_namespace(plane: ControlPlane, name: str, tmp_path: Path) -> Iterator[Namespace]:
    """The namespace `name` on the plane, new, as the admin; deleted afterwards.

    Names shown in the pictures stay as they are (`team-a`, `ml-team`): a module that used
    the same name before has its namespace deleted, and this waits until it is gone."""
    wait_for(
        f"namespace {name} of an earlier test to be gone",
        lambda: not namespace_exists(plane, name),
        timeout=NAMESPACE_GONE_TIMEOUT,
    )
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    plane.api("POST", "/api/v1/namespaces", body)
    tmp_path.mkdir(parents=True, exist_ok=True)
    ns = Namespace(plane, name, tmp_path)
    wait_for(
        f"the ServiceAccount {name}/default",
        lambda: ns.kubectl("get", "serviceaccount", "default", check=False).returncode == 0,
    )
    try:
        yield ns
    finally:
        ns.close()
        plane.api("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture(scope="module")
def cluster_namespace(
    kubeflow_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Namespace]:
    """The namespace `team-a` on the session's control plane, which serves Kubeflow's custom
    resources (the Notebook among them); kubectl in it acts as the cluster admin."""
    base = tmp_path_factory.mktemp("team-a")
    with named_namespace(kubeflow_plane, CLUSTER_NAMESPACE, base) as ns:
        yield ns


def lab_on_plane(
    tmp_path_factory: pytest.TempPathFactory,
    plane: ControlPlane,
    name: str,
    token: str | None = None,
) -> AbstractContextManager[Lab]:
    """JupyterLab whose kubeconfig points at `plane`, in namespace `team-a`, as the admin or
    as whoever `token` is."""
    _check_built()
    base = tmp_path_factory.mktemp(name)
    kubeconfig = plane.write_kubeconfig(
        base / "kubeconfig", namespace=CLUSTER_NAMESPACE, token=token
    )
    # The browser must never see a credential for the cluster.
    traffic_scan.register_secret(token or plane.token, "Kubernetes token")
    return running_lab(base, env={"KUBECONFIG": str(kubeconfig)})


@pytest.fixture(scope="module")
def cluster_lab(
    tmp_path_factory: pytest.TempPathFactory, cluster_namespace: Namespace
) -> Iterator[Lab]:
    """JupyterLab whose kubeconfig points at the real control plane, in namespace `team-a`."""
    with lab_on_plane(tmp_path_factory, cluster_namespace.plane, "lab-cluster") as server:
        yield server


KFP_TOKEN = "pipelines-token"


@pytest.fixture(scope="module")
def kfp_api() -> Iterator[KfpEmulator]:
    """A Kubeflow Pipelines API emulator accepting the bearer token KFP_TOKEN; its tasks take a
    fraction of a second unless a test says otherwise."""
    with KfpEmulator(token=KFP_TOKEN, step_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def pipelines_lab(tmp_path_factory: pytest.TempPathFactory, kfp_api: KfpEmulator) -> Iterator[Lab]:
    """JupyterLab as in a Kubeflow notebook pod: Pipelines at the emulator, its token in a
    projected file, the profile namespace from NB_PREFIX. Local runs go in `root_dir`."""
    _check_built()
    base = tmp_path_factory.mktemp("lab-pipelines")
    token = base / "kfp-token"
    token.write_text(KFP_TOKEN)
    env = {
        "KF_PIPELINES_ENDPOINT": kfp_api.url,
        "KF_PIPELINES_SA_TOKEN_PATH": str(token),
        "NB_PREFIX": f"/notebook/{KFP_NAMESPACE}/notebook",
    }
    with running_lab(base, env=env) as server:
        yield server


@pytest.fixture
def profile_lab(profile: ProfileNamespace, tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab as the profile's editor, in the profile's namespace, refreshing every 2 s."""
    _check_built()
    traffic_scan.register_secret(profile.token, "Kubernetes token")
    with running_lab(tmp_path / "lab", env={"KUBECONFIG": str(profile.kubeconfig)}) as lab:
        lab.put_settings("jupyter-mlops:plugin", {"refreshInterval": 2})
        yield lab


@pytest.fixture(scope="module")
def mlflow_lab(tmp_path_factory: pytest.TempPathFactory, mlflow_server: Any) -> Iterator[Lab]:
    """JupyterLab whose MLflow is the session's real tracking server."""
    _check_built()
    base = tmp_path_factory.mktemp("lab-mlflow")
    with running_lab(base, env={"MLFLOW_TRACKING_URI": mlflow_server.url}) as server:
        yield server


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    traffic_scan.watch_contexts(browser)
    yield browser
    browser.close()


@contextmanager
def lab_page(browser: Browser, lab: Lab, workspace: str) -> Iterator[Page]:
    """A fresh browser context on a fresh workspace of `lab`, loaded up to our sidebar tab."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(lab.url(f"lab/workspaces/{workspace}?token={lab.token}"))
        page.wait_for_selector(SIDEBAR_TAB, timeout=60_000)
        yield page
    finally:
        context.close()


OpenPage = Callable[[Lab, str], AbstractContextManager[Page]]


def by_test_id(scope: Page | Locator, test_id: str) -> Locator:
    return scope.locator(f'[data-testid="{test_id}"]')


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not laid out"
    return {key: found[key] for key in ("x", "y", "width", "height")}


def across(inner: Locator, outer: dict[str, float]) -> bool:
    """Whether `inner` fits across `outer` (its left and right edges inside)."""
    shown = box(inner)
    return shown["x"] >= outer["x"] - 0.5 and (
        shown["x"] + shown["width"] <= outer["x"] + outer["width"] + 0.5
    )


def open_section(page: Page, name: str) -> Locator:
    """Open our sidebar at JupyterLab's default width; its section `name`."""
    page.click(SIDEBAR_TAB)
    assert abs(box(page.locator(SIDEBAR))["width"] - DEFAULT_WIDTH) <= 1
    return by_test_id(page, f"mlops-section-{name}")


@pytest.fixture
def open_page(browser: Browser) -> OpenPage:
    """Open JupyterLab of a given server on a given workspace, in a context of its own."""
    return lambda lab, workspace: lab_page(browser, lab, workspace)


@pytest.fixture
def page(browser: Browser, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Page]:
    """JupyterLab open in the browser on a workspace of the test's own."""
    with lab_page(browser, lab, workspace=request.node.name) as page:
        yield page


# pytest-jupyter's autouse fixtures would close Playwright's running event loop after each
# test, and clean up an in-process server these tests never start: they do nothing here.
@pytest.fixture
def jp_asyncio_loop() -> None:
    """Stands in for pytest-jupyter's loop fixture."""


@pytest.fixture
def jp_server_cleanup() -> None:
    """Stands in for pytest-jupyter's in-process server clean-up."""
