"""`%k8s`: kubectl's everyday commands in a notebook, as thin adapters over `Cluster`."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..widgets import table as _table
from .commands import dispatch, parse, split
from .connected import ConnectedMagics

if TYPE_CHECKING:
    from ..kube.cluster import Cluster, Obj
    from ..kube.watch import WatchCache
    from ..widgets.doctor import DoctorView
    from ..widgets.logs import LogText, LogView
    from ..widgets.table import Description, Document, Table

NO_CLUSTER = (
    "No cluster is configured. Inside a Kubeflow notebook this is automatic; elsewhere point "
    "$KUBECONFIG at a kubeconfig file, or run %config MLOpsConfig.kubeconfig = '/path/to/config'."
)

# Options each command accepts, by their argparse destination.
OPTIONS: dict[str, set[str]] = {
    "get": {"namespace", "all_namespaces", "selector", "output"},
    "describe": {"namespace"},
    "logs": {"namespace", "container", "follow", "tail", "since", "previous", "timestamps"},
    "events": {"namespace", "warnings"},
    "delete": {"namespace"},
    "scale": {"namespace", "replicas"},
    "doctor": {"namespace"},
    "top": {"namespace", "size"},
}
# How many words (KIND, NAME, POD) each command takes: (fewest, most).
WORDS: dict[str, tuple[int, int, str]] = {
    "get": (1, 2, "KIND [NAME]"),
    "describe": (2, 2, "KIND NAME"),
    "logs": (1, 1, "POD"),
    "events": (0, 0, ""),
    "delete": (2, 2, "pod NAME"),
    "scale": (2, 2, "deploy NAME --replicas N"),
    "doctor": (0, 2, "[KIND NAME | KIND/NAME]"),
    "top": (0, 1, "[pods|me|quota|gpus|volumes]"),
}
TOP_VIEWS = ("pods", "me", "quota", "gpus", "volumes")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_NAME = re.compile(r"[^/?#%\s]{1,253}")
# Row fields that are bookkeeping, not columns worth showing with -o wide.
HIDDEN = {"uid", "resource_version", "created", "deleting", "health", "namespace", "time"}


@magics_class
class K8sMagics(ConnectedMagics):
    """`%k8s`: get, describe, logs, events, delete and scale in the notebook's namespace."""

    def cluster(self) -> Cluster:
        """The kernel's one connection, made again only when `%config MLOpsConfig` changes it."""
        connection = self.connection
        if not connection.has_cluster:
            raise UsageError(NO_CLUSTER)
        return connection.cluster()

    def watch_cache(self) -> WatchCache:
        """The kernel's informers, shared by every `%k8s doctor`, made again with the cluster."""
        self.cluster()  # says how to configure one when there is none
        return self.connection.watch_cache()

    def has_frontend(self) -> bool:
        """Widgets show only where a kernel talks to a notebook frontend."""
        return getattr(self.shell, "kernel", None) is not None

    @magic_arguments()
    @argument(
        "command",
        choices=sorted(OPTIONS),
        help="get KIND [NAME]: a table of objects (or one object with -o yaml|json). "
        "describe KIND NAME: why it is in its state, then its details. "
        "logs POD: its log (-f follows it live). events: the namespace's events, oldest first. "
        "delete pod NAME. scale deploy NAME --replicas N. "
        "doctor [KIND/NAME]: what is wrong in the namespace (or one object), why, what to do. "
        "top [pods|me|quota|gpus|volumes]: use against requests and limits, quota, GPUs, "
        "volumes.",
    )
    @argument("words", nargs="*", metavar="KIND/NAME", help="What the command acts on.")
    @argument("-n", "--namespace", help="Namespace (default: the notebook's own).")
    @argument("-A", "--all-namespaces", action="store_true", help="get: every namespace.")
    @argument("-l", "--selector", help="get: a label selector, e.g. app=train,tier!=db.")
    @argument("-o", "--output", choices=["wide", "yaml", "json"], help="get: output format.")
    @argument("-c", "--container", help="logs: the container, when the pod has several.")
    @argument("-f", "--follow", action="store_true", help="logs: keep showing new lines.")
    @argument("--tail", type=int, help="logs: only the last N lines.")
    @argument("--since", help="logs: only lines newer than this, e.g. 30s, 5m, 1h.")
    @argument("--previous", action="store_true", help="logs: the previous, crashed container.")
    @argument("--timestamps", action="store_true", help="logs: start each line with its time.")
    @argument("--warnings", action="store_true", help="events: only warnings.")
    @argument("--replicas", type=int, help="scale: the number of pods wanted.")
    @argument(
        "--size",
        help="top quota: would a pod asking this much fit? e.g. cpu=2,memory=4Gi,nvidia.com/gpu=1",
    )
    @line_magic
    def k8s(self, line: str) -> Any:
        """Look at and act on the Kubernetes namespace of this notebook, as kubectl would.

        %k8s get pods                    %k8s get pods -l app=train -o wide
        %k8s get notebooks -A            %k8s get deploy web -o yaml
        %k8s describe pod trainer-0      (the diagnosis comes first)
        %k8s logs trainer-0 --tail 100   %k8s logs trainer-0 -f
        %k8s events --warnings           %k8s delete pod trainer-0
        %k8s scale deploy web --replicas 3
        %k8s doctor                      %k8s doctor deploy/web
        %k8s top                         %k8s top me        (no metrics-server needed)
        %k8s top quota --size cpu=2,memory=4Gi              %k8s top gpus   %k8s top volumes

        Settings come from `%config MLOpsConfig` (namespace, kubeconfig, read_only).
        """
        return dispatch(self, self._parse(line))

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self, line: str) -> argparse.Namespace:
        parser = self.k8s.parser
        if not line.strip():
            kubectl = ",".join(c for c in OPTIONS if c not in ("doctor", "top"))
            raise UsageError(
                f"usage: %k8s {{{kubectl}}} ...; see %k8s? for each one; "
                "%k8s doctor [KIND/NAME] says what is wrong and what to do; "
                "%k8s top [pods|me|quota|gpus|volumes] shows use against requests and quota"
            )
        args, _ = parse(parser, split(line), "k8s", OPTIONS)
        if args.command == "top" and args.words and args.words[0] not in TOP_VIEWS:
            raise UsageError(f"%k8s top shows {', '.join(TOP_VIEWS)}, not {args.words[0]!r}")
        if args.command == "top" and args.size is not None and args.words != ["quota"]:
            raise UsageError("--size goes with %k8s top quota")
        if args.command == "doctor" and len(args.words) == 1 and "/" in args.words[0]:
            args.words = args.words[0].split("/", 1)
        low, high, usage = WORDS[args.command]
        if not low <= len(args.words) <= high or (
            args.command == "doctor" and len(args.words) == 1
        ):
            raise UsageError(f"usage: %k8s {args.command} {usage}".rstrip())
        if args.namespace is not None and not _NAMESPACE.fullmatch(args.namespace):
            raise UsageError(f"{args.namespace!r} is not a namespace name")
        for word in args.words:
            # A slash would reach another path of the API (a subresource), not another object.
            if not _NAME.fullmatch(word) or word in (".", ".."):
                raise UsageError(f"{word!r} is not a kind or object name")
        return args

    # -- commands --------------------------------------------------------------------------

    def _get(
        self, args: argparse.Namespace, kind: str, name: str | None = None
    ) -> Table | Document:
        from ..kube.rows import columns, row
        from ..widgets.table import Table

        cluster = self.cluster()
        k = cluster.kind(kind)
        if name is not None:
            if args.all_namespaces or args.selector:
                raise UsageError("-A and -l select many objects; leave them out with a NAME")
            items = [cluster.get(k, name, args.namespace)]
        else:
            items = cluster.list_all(
                k, args.namespace, selector=args.selector, all_namespaces=args.all_namespaces
            ).items
        if args.output in ("yaml", "json"):
            return _document(items if name is None else items[0], args.output)
        rows = [row(k.plural, obj) for obj in items]
        shown = list(columns(k.plural))
        if args.all_namespaces and k.namespaced:
            shown.insert(0, "namespace")
        if args.output == "wide":
            for r, obj in zip(rows, items, strict=True):
                r["labels"] = (obj.get("metadata") or {}).get("labels") or {}
            extra = [c for c in (rows[0] if rows else {}) if c not in shown and c not in HIDDEN]
            shown += extra
        where = "any namespace" if args.all_namespaces else f"namespace {cluster_ns(args, cluster)}"
        return Table(shown, rows, objects=items, empty=f"No {k.plural} found in {where}.")

    def _describe(self, args: argparse.Namespace, kind: str, name: str) -> Description:
        from ..kube.describe import describe
        from ..widgets.table import Description

        return Description(describe(self.cluster(), kind, name, args.namespace))

    def _logs(self, args: argparse.Namespace, pod: str) -> LogText | LogView | None:
        from ..widgets.logs import LogText, LogView, print_follow

        lines = self.cluster().logs(
            pod,
            args.container,
            namespace=args.namespace,
            follow=args.follow,
            tail=args.tail,
            since=args.since,
            previous=args.previous,
            timestamps=args.timestamps,
        )
        if not args.follow:
            with contextlib.closing(lines):
                return LogText(lines, pod=pod, container=args.container or "")
        if self.has_frontend():
            return LogView(lines, pod=pod, container=args.container or "").start()
        if not print_follow(lines, sys.stdout.write):
            print(f"\nStopped following the log of {pod}.")
        return None

    def _events(self, args: argparse.Namespace) -> Table:
        from ..kube.rows import columns, row
        from ..widgets.table import Table

        cluster = self.cluster()
        items = cluster.events(args.namespace, warnings=args.warnings)
        what = "warnings" if args.warnings else "events"
        return Table(
            columns("events"),
            [row("events", e) for e in items],
            objects=items,
            empty=f"No {what} in namespace {cluster_ns(args, cluster)}.",
        )

    def _delete(self, args: argparse.Namespace, kind: str, name: str) -> None:
        cluster = self.cluster()
        cluster.delete(kind, name, args.namespace)
        print(f'pod "{name}" deleted from namespace {cluster_ns(args, cluster)}')

    def _scale(self, args: argparse.Namespace, kind: str, name: str) -> None:
        cluster = self.cluster()
        if cluster.kind(kind).plural != "deployments":
            raise UsageError("only deployments can be scaled here: %k8s scale deploy NAME")
        if args.replicas is None:
            raise UsageError("say how many pods: %k8s scale deploy NAME --replicas N")
        answer = cluster.scale(name, args.replicas, args.namespace)
        replicas = (answer.get("spec") or {}).get("replicas", args.replicas)
        print(f'deployment "{name}" scaled to {replicas} replicas')

    def _doctor(
        self, args: argparse.Namespace, kind: str | None = None, name: str | None = None
    ) -> DoctorView:
        from ..kube.doctor import examine, examine_object
        from ..widgets.doctor import DoctorView

        cache = self.watch_cache()
        if kind is not None and name is not None:
            report = examine_object(cache, kind, name, args.namespace)
            return DoctorView(report, about=f"{kind}/{name}")
        return DoctorView(examine(cache, args.namespace))

    def _top(self, args: argparse.Namespace, view: str = "pods") -> Table:
        """kubectl top's columns, with requests and limits; `me` needs no metrics API, nor a
        cluster (then it shows this kernel's cgroup alone)."""
        from ..config import configure, resolve
        from ..kube.top import top

        alone = view == "me" and resolve(configure(parent=self.shell)).cluster == "none"
        shown = top(view, None if alone else self.watch_cache(), args.namespace, args.size)
        for note in shown.notes:
            print(note)
        return TopTable(shown.columns, shown.rows, empty=shown.empty)


class TopTable(_table.Table):
    """A table whose headers keep kubectl top's case: `CPU(cores)`, `MEMORY(bytes)`."""

    def _repr_html_(self) -> str:
        return _kubectl_case(super()._repr_html_())

    def __repr__(self) -> str:
        head, newline, body = super().__repr__().partition("\n")
        return _kubectl_case(head) + newline + body


def _kubectl_case(text: str) -> str:
    """Same length as the upper-cased header, so the text table's columns stay aligned."""
    for column, header in (("cpu(cores)", "CPU(cores)"), ("memory(bytes)", "MEMORY(bytes)")):
        text = text.replace(_table.heading(column), header, 1)
    return text


def cluster_ns(args: argparse.Namespace, cluster: Cluster) -> str:
    """The namespace a command acts in."""
    return str(args.namespace or cluster.namespace)


def _document(content: Obj | list[Obj], output: str) -> Document:
    from ..kube.cluster import shown
    from ..widgets.table import Document

    if isinstance(content, list):
        doc: Obj = {"apiVersion": "v1", "kind": "List", "items": [shown(o) for o in content]}
    else:
        doc = shown(content)
    if output == "json":
        return Document(json.dumps(doc, indent=2), "json")
    import yaml

    return Document(yaml.safe_dump(doc, sort_keys=False), "yaml")


__all__ = ["K8sMagics"]
