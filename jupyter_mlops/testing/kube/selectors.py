"""Label and field selectors: parsed from query strings and from LabelSelector objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .status import ApiError, bad_request

Obj = dict[str, Any]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(_KEY + r"$")
_VALUE_RE = re.compile(_VALUE + r"$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a label map satisfies this clause."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; empty matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: dict[str, str] | None) -> bool:
        """Whether every requirement holds for the label map."""
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """Whether this selector selects everything."""
        return not self.requirements


def _split_top(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _check_key(key: str, raw: str) -> str:
    if not _KEY_RE.match(key):
        raise bad_request(
            f'unable to parse requirement: <nil>: Invalid value: "{key}": name part must '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            f'an alphanumeric character (in selector "{raw}")'
        )
    return key


def _check_value(value: str) -> str:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise bad_request(
            f'unable to parse requirement: values[0]: Invalid value: "{value}": a valid label '
            "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return value


_SET_RE = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\((.*)\)\s*$")


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k`; 400 on malformed input."""
    if not text or not text.strip():
        return LabelSelector()
    requirements: list[Requirement] = []
    for part in _split_top(text):
        clause = part.strip()
        if not clause:
            raise bad_request(
                f"unable to parse requirement: found '', expected: identifier in \"{text}\""
            )
        set_match = _SET_RE.match(clause)
        if set_match:
            key, op, inner = set_match.groups()
            values = tuple(_check_value(v.strip()) for v in inner.split(",") if v.strip())
            if not values:
                raise bad_request(
                    "unable to parse requirement: for 'in', 'notin' operators, "
                    "values set can't be empty"
                )
            requirements.append(Requirement(_check_key(key, text), op, tuple(sorted(values))))
            continue
        for op in ("!=", "==", "="):
            if op in clause:
                key, value = clause.split(op, 1)
                requirements.append(
                    Requirement(
                        _check_key(key.strip(), text),
                        "!=" if op == "!=" else "=",
                        (_check_value(value.strip()),),
                    )
                )
                break
        else:
            if clause.startswith("!"):
                requirements.append(Requirement(_check_key(clause[1:].strip(), text), "!"))
            elif " " in clause or "(" in clause or ")" in clause:
                raise bad_request(
                    f"unable to parse requirement: found '{clause}', "
                    "expected: in, notin, =, ==, !=, gt, lt"
                )
            else:
                requirements.append(Requirement(_check_key(clause, text), "exists"))
    return LabelSelector(tuple(requirements))


def selector_from_object(selector: Obj | None) -> LabelSelector:
    """A LabelSelector object (matchLabels + matchExpressions) as requirements."""
    if not selector:
        return LabelSelector()
    requirements = [
        Requirement(str(k), "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")))
        if op is None:
            raise bad_request(f"{expr.get('operator')!r} is not a valid label selector operator")
        requirements.append(
            Requirement(str(expr.get("key")), op, tuple(str(v) for v in expr.get("values") or ()))
        )
    return LabelSelector(tuple(requirements))


def selector_to_text(selector: Obj | None) -> str:
    """The query-string form of a LabelSelector object (used by the scale subresource)."""
    parts = [f"{k}={v}" for k, v in sorted((selector or {}).get("matchLabels", {}).items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        op = str(expr.get("operator"))
        values = ",".join(str(v) for v in expr.get("values") or ())
        if op == "In":
            parts.append(f"{expr['key']} in ({values})")
        elif op == "NotIn":
            parts.append(f"{expr['key']} notin ({values})")
        elif op == "Exists":
            parts.append(str(expr["key"]))
        else:
            parts.append(f"!{expr['key']}")
    return ",".join(parts)


# Field selectors: which fields each kind supports, and how to read them.


def _get(obj: Obj, path: str) -> str:
    node: Any = obj
    for step in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(step)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


_EXTRA_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("", "secrets"): ("type",),
    ("", "namespaces"): ("status.phase",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "persistentvolumeclaims"): ("status.phase",),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
}


def _field_value(key: tuple[str, str], obj: Obj, name: str) -> str:
    if key == ("", "events") and name == "source":
        return _get(obj, "source.component")
    if key == ("", "nodes") and name == "spec.unschedulable":
        return _get(obj, name) or "false"
    if key == ("", "pods") and name == "spec.hostNetwork":
        return _get(obj, name) or "false"
    return _get(obj, name)


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of `field=value` / `field!=value` terms."""

    key: tuple[str, str]
    terms: tuple[tuple[str, bool, str], ...] = ()  # (field, equal?, value)

    def matches(self, obj: Obj) -> bool:
        """Whether the object satisfies every term."""
        for name, equal, value in self.terms:
            if (_field_value(self.key, obj, name) == value) != equal:
                return False
        return True

    @property
    def empty(self) -> bool:
        """Whether this selector selects everything."""
        return not self.terms

    def name(self) -> str | None:
        """The object name this selector pins, if it does (`metadata.name=x`)."""
        for field_name, equal, value in self.terms:
            if field_name == "metadata.name" and equal:
                return value
        return None


def parse_field_selector(key: tuple[str, str], text: str | None) -> FieldSelector:
    """Parse `metadata.name=x,status.phase!=Running`; 400 for fields the kind lacks."""
    if not text or not text.strip():
        return FieldSelector(key)
    allowed = {"metadata.name", "metadata.namespace", *_EXTRA_FIELDS.get(key, ())}
    terms: list[tuple[str, bool, str]] = []
    for part in text.split(","):
        clause = part.strip()
        for op in ("!=", "==", "="):
            if op in clause:
                name, value = clause.split(op, 1)
                name = name.strip()
                if name not in allowed:
                    raise bad_request(f"field label not supported: {name}")
                terms.append((name, op != "!=", value.strip()))
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{clause}'")
    return FieldSelector(key, tuple(terms))


__all__ = [
    "ApiError",
    "FieldSelector",
    "LabelSelector",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_object",
    "selector_to_text",
]
