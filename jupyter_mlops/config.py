"""Configuration: traitlets settings plus discovery of the Kubeflow notebook pod's environment.

Every surface (server, magics, plain Python) resolves its settings here, once, so identity and
namespace are decided in one place. Explicit configuration wins over the environment, which wins
over what the pod's filesystem says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, validate
from traitlets.config import Configurable

from .errors import BadConfig

SERVICEACCOUNT_DIR = "var/run/secrets/kubernetes.io/serviceaccount"
KFP_TOKEN_PATH = "/var/run/secrets/kubeflow/pipelines/token"
KFP_IN_CLUSTER_ENDPOINT = "http://ml-pipeline.kubeflow.svc.cluster.local:8888"

NO_CLUSTER = (
    "No cluster is configured. Inside a Kubeflow notebook this is automatic; elsewhere point "
    "$KUBECONFIG (or c.MLOpsConfig.kubeconfig) at a kubeconfig file."
)

MAX_INT32 = 2**31 - 1
KUBECONFIG_SETTING = "c.MLOpsConfig.kubeconfig (or $KUBECONFIG)"

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")

ClusterMode = Literal["in-cluster", "kubeconfig", "none"]
#: Where pipeline runs live: Kubeflow Pipelines on the cluster, or this machine.
PipelinesMode = Literal["cluster", "local", "none"]
#: Where MLflow keeps runs: a tracking server, or a local store in the workspace.
TrackingMode = Literal["server", "local", "none"]
NamespaceSource = Literal["config", "serviceaccount", "env", "kubeconfig", "none"]


class MLOpsConfig(Configurable):
    """Settings of jupyter_mlops, read from `jupyter_server_config.py` or `%config`.

    Unset values are discovered from the environment a Kubeflow notebook pod already has.
    """

    namespace = Unicode(
        None,
        allow_none=True,
        help="Kubernetes namespace to show and to run pipelines in. Default: the pod's "
        "ServiceAccount namespace, else NB_PREFIX, else the kubeconfig context's namespace.",
    ).tag(config=True)

    cluster = Enum(
        ["auto", "in-cluster", "kubeconfig", "none"],
        default_value="auto",
        help="How to reach the Kubernetes API: 'in-cluster' (the pod's ServiceAccount), "
        "'kubeconfig', 'none', or 'auto' (in-cluster inside a pod, else a kubeconfig if "
        "one exists, else none).",
    ).tag(config=True)

    kubeconfig = Unicode(
        None,
        allow_none=True,
        help="Path of the kubeconfig file. Default: $KUBECONFIG, else ~/.kube/config.",
    ).tag(config=True)

    kfp_endpoint = Unicode(
        None,
        allow_none=True,
        help="Kubeflow Pipelines API endpoint. Default: $KF_PIPELINES_ENDPOINT, else the "
        "in-cluster service inside a pod, else none (pipelines run locally).",
    ).tag(config=True)

    kfp_token = Unicode(
        None,
        allow_none=True,
        help="Bearer token for the Kubeflow Pipelines API (outside the cluster).",
    ).tag(config=True)

    kfp_token_path = Unicode(
        None,
        allow_none=True,
        help="File holding the Pipelines ServiceAccount token; re-read when it expires. "
        f"Default: $KF_PIPELINES_SA_TOKEN_PATH, else {KFP_TOKEN_PATH}.",
    ).tag(config=True)

    kfp_cookie = Unicode(
        None,
        allow_none=True,
        help="Dex session cookie ('authservice_session=…') for a Pipelines endpoint "
        "behind the Kubeflow login, when no token is available.",
    ).tag(config=True)

    mlflow_tracking_uri = Unicode(
        None,
        allow_none=True,
        help="MLflow tracking URI. Default: $MLFLOW_TRACKING_URI, else a local store in "
        "the workspace.",
    ).tag(config=True)

    mlflow_ui_url = Unicode(
        None,
        allow_none=True,
        help="Address of the MLflow UI as the browser reaches it (e.g. the dashboard's "
        "'/mlflow/'). Default: the tracking URI when it is a server outside the cluster.",
    ).tag(config=True)

    mlflow_artifacts_destination = Unicode(
        None,
        allow_none=True,
        help="Where the MLflow tracking server keeps the artifacts it proxies (its "
        "--artifacts-destination, e.g. 's3://mlflow/artifacts'). KServe's storage initializer "
        "cannot read 'mlflow-artifacts:/' addresses, so serving a model translates them to this "
        "store. Default: $MLFLOW_ARTIFACTS_DESTINATION (the server's own variable), else none.",
    ).tag(config=True)

    serving_service_account = Unicode(
        None,
        allow_none=True,
        help="ServiceAccount that InferenceServices run as when their model is in s3:// "
        "storage: it names the Secret with the storage credentials (annotated "
        "serving.kserve.io/s3-endpoint). Default: none (the namespace's default account).",
    ).tag(config=True)

    read_only = Bool(
        False,
        help="Refuse, with 403, every write on every surface (sidebar, magics, Python API): "
        "deleting pods and scaling deployments, starting, terminating or retrying pipeline "
        "runs and creating experiments, and writing to MLflow. Local runs and the local "
        "MLflow store in the workspace count too: read-only means nothing is started or "
        "changed, here or on the cluster.",
    ).tag(config=True)

    max_replicas = Int(
        1000,
        help="Largest replica count that scaling accepts; a larger one is refused with 400.",
    ).tag(config=True)

    backend_timeout = Float(
        5.0,
        help="Seconds to wait for Kubeflow Pipelines or MLflow to answer an interactive call "
        "once connected (connecting has 2 s); no call is retried behind the user's back.",
    ).tag(config=True)

    watch_idle_seconds = Float(
        300.0,
        help="Seconds a cluster watch is kept after the last view that needed it closed, so "
        "reopening a view costs the API server nothing; then it stops.",
    ).tag(config=True)

    workspace = Unicode(
        None,
        allow_none=True,
        help="Folder for local state (local runs, local MLflow store). Default: the "
        "current directory.",
    ).tag(config=True)

    @validate("kfp_endpoint")
    def _valid_endpoint(self, proposal: dict[str, Any]) -> str | None:
        value: str | None = proposal["value"]
        if value is not None and urlparse(value).scheme not in ("http", "https"):
            _refuse(proposal, "must be an http:// or https:// URL")
        return value

    @validate("mlflow_artifacts_destination")
    def _valid_destination(self, proposal: dict[str, Any]) -> str | None:
        value: str | None = proposal["value"]
        if value is not None and (
            len(urlparse(value).scheme) < 2 or value.startswith("mlflow-artifacts:")
        ):
            _refuse(proposal, "must be the store's own URI, e.g. s3://bucket/path")
        return value

    @validate("serving_service_account")
    def _valid_service_account(self, proposal: dict[str, Any]) -> str | None:
        value: str | None = proposal["value"]
        if value is not None and not _is_dns_subdomain(value):
            _refuse(proposal, "is not a valid ServiceAccount name (RFC 1123 subdomain)")
        return value

    @validate("max_replicas")
    def _valid_max_replicas(self, proposal: dict[str, Any]) -> int:
        value: int = proposal["value"]
        if not 0 <= value <= MAX_INT32:
            _refuse(proposal, f"must be between 0 and {MAX_INT32}")
        return value

    @validate("backend_timeout")
    def _valid_backend_timeout(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if not 0 < value <= 600:
            _refuse(proposal, "must be more than 0 and at most 600 seconds")
        return value

    @validate("watch_idle_seconds")
    def _valid_watch_idle_seconds(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if not 0 < value <= 86400:
            _refuse(proposal, "must be more than 0 and at most 86400 seconds")
        return value

    @validate("namespace")
    def _valid_namespace(self, proposal: dict[str, Any]) -> str | None:
        value: str | None = proposal["value"]
        if value is not None and not _is_dns_label(value):
            _refuse(proposal, "is not a valid namespace name (RFC 1123 label)")
        return value


def _refuse(proposal: dict[str, Any], why: str) -> None:
    """A refused value, worded with the setting's name so the user knows what to change."""
    raise TraitError(f"c.MLOpsConfig.{proposal['trait'].name} = {proposal['value']!r} {why}")


def configure(parent: Configurable | None = None, **values: Any) -> MLOpsConfig:
    """An `MLOpsConfig`, with a bad value reported as `BadConfig` naming the setting."""
    try:
        return MLOpsConfig(parent=parent, **values)
    except TraitError as exc:
        text = str(exc)
        named = text if text.startswith("c.MLOpsConfig.") else f"c.MLOpsConfig: {text}"
        raise BadConfig(named) from None


@dataclass(frozen=True)
class Settings:
    """What the configuration and the environment resolve to; every backend reads this."""

    namespace: str | None
    namespace_source: NamespaceSource
    in_pod: bool
    cluster: ClusterMode
    cluster_endpoint: str | None
    kubeconfig: str | None
    serviceaccount_dir: Path
    pipelines: PipelinesMode
    kfp_endpoint: str | None
    kfp_token: str | None
    kfp_token_path: str | None
    kfp_cookie: str | None
    tracking: TrackingMode
    tracking_uri: str
    tracking_ui_url: str | None
    pipelines_ui_url: str | None
    read_only: bool
    workspace: Path
    env: Mapping[str, str] = field(repr=False, default_factory=dict)
    max_replicas: int = 1000
    backend_timeout: float = 5.0
    watch_idle_seconds: float = 300.0
    artifacts_destination: str | None = None
    serving_service_account: str | None = None

    @property
    def state_dir(self) -> Path:
        """Where local runs and the local MLflow store live."""
        return self.workspace / ".mlops"


def resolve(
    config: MLOpsConfig | None = None,
    *,
    env: Mapping[str, str] | None = None,
    root: str | os.PathLike[str] = "/",
) -> Settings:
    """Resolve settings from explicit config, then `env`, then the filesystem under `root`.

    `env` and `root` default to the real process environment and filesystem; tests pass a fake
    pod filesystem and environment.
    """
    config = config if config is not None else MLOpsConfig()
    env = dict(os.environ) if env is None else dict(env)
    root_path = Path(root)
    sa_dir = root_path / SERVICEACCOUNT_DIR
    workspace = Path(config.workspace or os.getcwd()).resolve()

    in_pod = bool(env.get("KUBERNETES_SERVICE_HOST")) and (sa_dir / "token").is_file()
    kubeconfig = _kubeconfig_path(config, env)

    cluster: ClusterMode
    if config.cluster == "auto":
        if in_pod:
            cluster = "in-cluster"
        elif kubeconfig is not None and Path(kubeconfig).is_file():
            cluster = "kubeconfig"
        else:
            cluster = "none"
    else:
        cluster = config.cluster  # type: ignore[assignment]  # the Enum trait allows only these
    if cluster == "kubeconfig" and (kubeconfig is None or not Path(kubeconfig).is_file()):
        raise BadConfig(
            f"c.MLOpsConfig.cluster = 'kubeconfig' but no kubeconfig file at {kubeconfig!r}: "
            "set c.MLOpsConfig.kubeconfig or $KUBECONFIG to an existing file"
        )

    cluster_endpoint: str | None = None
    if cluster == "in-cluster":
        host = env.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
        port = env.get("KUBERNETES_SERVICE_PORT", "443")
        cluster_endpoint = f"https://{_bracket_ipv6(host)}:{port}"
    elif cluster == "kubeconfig" and kubeconfig is not None:
        cluster_endpoint = _kubeconfig_server(Path(kubeconfig))

    namespace, namespace_source = _namespace(config, env, sa_dir, cluster, kubeconfig)

    kfp_endpoint = config.kfp_endpoint or env.get("KF_PIPELINES_ENDPOINT") or None
    if kfp_endpoint is None and cluster == "in-cluster":
        kfp_endpoint = KFP_IN_CLUSTER_ENDPOINT
    if kfp_endpoint is not None and urlparse(kfp_endpoint).scheme not in ("http", "https"):
        raise BadConfig(
            f"$KF_PIPELINES_ENDPOINT must be an http:// or https:// URL, not {kfp_endpoint!r}"
        )
    token_path = config.kfp_token_path or env.get("KF_PIPELINES_SA_TOKEN_PATH") or KFP_TOKEN_PATH
    if config.kfp_token_path is None and "KF_PIPELINES_SA_TOKEN_PATH" not in env:
        # The default path is a pod path: look for it under the (possibly fake) root.
        token_path = str(root_path / KFP_TOKEN_PATH.lstrip("/"))

    tracking_uri = (
        config.mlflow_tracking_uri
        or env.get("MLFLOW_TRACKING_URI")
        or f"sqlite:///{workspace / '.mlops' / 'mlflow.db'}"
    )
    tracking: TrackingMode = (
        "server" if urlparse(tracking_uri).scheme in ("http", "https", "databricks") else "local"
    )

    # Inside a pod the cluster's service addresses mean nothing to the browser: only an explicit
    # UI address, or the dashboard's own path for Pipelines, is a link the user can follow.
    tracking_ui_url = config.mlflow_ui_url or (
        tracking_uri if tracking == "server" and not in_pod else None
    )
    pipelines_ui_url = (
        f"/_/pipeline/?ns={namespace}" if in_pod and kfp_endpoint and namespace else None
    )

    return Settings(
        namespace=namespace,
        namespace_source=namespace_source,
        in_pod=in_pod,
        cluster=cluster,
        cluster_endpoint=cluster_endpoint,
        kubeconfig=kubeconfig if cluster == "kubeconfig" else None,
        serviceaccount_dir=sa_dir,
        pipelines="cluster" if kfp_endpoint else "local",
        kfp_endpoint=kfp_endpoint,
        kfp_token=config.kfp_token,
        kfp_token_path=token_path,
        kfp_cookie=config.kfp_cookie,
        tracking=tracking,
        tracking_uri=tracking_uri,
        tracking_ui_url=tracking_ui_url,
        pipelines_ui_url=pipelines_ui_url,
        read_only=bool(config.read_only),
        workspace=workspace,
        env=env,
        max_replicas=int(config.max_replicas),
        backend_timeout=float(config.backend_timeout),
        watch_idle_seconds=float(config.watch_idle_seconds),
        artifacts_destination=(
            config.mlflow_artifacts_destination or env.get("MLFLOW_ARTIFACTS_DESTINATION") or None
        ),
        serving_service_account=config.serving_service_account,
    )


def _kubeconfig_path(config: MLOpsConfig, env: Mapping[str, str]) -> str | None:
    if config.kubeconfig:
        return str(Path(config.kubeconfig).expanduser())
    return _env_kubeconfig(env)


def _env_kubeconfig(env: Mapping[str, str]) -> str | None:
    if env.get("KUBECONFIG"):
        # Like kubectl, the first file of a path list is the one that names the context.
        return str(Path(env["KUBECONFIG"].split(os.pathsep)[0]).expanduser())
    home = env.get("HOME")
    return str(Path(home) / ".kube" / "config") if home else None


def _namespace(
    config: MLOpsConfig,
    env: Mapping[str, str],
    sa_dir: Path,
    cluster: ClusterMode,
    kubeconfig: str | None,
) -> tuple[str | None, NamespaceSource]:
    if config.namespace:
        return config.namespace, "config"
    ns_file = sa_dir / "namespace"
    if cluster == "in-cluster" and ns_file.is_file():
        value = ns_file.read_text().strip()
        if value:
            return value, "serviceaccount"
    # Kubeflow's notebook controller sets NB_PREFIX=/notebook/<namespace>/<name>.
    parts = env.get("NB_PREFIX", "").strip("/").split("/")
    if len(parts) == 3 and parts[0] == "notebook" and _is_dns_label(parts[1]):
        return parts[1], "env"
    if cluster == "kubeconfig" and kubeconfig is not None:
        context_ns = _kubeconfig_context(Path(kubeconfig)).get("namespace")
        return (str(context_ns) if context_ns else "default"), "kubeconfig"
    return None, "none"


def _kubeconfig_doc(path: Path) -> dict[str, Any]:
    import yaml  # small, and only needed when a kubeconfig is used

    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise BadConfig(f"{KUBECONFIG_SETTING}: cannot read {str(path)!r}: {exc}") from None
    if not isinstance(doc, dict):
        raise BadConfig(
            f"{KUBECONFIG_SETTING}: {str(path)!r} is not a kubeconfig (no mapping at top level)"
        )
    return doc


def _named(doc: dict[str, Any], key: str, name: str | None) -> dict[str, Any]:
    for item in doc.get(key) or []:
        if isinstance(item, dict) and item.get("name") == name:
            value = item.get(key[:-1]) or {}
            return value if isinstance(value, dict) else {}
    return {}


def _kubeconfig_context(path: Path) -> dict[str, Any]:
    doc = _kubeconfig_doc(path)
    return _named(doc, "contexts", doc.get("current-context"))


def _kubeconfig_server(path: Path) -> str | None:
    doc = _kubeconfig_doc(path)
    context = _named(doc, "contexts", doc.get("current-context"))
    server = _named(doc, "clusters", context.get("cluster")).get("server")
    return str(server) if server else None


def _is_dns_label(value: str) -> bool:
    return _DNS_LABEL.fullmatch(value) is not None


def _is_dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and all(_is_dns_label(part) for part in value.split("."))


def _bracket_ipv6(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def kubeconfig_token(settings: Settings) -> str | None:
    """The bearer token (or token file's) of the kubeconfig's current user, read now; None
    without a kubeconfig or a token in it (client certificates and exec plugins have none)."""
    path = settings.kubeconfig or _env_kubeconfig(settings.env)
    if path is None or not Path(path).is_file():
        return None
    try:
        doc = _kubeconfig_doc(Path(path))
    except BadConfig:
        return None
    context = _named(doc, "contexts", doc.get("current-context"))
    user = _named(doc, "users", context.get("user"))
    if user.get("token"):
        return str(user["token"]).strip() or None
    if user.get("tokenFile"):
        try:
            return Path(str(user["tokenFile"])).expanduser().read_text().strip() or None
        except OSError:
            return None
    return None
