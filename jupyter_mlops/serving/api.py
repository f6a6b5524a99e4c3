"""`Serving`: MLflow model versions served on KServe or on loopback, called, checked for drift.

The plain Python under every surface (the `%kserve` magics; the sidebar's routes later): each
method returns a dataclass of `jupyter_mlops.serving.models` (JSON-safe through `to_json()`),
and every write passes `refuse_writes` here, whichever surface asks.
"""

from __future__ import annotations

import builtins
import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..config import NO_CLUSTER, Settings
from ..errors import BadInput, Invalid, MLOpsError, NotFound, Unavailable
from ..kube.connect import watch_cache_of, watched_objects
from ..kube.names import check_name as check_object_name
from ..policy import refuse_writes
from . import client, kserve, manifest, preflight, protocol, registry
from .drift import KS_THRESHOLD, PSI_THRESHOLD, compare
from .local import LocalServers, ready
from .models import (
    DriftReport,
    Finding,
    Mode,
    ModelRef,
    Plan,
    Prediction,
    Progress,
    Service,
    ServiceList,
)

if TYPE_CHECKING:
    from ..kube.cluster import Cluster
    from ..tracking import Tracking

#: Rows of inputs kept per service from `predict`, for `drift` (the oldest go first).
MAX_KEPT_ROWS = 100_000
#: Rows of the training dataset compared at most.
MAX_REFERENCE_ROWS = 200_000
MODES = ("local", "cluster")
NO_KSERVE = "KServe is not installed: the cluster serves no InferenceServices"
#: KServe splits traffic between revisions only in Knative mode.
CANARY_NEEDS_KNATIVE = Finding(
    "canary",
    "warning",
    "a canary percentage splits traffic only in Knative mode: in Standard mode KServe "
    "replaces the predictor and sends it all the traffic",
    "serve with deployment_mode='Knative' to keep the last version on the rest of the traffic",
)


class Serving:
    """Serve registered MLflow models, call them over the v2 protocol, compare their inputs
    with the training data.

    >>> serving = Serving.connect()
    >>> serving.serve("churn", "champion", mode="local")
    >>> serving.predict("churn", frame).data
    >>> serving.drift("churn").drifted
    """

    def __init__(
        self,
        settings: Settings,
        *,
        tracking: Tracking | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        from ..tracking import Tracking

        self.settings = settings
        self.tracking = tracking if tracking is not None else Tracking(settings)
        self.local = LocalServers(settings.state_dir / "serving")
        self._cluster = cluster
        self._own_cluster = cluster is None
        self._sent: dict[tuple[str, str], builtins.list[Any]] = {}
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, settings: Settings | None = None) -> Serving:
        """Serving from the resolved configuration."""
        from ..config import resolve

        return cls(settings if settings is not None else resolve())

    def cluster(self) -> Cluster:
        """The cluster connection, made on first use; `Unavailable` when none is configured."""
        if self.settings.cluster == "none":
            raise Unavailable("cluster", NO_CLUSTER)
        if self._cluster is None:
            from ..kube.cluster import Cluster

            self._cluster = Cluster(self.settings)
        return self._cluster

    def close(self) -> None:
        """Close the cluster connection this object made (local servers keep running)."""
        if self._cluster is not None and self._own_cluster:
            self._cluster.close()
            self._cluster = None

    # -- models ----------------------------------------------------------------------------

    def model(self, model: str, version_or_alias: str | None = None) -> ModelRef:
        """A registered version (`"3"`), an alias's version (`"champion"`), or the newest."""
        return registry.resolve(self.tracking, model, version_or_alias)

    def alias_version(self, model: str, alias: str) -> str | None:
        """The version an alias points at now (None when the alias is gone)."""
        version = self.tracking.model(model).aliases.get(alias)
        return str(version) if version is not None else None

    # -- serving ---------------------------------------------------------------------------

    def plan(
        self,
        model: str,
        version_or_alias: str | None = None,
        *,
        name: str | None = None,
        runtime: str = "auto",
        resources: Mapping[str, Any] | None = None,
        deployment_mode: str = "Standard",
        service_account: str | None = None,
        canary: int | None = None,
    ) -> Plan:
        """The InferenceService for a model version and what the checks found, not applied.

        `runtime="auto"` takes the runtime KServe would pick for MLflow models (a namespace's
        own first), else `kserve-mlserver`. `resources` is `{"cpu": "1", "memory": "2Gi"}` or
        `{"requests": {...}, "limits": {...}}`; `deployment_mode` Standard or Knative;
        `canary` the percent of the traffic the new version gets while the last Ready one
        keeps the rest.
        """
        cluster = self.cluster()
        namespace = cluster.namespace
        service = manifest.check_name(name or manifest.service_name(model))
        wanted = manifest.resources(resources)
        manifest.deployment_mode(deployment_mode)
        percent = manifest.canary_percent(canary)
        # Both become paths of the API server: only object names may.
        if runtime != "auto":
            check_object_name(runtime)
        account = service_account or self.settings.serving_service_account
        if account:
            check_object_name(account)
        ref = self.model(model, version_or_alias)
        runtime_name, findings = preflight.check(
            cluster, namespace, service, ref, runtime=runtime, account=account, wanted=wanted
        )
        body = manifest.inference_service(
            service,
            namespace,
            ref,
            runtime=runtime_name,
            mode=deployment_mode,
            service_account=account,
            requests=wanted,
            canary=percent,
        )
        if percent is not None and manifest.deployment_mode(deployment_mode) != "Serverless":
            findings = (*findings, CANARY_NEEDS_KNATIVE)
        return Plan(
            name=service,
            namespace=namespace,
            model=ref,
            runtime=runtime_name,
            deployment_mode=deployment_mode,
            manifest=body,
            findings=findings,
        )

    def apply(
        self,
        plan: Plan,
        *,
        force: bool = False,
        wait: bool = True,
        timeout: float = 300.0,
        progress: Callable[[Progress], None] | None = None,
    ) -> Service:
        """Apply a plan (server-side, as field manager `jupyter-mlops`) and, with `wait`, watch
        it to Ready for up to `timeout` seconds; `Invalid` when a check found an error."""
        refuse_writes(self.settings, "serving models on the cluster")
        if plan.blocked:
            errors = [f.message for f in plan.findings if f.severity == "error"]
            raise Invalid(f"not applied, because {'; '.join(errors)}")
        cluster = self.cluster()
        stored = kserve.apply(cluster, plan.manifest, force=force)
        if wait:
            stored = kserve.wait_ready(cluster, stored, timeout=timeout, progress=progress)
        return kserve.to_service(stored, in_pod=self.settings.in_pod)

    def serve(
        self,
        model: str,
        version_or_alias: str | None = None,
        *,
        name: str | None = None,
        runtime: str = "auto",
        resources: Mapping[str, Any] | None = None,
        mode: str = "cluster",
        deployment_mode: str = "Standard",
        service_account: str | None = None,
        canary: int | None = None,
        confirm: Callable[[Plan], bool] | None = None,
        force: bool = False,
        wait: bool = True,
        timeout: float = 300.0,
        progress: Callable[[Progress], None] | None = None,
    ) -> Service | None:
        """Serve a model version: `mode="cluster"` as a KServe InferenceService (the plan is
        shown to `confirm`, which may decline: then nothing is applied and None returned), or
        `mode="local"` on loopback with the same v2 protocol. Serving an alias again after
        it moved updates the service to the alias's new version (`canary`: its share)."""
        if mode == "local":
            return self.serve_local(model, version_or_alias, name=name, timeout=timeout)
        if mode != "cluster":
            raise BadInput(f"mode {mode!r}: use 'local' or 'cluster'")
        refuse_writes(self.settings, "serving models on the cluster")
        plan = self.plan(
            model,
            version_or_alias,
            name=name,
            runtime=runtime,
            resources=resources,
            deployment_mode=deployment_mode,
            service_account=service_account,
            canary=canary,
        )
        if confirm is not None and not confirm(plan):
            return None
        return self.apply(plan, force=force, wait=wait, timeout=timeout, progress=progress)

    def serve_local(
        self,
        model: str,
        version_or_alias: str | None = None,
        *,
        name: str | None = None,
        timeout: float = 120.0,
    ) -> Service:
        """Download the version and serve it on loopback (replacing a server of that name)."""
        refuse_writes(self.settings, "serving models locally")
        service = manifest.check_name(name or manifest.service_name(model))
        ref = self.model(model, version_or_alias)
        unservable = [f for f in preflight.flavor(ref, None, "") if f.severity == "error"]
        if unservable:
            raise Invalid(unservable[0].message)
        folder = self.local.folder(service) / f"v{ref.version}"
        model_dir = registry.download(self.tracking, ref, folder)
        server = self.local.start(service, model_dir, ref, timeout=timeout)
        with self._lock:
            self._sent.pop(("local", service), None)
        return server.to_service(ready=True)

    # -- finding services ------------------------------------------------------------------

    def list(self) -> ServiceList:
        """Every served model: local servers, then the namespace's InferenceServices."""
        services = [s.to_service(ready(s)) for s in self.local.all()]
        errors: dict[str, str] = {}
        if self.settings.cluster == "none":
            errors["cluster"] = NO_CLUSTER
            return ServiceList(tuple(services), errors)
        try:
            cluster = self.cluster()
            # From the informer: reading again asks the API server nothing.
            items = watched_objects(cluster, preflight.INFERENCE_SERVICES, NO_KSERVE)
        except NotFound:
            errors["cluster"] = NO_KSERVE
            return ServiceList(tuple(services), errors)
        except MLOpsError as exc:
            errors["cluster"] = exc.message
            return ServiceList(tuple(services), errors)
        try:
            pods = _predictor_pods(cluster)
        except MLOpsError as exc:
            pods, errors["pods"] = {}, exc.message
        services += [
            kserve.to_service(o, pods.get(o["metadata"]["name"]), in_pod=self.settings.in_pod)
            for o in items
        ]
        return ServiceList(tuple(services), errors)

    def service(self, name: str, *, mode: str | None = None) -> Service:
        """One served model, local or on the cluster."""
        where = self._where(name, mode)
        if where == "local":
            server = self.local.get(name)
            if server is None:
                raise NotFound(f"no local model server named {name!r}")
            return server.to_service(ready(server))
        cluster = self.cluster()
        obj = kserve.get(cluster, name, cluster.namespace)
        pods = kserve.predictor_pods(cluster, cluster.namespace).get(name)
        return kserve.to_service(obj, pods, in_pod=self.settings.in_pod)

    def delete(self, name: str, *, mode: str | None = None) -> Service:
        """Stop a local server or delete an InferenceService; what was removed."""
        refuse_writes(self.settings, "deleting served models")
        where = self._where(name, mode)
        with self._lock:
            self._sent.pop((where, name), None)
        if where == "local":
            server = self.local.stop(name)
            if server is None:
                raise NotFound(f"no local model server named {name!r}")
            return dataclasses.replace(server.to_service(False), reason="stopped")
        cluster = self.cluster()
        obj = kserve.get(cluster, name, cluster.namespace)
        kserve.delete(cluster, name, cluster.namespace)
        return dataclasses.replace(kserve.to_service(obj), ready=False, reason="deleted")

    def _where(self, name: str, mode: str | None) -> Mode:
        """Which backend serves `name`: the one asked for, else the only one that does."""
        if mode is not None:
            if mode not in MODES:
                raise BadInput(f"mode {mode!r}: use 'local' or 'cluster'")
            return "local" if mode == "local" else "cluster"
        local = self.local.get(name) is not None
        on_cluster = False
        if self.settings.cluster != "none":
            cluster = self.cluster()
            try:
                kserve.get(cluster, name, cluster.namespace)
                on_cluster = True
            except NotFound:
                on_cluster = False
            except MLOpsError:
                if not local:
                    raise
                # A cluster that cannot be asked must not stop the use of the local server.
        if local and on_cluster:
            raise BadInput(
                f"{name!r} is served both locally and on the cluster: say which, "
                "with mode='local' or mode='cluster'"
            )
        if local:
            return "local"
        if on_cluster:
            return "cluster"
        where = (
            ""
            if self.settings.cluster == "none"
            else f" or in namespace {self.cluster().namespace}"
        )
        raise NotFound(f"no model is served as {name!r}, locally{where}")

    # -- calling ---------------------------------------------------------------------------

    def predict(
        self,
        name: str,
        data: Any,
        *,
        mode: str | None = None,
        url: str | None = None,
        timeout: float = 30.0,
    ) -> Prediction:
        """Send `data` (a DataFrame, an array or a dict) to the served model over the v2
        protocol; its answer (a DataFrame or an array) and the latency. On the cluster the
        call goes to `.status.address.url` inside the cluster, else to `.status.url`; `url`
        overrides both (a port-forward)."""
        where = (
            self._where(name, mode) if url is None else ("local" if mode == "local" else "cluster")
        )
        base = url or self._address(name, where)
        on_cluster = where == "cluster" and self.settings.cluster != "none"
        namespace = self.cluster().namespace if on_cluster else None
        sent = data
        if _array_like(data):
            # Arrays get the model's column names (a column-based model refuses them bare).
            sent = protocol.as_columns(data, client.metadata(base, name, timeout=timeout))
        body = protocol.encode_request(sent)
        answer, latency = client.infer(
            base, name, body, timeout=timeout, namespace=namespace, in_pod=self.settings.in_pod
        )
        decoded = protocol.decode_response(answer)
        self._keep(where, name, sent)
        return Prediction(
            name=name, mode=where, url=base, latency_ms=latency, data=decoded, response=answer
        )

    def metadata(
        self, name: str, *, mode: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The served model's v2 metadata: its inputs and outputs (names, datatypes, shapes)
        as its signature gives them, for a form that builds a request."""
        where = self._where(name, mode)
        return client.metadata(self._address(name, where), name, timeout=timeout)

    def _address(self, name: str, where: str) -> str:
        """Where the served model answers: the local server, or the InferenceService's URL."""
        if where == "local":
            server = self.local.get(name)
            if server is None:
                raise NotFound(f"no local model server named {name!r}")
            return server.url
        cluster = self.cluster()
        obj = kserve.get(cluster, name, cluster.namespace)
        return kserve.endpoint(obj, in_pod=self.settings.in_pod)

    def _keep(self, where: str, name: str, data: Any) -> None:
        """Remember what was sent, for `drift` without data (bounded: the newest rows stay)."""
        frame = _frame(data)
        if frame is None:
            return
        with self._lock:
            kept = self._sent.setdefault((where, name), [])
            kept.append(frame)
            while sum(len(f) for f in kept) > MAX_KEPT_ROWS and len(kept) > 1:
                kept.pop(0)

    def drift(
        self,
        name: str,
        data: Any = None,
        *,
        mode: str | None = None,
        record: bool = True,
        psi_threshold: float = PSI_THRESHOLD,
        ks_threshold: float = KS_THRESHOLD,
    ) -> DriftReport:
        """PSI and KS per feature of `data` (default: what `predict` sent to this service)
        against the training dataset logged on the run that logged the served version; with
        `record`, the result becomes a run in that experiment, linked to the model version."""
        if record:
            refuse_writes(
                self.settings, "recording drift in MLflow (pass record=False to only look)"
            )
        where = self._where(name, mode)
        ref = self._served_version(name, where)
        current = _frame(data) if data is not None else self._kept(where, name)
        if current is None:
            raise BadInput("drift compares a DataFrame, an array or a dict of columns")
        reference, dataset = registry.training_data(self.tracking, ref)
        if len(reference) > MAX_REFERENCE_ROWS:
            # A fixed sample: the same training rows for every comparison, in bounded time.
            reference = reference.sample(MAX_REFERENCE_ROWS, random_state=0)
        current = _named_like(current, [c.name for c in ref.inputs])
        features = [c.name for c in ref.inputs if c.name in reference.columns] or [
            c for c in reference.columns if c in current.columns
        ]
        if not features:
            raise BadInput(f"the inputs share no feature with the training dataset {dataset!r}")
        results, plots = compare(
            reference, current, features, psi_threshold=psi_threshold, ks_threshold=ks_threshold
        )
        report = DriftReport(
            name=name,
            model=ref.name,
            version=ref.version,
            dataset=dataset,
            reference_rows=len(reference),
            current_rows=len(current),
            psi_threshold=psi_threshold,
            ks_threshold=ks_threshold,
            features=results,
            plot=plots,
        )
        if not record:
            return report
        run_id, experiment_id = registry.record_drift(self.tracking, ref, report)
        return dataclasses.replace(report, run_id=run_id, experiment_id=experiment_id)

    def _kept(self, where: str, name: str) -> Any:
        import pandas as pd  # type: ignore[import-untyped]

        with self._lock:
            kept = builtins.list(self._sent.get((where, name), []))
        if not kept:
            raise BadInput(
                f"nothing was sent to {name!r} through predict in this session: "
                "pass the inputs to compare (data=…)"
            )
        return pd.concat(kept, ignore_index=True)

    def _served_version(self, name: str, where: str) -> ModelRef:
        if where == "local":
            server = self.local.get(name)
            if server is None:
                raise NotFound(f"no local model server named {name!r}")
            return self.model(server.model, server.version)
        cluster = self.cluster()
        service = kserve.to_service(kserve.get(cluster, name, cluster.namespace))
        if not service.model or not service.version:
            raise BadInput(
                f"InferenceService {name!r} does not say which MLflow model version it serves "
                "(it was not served from the registry here)"
            )
        return self.model(service.model, service.version)


def _array_like(data: Any) -> bool:
    return isinstance(data, (builtins.list, tuple)) or type(data).__name__ == "ndarray"


def _frame(data: Any) -> Any:
    """`data` as a DataFrame (arrays get numbered columns), or None if it cannot be one."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.copy()
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in data.items()})
        except ValueError:
            return None
    if isinstance(data, (builtins.list, tuple, np.ndarray)):
        array = np.asarray(data)
        if array.ndim in (1, 2):
            return pd.DataFrame(array.reshape(len(array), -1))
    return None


def _named_like(frame: Any, names: builtins.list[str]) -> Any:
    """Numbered columns (an array sent) take the model's input names when their count fits."""
    numbered = builtins.list(frame.columns) == builtins.list(range(frame.shape[1]))
    if numbered and len(names) == frame.shape[1]:
        return frame.set_axis(names, axis=1)
    return frame


def _predictor_pods(cluster: Cluster) -> dict[str, builtins.list[Any]]:
    """The namespace's predictor pods by service, from the pods' informer (as
    `kserve.predictor_pods` groups them, without a LIST per read)."""
    from ..kube.kinds import find_kind

    grouped: dict[str, builtins.list[Any]] = {}
    for pod in watch_cache_of(cluster).objects(find_kind("pods"), cluster.namespace, 30.0):
        owner = ((pod.get("metadata") or {}).get("labels") or {}).get(kserve.ISVC_LABEL)
        if owner:
            grouped.setdefault(owner, []).append(pod)
    return grouped
