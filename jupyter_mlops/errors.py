"""Errors of the jupyter_mlops API: typed, user-facing, mapped to HTTP statuses once."""

from __future__ import annotations

import re


class MLOpsError(Exception):
    """Base of every error the API raises on purpose; its message is safe to show a user."""

    status = 500
    reason = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict[str, str]:
        """The error envelope every route answers with."""
        return {"reason": self.reason, "message": self.message}


class BadInput(MLOpsError):
    """The request or the magic's arguments are malformed."""

    status = 400
    reason = "Bad input"


class Invalid(MLOpsError):
    """Well-formed input that the backend refuses (a name it cannot accept, a bad value)."""

    status = 422
    reason = "Invalid"


class Forbidden(MLOpsError):
    """The identity lacks a permission; says which verb on which resource."""

    status = 403
    reason = "Forbidden"

    def __init__(self, message: str, *, verb: str = "", resource: str = "") -> None:
        super().__init__(message)
        self.verb = verb
        self.resource = resource


class ReadOnly(Forbidden):
    """A write was asked for while the extension is configured read-only."""

    reason = "Read-only"


class NotFound(MLOpsError):
    """The named object does not exist."""

    status = 404
    reason = "Not found"


class Conflict(MLOpsError):
    """The object exists already or changed under the request."""

    status = 409
    reason = "Conflict"


class Unavailable(MLOpsError):
    """A backend (cluster, pipelines, tracking) cannot be reached or is not configured."""

    status = 503
    reason = "Unavailable"

    def __init__(self, backend: str, message: str) -> None:
        super().__init__(message)
        self.backend = backend


class BadConfig(MLOpsError):
    """A configuration value cannot be used; raised at start, naming the setting."""

    status = 503
    reason = "Bad configuration"


#: Longest page token passed on; the backends' own are base64 text of a few hundred characters.
MAX_PAGE_TOKEN = 4096


def check_page_token(token: str) -> str:
    """The token as given, if a backend can have given it out (printable ASCII, not too long).

    Any other would fail on the wire, and the failure would look like an outage.
    """
    if len(token) > MAX_PAGE_TOKEN or not all(" " <= c <= "~" for c in token):
        raise BadInput("the page token is not one this server gave out")
    return token


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def root_cause(exc: BaseException) -> str:
    """The plain words of a network failure, without the client library's nested reprs."""
    text = str(exc)
    found = _ERRNO.findall(text)
    return found[-1].strip() if found else text
