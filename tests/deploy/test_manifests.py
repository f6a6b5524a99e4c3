"""The manifests apply with kubectl's kustomize into a profile namespace with Kubeflow's CRDs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.kubeflow import load_kubeflow

ROOT = Path(__file__).parents[2]
NAMESPACE = "kubeflow-user-example-com"


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    # kubectl sends no token over plain HTTP: unauthenticated requests act as the admin here.
    with KubeEmulator(port=0, controllers=False, anonymous="admin") as kube:
        configuration = client.Configuration(host=kube.url)
        configuration.api_key = {"authorization": f"Bearer {kube.admin_token}"}
        with client.ApiClient(configuration) as api:
            load_kubeflow(api, namespace=NAMESPACE, scenarios=())
        yield kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)


def kubectl(kubeconfig: Path, *args: str) -> str:
    done = subprocess.run(
        [shutil.which("kubectl") or "kubectl", f"--kubeconfig={kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_manifests_apply_into_a_profile_namespace(kubeconfig: Path) -> None:
    applied = kubectl(kubeconfig, "apply", "-k", str(ROOT / "manifests" / "base"), "-n", NAMESPACE)
    # The profile has this PodDefault already (Kubeflow installs it); ours must agree with it.
    assert "poddefault.kubeflow.org/access-ml-pipeline configured" in applied
    assert "poddefault.kubeflow.org/access-mlflow created" in applied
    assert "role.rbac.authorization.k8s.io/mlops-reader created" in applied
    env = kubectl(
        kubeconfig,
        "get",
        "poddefault",
        "access-ml-pipeline",
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.spec.env[0].name}",
    )
    assert env == "KF_PIPELINES_SA_TOKEN_PATH"
