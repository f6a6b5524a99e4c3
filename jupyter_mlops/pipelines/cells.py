"""Turn the source of a notebook cell into a KFP v2 component or pipeline, checking it first."""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import itertools
import linecache
import re
import traceback
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import BadInput
from jupyter_mlops.pipelines.models import Resources

_counter = itertools.count(1)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CPU = re.compile(r"^([0-9]+(\.[0-9]+)?|[0-9]+m)$")
_MEMORY = re.compile(r"^[0-9]+(\.[0-9]+)?(E|P|T|G|M|K|Ei|Pi|Ti|Gi|Mi|Ki)?$")
_PARAMETER_TYPES = {"int", "float", "str", "bool", "list", "dict"}
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class Field:
    """One declared input, output or pipeline parameter: `name:type[=default]`."""

    name: str
    type: str
    default: str | None = None


def register_source(source: str, label: str) -> str:
    """Keep `source` in linecache under a unique name, so that inspect.getsource finds it."""
    filename = f"<{label} #{next(_counter)}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    return filename


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets: `a:Dict[str, int],b:int`."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_fields(text: str | None, option: str, defaults: bool = False) -> list[Field]:
    """Parse `a:int,b:str=x` as given to `option`; BadInput naming the piece that is wrong."""
    fields: list[Field] = []
    for part in _split_top_level(text or ""):
        head, eq, default = part.partition("=")
        name, colon, type_text = head.partition(":")
        name, type_text = name.strip(), type_text.strip()
        if not colon or not _IDENTIFIER.match(name) or not type_text:
            raise BadInput(f"{option}: {part!r} should read name:type, e.g. x:int.")
        if eq and not defaults:
            raise BadInput(f"{option}: {part!r} cannot have a default value.")
        if any(f.name == name for f in fields):
            raise BadInput(f"{option}: {name} is declared twice.")
        fields.append(Field(name, type_text, default.strip() if eq else None))
    return fields


@functools.cache
def prelude_names() -> dict[str, Any]:
    """What a lightweight component's source sees without importing: kfp, dsl and typing."""
    import typing

    import kfp
    from kfp import dsl

    names: dict[str, Any] = {name: getattr(typing, name) for name in typing.__all__}
    names.update({name: getattr(dsl, name) for name in dsl.__all__})
    names.update(kfp=kfp, dsl=dsl)
    return names


@functools.cache
def _prelude_set() -> frozenset[str]:
    return frozenset(prelude_names())


def _evaluate_type(type_text: str, option: str, namespace: dict[str, Any]) -> Any:
    try:
        expression = ast.parse(type_text, mode="eval")
    except SyntaxError:
        raise BadInput(f"{option}: {type_text!r} is not a type.") from None
    for node in ast.walk(expression):
        if not isinstance(
            node, (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.Load)
        ):
            raise BadInput(f"{option}: {type_text!r} is not a type.")
    try:
        return eval(compile(expression, "<type>", "eval", dont_inherit=True), namespace)
    except Exception:
        raise BadInput(
            f"{option}: unknown type {type_text!r}; use int, float, str, bool, list, dict "
            "or an artifact type such as Dataset or Model."
        ) from None


def _is_artifact(annotation: Any) -> bool:
    from kfp import dsl

    return isinstance(annotation, type) and issubclass(annotation, dsl.Artifact)


def _names(nodes: Iterable[ast.AST]) -> tuple[set[str], dict[str, int], bool]:
    """In one pass: names bound anywhere, names read (first line of each), and star imports."""
    bound: set[str] = set()
    read: dict[str, int] = {}
    star = False
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    read[node.id] = min(read.get(node.id, node.lineno), node.lineno)
                else:
                    bound.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name == "*":
                        star = True
                    bound.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.arguments):
                every = [*node.posonlyargs, *node.args, *node.kwonlyargs]
                every += [a for a in (node.vararg, node.kwarg) if a is not None]
                bound.update(a.arg for a in every)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                bound.update(node.names)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                bound.add(node.rest)
    return bound, read, star


def _bound_names(nodes: Iterable[ast.AST]) -> tuple[set[str], bool]:
    """Every name the code binds anywhere, and whether it star-imports (then all bets are off)."""
    bound, _, star = _names(nodes)
    return bound, star


_BUILTINS = frozenset(dir(builtins))


def undefined_names(body: list[ast.stmt], known: Iterable[str]) -> list[tuple[str, int]]:
    """Names the code reads but never binds, imports or declares: (name, line), first use."""
    bound, read, star = _names(body)
    if star:
        return []
    bound.update(known)
    missing = [(n, line) for n, line in read.items() if n not in bound and n not in _BUILTINS]
    return sorted(missing, key=lambda item: (item[1], item[0]))


def _parse(source: str, what: str, line_offset: int = 0, shift: int = 0) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        line = (error.lineno or 1) - line_offset + shift
        text = (error.text or "").rstrip()
        if line_offset and text.startswith("    "):
            text = text[4:]
        shown = f"\n    {text}" if text else ""
        raise BadInput(
            f"Syntax error in the {what} cell, line {max(line, 1 + shift)}: {error.msg}{shown}"
        ) from None


def _report_undefined(missing: list[tuple[str, int]], name: str, line_offset: int) -> None:
    """Refuse the cell, naming each unknown name and the cell line (after `line_offset`)."""
    if not missing:
        return
    listed = ", ".join(f"{n} (line {line - line_offset})" for n, line in missing)
    raise BadInput(
        f"Component {name} uses names it does not define or import: {listed}. A component "
        "runs on its own, without the notebook's variables: import inside the cell, "
        "or pass values in as inputs."
    )


def check_resources(cpu: str | None, memory: str | None, gpu: int | None) -> Resources:
    """Resources from option text, with the message a user needs when one is malformed."""
    if cpu is not None and not _CPU.match(cpu):
        raise BadInput(f"--cpu {cpu!r}: use a number of cores like 2, 0.5 or 500m.")
    if memory is not None and not _MEMORY.match(memory):
        raise BadInput(f"--memory {memory!r}: use a size like 512M, 4G or 2Gi.")
    if gpu is not None and gpu < 0:
        raise BadInput(f"--gpu {gpu}: the number of GPUs cannot be negative.")
    return Resources(cpu=cpu, memory=memory, gpu=gpu)


#: The MLflow environment the tasks of the pipeline being made are given (see `apply_tracking`).
_TASK_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar(
    "task_environment", default=None
)


def apply_tracking(task: Any, environment: Mapping[str, str] | None = None) -> Any:
    """Give a task the notebook's MLflow server and workspace, so what it logs lands where the
    notebook looks: `environment`, else that of the pipeline cell being made, else the
    notebook's own (`task_environment`). Never a credential: specs are shared and stored.
    """
    if environment is None:
        environment = _TASK_ENVIRONMENT.get()
    if environment is None:
        environment = task_environment()
    for name, value in environment.items():
        task.set_env_variable(name, value)
    return task


def task_environment(*, cluster: bool = True) -> dict[str, str]:
    """What a task needs to log to this notebook's MLflow store (`MLFLOW_TRACKING_URI`,
    `MLFLOW_WORKSPACE`; a cluster task only a server's): in a kernel, from the settings of its
    connection, so a URI set with `%config` counts; elsewhere, from the resolved settings."""
    shell = _running_shell()
    if shell is not None:
        from jupyter_mlops.magics.connected import connection

        return connection(shell).tracking().task_environment(cluster=cluster)
    from jupyter_mlops.tracking import Tracking

    return Tracking.connect().task_environment(cluster=cluster)


@contextlib.contextmanager
def _local_environment(component: Any, values: Mapping[str, str]) -> Iterator[None]:
    """The component's container environment with `values` added (its own kept) while it is
    called in the notebook: kfp.local hands that environment to the task's process."""
    container = component.component_spec.implementation.container
    own = container.env
    container.env = {**values, **(own or {})}
    try:
        yield
    finally:
        container.env = own


def _running_shell() -> Any:
    """The IPython shell this code runs in, if any; IPython is not imported for it."""
    import sys

    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def apply_resources(task: Any, resources: Resources) -> Any:
    """Set a pipeline task's limits: KFP sets them per task, not per component."""
    if resources.cpu is not None:
        task.set_cpu_limit(resources.cpu)
    if resources.memory is not None:
        task.set_memory_limit(resources.memory)
    if resources.gpu:
        task.set_accelerator_type(GPU_RESOURCE)
        task.set_accelerator_limit(resources.gpu)
    return task


def start_local_session(root: str | Path | None = None) -> None:
    """Initialise kfp.local once, unless the user already has, so components run when called."""
    from kfp import local
    from kfp.local import config

    if config.LocalExecutionConfig.instance is None:
        base = Path(root) if root is not None else Path.cwd() / ".mlops" / "pipelines"
        local.init(
            runner=local.SubprocessRunner(use_venv=False),
            pipeline_root=str(base / "component-outputs"),
        )


@functools.cache
def _notebook_component_class() -> type:
    from kfp.dsl import pipeline_context, python_component

    class NotebookComponent(python_component.PythonComponent):  # type: ignore[misc]
        """A component from a cell: runs at once when called, limits applied in pipelines."""

        resources: Resources = Resources()
        local_root: str | None = None

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if pipeline_context.Pipeline.get_default_pipeline() is None:
                start_local_session(self.local_root)
                with _local_environment(self, task_environment(cluster=False)):
                    return super().__call__(*args, **kwargs)
            task = super().__call__(*args, **kwargs)
            apply_resources(task, self.resources)
            apply_tracking(task)
            return task

    return NotebookComponent


def _make_component(
    func: Any,
    base_image: str | None,
    packages: list[str],
    resources: Resources,
    output_yaml: str | None,
    local_root: str | None,
) -> Any:
    from kfp import dsl

    try:
        component = dsl.component(
            func,
            base_image=base_image or "python:3.11",
            packages_to_install=packages or None,
        )
    except (TypeError, ValueError) as error:
        raise BadInput(f"KFP cannot make a component of {func.__name__}: {error}") from None
    component.__class__ = _notebook_component_class()
    component.resources = resources
    component.local_root = local_root
    if output_yaml:
        from jupyter_mlops.pipelines.backend import write_compiled

        write_compiled(component, output_yaml)
    return component


def component_from_cell(
    cell: str,
    *,
    namespace: MutableMapping[str, Any],
    name: str | None = None,
    inputs: str | None = None,
    outputs: str | None = None,
    base_image: str | None = None,
    packages: list[str] | None = None,
    resources: Resources | None = None,
    output_yaml: str | None = None,
    local_root: str | None = None,
    first_line: int = 1,
) -> Any:
    """Make a component of a cell and bind it in `namespace` under its name.

    The cell is either one function (imports beside it only feed its annotations) or, with
    `inputs`/`outputs` (`x:int,y:str`), plain statements that become the function's body.
    Names the code reads but neither binds nor imports are refused before anything runs.
    Errors give line numbers counting the cell's first line as `first_line`.
    """
    if name is not None and not _IDENTIFIER.match(name):
        raise BadInput(f"{name!r} cannot name a component: use a Python identifier.")
    prelude = prelude_names()
    shift = first_line - 1
    tree = _parse(cell, "component", 0, shift) if inputs is None and outputs is None else None
    functions = [] if tree is None else [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    rest = [] if tree is None else [n for n in tree.body if not isinstance(n, ast.FunctionDef)]
    one_function = len(functions) == 1 and all(
        isinstance(n, (ast.Import, ast.ImportFrom)) for n in rest
    )
    if one_function:
        func_node = functions[0]
        label = f"kfp_component {func_node.name}"
        source, line_offset = cell, 0
        args = func_node.args
        parameters = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        parameters += [a for a in (args.vararg, args.kwarg) if a is not None]
        known = {func_node.name, *(a.arg for a in parameters)} | _prelude_set()
        # Only the body is checked: annotations and defaults are evaluated in the notebook.
        _report_undefined(undefined_names(func_node.body, known), func_node.name, -shift)
    else:
        if name is None:
            raise BadInput(
                "Name the component: %%kfp_component NAME --inputs x:int --outputs y:float "
                "(or make the cell one function)."
            )
        source, line_offset = _function_source(cell, name, inputs, outputs, prelude)
        label = f"kfp_component {name}"
        tree = _parse(source, "component", line_offset, shift)
        func_node = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
        in_fields = parse_fields(inputs, "--inputs")
        out_fields = parse_fields(outputs, "--outputs")
        known = {name, *(f.name for f in in_fields + out_fields)} | _prelude_set()
        body = func_node.body[: len(func_node.body) - (1 if _returns(out_fields, prelude) else 0)]
        unknown = undefined_names(body, known - _returned(out_fields, prelude))
        _report_undefined(unknown, name, line_offset - shift)
        assigned, _ = _bound_names(body)
        unassigned = [f.name for f in out_fields if f.name in _returned(out_fields, prelude)]
        unassigned = [n for n in unassigned if n not in assigned]
        if unassigned:
            raise BadInput(
                f"Component {name}: the cell never assigns output(s) {', '.join(unassigned)}."
            )
    filename = register_source(source, label)
    scope: dict[str, Any] = dict(prelude)
    scope.update(namespace)
    defined: dict[str, Any] = {}
    assert tree is not None
    # Compiled from the tree already parsed for the checks: the cell is parsed once.
    exec(compile(tree, filename, "exec", dont_inherit=True), scope, defined)
    func = defined[func_node.name]
    component = _make_component(
        func, base_image, list(packages or []), resources or Resources(), output_yaml, local_root
    )
    namespace[name or func_node.name] = component
    return component


def _returned(fields: list[Field], prelude: dict[str, Any]) -> set[str]:
    return {
        f.name for f in fields if not _is_artifact(_evaluate_type(f.type, "--outputs", prelude))
    }


def _returns(fields: list[Field], prelude: dict[str, Any]) -> bool:
    return bool(_returned(fields, prelude))


def _function_source(
    cell: str, name: str, inputs: str | None, outputs: str | None, prelude: dict[str, Any]
) -> tuple[str, int]:
    """A function around the cell's statements: inputs are parameters, outputs returned."""
    params: list[str] = []
    for field in parse_fields(inputs, "--inputs"):
        annotation = _evaluate_type(field.type, "--inputs", prelude)
        type_text = f"Input[{field.type}]" if _is_artifact(annotation) else field.type
        params.append(f"{field.name}: {type_text}")
    returned: list[Field] = []
    for field in parse_fields(outputs, "--outputs"):
        annotation = _evaluate_type(field.type, "--outputs", prelude)
        if _is_artifact(annotation):
            params.append(f"{field.name}: Output[{field.type}]")
        else:
            returned.append(field)
    if not returned:
        result, final = "None", ""
    elif len(returned) == 1:
        result, final = returned[0].type, f"return {returned[0].name}"
    else:
        pairs = ", ".join(f"({f.name!r}, {f.type})" for f in returned)
        result = f"NamedTuple('Outputs', [{pairs}])"
        final = f"return {result}({', '.join(f.name for f in returned)})"
    lines = [f"def {name}({', '.join(params)}) -> {result}:"]
    body = [f"    {line}" if line.strip() else "" for line in cell.splitlines()]
    if not any(line.strip() for line in body):
        body = ["    pass"]
    lines += body
    if final:
        lines.append(f"    {final}")
    return "\n".join(lines) + "\n", 1


def _default_literal(field: Field) -> str:
    assert field.default is not None
    try:
        value = ast.literal_eval(field.default)
    except (ValueError, SyntaxError):
        if field.type != "str":
            raise BadInput(
                f"--params: default {field.default!r} of {field.name} is not a {field.type}."
            ) from None
        value = field.default
    return repr(value)


def pipeline_from_cell(
    cell: str,
    name: str,
    *,
    namespace: MutableMapping[str, Any],
    params: str | None = None,
    outputs: str | None = None,
    description: str | None = None,
    first_line: int = 1,
    environment: Mapping[str, str] | None = None,
) -> Any:
    """Make a pipeline whose body is the cell and bind it in `namespace` under `name`.

    The cell calls components as a `@dsl.pipeline` function body does; `params`
    (`a:int=1,b:str`) are the pipeline's parameters, usable as variables in the cell, and
    `outputs` (`z:float`) are what the cell's `return` gives back. Each task is given
    `environment` (default: `task_environment()`, read once for the whole pipeline). Errors
    give line numbers counting the cell's first line as `first_line`.
    """
    from kfp import dsl

    if not _IDENTIFIER.match(name):
        raise BadInput(f"{name!r} cannot name a pipeline: use a Python identifier.")
    prelude = prelude_names()
    declared = []
    fields = parse_fields(params, "--params", defaults=True)
    # Python wants parameters with defaults last; KFP passes them by name in any order.
    fields.sort(key=lambda f: f.default is not None)
    for field in fields:
        _evaluate_type(field.type, "--params", prelude)
        default = f" = {_default_literal(field)}" if field.default is not None else ""
        declared.append(f"{field.name}: {field.type}{default}")
    out_fields = parse_fields(outputs, "--outputs")
    for field in out_fields:
        _evaluate_type(field.type, "--outputs", prelude)
    if not out_fields:
        result = "None"
    elif len(out_fields) == 1:
        result = out_fields[0].type
    else:
        pairs = ", ".join(f"({f.name!r}, {f.type})" for f in out_fields)
        result = f"NamedTuple('Outputs', [{pairs}])"
    signature = ", ".join(declared)
    body = [f"    {line}" if line.strip() else "" for line in cell.splitlines()]
    if not any(line.strip() for line in body):
        raise BadInput(f"Pipeline {name}: the cell is empty; call components in it.")
    source = "\n".join([f"def {name}({signature}) -> {result}:", *body]) + "\n"
    tree = _parse(source, "pipeline", 1, first_line - 1)
    filename = register_source(source, f"kfp_pipeline {name}")
    scope: dict[str, Any] = dict(prelude)
    scope.update(namespace)
    defined: dict[str, Any] = {}
    exec(compile(tree, filename, "exec", dont_inherit=True), scope, defined)
    reset = _TASK_ENVIRONMENT.set(task_environment() if environment is None else environment)
    try:
        pipeline = dsl.pipeline(defined[name], name=name.replace("_", "-"), description=description)
    except Exception as error:
        raise BadInput(_pipeline_error(name, error, filename, first_line - 1)) from None
    finally:
        _TASK_ENVIRONMENT.reset(reset)
    namespace[name] = pipeline
    return pipeline


def _pipeline_error(name: str, error: Exception, filename: str, shift: int) -> str:
    """The error raised while wiring the pipeline, pointing at the cell line that caused it."""
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    where = f" (cell line {lines[-1] - 1 + shift})" if lines and lines[-1] else ""
    return f"Pipeline {name}{where}: {type(error).__name__}: {error}"


__all__ = [
    "Field",
    "apply_resources",
    "apply_tracking",
    "check_resources",
    "component_from_cell",
    "parse_fields",
    "pipeline_from_cell",
    "prelude_names",
    "register_source",
    "start_local_session",
    "task_environment",
    "undefined_names",
]
