"""Kubernetes `Status` objects and the API error that carries one to the client."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


class ApiError(Exception):
    """An API failure answered as a `Status` object with the real server's code and message."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: Obj | None = None,
        metadata: Obj | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.metadata = metadata or {}

    def status(self) -> Obj:
        """The `Status` object the real API server sends for this failure."""
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": self.metadata,
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def qualified(plural: str, group: str) -> str:
    """`pods`, `deployments.apps`: how the server names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def kind_qualified(kind: str, group: str) -> str:
    """`Pod`, `Deployment.apps`: how validation messages name a kind."""
    return f"{kind}.{group}" if group else kind


def _details(name: str, group: str, plural: str) -> Obj:
    details: Obj = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def not_found(plural: str, group: str, name: str) -> ApiError:
    """404 for a named object that does not exist."""
    return ApiError(
        404,
        "NotFound",
        f'{qualified(plural, group)} "{name}" not found',
        _details(name, group, plural),
    )


def no_such_resource() -> ApiError:
    """404 for a path that names no served resource."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(plural: str, group: str, name: str) -> ApiError:
    """409 when a create collides with an existing name."""
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(plural, group)} "{name}" already exists',
        _details(name, group, plural),
    )


def conflict(plural: str, group: str, name: str, why: str = "") -> ApiError:
    """409 when a write carries a stale resourceVersion or a failed precondition."""
    why = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {why}',
        _details(name, group, plural),
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 with one cause per (field, reason, text), worded as the real validation errors."""
    texts = [f"{field}: {text}" for field, _reason, text in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: Obj = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [
        {"reason": reason, "message": text, "field": field} for field, reason, text in causes
    ]
    return ApiError(
        422, "Invalid", f'{kind_qualified(kind, group)} "{name}" is invalid: {joined}', details
    )


def bad_request(message: str) -> ApiError:
    """400 for a request the server cannot make sense of."""
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    """401 for a missing or unknown bearer token."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> ApiError:
    """405 for a verb the resource does not serve."""
    return ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )


def expired(message: str, metadata: Obj | None = None) -> ApiError:
    """410 for a resourceVersion or continue token older than the kept history."""
    return ApiError(410, "Expired", message, None, metadata)


def internal(message: str) -> ApiError:
    """500 for a failure inside the server."""
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def unsupported_media_type(accepted: list[str]) -> ApiError:
    """415 for a patch type the resource does not take."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )
