"""What a search needs to know of a `%%kfp_component`: its inputs, outputs, image, packages,
and whether the searched parameters fit its inputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput
from .space import Param, Value

#: KFP's parameter types the searched values can take.
_NUMBERS = {"Float": (float, int), "Integer": (int,), "Boolean": (bool,), "String": (str,)}


@dataclass(frozen=True)
class ComponentInfo:
    """A component as a search sees it."""

    name: str
    inputs: dict[str, str]
    required: frozenset[str]
    artifact_inputs: frozenset[str]
    outputs: dict[str, str]
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]


def describe(component: Any) -> ComponentInfo:
    """The component's inputs and container; `BadInput` when it is not a component."""
    spec = getattr(component, "component_spec", None)
    container = getattr(getattr(spec, "implementation", None), "container", None)
    if spec is None or container is None:
        raise BadInput(
            f"{component!r} is not a component: define it with %%kfp_component or @dsl.component"
        )
    inputs = dict(spec.inputs or {})
    types = {name: str(i.type) for name, i in inputs.items()}
    required = frozenset(name for name, i in inputs.items() if i.default is None and not i.optional)
    artifacts = frozenset(name for name, t in types.items() if t not in _NUMBERS)
    return ComponentInfo(
        name=spec.name,
        inputs=types,
        required=required,
        artifact_inputs=artifacts,
        outputs={name: str(o.type) for name, o in (spec.outputs or {}).items()},
        image=str(container.image or ""),
        command=tuple(container.command or ()),
        args=tuple(container.args or ()),
    )


def _fits(value: Value, kfp_type: str) -> bool:
    allowed = _NUMBERS.get(kfp_type, ())
    if isinstance(value, bool) and kfp_type != "Boolean":
        return False
    return isinstance(value, allowed)


def check_fit(
    info: ComponentInfo, space: Mapping[str, Param], fixed: Mapping[str, Any]
) -> list[str]:
    """What keeps the search from calling the component: each problem in a sentence."""
    problems = []
    for name, param in space.items():
        kfp_type = info.inputs.get(name)
        if kfp_type is None:
            known = ", ".join(info.inputs) or "none"
            problems.append(f"{info.name} has no input {name!r} (its inputs: {known})")
            continue
        if name in info.artifact_inputs:
            problems.append(f"{name} is an artifact input of {info.name}; search parameters only")
            continue
        if param.kind == "int" and kfp_type not in ("Integer", "Float"):
            problems.append(f"input {name} is of type {kfp_type}; int() gives integers")
        elif param.kind in ("uniform", "loguniform") and kfp_type != "Float":
            problems.append(f"input {name} is of type {kfp_type}; {param.kind}() gives floats")
        elif param.kind == "choice":
            wrong = [v for v in param.values if not _fits(v, kfp_type)]
            if wrong:
                problems.append(f"input {name} is of type {kfp_type}; choice() lists {wrong[0]!r}")
    for name in fixed:
        if name not in info.inputs:
            problems.append(f"{info.name} has no input {name!r} to fix")
        elif name in space:
            problems.append(f"{name} is both searched and fixed")
    missing = sorted(info.required - set(space) - set(fixed))
    if missing:
        problems.append(
            f"{info.name} needs {', '.join(missing)}: search it, or fix it with fixed={{...}}"
        )
    return problems


def require_fit(info: ComponentInfo, space: Mapping[str, Param], fixed: Mapping[str, Any]) -> None:
    problems = check_fit(info, space, fixed)
    if problems:
        raise BadInput("; ".join(problems))


def typed(info: ComponentInfo, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Values as the component's inputs take them (an int() value for a Float input is a float)."""
    return {
        name: float(value)
        if info.inputs.get(name) == "Float"
        and isinstance(value, int)
        and not isinstance(value, bool)
        else value
        for name, value in parameters.items()
    }


__all__ = ["ComponentInfo", "check_fit", "describe", "require_fit", "typed"]
