"""Bounds on what a browser may send: JSON bodies and messages, checked before any use."""

from __future__ import annotations

import json
from typing import Any

from ..errors import BadInput

MAX_BODY = 64 * 1024
MAX_DEPTH = 16


def parse_json(raw: bytes | str, what: str = "the body") -> Any:
    """`raw` decoded, at most `MAX_BODY` bytes and `MAX_DEPTH` levels deep; `BadInput` else."""
    if len(raw) > MAX_BODY:
        raise BadInput(f"{what} is larger than {MAX_BODY // 1024} KiB")
    if _depth(raw) > MAX_DEPTH:
        raise BadInput(f"{what} is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise BadInput(f"{what} is not JSON") from None


def _depth(raw: bytes | str) -> int:
    """How deep brackets nest, strings skipped: checked before the parser can recurse."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest
