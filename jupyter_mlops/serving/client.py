"""Calls to a v2 model server: one inference, timed, its failures worded for the user (Istio's
refusal above all)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlparse

from ..errors import BadInput, Forbidden, MLOpsError, NotFound, Unavailable, root_cause

CONNECT_TIMEOUT = 3.0
#: The body Istio's sidecar answers a request its AuthorizationPolicies do not allow with.
RBAC_DENIED = "RBAC: access denied"
GATEWAY_PRINCIPAL = "cluster.local/ns/istio-system/sa/cluster-local-gateway-service-account"


def istio_refusal(url: str, name: str, namespace: str | None) -> Forbidden:
    """Why Istio said "RBAC: access denied", and the three ways out."""
    ns = namespace or "the service's namespace"
    predictor = f"http://{name}-predictor.{ns}.svc.cluster.local"
    return Forbidden(
        f"Istio refused the call to {url} (HTTP 403 {RBAC_DENIED}). In a Kubeflow profile "
        f"namespace Istio admits callers from the same namespace only, and this address goes "
        "through the Knative local gateway, so the call arrives from namespace istio-system and "
        f"is refused. Fix it in one of three ways: call the predictor itself at {predictor} "
        "(predict(..., url=...)); serve with deployment_mode='Standard', which has no gateway "
        f"in between; or ask the owner of {ns} for an AuthorizationPolicy there that allows "
        f"the gateway: rules: [{{from: [{{source: {{principals: ['{GATEWAY_PRINCIPAL}']}}}}], "
        "to: [{operation: {paths: ['/v2/models/*']}}]}].",
        verb="call",
        resource="inferenceservices",
    )


def _error_text(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return _short(response.text.strip() or str(response.reason))
    if isinstance(body, dict):
        return _short(str(body.get("error") or body.get("detail") or body.get("message") or body))
    return _short(str(body))


def _short(text: str, limit: int = 600) -> str:
    # MLflow's schema errors quote the whole input before they say what is wrong.
    if "Failed to enforce schema" in text and "Error: " in text:
        return "the inputs do not match its signature: " + text.rsplit("Error: ", 1)[1].strip()
    return text if len(text) <= limit else f"{text[: limit // 2]} … {text[-limit // 2 :]}"


def infer(
    base_url: str,
    model: str,
    body: dict[str, Any],
    *,
    timeout: float,
    namespace: str | None = None,
    in_pod: bool = True,
) -> tuple[dict[str, Any], float]:
    """POST one v2 inference to `base_url`; the JSON answer and the milliseconds it took."""
    import requests

    url = f"{base_url.rstrip('/')}/v2/models/{quote(model, safe='')}/infer"
    started = time.perf_counter()
    try:
        response = requests.post(url, json=body, timeout=(CONNECT_TIMEOUT, timeout))
    except requests.Timeout:
        raise Unavailable("serving", f"{url} did not answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise _unreachable(url, exc, in_pod) from None
    latency = (time.perf_counter() - started) * 1000
    if response.status_code >= 400:
        raise _refused(response, url, model, namespace)
    try:
        answer = response.json()
    except ValueError:
        raise Unavailable("serving", f"{url} answered with something that is not JSON") from None
    if not isinstance(answer, dict):
        raise Unavailable("serving", f"{url} answered with no v2 response object")
    return answer, latency


def _unreachable(url: str, exc: Exception, in_pod: bool) -> MLOpsError:
    host = urlparse(url).hostname or ""
    hint = ""
    if host.endswith(".svc.cluster.local") or host.endswith(".svc"):
        hint = (
            ": this address answers only inside the cluster; from here, run `kubectl "
            "port-forward svc/<name>-predictor 8080:80` and pass url='http://127.0.0.1:8080'"
            if not in_pod
            else ": the predictor's Service has no ready pod behind it yet"
        )
    return Unavailable("serving", f"cannot reach {url}: {root_cause(exc)}{hint}")


def _refused(response: Any, url: str, model: str, namespace: str | None) -> MLOpsError:
    code = response.status_code
    text = _error_text(response)
    if code == 403 and RBAC_DENIED in response.text:
        return istio_refusal(url, model, namespace)
    if code in (401, 403):
        return Forbidden(f"{url} refused the call (HTTP {code}): {text}")
    if code == 404:
        return NotFound(f"{url} serves no model {model!r} (HTTP 404): {text}")
    if code in (400, 422):
        return BadInput(f"the model refused the input: {text}")
    return Unavailable("serving", f"the model server at {url} failed (HTTP {code}): {text}")


def metadata(base_url: str, model: str, *, timeout: float) -> dict[str, Any]:
    """The model's v2 metadata (its inputs and outputs, as its signature gives them)."""
    import requests

    url = f"{base_url.rstrip('/')}/v2/models/{quote(model, safe='')}"
    try:
        response = requests.get(url, timeout=(CONNECT_TIMEOUT, timeout))
    except requests.RequestException as exc:
        raise _unreachable(url, exc, True) from None
    if response.status_code >= 400:
        raise _refused(response, url, model, None)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return answer if isinstance(answer, dict) else {}
