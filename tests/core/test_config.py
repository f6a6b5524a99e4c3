"""Discovery of the Kubeflow pod environment, kubeconfig and explicit settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.config import KFP_IN_CLUSTER_ENDPOINT, configure, resolve
from jupyter_mlops.errors import BadConfig
from jupyter_mlops.pipelines.auth import auth_headers

POD_ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def fake_pod(root: Path, namespace: str = "kubeflow-user-example-com") -> Path:
    """The files the kubelet mounts into a Kubeflow notebook pod."""
    sa = root / "var/run/secrets/kubernetes.io/serviceaccount"
    sa.mkdir(parents=True)
    (sa / "token").write_text("sa-token")
    (sa / "ca.crt").write_text("")
    (sa / "namespace").write_text(namespace)
    return root


def write_kubeconfig(path: Path, namespace: str | None = "team-a") -> Path:
    context = {"cluster": "lab", "user": "me"}
    if namespace:
        context["namespace"] = namespace
    import yaml

    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "lab",
                "clusters": [{"name": "lab", "cluster": {"server": "https://k8s.example:6443"}}],
                "users": [{"name": "me", "user": {"token": "t"}}],
                "contexts": [{"name": "lab", "context": context}],
            }
        )
    )
    return path


def test_inside_a_kubeflow_pod_everything_is_discovered(tmp_path: Path) -> None:
    root = fake_pod(tmp_path)
    token = root / "var/run/secrets/kubeflow/pipelines/token"
    token.parent.mkdir(parents=True)
    token.write_text("kfp-token-1")

    settings = resolve(configure(), env=POD_ENV, root=root)

    assert settings.in_pod
    assert (settings.namespace, settings.namespace_source) == (
        "kubeflow-user-example-com",
        "serviceaccount",
    )
    assert settings.cluster == "in-cluster"
    assert settings.cluster_endpoint == "https://10.96.0.1:443"
    assert settings.pipelines == "cluster"
    assert settings.kfp_endpoint == KFP_IN_CLUSTER_ENDPOINT
    assert auth_headers(settings) == ({"Authorization": "Bearer kfp-token-1"}, None)
    # The dashboard serves the notebook too: its relative path is a link the browser can follow.
    assert settings.pipelines_ui_url == "/_/pipeline/?ns=kubeflow-user-example-com"


def test_the_pipelines_token_is_read_again_after_it_rotates(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("old")
    settings = resolve(
        configure(), env={**POD_ENV, "KF_PIPELINES_SA_TOKEN_PATH": str(token)}, root=tmp_path
    )
    assert auth_headers(settings)[0] == {"Authorization": "Bearer old"}
    token.write_text("new")
    assert auth_headers(settings)[0] == {"Authorization": "Bearer new"}


def test_a_pod_without_the_pipelines_poddefault_says_what_is_missing(tmp_path: Path) -> None:
    settings = resolve(configure(), env=POD_ENV, root=fake_pod(tmp_path))
    headers, missing = auth_headers(settings)
    assert headers == {}
    assert missing is not None and "var/run/secrets/kubeflow/pipelines/token" in missing


def test_with_a_kubeconfig_its_context_names_the_namespace(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config")
    settings = resolve(configure(), env={"KUBECONFIG": str(kubeconfig)}, root=tmp_path)
    assert settings.cluster == "kubeconfig"
    assert settings.cluster_endpoint == "https://k8s.example:6443"
    assert (settings.namespace, settings.namespace_source) == ("team-a", "kubeconfig")
    assert settings.pipelines == "local"


def test_a_kubeconfig_context_without_namespace_means_default(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", namespace=None)
    settings = resolve(configure(), env={"KUBECONFIG": str(kubeconfig)}, root=tmp_path)
    assert settings.namespace == "default"


def test_with_nothing_configured_everything_is_local(tmp_path: Path) -> None:
    settings = resolve(configure(workspace=str(tmp_path)), env={}, root=tmp_path)
    assert not settings.in_pod
    assert settings.cluster == "none"
    assert (settings.namespace, settings.namespace_source) == (None, "none")
    assert settings.pipelines == "local"
    assert settings.tracking == "local"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / '.mlops' / 'mlflow.db'}"


def test_nb_prefix_names_the_namespace_when_the_serviceaccount_does_not(tmp_path: Path) -> None:
    env = {"NB_PREFIX": "/notebook/kubeflow-user-example-com/my-notebook"}
    settings = resolve(configure(), env=env, root=tmp_path)
    assert (settings.namespace, settings.namespace_source) == ("kubeflow-user-example-com", "env")


def test_explicit_configuration_wins_over_the_environment(tmp_path: Path) -> None:
    config = configure(
        namespace="team-b",
        kfp_endpoint="https://kubeflow.example/pipeline",
        mlflow_tracking_uri="http://mlflow.example",
        read_only=True,
    )
    env = {
        **POD_ENV,
        "KF_PIPELINES_ENDPOINT": "http://elsewhere:8888",
        "MLFLOW_TRACKING_URI": "file:///tmp/x",
    }
    settings = resolve(config, env=env, root=fake_pod(tmp_path))
    assert (settings.namespace, settings.namespace_source) == ("team-b", "config")
    assert settings.kfp_endpoint == "https://kubeflow.example/pipeline"
    assert (settings.tracking, settings.tracking_uri) == ("server", "http://mlflow.example")
    assert settings.read_only


def test_the_environment_configures_cluster_and_server_backends(tmp_path: Path) -> None:
    env = {"KF_PIPELINES_ENDPOINT": "http://127.0.0.1:8888", "MLFLOW_TRACKING_URI": "http://m:5000"}
    settings = resolve(configure(), env=env, root=tmp_path)
    assert (settings.pipelines, settings.kfp_endpoint) == ("cluster", "http://127.0.0.1:8888")
    assert settings.tracking == "server"
    assert settings.tracking_ui_url == "http://m:5000"
    assert settings.pipelines_ui_url is None  # outside a pod there is no dashboard to go through


def test_inside_a_pod_a_service_address_is_no_link_unless_a_ui_is_named(tmp_path: Path) -> None:
    env = {**POD_ENV, "MLFLOW_TRACKING_URI": "http://mlflow.mlflow.svc.cluster.local:5000"}
    root = fake_pod(tmp_path)
    assert resolve(configure(), env=env, root=root).tracking_ui_url is None
    named = resolve(configure(mlflow_ui_url="/mlflow/"), env=env, root=root)
    assert named.tracking_ui_url == "/mlflow/"


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"cluster": "sometimes"}, "'cluster' trait"),
        ({"namespace": "Not_A_Namespace"}, "not a valid namespace name"),
        ({"kfp_endpoint": "ml-pipeline:8888"}, "must be an http:// or https:// URL"),
        ({"read_only": "perhaps"}, "'read_only' trait"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(values: dict[str, str], words: str) -> None:
    with pytest.raises(BadConfig) as refused:
        configure(**values)
    assert refused.value.message.startswith("c.MLOpsConfig")
    assert words in refused.value.message


def test_kubeconfig_mode_without_a_file_is_refused(tmp_path: Path) -> None:
    config = configure(cluster="kubeconfig", kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(BadConfig, match="no kubeconfig file at"):
        resolve(config, env={}, root=tmp_path)


def test_a_malformed_kubeconfig_is_refused_plainly(tmp_path: Path) -> None:
    broken = tmp_path / "config"
    broken.write_text("clusters: [unclosed")
    with pytest.raises(
        BadConfig, match=r"c.MLOpsConfig.kubeconfig \(or \$KUBECONFIG\): cannot read"
    ):
        resolve(configure(), env={"KUBECONFIG": str(broken)}, root=tmp_path)


def test_a_bad_pipelines_endpoint_in_the_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadConfig, match="KF_PIPELINES_ENDPOINT"):
        resolve(configure(), env={"KF_PIPELINES_ENDPOINT": "ml-pipeline:8888"}, root=tmp_path)
