"""Kubernetes quantities (`500m`, `1.5Gi`, `2e3`) as numbers, and back as kubectl prints them."""

from __future__ import annotations

import re

from ..errors import BadInput

_SUFFIXES = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(?:([eE][+-]?[0-9]+)|([a-zA-Z]*))")
_BINARY = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


def parse_quantity(text: object) -> float:
    """The number a quantity stands for: cores for CPU, bytes for memory; `BadInput` if it is
    not a quantity."""
    raw = str(text).strip()
    match = _QUANTITY.fullmatch(raw)
    if not match or (match.group(3) or "") not in _SUFFIXES:
        raise BadInput(f"{raw!r} is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)")
    number = float(match.group(1))
    if match.group(2):
        return float(f"{number}{match.group(2)}")
    return number * _SUFFIXES[match.group(3) or ""]


def cores(value: float) -> str:
    """CPU as kubectl top prints it: whole millicores (`250m`), or cores when whole (`2`)."""
    millis = round(value * 1000)
    if millis and millis % 1000 == 0:
        return str(millis // 1000)
    return f"{millis}m"


def mebibytes(value: float) -> str:
    """Memory as kubectl top prints it: whole mebibytes (`128Mi`)."""
    return f"{round(value / 2**20)}Mi"


def amount(resource: str, value: float) -> str:
    """A quantity of `resource` in the shortest exact binary unit for bytes, cores for CPU."""
    if resource in ("cpu", "requests.cpu", "limits.cpu"):
        return cores(value)
    if "memory" in resource or "storage" in resource:
        for suffix, size in _BINARY:
            if value >= size and value % size == 0:
                return f"{int(value // size)}{suffix}"
        return str(int(value))
    return f"{value:g}"


__all__ = ["amount", "cores", "mebibytes", "parse_quantity"]
