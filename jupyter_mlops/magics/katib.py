"""`%katib`: search a component's parameters on this machine or as a Katib Experiment, list
searches, give the best parameters, stop one; thin adapters over `jupyter_mlops.tuning`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .commands import dispatch, parse, split
from .connected import ConnectedMagics

if TYPE_CHECKING:
    from ..tuning import Tuner
    from ..widgets.table import Table

# Options each command accepts, by their argparse destination.
OPTIONS: dict[str, set[str]] = {
    "tune": {
        "param",
        "objective",
        "maximize",
        "minimize",
        "trials",
        "parallel",
        "max_failed",
        "algorithm",
        "local",
        "cluster",
        "name",
        "fix",
        "seed",
    },
    "list": {"local", "cluster"},
    "best": {"local", "cluster"},
    "stop": {"local", "cluster"},
}
USAGE = {
    "tune": "COMPONENT --param NAME=RANGE ... --objective METRIC [--maximize | --minimize]",
    "list": "[--local | --cluster]",
    "best": "NAME",
    "stop": "NAME",
}


def join_ranges(words: list[str]) -> list[str]:
    """Words split inside a range's parentheses (`lr=uniform(0, 1)`) put back together."""
    joined: list[str] = []
    depth = 0
    for word in words:
        if depth > 0:
            joined[-1] += word
        else:
            joined.append(word)
        depth += word.count("(") - word.count(")")
    return joined


@magics_class
class KatibMagics(ConnectedMagics):
    """`%katib`: tune, list, best and stop hyperparameter searches."""

    def tuner(self) -> Tuner:
        """The kernel's `Tuner`, made again when `%config MLOpsConfig` changes the settings."""
        return self.connection.tuner()

    @magic_arguments()
    @argument(
        "command",
        choices=sorted(OPTIONS),
        help="tune COMPONENT: search its parameters (locally unless --cluster) and show the "
        "trials live. list: the searches here and the namespace's Experiments. best NAME: the "
        "best parameters, as a dict. stop NAME: no new trials, running ones ended.",
    )
    @argument("words", nargs="*", metavar="NAME", help="The component (tune) or the search.")
    @argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=RANGE",
        help="A searched input: uniform(LOW,HIGH), loguniform(LOW,HIGH), int(LOW,HIGH) or "
        "choice(A,B,...). Repeat for each.",
    )
    @argument("--objective", metavar="METRIC", help="The metric to optimise, e.g. accuracy.")
    @argument("--maximize", action="store_true", help="Higher is better (the default).")
    @argument("--minimize", action="store_true", help="Lower is better (a loss).")
    @argument("--trials", type=int, default=12, help="Trials in all (default 12).")
    @argument("--parallel", type=int, default=3, help="Trials at a time (default 3).")
    @argument("--max-failed", type=int, help="Failed trials that end the search (default 3).")
    @argument(
        "--algorithm",
        default="random",
        help="random or grid; on Katib also bayesianoptimization (default random).",
    )
    @argument("--local", action="store_true", help="On this machine (the default for tune).")
    @argument("--cluster", action="store_true", help="As a Katib Experiment in the namespace.")
    @argument("--name", help="tune: the search's name (default: from the component's).")
    @argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="An input every trial gets.",
    )
    @argument("--seed", type=int, help="tune: the seed of random search, to repeat it.")
    @line_magic
    def katib(self, line: str) -> Any:
        """Search a component's parameters, locally or on Katib.

        %katib tune fit --param lr=loguniform(1e-4,1e-1) --param depth=int(2,8)
            --objective accuracy --maximize --trials 12 --parallel 3
        %katib list        %katib best fit-3f9a1        %katib stop fit-3f9a1

        The component prints `accuracy=0.93` or returns the metric. Settings come from
        `%config MLOpsConfig` (namespace, read_only, mlflow_tracking_uri).
        """
        return dispatch(self, self._parse(line))

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self, line: str) -> argparse.Namespace:
        parser = self.katib.parser
        if not line.strip():
            raise UsageError("usage: %katib {tune,list,best,stop} ...; see %katib? for each one")
        args, _ = parse(parser, join_ranges(split(line)), "katib", OPTIONS)
        wanted = 0 if args.command == "list" else 1
        if len(args.words) != wanted:
            raise UsageError(f"usage: %katib {args.command} {USAGE[args.command]}".rstrip())
        if args.local and args.cluster:
            raise UsageError("--local and --cluster exclude each other")
        if args.maximize and args.minimize:
            raise UsageError("--maximize and --minimize exclude each other")
        if args.command == "tune":
            if not args.param:
                raise UsageError("say what to search: --param NAME=RANGE (one or more)")
            if not args.objective:
                raise UsageError("say what to optimise: --objective METRIC")
        return args

    def _where(self, args: argparse.Namespace) -> bool | None:
        return True if args.cluster else False if args.local else None

    def _component(self, name: str) -> Any:
        namespace = self.shell.user_ns if self.shell is not None else {}
        if name not in namespace:
            raise UsageError(
                f"no component {name!r} in this notebook: define it with %%kfp_component {name}"
            )
        return namespace[name]

    def _fixed(self, texts: list[str]) -> dict[str, Any]:
        import ast

        fixed: dict[str, Any] = {}
        for text in texts:
            name, sep, value = text.partition("=")
            if not sep or not name.isidentifier():
                raise UsageError(f"--fix {text!r}: write NAME=VALUE")
            try:
                fixed[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                fixed[name] = value  # a plain word is a string
        return fixed

    # -- commands --------------------------------------------------------------------------

    def _tune(self, args: argparse.Namespace, component_name: str) -> Any:
        from ..tuning import parse_space, tune
        from ..widgets.tuning import TuningView

        component = self._component(component_name)
        search = tune(
            component,
            parse_space(args.param),
            args.objective,
            direction="minimize" if args.minimize else "maximize",
            max_trials=args.trials,
            parallel=args.parallel,
            max_failed=args.max_failed,
            algorithm=args.algorithm,
            cluster=bool(args.cluster),
            name=args.name,
            fixed=self._fixed(args.fix),
            seed=args.seed,
            connection=self.connection,
        )
        for finding in getattr(search, "findings", ()):
            print(f"{finding.severity.upper()} [{finding.check}] {finding.message}")
        return TuningView(search)

    def _list(self, args: argparse.Namespace) -> Table:
        from ..widgets.table import Table
        from ..widgets.tuning import summary

        found, errors = self.tuner().list(cluster=self._where(args))
        for where, message in sorted(errors.items()):
            print(f"{where}: {message}")
        rows = []
        for tuning in found:
            best = tuning.best()
            rows.append(
                {
                    "name": tuning.name,
                    "where": tuning.mode,
                    "component": tuning.component,
                    "state": tuning.state.value,
                    "trials": f"{sum(1 for t in tuning.trials if t.state.finished)}"
                    f"/{tuning.max_trials}",
                    "objective": f"{tuning.metric} ({tuning.direction})",
                    "best": "" if best is None or best.objective is None else summary(tuning),
                }
            )
        columns = ("name", "where", "component", "state", "trials", "objective", "best")
        return Table(columns, rows, empty="No searches yet: %katib tune COMPONENT ...")

    def _best(self, args: argparse.Namespace, name: str) -> dict[str, Any]:
        return self.tuner().best(name, cluster=self._where(args))

    def _stop(self, args: argparse.Namespace, name: str) -> None:
        from ..widgets.tuning import summary

        tuning = self.tuner().stop(name, cluster=self._where(args))
        print(summary(tuning))
        print(tuning.message)


__all__ = ["KatibMagics", "join_ranges"]
