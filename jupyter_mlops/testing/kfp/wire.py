"""Wire shapes of the KFP API server: grpc status codes, error bodies and proto3 JSON output."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = [
    "EPOCH",
    "ApiError",
    "GrpcCode",
    "already_exists",
    "failed_precondition",
    "invalid_input",
    "message",
    "not_found",
    "timestamp",
]

EPOCH = "1970-01-01T00:00:00Z"


class GrpcCode:
    """The grpc status codes the server answers with, and their HTTP statuses (grpc-gateway)."""

    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    UNAUTHENTICATED = 16

    HTTP_STATUS = {
        CANCELLED: 499,
        UNKNOWN: 500,
        INVALID_ARGUMENT: 400,
        DEADLINE_EXCEEDED: 504,
        NOT_FOUND: 404,
        ALREADY_EXISTS: 409,
        PERMISSION_DENIED: 403,
        RESOURCE_EXHAUSTED: 429,
        FAILED_PRECONDITION: 400,
        ABORTED: 409,
        UNIMPLEMENTED: 501,
        INTERNAL: 500,
        UNAVAILABLE: 503,
        UNAUTHENTICATED: 401,
    }

    @classmethod
    def for_http_status(cls, status: int) -> int:
        """The grpc code the gateway would have mapped to ``status`` (first match wins)."""
        for code, http in cls.HTTP_STATUS.items():
            if http == status:
                return code
        return cls.UNKNOWN


class ApiError(Exception):
    """An error the server answers with: a grpc code, the wrapped message and the user message.

    ``message`` is what the real server puts in ``message`` (the wrapped internal chain);
    ``user_message`` goes into the ``api.Error`` detail, as the real server does.
    """

    def __init__(self, code: int, message: str, user_message: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.user_message = user_message if user_message is not None else message

    @property
    def http_status(self) -> int:
        """The HTTP status grpc-gateway maps this code to."""
        return GrpcCode.HTTP_STATUS.get(self.code, 500)

    def wrap(self, context: str) -> ApiError:
        """The same error with ``context`` prefixed, as the server's ``util.Wrap`` does."""
        return ApiError(self.code, f"{context}: {self.message}", self.user_message)

    def body(self) -> dict[str, Any]:
        """The JSON error body: grpc-gateway's ``error``/``code``/``message``/``details``."""
        return {
            "error": self.message,
            "code": self.code,
            "message": self.message,
            "details": [
                {
                    "@type": "type.googleapis.com/api.Error",
                    "error_message": self.user_message,
                    "error_details": self.message,
                }
            ],
        }


def invalid_input(text: str) -> ApiError:
    """InvalidArgument (HTTP 400) with the server's ``Invalid input error:`` prefix."""
    return ApiError(GrpcCode.INVALID_ARGUMENT, f"Invalid input error: {text}", text)


def not_found(kind: str, name: str) -> ApiError:
    """NotFound (HTTP 404) for one resource, worded as the server's ResourceNotFoundError."""
    text = f"{kind} {name} not found."
    return ApiError(GrpcCode.NOT_FOUND, f"ResourceNotFoundError: {text}", text)


def already_exists(text: str) -> ApiError:
    """AlreadyExists (HTTP 409)."""
    return ApiError(GrpcCode.ALREADY_EXISTS, f"Already exist error: {text}", text)


def failed_precondition(text: str) -> ApiError:
    """FailedPrecondition (HTTP 400)."""
    return ApiError(GrpcCode.FAILED_PRECONDITION, f"FailedPreconditionError: {text}", text)


def timestamp(seconds: float | None) -> str:
    """A proto Timestamp as JSON, second precision; unset times are the epoch, as the server."""
    if not seconds:
        return EPOCH
    moment = dt.datetime.fromtimestamp(int(seconds), tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def message(**fields: Any) -> dict[str, Any]:
    """A proto message as the server's JSON marshaler writes it: unpopulated fields left out.

    The server marshals with ``EmitUnpopulated: false``, so empty strings, zeros, false, empty
    lists and maps, and unset messages do not appear at all (an empty list answers ``{}``).
    """
    return {key: value for key, value in fields.items() if value not in (None, "", 0, [], {})}
