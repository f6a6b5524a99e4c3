"""Long values shown short: a list of 200 numbers is its type, length and head, expandable."""

from __future__ import annotations

import html
import json
from typing import Any

#: Items of a list or keys of a dict shown before the rest is summed up.
HEAD = 3
#: Characters of text shown whole; longer text is cut, with its length said.
MAX_TEXT = 60


def short(value: Any) -> str | None:
    """The value in a few words when it is long (`list of 200: [0, 1.47, 0.005, …]`), else None.

    Text that holds a JSON list or object, as MLflow keeps list parameters, counts as one.
    """
    if isinstance(value, str):
        parsed = _json(value) if len(value) > MAX_TEXT else None
        if parsed is not None:
            return short(parsed)
        if len(value) > MAX_TEXT:
            return f"{value[: MAX_TEXT - 1]}… ({len(value)} characters)"
        return None
    if isinstance(value, (list, tuple)) and len(json.dumps(value, default=str)) > MAX_TEXT:
        head = ", ".join(_item(v) for v in value[:HEAD])
        return f"list of {len(value)}: [{head}{', …' if len(value) > HEAD else ''}]"
    if isinstance(value, dict) and len(json.dumps(value, default=str)) > MAX_TEXT:
        keys = ", ".join(str(k) for k in list(value)[:HEAD])
        return f"dict of {len(value)} keys: {{{keys}{', …' if len(value) > HEAD else ''}}}"
    return None


def text(value: Any) -> str:
    """The value as one short line of text."""
    summary = short(value)
    if summary is not None:
        return summary
    return value if isinstance(value, str) else json.dumps(value, default=str)


def html_value(value: Any) -> str:
    """The value as escaped HTML; a long one is its summary, which opens to show it whole."""
    summary = short(value)
    whole = value if isinstance(value, str) else json.dumps(value, default=str)
    if summary is None:
        return html.escape(whole)
    return (
        f"<details><summary>{html.escape(summary)}</summary>"
        f"<pre style='white-space: pre-wrap'>{html.escape(whole)}</pre></details>"
    )


def _item(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        return "[…]" if isinstance(value, (list, tuple)) else "{…}"
    return str(value) if not isinstance(value, str) else repr(value)


def _json(value: str) -> Any:
    stripped = value.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return None
    return parsed if isinstance(parsed, (list, dict)) else None
