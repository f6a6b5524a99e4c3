"""`%%kfp_component`, `%%kfp_pipeline` and `%kfp`: Kubeflow Pipelines from notebook cells."""

from __future__ import annotations

import argparse
import functools
import html
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import (
    MagicArgumentParser,
    argument,
    magic_arguments,
)
from traitlets import Float, Instance, Unicode

from ..config import Settings
from ..errors import MLOpsError
from ..lineage import share_tracking
from ..pipelines.backend import DEFAULT_EXPERIMENT, PipelineBackend, write_compiled
from ..pipelines.local import LocalPipelines
from ..pipelines.models import ListRunsQuery, Run, RunPage, RunStatus, Task

if TYPE_CHECKING:
    from ..kube.doctor import DoctorReport
    from ..tracking import Tracking
    from ..widgets.run_monitor import TaskDoctor

F = TypeVar("F", bound=Callable[..., Any])
# The notebook numbers the %%magic line 1, so the cell's code starts on line 2.
CELL_FIRST_LINE = 2

CLUSTER_HOWTO = (
    "No Kubeflow Pipelines cluster is configured for this notebook. In a Kubeflow notebook "
    "server, tick 'Allow access to Kubeflow Pipelines' (the PodDefault access-ml-pipeline) "
    "when creating it; elsewhere set KF_PIPELINES_ENDPOINT to the KFP API URL (or "
    "%config MLOpsConfig.kfp_endpoint = 'https://...') with a token "
    "(MLOpsConfig.kfp_token or KF_PIPELINES_SA_TOKEN_PATH), then restart the kernel. "
    "Meanwhile `%kfp run NAME --local` runs it here."
)


def _user_errors(method: F) -> F:
    """API errors are the user's to fix: show their message, not a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except MLOpsError as error:
            raise UsageError(error.message) from None

    return wrapper  # type: ignore[return-value]


class RunTable:
    """A page of runs: an HTML table in notebooks, aligned text elsewhere."""

    columns = ("id", "name", "experiment", "status", "tasks", "created", "duration")

    def __init__(self, page: RunPage) -> None:
        self.page = page

    def rows(self) -> list[tuple[str, ...]]:
        """Each run as the cells of one row."""
        result: list[tuple[str, ...]] = []
        for run in self.page.runs:
            duration = run.duration
            result.append(
                (
                    run.id,
                    run.name,
                    run.experiment,
                    run.status.value,
                    f"{run.tasks_done}/{run.tasks_total}",
                    run.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                    "" if duration is None else f"{duration.total_seconds():.1f} s",
                )
            )
        return result

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows()
        )
        more = (
            f"<p>{len(self.page.runs)} of {self.page.total_size} runs.</p>"
            if self.page.next_page_token
            else ""
        )
        return f"<table><tr>{head}</tr>{body}</table>{more}"

    def __repr__(self) -> str:
        rows = [self.columns, *self.rows()]
        if len(rows) == 1:
            return "No runs."
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.columns))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        if self.page.next_page_token:
            lines.append(f"{len(self.page.runs)} of {self.page.total_size} runs.")
        return "\n".join(lines)


def _kfp_parser() -> MagicArgumentParser:
    parser = MagicArgumentParser(
        prog="kfp",  # the help adds the %
        description="Compile, run and inspect Kubeflow Pipelines (local runs or the cluster).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    compile_ = commands.add_parser("compile", help="Compile a pipeline to KFP v2 YAML.")
    compile_.add_argument("name", help="A pipeline defined with %%%%kfp_pipeline or @dsl.pipeline.")
    compile_.add_argument("-o", "--output", required=True, help="Path of the YAML file.")

    run = commands.add_parser("run", help="Run a pipeline and show a live monitor.")
    run.add_argument("name", help="A pipeline in the notebook, or a compiled YAML file.")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="Run here through kfp.local (default).")
    where.add_argument("--cluster", action="store_true", help="Run on the configured KFP cluster.")
    run.add_argument("--experiment", default=None, help="Experiment to run in (default: Default).")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help="A pipeline argument; repeat for more.",
    )
    run.add_argument("--run-name", default=None, help="Display name of the run.")
    run.add_argument("--wait", action="store_true", help="Block until the run ends; return it.")

    runs = commands.add_parser("runs", help="List runs, newest first.")
    runs.add_argument("--experiment", default=None, help="Only runs of this experiment.")
    runs.add_argument(
        "--status", default=None, type=str.upper, help="Only runs in this state, e.g. FAILED."
    )
    runs.add_argument("--limit", type=int, default=20, help="How many runs to show (at most 200).")
    runs.add_argument("--cluster", action="store_true", help="List the cluster's runs.")

    logs = commands.add_parser("logs", help="Print a run's log, or one task's.")
    terminate = commands.add_parser("terminate", help="Stop a run that goes on.")
    retry = commands.add_parser("retry", help="Run an ended run again with the same arguments.")
    for command in (logs, terminate, retry):
        command.add_argument(
            "run", help="Run id: a local run's (or its first characters), or a cluster run's UUID."
        )
        where = command.add_mutually_exclusive_group()
        where.add_argument(
            "--cluster",
            dest="source",
            action="store_const",
            const="cluster",
            help="The run is on the cluster (default: told by the id's shape).",
        )
        where.add_argument(
            "--local", dest="source", action="store_const", const="local", help="The run is local."
        )
    logs.add_argument("task", nargs="?", default=None, help="Task name or id.")
    logs.add_argument("--tail", type=int, default=None, help="Only the last N lines.")
    retry.add_argument("--wait", action="store_true", help="Block until the run ends; return it.")

    commands.add_parser("experiments", help="List experiments.")
    return parser


_KFP_PARSER = _kfp_parser()


def _kfp_help() -> str:
    parts = [_KFP_PARSER.format_help()]
    for action in _KFP_PARSER._subparsers._group_actions if _KFP_PARSER._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                parts.append(sub.format_help())
    return "\n".join(parts)


def _parse(parser: MagicArgumentParser, line: str) -> argparse.Namespace:
    """Split the line as a shell does, so that quotes group words and are then dropped."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise UsageError(f"Cannot read the arguments: {error}.") from None
    return parser.parse_args(words)


def _split_params(items: list[str]) -> dict[str, str]:
    arguments: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--param {item!r}: write it as name=value.")
        arguments[key.strip()] = value
    return arguments


@magics_class
class KfpMagics(Magics):
    """Kubeflow Pipelines v2 from notebook cells: components, pipelines, runs."""

    pipelines_dir = Unicode(
        "",
        help="Folder of the local run history. Default: .mlops/pipelines in the workspace.",
    ).tag(config=True)
    default_experiment = Unicode(
        DEFAULT_EXPERIMENT, help="Experiment of runs started without --experiment."
    ).tag(config=True)
    monitor_interval = Float(
        0.5, help="Seconds between two looks at a running run by the run monitor."
    ).tag(config=True)
    cluster = Instance(
        "jupyter_mlops.pipelines.backend.PipelineBackend",
        allow_none=True,
        help="The cluster pipelines backend, once one is configured; None runs locally only.",
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._local: LocalPipelines | None = None

    # -- backends --------------------------------------------------------------------------

    @property
    def local(self) -> LocalPipelines:
        """The local backend: the kernel connection's (the workspace's .mlops/pipelines), or
        one rooted in `pipelines_dir` when that is configured."""
        settings = self._settings()
        if settings is not None and not self.pipelines_dir:
            from .connected import connection

            return connection(self.shell).local_pipelines()
        if self._local is None:
            self._local = LocalPipelines(self._root())
        # `%config MLOpsConfig.read_only` applies from the next command on.
        self._local.read_only = settings is not None and settings.read_only
        return self._local

    def _settings(self) -> Settings | None:
        """The kernel's settings as `%config` has them now; None while they are refused."""
        from ..config import configure, resolve

        try:
            return resolve(configure(parent=self.shell))
        except MLOpsError:
            return None

    def _root(self) -> Path:
        if self.pipelines_dir:
            return Path(self.pipelines_dir)
        settings = self._settings()
        if settings is None:
            return Path.cwd() / ".mlops" / "pipelines"
        from ..pipelines.sources import pipelines_root

        return pipelines_root(settings)

    def _configured_cluster(self) -> PipelineBackend | None:
        """The cluster backend: set explicitly, else the kernel's connection's Kubeflow
        Pipelines (None when no endpoint is configured)."""
        if self.cluster is not None:
            given: PipelineBackend = self.cluster
            return given
        settings = self._settings()
        if settings is None or settings.pipelines != "cluster":
            return None
        from .connected import connection

        return connection(self.shell).cluster_pipelines()

    def _cluster(self, pipeline: Any, name: str) -> PipelineBackend:
        backend = self._configured_cluster()
        if backend is not None:
            return backend
        from ..pipelines.backend import compile_pipeline
        from ..pipelines.sources import UNSENT, keep_unsent

        saved = keep_unsent(self.local.root / UNSENT, name, compile_pipeline(pipeline))
        raise UsageError(f"{CLUSTER_HOWTO}\nThe compiled pipeline is saved in {saved}.")

    def _task_doctor(self, backend: PipelineBackend) -> TaskDoctor | None:
        """What tells why a failed task of a cluster run failed: the doctor on the task's pod,
        read through the kernel's connection; None when no cluster is configured."""
        from .connected import connection

        settings = self._settings()
        if settings is None or settings.cluster == "none":
            return None
        namespace = getattr(backend, "namespace", None) or settings.namespace or None

        def examine(run: Run, task: Task) -> DoctorReport:
            from ..kube.doctor import examine_run_task

            # The connection of the settings now: `%config` may have changed them since.
            return examine_run_task(connection(self.shell).cluster(), run, task, namespace)

        return examine

    def _warn_fit(self, pipeline: Any, backend: PipelineBackend) -> None:
        """Say, without stopping the submit, which components' pods the namespace's quota or
        LimitRange would refuse or no node could hold; nothing without a cluster."""
        from ..kube.doctor import examine_pipeline
        from ..pipelines.local import load_spec
        from .connected import connection

        settings = self._settings()
        if settings is None or settings.cluster == "none":
            return
        namespace = getattr(backend, "namespace", None) or settings.namespace or None
        try:
            cache = connection(self.shell).watch_cache()
            spec = load_spec(pipeline)
            report = examine_pipeline(cache, spec, spec.pipeline_info.name, namespace)
        except MLOpsError as exc:
            print(f"Warning: could not check the components' resources: {exc.message}")
            return
        for finding in report.findings:
            print(f"Warning: {finding.summary}")
        for unread in report.unreadable:
            print(f"Warning: {unread.limits}: {unread.reason}")

    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's variables, where components and pipelines are bound."""
        if self.shell is None:
            raise UsageError("These magics need an IPython shell.")
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _find(self, name: str, what: str = "pipeline") -> Any:
        namespace = self.user_ns
        if name in namespace:
            return namespace[name]
        path = Path(name)
        if what == "pipeline" and path.suffix in (".yaml", ".yml") and path.is_file():
            return path
        raise UsageError(
            f"No {what} named {name!r} in the notebook: define it with %%kfp_{what} {name}."
        )

    def _has_frontend(self) -> bool:
        """Widgets show only where a kernel talks to a notebook frontend."""
        return getattr(self.shell, "kernel", None) is not None

    def _show(
        self, backend: PipelineBackend, run: Run, wait: bool, doctor: TaskDoctor | None = None
    ) -> Run | None:
        from ..widgets.run_monitor import RunMonitor, summary_line, text_progress

        if not self._has_frontend():
            print(f"Run {run.id} ({run.name}) started on the {backend.kind} backend.")
            if wait:
                final = text_progress(backend, run, print, doctor)
                print(self._record(final))
                return final
            print(f"Follow it with %kfp runs, %kfp logs {run.id}.")
            return None
        from IPython.display import display

        monitor = RunMonitor(backend, run, doctor)
        display(monitor)
        # Without --wait nobody reads a message: the run is recorded quietly when it ends.
        monitor.follow(self.monitor_interval, on_end=None if wait else self._record_quietly)
        if not wait:
            return None
        final = backend.wait(run.id)
        # The following thread shows the end itself, with the doctor's word on failed tasks.
        monitor.wait()
        print(summary_line(final))
        print(self._record(final))
        return final

    def _record(self, run: Run) -> str:
        """Record a finished run and its tasks in MLflow; say where, or why not."""
        from ..lineage import record_run

        try:
            mlflow_run = record_run(run, self._tracking())
        except MLOpsError as exc:
            return f"MLflow: not recorded ({exc.message})"
        if run.mlflow is not None:
            where = run.mlflow.experiment_name or run.mlflow.experiment_id
            return f"MLflow: run {mlflow_run} in experiment {where} (the Pipelines server's link)"
        return f"MLflow: run {mlflow_run} in experiment kfp/{run.experiment}"

    def _record_quietly(self, run: Run) -> None:
        self._record(run)

    def _tracking(self) -> Tracking:
        from .connected import connection

        return connection(self.shell).tracking()

    # -- magics ----------------------------------------------------------------------------

    @magic_arguments()
    @argument("name", nargs="?", default=None, help="Name to bind (default: the function's).")
    @argument("--base-image", default=None, help="Container image (default python:3.11).")
    @argument("--packages", default=None, help="Comma-separated pip packages to install.")
    @argument("--cpu", default=None, help="CPU limit of its tasks, e.g. 2 or 500m.")
    @argument("--memory", default=None, help="Memory limit of its tasks, e.g. 4G.")
    @argument("--gpu", type=int, default=None, help="GPUs for its tasks.")
    @argument("--output-yaml", default=None, help="Also write the component's YAML here.")
    @argument(
        "--inputs",
        default=None,
        help="For a cell of statements: its inputs, e.g. x:int,data:Dataset.",
    )
    @argument(
        "--outputs",
        default=None,
        help="For a cell of statements: what it produces, e.g. score:float,model:Model.",
    )
    @cell_magic
    @_user_errors
    def kfp_component(self, line: str, cell: str) -> None:
        """Make the cell a Kubeflow Pipelines v2 component and bind it in the notebook.

        The cell is one function with typed parameters and return (KFP artifact types such
        as Input[Dataset] or Output[Model] included), or plain statements with --inputs and
        --outputs: then the statements are the body, inputs are variables, and outputs are
        variables the cell assigns (artifact outputs such as model:Model are objects with a
        .path). A component runs on its own, so it may use only what it imports: names taken
        from the notebook are reported before anything runs. Calling the component in the
        notebook runs it locally at once; in a pipeline, --cpu/--memory/--gpu apply to its task.
        """
        from ..pipelines.cells import check_resources, component_from_cell

        args = _parse(self.kfp_component.parser, line)
        packages = [p.strip() for p in (args.packages or "").split(",") if p.strip()]
        component = component_from_cell(
            cell,
            namespace=self.user_ns,
            name=args.name,
            inputs=args.inputs,
            outputs=args.outputs,
            base_image=args.base_image,
            packages=packages,
            resources=check_resources(args.cpu, args.memory, args.gpu),
            output_yaml=args.output_yaml,
            local_root=str(self.local.root),
            first_line=CELL_FIRST_LINE,
        )
        inputs = ", ".join(component.component_spec.inputs or {}) or "no inputs"
        outputs = ", ".join(component.component_spec.outputs or {}) or "no outputs"
        print(f"Component {args.name or component.python_func.__name__}({inputs}) -> {outputs}")

    @magic_arguments()
    @argument("name", help="Name of the pipeline, bound in the notebook.")
    @argument(
        "--params",
        default=None,
        help="Its parameters, usable as variables in the cell: a:int=1,b:str.",
    )
    @argument("--outputs", default=None, help="What the cell's `return` gives back: z:float.")
    @argument("--description", default=None, help="A line saying what the pipeline does.")
    @cell_magic
    @_user_errors
    def kfp_pipeline(self, line: str, cell: str) -> None:
        """Make the cell the body of a pipeline: it calls components and wires their outputs.

        Example:
            %%kfp_pipeline train_and_score --params rows:int=100
            data = make_data(rows=rows)
            model = train(data=data.outputs["data"])
            score(model=model.outputs["model"])

        Then `%kfp run train_and_score --param rows=500`, or
        `%kfp compile train_and_score -o pipeline.yaml`.
        """
        from ..pipelines.cells import pipeline_from_cell

        args = _parse(self.kfp_pipeline.parser, line)
        pipeline = pipeline_from_cell(
            cell,
            args.name,
            namespace=self.user_ns,
            params=args.params,
            outputs=args.outputs,
            description=args.description,
            first_line=CELL_FIRST_LINE,
            environment=self._tracking().task_environment(cluster=True),
        )
        tasks = sorted(pipeline.pipeline_spec.root.dag.tasks)
        print(f"Pipeline {args.name}: {len(tasks)} task(s): {', '.join(tasks)}")

    @line_magic
    @_user_errors
    def kfp(self, line: str) -> Any:
        """Compile, run and inspect pipelines: `%kfp COMMAND ...`; see the commands below."""
        args = _parse(_KFP_PARSER, line)
        command: Callable[[argparse.Namespace], Any] = getattr(self, f"_kfp_{args.command}")
        return command(args)

    def _kfp_compile(self, args: argparse.Namespace) -> None:
        pipeline = self._find(args.name)
        write_compiled(pipeline, args.output)
        print(f"Compiled {args.name} to {args.output}")

    def _kfp_run(self, args: argparse.Namespace) -> Run | None:
        pipeline = self._find(args.name)
        backend = self._cluster(pipeline, args.name) if args.cluster else self.local
        if args.cluster:
            self._warn_fit(pipeline, backend)
        pipeline = pipeline if args.cluster else share_tracking(pipeline, self._tracking())
        run = backend.submit(
            pipeline,
            _split_params(args.param),
            experiment=args.experiment or self.default_experiment,
            run_name=args.run_name,
        )
        doctor = self._task_doctor(backend) if args.cluster else None
        return self._show(backend, run, args.wait, doctor)

    def _kfp_runs(self, args: argparse.Namespace) -> RunTable:
        cluster = self._configured_cluster() if args.cluster else None
        if args.cluster and cluster is None:
            raise UsageError(CLUSTER_HOWTO)
        backend = cluster or self.local
        if args.status is not None and args.status not in RunStatus.__members__:
            states = ", ".join(RunStatus.__members__)
            raise UsageError(f"--status {args.status}: use one of {states}.")
        if not 1 <= args.limit <= 200:
            raise UsageError("--limit must be between 1 and 200.")
        query = ListRunsQuery(
            page_size=args.limit,
            experiment=args.experiment,
            status=RunStatus(args.status) if args.status else None,
        )
        return RunTable(backend.list_runs(query))

    def _holder(self, args: argparse.Namespace) -> PipelineBackend:
        """The backend holding the run (the same rule as the server's routes)."""
        from ..policy import run_source

        if run_source(args.run, args.source) == "local":
            return self.local
        backend = self._configured_cluster()
        if backend is None:
            raise UsageError(f"Run {args.run} would be a cluster run. {CLUSTER_HOWTO}")
        return backend

    def _kfp_logs(self, args: argparse.Namespace) -> None:
        print(self._holder(args).task_logs(args.run, args.task, args.tail), end="")

    def _kfp_terminate(self, args: argparse.Namespace) -> None:
        run = self._holder(args).terminate(args.run)
        print(f"Run {run.id} {run.status.value}.")

    def _kfp_retry(self, args: argparse.Namespace) -> Run | None:
        backend = self._holder(args)
        run = backend.retry(args.run)
        doctor = self._task_doctor(backend) if backend is not self.local else None
        return self._show(backend, run, args.wait, doctor)

    def _kfp_experiments(self, args: argparse.Namespace) -> None:
        for experiment in self.local.list_experiments():
            print(
                experiment.name + (f"  {experiment.description}" if experiment.description else "")
            )


KfpMagics.kfp.__doc__ = f"{KfpMagics.kfp.__doc__}\n\n{_kfp_help()}"

__all__ = ["KfpMagics", "RunTable"]
