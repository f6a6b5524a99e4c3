"""The doctor's answer as a result of `%k8s doctor`: HTML in a notebook, text in a terminal.

Every value from the cluster is escaped before it reaches HTML.
"""

from __future__ import annotations

import html

from ..kube.doctor import DoctorReport, Finding

COLOURS = {"error": "var(--jp-error-color1)", "warning": "var(--jp-warn-color1)"}


def _where(f: Finding) -> str:
    chain = " ← ".join(f"{o.kind} {o.name}" for o in f.owners)
    return f"{f.object.kind} {f.object.name}" + (f" (in {chain})" if chain else "")


class DoctorView:
    """A `DoctorReport` with two faces; `.report` holds the findings themselves."""

    def __init__(self, report: DoctorReport, about: str = "") -> None:
        self.report = report
        self.about = about

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    def _title(self) -> str:
        what = self.about or f"namespace {self.report.namespace}"
        count = len(self.findings)
        if not count:
            return f"Nothing wrong found in {what}."
        return f"{count} finding{'s' if count != 1 else ''} in {what}:"

    def _limits(self) -> list[str]:
        return [f"{u.reason} ({u.limits})" for u in self.report.unreadable]

    def __repr__(self) -> str:
        lines = [self._title()]
        for f in self.findings:
            sure = "" if f.certainty == "certain" else " (likely)"
            lines.append(f"\n{f.severity.upper()} {_where(f)}: {f.cause}{sure}")
            lines.append(f"  {f.summary}")
            for e in f.evidence:
                when = f" [{e.time}]" if e.time else ""
                lines.append(f"  > {e.source}{when}: {e.text}")
            lines.append(f"  Fix: {f.fix}")
        if self.report.unreadable:
            lines.append("\nCould not read:")
            lines.extend(f"  - {text}" for text in self._limits())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<p><b>{esc(self._title())}</b></p>"]
        for f in self.findings:
            colour = COLOURS.get(f.severity, "inherit")
            sure = "" if f.certainty == "certain" else " <i>(likely)</i>"
            evidence = "".join(
                f"<li><code>{esc(e.source)}</code>"
                + (f" <small>{esc(e.time)}</small>" if e.time else "")
                + f": <q>{esc(e.text)}</q></li>"
                for e in f.evidence
            )
            parts.append(
                f'<div style="border-left:3px solid {colour};padding-left:8px;margin:6px 0">'
                f'<b style="color:{colour}">{esc(f.severity)}</b> '
                f"<b>{esc(_where(f))}</b>: <code>{esc(f.cause)}</code>{sure}"
                f"<p>{esc(f.summary)}</p><ul>{evidence}</ul>"
                f"<p><b>Fix:</b> <code>{esc(f.fix)}</code></p></div>"
            )
        if self.report.unreadable:
            items = "".join(f"<li>{esc(t)}</li>" for t in self._limits())
            parts.append(f"<p><b>Could not read</b></p><ul>{items}</ul>")
        return "".join(parts)
