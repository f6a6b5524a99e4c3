"""Make an official Kubernetes client from the resolved settings (in-cluster or kubeconfig)."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import NotFound, Unavailable, root_cause

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from .cluster import Cluster, Obj
    from .kinds import Kind
    from .watch import WatchCache

# One WatchCache per Cluster connection, for the readers handed only the Cluster.
_WATCHES: weakref.WeakKeyDictionary[Cluster, WatchCache] = weakref.WeakKeyDictionary()
_WATCHES_LOCK = threading.Lock()
# The resources each group version serves, per Cluster connection (discovery, asked once).
_SERVED: weakref.WeakKeyDictionary[Cluster, dict[tuple[str, str], frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)
#: How long a first list may take on a busy API server.
FIRST_LIST_SECONDS = 30.0


def api_client(settings: Settings, *, retries: int | None = None) -> ApiClient:
    """An `ApiClient` for the configured cluster; `Unavailable` when none is configured."""
    from kubernetes import client, config

    configuration = client.Configuration()
    if settings.cluster == "in-cluster":
        sa = settings.serviceaccount_dir
        loader = config.incluster_config.InClusterConfigLoader(
            token_filename=str(sa / "token"),
            cert_filename=str(sa / "ca.crt"),
            environ=dict(settings.env),
        )
        # try_refresh_token re-reads the projected token, which the kubelet rotates.
        loader.load_and_set(configuration)
    elif settings.cluster == "kubeconfig" and settings.kubeconfig:
        config.load_kube_config(config_file=settings.kubeconfig, client_configuration=configuration)
    else:
        raise Unavailable("cluster", "no cluster is configured")
    if retries is not None:
        configuration.retries = retries
    return client.ApiClient(configuration)


def probe(settings: Settings, *, timeout: float) -> tuple[bool, str | None]:
    """Whether the API server answers, and whether pods can be listed in the namespace."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        api = api_client(settings, retries=0)
    except Unavailable as exc:
        return False, exc.message
    except Exception as exc:  # the client's loaders raise many kinds for a bad config
        return False, f"cannot load the cluster configuration: {exc}"
    with api:
        try:
            client.VersionApi(api).get_code(_request_timeout=timeout)
        except ApiException as exc:
            return False, f"the API server answered HTTP {exc.status} {exc.reason}"
        except HTTPError as exc:
            return False, f"cannot connect to {settings.cluster_endpoint}: {root_cause(exc)}"
        if settings.namespace is None:
            return True, None
        review: dict[str, Any] = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "namespace": settings.namespace,
                    "verb": "list",
                    "resource": "pods",
                }
            },
        }
        try:
            answer = client.AuthorizationV1Api(api).create_self_subject_access_review(
                review, _request_timeout=timeout
            )
        except ApiException as exc:
            if exc.status == 401:
                return False, (
                    "the API server refused the credentials (HTTP 401): the token may have "
                    "expired, or the kubeconfig may belong to another cluster"
                )
            # Any other refusal of the review itself still means the server answers.
            return True, None
        except HTTPError:
            return True, None
        if not answer.status.allowed:
            return False, (
                f"connected, but this identity may not list pods in namespace "
                f"{settings.namespace!r}: it needs a Role with verb 'list' on 'pods' there"
            )
        return True, None


# -- reading custom kinds from watches ---------------------------------------------------------


def watch_cache_of(cluster: Cluster) -> WatchCache:
    """The WatchCache of this Cluster connection, made on first use.

    Readers that are handed only the Cluster (the sidebar's Serving and Tuning sections)
    share its informers, which stop `watch_idle_seconds` after their last read.
    """
    from .watch import WatchCache

    with _WATCHES_LOCK:
        cache = _WATCHES.get(cluster)
        if cache is None:
            cache = WatchCache(cluster, idle_seconds=cluster.settings.watch_idle_seconds)
            _WATCHES[cluster] = cache
        return cache


def served(cluster: Cluster, kind: Kind) -> bool:
    """Whether discovery lists `kind` in its group version; asked once per connection and
    group version (one GET, where `Cluster.custom_kinds` reads every group's), so a kind the
    cluster does not serve costs the API server nothing afterwards."""
    key = (kind.group, kind.version)
    with _WATCHES_LOCK:
        known = _SERVED.setdefault(cluster, {})
        plurals = known.get(key)
    if plurals is None:
        try:
            listing = cluster.request("GET", f"/apis/{kind.group}/{kind.version}")
        except NotFound:
            listing = {}
        plurals = frozenset(r.get("name", "") for r in listing.get("resources") or [])
        with _WATCHES_LOCK:
            _SERVED.setdefault(cluster, {})[key] = plurals
    return kind.plural in plurals


def watched_objects(cluster: Cluster, kind: Kind, missing: str) -> list[Obj]:
    """The namespace's objects of `kind` from its informer: one LIST and one WATCH however
    often they are read, and no request at all for a kind the cluster does not serve
    (`NotFound` saying `missing`)."""
    if not served(cluster, kind):
        raise NotFound(missing)
    return watch_cache_of(cluster).objects(kind, cluster.namespace, timeout=FIRST_LIST_SECONDS)
