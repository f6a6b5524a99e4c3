"""A registered MLflow 3 model on the session's real tracking server (a small sklearn model
with its training dataset logged through `mlflow.data`), the product's `Serving` pointed at it,
and KServe's custom resources on the real control plane."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import Settings, configure, resolve
from jupyter_mlops.serving import Serving
from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.mlflow_server import MlflowServer
from tests.plane import Namespace, wait_for

FEATURES = ("tenure", "charges", "calls", "plan")
#: The feature `shifted` moves: the one drift must flag, and the only one.
SHIFTED = "charges"
CRDS = Path(__file__).parents[2] / "jupyter_mlops/testing/kubeflow/manifests/crds.yaml"
#: The artifact store the session's tracking server would have behind it on a cluster.
DESTINATION = "s3://mlflow/artifacts"


@dataclass
class Registered:
    """A model version in the registry, and what made it."""

    url: str
    name: str
    version: str
    run_id: str
    experiment_id: str
    model: Any  # the fitted sklearn model, to compare predictions with
    train: Any  # the training DataFrame, also logged as the run's dataset
    test: Any  # held-out rows from the same distribution
    artifacts_dir: Path

    def shifted(self) -> Any:
        """The held-out rows with one feature moved by one standard deviation."""
        moved = self.test.copy()
        moved[SHIFTED] = moved[SHIFTED] + self.train[SHIFTED].std()
        return moved


def _data(rows: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.normal(24.0, 8.0, rows),
            "charges": rng.normal(70.0, 20.0, rows),
            "calls": rng.normal(3.0, 1.5, rows),
            "plan": rng.choice(["basic", "pro"], rows, p=[0.6, 0.4]),
        }
    )
    score = 0.08 * (frame.tenure - 24) - 0.05 * (frame.charges - 70) + 0.6 * (frame.calls - 3)
    score = score + (frame.plan == "pro") * 0.8 - 0.3
    return frame, (score + rng.normal(0, 0.5, rows) > 0).astype("int64")


def register(server: MlflowServer, folder: Path) -> Registered:
    """Train, log with its dataset (a CSV file as the source) and register; alias champion."""
    import mlflow
    from mlflow import MlflowClient
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train, labels = _data(2000, seed=7)
    test, _ = _data(1000, seed=8)
    source = folder / "train.csv"
    train.assign(churned=labels).to_csv(source, index=False)
    client = MlflowClient(server.url)
    name = f"churn-{uuid.uuid4().hex[:6]}"
    experiment_id = client.create_experiment(f"{name}-training")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(server.url)
    try:
        # MLflow's own hints (integer columns, pandas deprecations) are not what is tested.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mlflow.start_run(experiment_id=experiment_id) as run:
                dataset = mlflow.data.from_pandas(
                    train.assign(churned=labels),
                    source=str(source),
                    targets="churned",
                    name="train",
                )
                mlflow.log_input(dataset, context="training")
                # A text column too, so text travels the v2 protocol as BYTES.
                columns = ColumnTransformer(
                    [("plan", OneHotEncoder(), ["plan"])], remainder="passthrough"
                )
                model = make_pipeline(columns, LogisticRegression()).fit(train, labels)
                info = mlflow.sklearn.log_model(
                    model, name="model", input_example=train.head(3), registered_model_name=name
                )
    finally:
        mlflow.set_tracking_uri(previous)
    version = client.search_model_versions(f"name = '{name}'")[0]
    assert version.source == info.model_uri  # MLflow 3: a logged model, not a run artifact
    client.set_registered_model_alias(name, "champion", version.version)
    return Registered(
        url=server.url,
        name=name,
        version=str(version.version),
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        model=model,
        train=train,
        test=test,
        artifacts_dir=server.artifacts_dir,
    )


@pytest.fixture(scope="session")
def registered(mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> Registered:
    return register(mlflow_server, tmp_path_factory.mktemp("dataset"))


def settings_for(
    registered: Registered, workspace: Path, *, env: dict[str, str] | None = None, **config: Any
) -> Settings:
    """Settings as a notebook configured for the tracking server (and `config`) resolves them."""
    values = {"workspace": str(workspace), "mlflow_tracking_uri": registered.url, **config}
    return resolve(configure(**values), env=env or {}, root=workspace)


@contextlib.contextmanager
def serving_for(settings: Settings) -> Iterator[Serving]:
    """A `Serving`; the local servers it started are stopped afterwards."""
    serving = Serving(settings)
    try:
        yield serving
    finally:
        for server in serving.local.all():
            serving.local.stop(server.name)
        serving.close()


@pytest.fixture
def serving(registered: Registered, tmp_path: Path) -> Iterator[Serving]:
    """Serving for a notebook with no cluster, the tracking server configured."""
    with serving_for(settings_for(registered, tmp_path)) as made:
        yield made


# -- the real control plane with KServe's kinds --------------------------------------------


def mlserver_runtime() -> dict[str, Any]:
    """KServe's kserve-mlserver ClusterServingRuntime as KServe's release installs it."""
    formats = [
        ("sklearn", "0", 2),
        ("sklearn", "1", 2),
        ("xgboost", "1", 2),
        ("xgboost", "2", 2),
        ("lightgbm", "3", 2),
        ("lightgbm", "4", 2),
        ("mlflow", "1", 1),
        ("mlflow", "2", 1),
    ]
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ClusterServingRuntime",
        "metadata": {
            "name": "kserve-mlserver",
            "annotations": {"serving.kserve.io/server-type": "mlserver"},
        },
        "spec": {
            "supportedModelFormats": [
                {"name": n, "version": v, "autoSelect": True, "priority": p} for n, v, p in formats
            ],
            "protocolVersions": ["v2"],
            "containers": [
                {
                    "name": "kserve-container",
                    "image": "docker.io/seldonio/mlserver:1.5.0",
                    "env": [
                        {
                            "name": "MLSERVER_MODEL_IMPLEMENTATION",
                            "value": "{{.Labels.modelClass}}",
                        },
                        {"name": "MLSERVER_HTTP_PORT", "value": "8080"},
                        {"name": "MLSERVER_GRPC_PORT", "value": "9000"},
                    ],
                    "resources": {
                        "requests": {"cpu": "1", "memory": "2Gi"},
                        "limits": {"cpu": "1", "memory": "2Gi"},
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="session")
def kserve(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> ControlPlane:
    """KServe's CRDs (applied server-side, as KServe's release is) and its MLflow runtime."""
    control_plane.kubectl("apply", "--server-side", "-f", str(CRDS))
    control_plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(CRDS))
    runtime = tmp_path_factory.mktemp("kserve") / "runtime.json"
    runtime.write_text(json.dumps(mlserver_runtime()))
    control_plane.kubectl("apply", "--server-side", "-f", str(runtime))
    return control_plane


def s3_account(namespace: Namespace, name: str = "models", *, endpoint: bool = True) -> None:
    """A ServiceAccount with the S3 Secret KServe's storage initializer reads."""
    annotations = {"serving.kserve.io/s3-endpoint": "minio.kubeflow:9000"} if endpoint else {}
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-s3", "annotations": annotations},
            "stringData": {"AWS_ACCESS_KEY_ID": "minio", "AWS_SECRET_ACCESS_KEY": "minio123"},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name},
            "secrets": [{"name": f"{name}-s3"}],
        },
    )


def cluster_settings(
    registered: Registered,
    namespace: Namespace,
    *,
    in_pod: bool = False,
    kubeconfig: Path | None = None,
    **config: Any,
) -> Settings:
    """Settings of a notebook reaching the plane through a kubeconfig; with `in_pod`, as a
    notebook pod (the ServiceAccount's files and the service variables) would have them."""
    root = namespace.tmp_path / ("pod" if in_pod else "laptop")
    env: dict[str, str] = {}
    if in_pod:
        account = root / "var/run/secrets/kubernetes.io/serviceaccount"
        account.mkdir(parents=True, exist_ok=True)
        (account / "token").write_text("not-used")
        env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    root.mkdir(parents=True, exist_ok=True)
    values = {
        "workspace": str(root),
        "mlflow_tracking_uri": registered.url,
        "cluster": "kubeconfig",
        "kubeconfig": str(kubeconfig or namespace.kubeconfig),
        "mlflow_artifacts_destination": DESTINATION,
        **config,
    }
    return resolve(configure(**values), env=env, root=root)


def write_status(namespace: Namespace, name: str, status: dict[str, Any]) -> None:
    """Write an InferenceService's status through its status subresource, as KServe does."""
    namespace.kubectl(
        "patch",
        "inferenceservice",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status}),
    )


def ready_status(
    name: str, namespace: str, *, address: str, url: str, generation: int
) -> dict[str, Any]:
    """What KServe writes once the predictor answers (Standard mode)."""
    conditions = [
        {"type": t, "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        for t in ("IngressReady", "PredictorReady", "Ready")
    ]
    return {
        "observedGeneration": generation,
        "deploymentMode": "RawDeployment",
        "url": url,
        "address": {"url": address},
        "components": {
            "predictor": {"url": url, "address": {"url": address}, "latestCreatedRevision": "1"}
        },
        "conditions": conditions,
        "modelStatus": {
            "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"},
            "transitionStatus": "UpToDate",
        },
    }


# -- a stand-in for the Istio sidecar in front of a predictor --------------------------------


class MeshRefusal:
    """A loopback HTTP server that answers every request as an Istio sidecar refuses one its
    AuthorizationPolicies do not allow: HTTP 403, text/plain, `RBAC: access denied`.

    It stands in for the service mesh, which cannot run here, not for the product's code.
    """

    def __init__(self) -> None:
        class Refuse(BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = b"RBAC: access denied"
                self.send_response(403)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(body)))
                self.send_header("server", "envoy")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _refuse

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MeshRefusal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


__all__ = ["Namespace", "wait_for"]
