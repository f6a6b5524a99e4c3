"""Credentials for the Kubeflow Pipelines API: token file (re-read), bearer token or Dex cookie."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings


def auth_headers(settings: Settings) -> tuple[dict[str, str], str | None]:
    """Headers for one request, and what is missing when no credential was found.

    The ServiceAccount token file is read on every call: the projected token rotates and
    expires, so a cached copy goes stale.
    """
    if settings.kfp_token:
        return {"Authorization": f"Bearer {settings.kfp_token}"}, None
    if settings.kfp_token_path:
        try:
            token = Path(settings.kfp_token_path).read_text().strip()
        except OSError:
            token = ""
        if token:
            return {"Authorization": f"Bearer {token}"}, None
    if settings.kfp_cookie:
        return {"Cookie": settings.kfp_cookie}, None
    return {}, f"no pipelines token at {settings.kfp_token_path}"


def explain_refusal(settings: Settings, reason: str, missing: str | None) -> str:
    """Turn a 401/403 from the Pipelines API into words a data scientist can act on."""
    if missing is not None and settings.in_pod:
        return (
            f"{reason}: {missing}. The notebook lacks the PodDefault 'access-ml-pipeline': "
            "recreate it with 'Allow access to Kubeflow Pipelines' ticked under Configurations."
        )
    if missing is not None:
        return (
            f"{reason}: no credentials. Set c.MLOpsConfig.kfp_token (a bearer token) or "
            "c.MLOpsConfig.kfp_cookie (your Kubeflow 'authservice_session' cookie)."
        )
    if reason.startswith("HTTP 401"):
        return f"{reason}: the pipelines token was refused; it may have expired."
    return (
        f"{reason}: the token is valid but may not act in namespace "
        f"{settings.namespace or '(unknown)'}; ask for a Profile contributor role there."
    )
