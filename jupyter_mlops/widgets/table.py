"""Kubernetes objects as results of magics: HTML tables in notebooks, aligned text elsewhere.

Each class is one result with two faces, `_repr_html_` for a notebook and `__repr__` for a
terminal IPython; every value from the cluster is escaped before it reaches HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

# A notebook keeps its outputs in the file: past this many rows the HTML says how many more
# there are, while the object still holds them all.
MAX_HTML_ROWS = 1000

HEALTH_COLOURS = {
    "ok": "var(--jp-success-color1)",
    "progress": "var(--jp-brand-color1)",
    "warning": "var(--jp-warn-color1)",
    "error": "var(--jp-error-color1)",
    "done": "var(--jp-ui-font-color2)",
}


def cell(value: Any) -> str:
    """One value as the short text a table cell shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(cell(v) for v in value)
    return str(value)


def heading(column: str) -> str:
    """A row key as kubectl prints the column's header: `up_to_date` → `UP-TO-DATE`."""
    return column.upper().replace("_", "-")


class Table:
    """Rows under column headers, e.g. the answer of `%k8s get pods`.

    `rows` are flat dicts (see `jupyter_mlops.kube.rows`); a row's `health` colours its
    status cell in HTML. `objects` are the API objects the rows were made from, if any.
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Mapping[str, Any]],
        *,
        objects: Sequence[Mapping[str, Any]] = (),
        empty: str = "No resources found.",
    ) -> None:
        self.columns = tuple(columns)
        self.rows = list(rows)
        self.objects = list(objects)
        self.empty = empty

    def __len__(self) -> int:
        return len(self.rows)

    def cells(self) -> list[list[str]]:
        """Every row as the texts of its cells, in column order."""
        return [[cell(row.get(c)) for c in self.columns] for row in self.rows]

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p>{html.escape(self.empty)}</p>"
        head = "".join(f"<th>{html.escape(heading(c))}</th>" for c in self.columns)
        body = []
        for row, texts in zip(self.rows[:MAX_HTML_ROWS], self.cells(), strict=False):
            colour = HEALTH_COLOURS.get(str(row.get("health")), "")
            tds = []
            for column, text in zip(self.columns, texts, strict=True):
                style = f' style="color:{colour}"' if column == "status" and colour else ""
                tds.append(f"<td{style}>{html.escape(text)}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        more = len(self.rows) - MAX_HTML_ROWS
        note = (
            f"<p>{more} more rows not shown here; all {len(self.rows)} are in this result's "
            "<code>.rows</code>.</p>"
            if more > 0
            else ""
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"

    def __repr__(self) -> str:
        if not self.rows:
            return self.empty
        grid = [[heading(c) for c in self.columns], *self.cells()]
        widths = [max(len(r[i]) for r in grid) for i in range(len(self.columns))]
        return "\n".join(
            "   ".join(text.ljust(w) for text, w in zip(r, widths, strict=True)).rstrip()
            for r in grid
        )


class Document:
    """An object's full text as YAML or JSON (`%k8s get … -o yaml`)."""

    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.language = language

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"

    def __repr__(self) -> str:
        return self.text


class Description:
    """The answer of `describe`: the diagnosis first, then labels, conditions, containers, events.

    `data` is the dict `jupyter_mlops.kube.describe.describe` returns.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    @property
    def diagnosis(self) -> list[str]:
        return list(self.data.get("diagnosis") or [])

    def _title(self) -> str:
        d = self.data
        where = f"{d.get('namespace')}/" if d.get("namespace") else ""
        status = cell((d.get("row") or {}).get("status")) or "-"
        return f"{d.get('kind')} {where}{d.get('name')}: {status}"

    def _fields(self) -> list[tuple[str, str]]:
        d = self.data
        fields = [
            ("Labels", cell(d.get("labels")) or "<none>"),
            ("Annotations", cell(d.get("annotations")) or "<none>"),
            ("Created", cell(d.get("created"))),
        ]
        if d.get("owners"):
            fields.append(("Controlled by", cell(d.get("owners"))))
        return fields

    def _sections(self) -> list[tuple[str, Table]]:
        d = self.data
        containers = [
            {
                **c,
                "init": "init" if c.get("init") else "",
                "last_exit": (
                    f"{c['last_termination'].get('reason')} "
                    f"(exit {c['last_termination'].get('exit_code')})"
                    if c.get("last_termination")
                    else ""
                ),
            }
            for c in d.get("containers") or []
        ]
        return [
            (
                "Conditions",
                Table(("type", "status", "reason", "message"), d.get("conditions") or []),
            ),
            (
                "Containers",
                Table(
                    ("name", "init", "image", "state", "reason", "ready", "restarts", "last_exit"),
                    containers,
                ),
            ),
            ("Events", Table(("last_seen", "type", "reason", "message"), d.get("events") or [])),
        ]

    def _repr_html_(self) -> str:
        colour = HEALTH_COLOURS.get(str((self.data.get("row") or {}).get("health")), "inherit")
        parts = [f'<p><b style="color:{colour}">{html.escape(self._title())}</b></p>']
        if self.diagnosis:
            items = "".join(f"<li>{html.escape(s)}</li>" for s in self.diagnosis)
            parts.append(
                '<div style="border-left:3px solid var(--jp-warn-color1);padding-left:8px">'
                f"<b>Diagnosis</b><ul>{items}</ul></div>"
            )
        rows = "".join(
            f"<tr><th style='text-align:left'>{name}</th><td>{html.escape(value)}</td></tr>"
            for name, value in self._fields()
        )
        parts.append(f"<table>{rows}</table>")
        for name, table in self._sections():
            if len(table):
                parts.append(f"<p><b>{name}</b></p>{table._repr_html_()}")
        return "".join(parts)

    def __repr__(self) -> str:
        lines = [self._title()]
        if self.diagnosis:
            lines.append("Diagnosis:")
            lines.extend(f"  - {sentence}" for sentence in self.diagnosis)
        lines.extend(f"{name + ':':<15}{value}" for name, value in self._fields())
        for name, table in self._sections():
            if len(table):
                lines.append(f"{name}:")
                lines.extend(f"  {line}" for line in repr(table).splitlines())
        return "\n".join(lines)


__all__ = ["MAX_HTML_ROWS", "Description", "Document", "Table", "cell", "heading"]
