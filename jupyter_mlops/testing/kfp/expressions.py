"""Task parameters of a run and the conditions of ``dsl.If`` branches, as the drivers see them.

The SDK writes a branch's condition in CEL, e.g. ``int(inputs.parameter_values['pipelinechannel
--rows']) > 5`` or ``!(inputs.parameter_values['pipelinechannel--mode'] == 'train')``. The part
of CEL the SDK uses is close enough to Python's expressions to be parsed by ``ast`` once the
operators are renamed; the tree is then evaluated here, never by ``eval``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .pipeline_spec import Dag, Step

__all__ = ["Scope", "condition_holds"]

# Outputs of executors: the emulator runs no code, so a test sets the values it needs.
OutputOf = Callable[[str, str], Any]

_PARAMETER = re.compile(r"""inputs\.parameter_values\[\s*(['"])(.*?)\1\s*\]""")
_LITERAL = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
_OPERATORS = ((r"&&", " and "), (r"\|\|", " or "), (r"!(?!=)", " not "))
_WORDS = {"true": "True", "false": "False", "null": "None"}
_CASTS: dict[str, Callable[[Any], Any]] = {
    "int": lambda v: int(float(v)) if isinstance(v, str) else int(v),
    "double": float,
    "string": lambda v: v if isinstance(v, str) else json.dumps(v),
    "bool": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
}


class Scope:
    """The parameters a DAG's tasks can read: the DAG's inputs and its tasks' outputs."""

    def __init__(self, inputs: Mapping[str, Any], dag: Dag, output_of: OutputOf) -> None:
        self.inputs = dict(inputs)
        self.dag = dag
        self.output_of = output_of
        self._steps = {s.key: s for s in dag.steps}

    def value(self, source: Any) -> Any:
        """The value of one task input (``componentInputParameter``, a constant, an output)."""
        if not isinstance(source, Mapping):
            return None
        if "componentInputParameter" in source:
            return self.inputs.get(str(source["componentInputParameter"]))
        if "runtimeValue" in source:
            return (source.get("runtimeValue") or {}).get("constant")
        produced = source.get("taskOutputParameter")
        if isinstance(produced, Mapping):
            return self.output(
                str(produced.get("producerTask")), str(produced.get("outputParameterKey"))
            )
        return None

    def output(self, producer: str, key: str) -> Any:
        """An output parameter of a task of this DAG; a sub-DAG's comes from its inner task."""
        step = self._steps.get(producer)
        if step is None or step.loop is not None:
            return None
        if step.body is None:
            return self.output_of(producer, key)
        inner = step.body.outputs.get(key)
        return self.child(step).output(*inner) if inner else None

    def step_inputs(self, step: Step) -> dict[str, Any]:
        """The values of a task's inputs."""
        return {name: self.value(source) for name, source in step.inputs.items()}

    def child(self, step: Step, extra: Mapping[str, Any] | None = None) -> Scope:
        """The scope inside a sub-DAG task (with ``extra`` inputs, e.g. a loop's item)."""
        assert step.body is not None
        return Scope({**self.step_inputs(step), **(extra or {})}, step.body, self.output_of)


def condition_holds(condition: str, values: Mapping[str, Any]) -> bool:
    """Whether a ``triggerPolicy.condition`` is true for these input values.

    A condition this evaluator cannot read counts as true: the branch runs, as it would when
    the driver found it true.
    """
    try:
        return bool(_evaluate(ast.parse(_as_python(condition), mode="eval").body, values))
    except (SyntaxError, ValueError, TypeError, KeyError):
        return True


def _as_python(condition: str) -> str:
    # Parameters become lookups of their names; CEL's words and operators become Python's,
    # outside string literals only.
    text = _PARAMETER.sub(lambda m: f"_p[{json.dumps(m.group(2))}]", condition)
    parts = _LITERAL.split(text)
    for index in range(0, len(parts), 2):
        code = parts[index]
        for pattern, replacement in _OPERATORS:
            code = re.sub(pattern, replacement, code)
        parts[index] = re.sub(r"\b(true|false|null)\b", lambda m: _WORDS[m.group(1)], code)
    return "".join(parts).strip()


def _evaluate(node: ast.expr, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "_p"
    ):
        key = _evaluate(node.slice, values)
        return _loaded(values.get(str(key)))
    if isinstance(node, ast.BoolOp):
        results = [bool(_evaluate(v, values)) for v in node.values]
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _evaluate(node.operand, values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, values)
    if isinstance(node, ast.Compare):
        return _compare(node, values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CASTS:
        return _CASTS[node.func.id](*(_evaluate(a, values) for a in node.args))
    raise ValueError(f"unsupported expression {ast.dump(node)}")


def _compare(node: ast.Compare, values: Mapping[str, Any]) -> bool:
    left = _evaluate(node.left, values)
    for operator, right_node in zip(node.ops, node.comparators, strict=True):
        right = _evaluate(right_node, values)
        if not _COMPARISONS[type(operator)](left, right):
            return False
        left = right
    return True


_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: bool(a == b),
    ast.NotEq: lambda a, b: bool(a != b),
    ast.Lt: lambda a, b: bool(a < b),
    ast.LtE: lambda a, b: bool(a <= b),
    ast.Gt: lambda a, b: bool(a > b),
    ast.GtE: lambda a, b: bool(a >= b),
}


def _loaded(value: Any) -> Any:
    # Parameters reach the driver as JSON values; a float that is whole compares as an int.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
