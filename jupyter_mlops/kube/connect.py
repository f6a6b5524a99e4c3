"""Make an official Kubernetes client from the resolved settings (in-cluster or kubeconfig)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import Unavailable, root_cause

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


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
