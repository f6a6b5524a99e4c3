"""Names as Kubernetes validates them, checked before any of them goes into a request."""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadInput

# RFC 1123 label (namespaces, containers), RFC 1035 label (services), RFC 1123 subdomain.
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_MAX = 63
SUBDOMAIN_MAX = 253
# Kinds whose object names are labels, not subdomains, as the API server validates them.
_LABEL_NAMED = {"namespaces": _LABEL, "services": _LABEL_1035}


def _shown(value: str) -> str:
    """The value as an error quotes it: short, and with control characters escaped."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{what} must be a string, not {type(value).__name__}")
    if not value:
        raise BadInput(f"{what} is empty")
    return value


def check_namespace(value: Any) -> str:
    """A namespace name (an RFC 1123 label); `BadInput` saying why not otherwise."""
    return _label(value, "a namespace", "a namespace name", _LABEL)


def check_name(value: Any, plural: str = "") -> str:
    """An object name of the kind `plural` (a subdomain for most kinds, a label for some)."""
    label = _LABEL_NAMED.get(plural)
    if label is not None:
        return _label(value, "an object name", f"an object name ({plural} take labels)", label)
    text = _text(value, "an object name")
    if len(text) > SUBDOMAIN_MAX or not _SUBDOMAIN.fullmatch(text):
        raise BadInput(
            f"{_shown(text)} is not an object name: at most {SUBDOMAIN_MAX} lower-case letters, "
            "digits, '-' and '.', starting and ending with a letter or digit"
        )
    return text


def check_container(value: Any) -> str:
    """A container name (an RFC 1123 label)."""
    return _label(value, "a container name", "a container name", _LABEL)


def _label(value: Any, what: str, noun: str, pattern: re.Pattern[str]) -> str:
    text = _text(value, what)
    if len(text) > LABEL_MAX or not pattern.fullmatch(text):
        raise BadInput(
            f"{_shown(text)} is not {noun}: at most {LABEL_MAX} lower-case letters, digits "
            "and '-', starting and ending with a letter or digit"
        )
    return text


__all__ = ["check_container", "check_name", "check_namespace"]
