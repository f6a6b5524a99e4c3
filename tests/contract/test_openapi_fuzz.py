"""The server answers as api/openapi.yaml says, fuzzed by schemathesis, with real backends.

A real `jupyter server` subprocess with the extension talks to the Kubernetes and KFP API
emulators and the session's MLflow server, seeded with a few objects so that real names are
hit as well as random ones. Every answer must be a status the spec documents for its
operation, a 5xx only as a documented 503, every error the `{"reason", "message"}` envelope,
and no body a traceback.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.testing.kfp.server import SEED_SPEC
from jupyter_mlops.testing.mlflow_server import MlflowServer
from tests.local_runs import recorded_run
from tests.plane import ProfileNamespace, fresh_profile
from tests.server_process import server_args, server_process

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "api" / "openapi.yaml"
KFP_TOKEN = "fuzz-pipelines-token"
POD = "web-0"
DEPLOYMENT = "web"
LOCAL_RUN = "cd" * 16
# Per operation: random cases in each generation mode, then cases with the seeded names.
EXAMPLES = 24
REAL_EXAMPLES = 8
MIN_REQUESTS = 1000
# The WebSocket upgrade cannot be fuzzed over plain HTTP; tests/core covers its auth.
NOT_FUZZED = {"GET /mlops/api/ws"}

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run, so CI failures reproduce
    database=None,
    phases=[Phase.generate],  # no shrinking: the report keeps the shortest request instead
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@dataclass
class Seeds:
    """Names of the objects seeded in each backend, for paths that reach real objects."""

    mlflow_experiment: str = ""
    mlflow_run: str = ""
    model: str = ""
    running_run: str = ""
    finished_run: str = ""
    failed_run: str = ""
    pipeline: str = ""


@dataclass
class Server:
    """A running `jupyter server` with the extension, and how to call it as its user."""

    base_url: str
    token: str
    log_file: Path
    seeds: Seeds

    @property
    def auth(self) -> dict[str, str]:
        # A token header needs no XSRF cookie, so writes go through as the sidebar's do.
        return {"Authorization": f"token {self.token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def seed_kube(team: ProfileNamespace) -> None:
    """A bare pod with a log and a Deployment, made by the profile's editor."""
    container = {"name": "main", "image": "busybox:1.36"}
    team.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": POD, "labels": {"app": "solo"}},
            "spec": {"containers": [container]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": DEPLOYMENT},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [container]},
                },
            },
        },
    )
    team.plane.append_log(team.name, POD, "main", "serving on :8080", "GET / 200")


def seed_kfp(kfp_api: KfpEmulator, seeds: Seeds, namespace: str) -> None:
    """A pipeline, finished runs and one that goes on, made through the KFP REST API."""
    api = f"{kfp_api.url}/apis/v2beta1"
    headers = {"Authorization": f"Bearer {KFP_TOKEN}"}
    created = requests.post(
        f"{api}/pipelines/create",
        headers=headers,
        json={
            "pipeline": {"display_name": "fuzz-pipeline", "namespace": namespace},
            "pipeline_version": {"display_name": "v1", "pipeline_spec": SEED_SPEC},
        },
        timeout=30,
    )
    created.raise_for_status()
    seeds.pipeline = created.json()["pipeline_id"]
    *_, seeds.finished_run, seeds.failed_run = kfp_api.seed_runs(4)
    kfp_api.set_task_seconds("train", 3600)  # so that the run goes on while fuzzed
    running = requests.post(
        f"{api}/runs",
        headers=headers,
        json={
            "display_name": "fuzz-running",
            "experiment_id": kfp_api.default_experiment_id(),
            "pipeline_spec": SEED_SPEC,
        },
        timeout=30,
    )
    running.raise_for_status()
    seeds.running_run = running.json()["run_id"]


def seed_mlflow(url: str, seeds: Seeds) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=url)
    prefix = f"fuzz{uuid.uuid4().hex[:8]}"
    seeds.mlflow_experiment = client.create_experiment(f"{prefix}-churn")
    run_id = client.create_run(seeds.mlflow_experiment, run_name="baseline").info.run_id
    client.log_batch(
        run_id,
        params=[Param("lr", "0.1")],
        metrics=[Metric("loss", 1.0 / (1 + s), 1_700_000_000_000 + s, s) for s in range(50)],
    )
    client.log_text(run_id, "hello artifacts\n", "notes/readme.txt")
    client.set_terminated(run_id, "FINISHED")
    seeds.mlflow_run = run_id
    seeds.model = f"{prefix}-model"
    client.create_registered_model(seeds.model)
    client.create_model_version(seeds.model, f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(seeds.model, "champion", "1")


def seed_local_run(workspace: Path) -> None:
    recorded_run(workspace, LOCAL_RUN)


@pytest.fixture(scope="module")
def team(
    kubeflow_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProfileNamespace]:
    """A Kubeflow profile on the real plane, seeded; the server acts as its default-editor."""
    with fresh_profile(kubeflow_plane, tmp_path_factory.mktemp("profile")) as profile:
        seed_kube(profile)
        yield profile


@pytest.fixture(scope="module")
def kfp_api(team: ProfileNamespace) -> Iterator[KfpEmulator]:
    # KFP runs and the notebook share the profile namespace.
    with KfpEmulator(token=KFP_TOKEN, step_seconds=0.05, namespaces=(team.name,)) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    team: ProfileNamespace,
    kfp_api: KfpEmulator,
    mlflow_server: MlflowServer,
) -> Iterator[Server]:
    """`jupyter server` with the extension, writes allowed, every backend real and seeded."""
    base = tmp_path_factory.mktemp("fuzz")
    seeds = Seeds()
    seed_kfp(kfp_api, seeds, team.name)
    seed_mlflow(mlflow_server.url, seeds)
    workspace = base / "work"
    seed_local_run(workspace)
    config_dir = base / "jupyter"
    config_dir.mkdir()
    mlops = {
        "cluster": "kubeconfig",
        "kubeconfig": str(team.kubeconfig),
        "namespace": team.name,
        "kfp_endpoint": kfp_api.url,
        "kfp_token": KFP_TOKEN,
        "mlflow_tracking_uri": mlflow_server.url,
        "workspace": str(workspace),
        "read_only": False,
    }
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps(
            {"ServerApp": {"jpserver_extensions": {"jupyter_mlops": True}}, "MLOpsConfig": mlops}
        )
    )
    # Only our config: nothing of the machine's cluster, Pipelines or MLflow settings.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KUBERNETES_", "KF_", "MLFLOW_", "JUPYTER_")) and key != "KUBECONFIG"
    }
    env.update(HOME=str(base), JUPYTER_CONFIG_DIR=str(config_dir))
    port, token = free_port(), secrets.token_hex(16)
    args = [sys.executable, "-m", "jupyter_server", *server_args(port, token, workspace)]
    running = Server(f"http://127.0.0.1:{port}", token, base / "server.log", seeds)

    def answering() -> bool:
        answer = requests.get(
            f"{running.base_url}/mlops/api/status", headers=running.auth, timeout=10
        )
        return answer.status_code == 200

    with server_process(args, env, running.log_file, answering, "jupyter server", poll_seconds=0.2):
        yield running


@dataclass
class RealNames:
    """Path (and some query) values that name seeded objects; the rest is generated."""

    path: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)


def real_names(path: str, seeds: Seeds) -> list[RealNames]:
    kube_objects = [
        RealNames({"kind": "pods", "name": POD}),
        RealNames({"kind": "deploy", "name": DEPLOYMENT}),
    ]
    mlflow_run = RealNames({"run_id": seeds.mlflow_run})
    pipeline_runs = [
        RealNames({"run_id": run})
        for run in (seeds.running_run, seeds.finished_run, seeds.failed_run, LOCAL_RUN)
    ]
    table = {
        "/mlops/api/kube/{kind}": [RealNames({"kind": k}) for k in ("pods", "deploy", "events")],
        "/mlops/api/kube/{kind}/{name}": kube_objects,
        "/mlops/api/kube/{kind}/{name}/describe": kube_objects,
        "/mlops/api/kube/{kind}/{name}/yaml": kube_objects,
        "/mlops/api/kube/pods/{name}/log": [RealNames({"name": POD})],
        "/mlops/api/kube/deployments/{name}/scale": [RealNames({"name": DEPLOYMENT})],
        "/mlops/api/mlflow/experiments/{experiment_id}/runs": [
            RealNames({"experiment_id": seeds.mlflow_experiment})
        ],
        "/mlops/api/mlflow/runs/{run_id}": [mlflow_run],
        "/mlops/api/mlflow/runs/{run_id}/history": [
            mlflow_run,
            RealNames({"run_id": seeds.mlflow_run}, {"key": "loss"}),
        ],
        "/mlops/api/mlflow/runs/{run_id}/artifacts": [mlflow_run],
        "/mlops/api/mlflow/runs/{run_id}/artifacts/download": [
            mlflow_run,
            RealNames({"run_id": seeds.mlflow_run}, {"path": "notes/readme.txt"}),
        ],
        "/mlops/api/mlflow/models/{name}": [RealNames({"name": seeds.model})],
        "/mlops/api/mlflow/models/{name}/versions": [RealNames({"name": seeds.model})],
        "/mlops/api/pipelines/runs/{run_id}": pipeline_runs,
        "/mlops/api/pipelines/runs/{run_id}/terminate": pipeline_runs,
        "/mlops/api/pipelines/runs/{run_id}/retry": pipeline_runs,
        "/mlops/api/pipelines/runs/{run_id}/tasks/{task}/log": [
            RealNames({"run_id": seeds.finished_run, "task": "prepare"}),
            RealNames({"run_id": seeds.running_run, "task": "train"}),
            RealNames({"run_id": LOCAL_RUN, "task": "prepare"}),
        ],
        "/mlops/api/pipelines/pipelines/{pipeline_id}/versions": [
            RealNames({"pipeline_id": seeds.pipeline})
        ],
    }
    return table.get(path, [])


@dataclass
class Finding:
    """One way an operation broke the contract, with its shortest reproducing request."""

    problem: str
    count: int
    request: str
    answer: str


@dataclass
class Fuzzer:
    """Sends cases to the server and keeps every breach of the contract, per operation."""

    server: Server
    responses: dict[tuple[str, str], dict[str, Any]]
    session: requests.Session = field(default_factory=requests.Session)
    sent: int = 0
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)

    def send(self, case: Case) -> None:
        server = self.server
        response = case.call(
            base_url=server.base_url, session=self.session, headers=server.auth, timeout=60
        )
        self.sent += 1
        for problem in self.problems(case, response):
            self.record(case.operation.label, problem, response)

    def problems(self, case: Case, response: schemathesis.Response) -> list[str]:
        status = response.status_code
        documented = self.responses[(case.method.upper(), case.operation.path)]
        found = []
        if str(status) not in documented:
            found.append(f"status {status} is not documented")
        if status >= 500 and status != 503:
            found.append(f"server error {status}")
        if status >= 400 and not is_envelope(response):
            found.append(f"{status} body is not the error envelope")
        if b"Traceback" in response.content:
            found.append("the body holds a traceback")
        if str(status) in documented:
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except (AssertionError, FailureGroup) as failed:
                failures = getattr(failed, "exceptions", (failed,))
                titles = sorted({getattr(f, "title", type(f).__name__) for f in failures})
                found.append(f"{status} body does not match its schema: {'; '.join(titles)}")
        return found

    def record(self, label: str, problem: str, response: schemathesis.Response) -> None:
        sent = response.request
        body = sent.body.decode(errors="replace") if isinstance(sent.body, bytes) else sent.body
        request = f"{sent.method} {sent.url}" + (f"\n    body: {body[:300]}" if body else "")
        kind = response.headers.get("content-type", [""])[0]
        text = response.content[:300].decode(errors="replace")
        answer = f"{response.status_code} {kind}: {text}"
        known = self.findings.get((label, problem))
        if known is None:
            self.findings[(label, problem)] = Finding(problem, 1, request, answer)
            return
        known.count += 1
        if len(request) < len(known.request):
            known.request, known.answer = request, answer

    def report(self) -> str:
        return "\n".join(
            f"{label}: {f.problem} ({f.count}x)\n    {f.request}\n    -> {f.answer}"
            for (label, _), f in sorted(self.findings.items())
        )


def is_envelope(response: schemathesis.Response) -> bool:
    kind = response.headers.get("content-type", [""])[0]
    if not kind.startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and set(body) == {"reason", "message"}
        and all(isinstance(v, str) for v in body.values())
    )


def documented_responses() -> dict[tuple[str, str], dict[str, Any]]:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    return {
        (method.upper(), path): operation["responses"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }


def run_cases(fuzzer: Fuzzer, strategy: Any, examples: int) -> None:
    @settings(FUZZ, max_examples=examples)
    @given(case=strategy)
    def fuzz(case: Case) -> None:
        fuzzer.send(case)

    fuzz()


def operations_reads_first() -> list[Any]:
    """Reads before writes, so that a delete or scale comes after the reads of its object."""
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(
        (op for op in found if op.label not in NOT_FUZZED), key=lambda op: op.method != "get"
    )


def test_every_answer_keeps_the_contract_of_the_spec(server: Server) -> None:
    fuzzer = Fuzzer(server, documented_responses())
    for operation in operations_reads_first():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_cases(fuzzer, operation.as_strategy(generation_mode=mode), EXAMPLES)
            except Unsatisfiable:
                # Nothing to negate: no inputs, or only a path segment any text fits.
                assert mode is GenerationMode.NEGATIVE, operation.label
        for names in real_names(operation.path, server.seeds):
            strategy = operation.as_strategy(path_parameters=names.path, query=names.query)
            run_cases(fuzzer, strategy, REAL_EXAMPLES)
    assert fuzzer.sent >= MIN_REQUESTS
    assert not fuzzer.findings, (
        f"{len(fuzzer.findings)} breaches in {fuzzer.sent} requests:\n{fuzzer.report()}"
    )


# Requests that once broke the contract, pinned so that they keep answering as documented.
PINNED = [
    ("PATCH", "kube/deployments/web/scale", "[" * 50_000 + "]" * 50_000, 400),
    ("PATCH", "kube/deployments/web/scale", json.dumps({"replicas": 10**12}), 400),
    ("GET", "kube/no-such-kind", None, 400),
    ("GET", "kube/pods_and_more/web-0/describe", None, 400),
    ("GET", "mlflow/experiments?page_token=%C3%A9t%C3%A9", None, 400),
    ("GET", "mlflow/models?page_token=%E2%9C%93", None, 400),
    ("GET", "nowhere", None, 404),
    ("GET", "kube/pods/web-0/log/more", None, 404),
    ("PUT", "status", "{}", 405),
    ("POST", "ws", "{}", 405),
    ("GET", "ws", None, 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), PINNED)
def test_pinned_requests_answer_the_documented_error(
    server: Server, method: str, path: str, body: str | None, status: int
) -> None:
    answer = requests.request(
        method, f"{server.base_url}/mlops/api/{path}", headers=server.auth, data=body, timeout=60
    )
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["Content-Type"].startswith("application/json")
    assert set(answer.json()) == {"reason", "message"}
