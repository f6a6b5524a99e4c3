"""Serving routes under `mlops/api/serving/`: served models, their signature, a prediction, and
serving a registered version (or rolling out an alias) from the sidebar."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import BadInput, MLOpsError
from .base import MLOpsHandler

if TYPE_CHECKING:
    from ..serving import Service, Serving

NAME = r"(?P<name>[^/]+)"
MODES = ("local", "cluster")
#: Rows of a prediction shown as a table; the v2 response keeps them all.
MAX_TABLE_ROWS = 1000


class ServingHandler(MLOpsHandler):
    """Shared parsing of the serving routes' arguments, and the server's one `Serving`."""

    def serving(self) -> Serving:
        """The server's one `Serving` (blocking)."""
        return self.state.serving()

    def service_name(self, name: str) -> str:
        from ..serving.manifest import check_name

        return check_name(name)

    def mode(self) -> str | None:
        value: str | None = self.get_query_argument("mode", None) or None
        if value is not None and value not in MODES:
            raise BadInput(f"mode must be local or cluster, not {value!r}")
        return value


def service_json(serving: Serving, service: Service, cache: Any | None) -> dict[str, Any]:
    """A served model for the sidebar: with the doctor's findings when an InferenceService is
    not Ready, and where its alias points now, so a moved alias can be rolled out."""
    answer = service.to_json()
    answer["findings"] = []
    answer["alias_version"] = None
    if service.mode == "cluster" and not service.ready and cache is not None:
        answer["findings"] = _findings(cache, service)
    if service.model and service.alias:
        try:
            answer["alias_version"] = serving.alias_version(service.model, service.alias)
        except MLOpsError:
            answer["alias_version"] = None  # MLflow is down or the model is gone: not known
    return answer


def _findings(cache: Any, service: Service) -> list[dict[str, Any]]:
    from ..kube.doctor import examine_object

    try:
        report = examine_object(cache, "inferenceservices", service.name, service.namespace)
    except MLOpsError:
        return []  # not in the watch cache yet: the next look has it
    return [f.model_dump(mode="json") for f in report.findings]


class ServicesHandler(ServingHandler):
    """`GET serving/services`: every served model, local and in the namespace."""

    example = "serving/services"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        def services() -> dict[str, Any]:
            serving = self.serving()
            listed = serving.list()
            on_cluster = self.state.settings.cluster != "none" and "cluster" not in listed.errors
            cache = self.state.watch_cache() if on_cluster else None
            return {
                "namespace": serving.cluster().namespace if on_cluster else None,
                "services": [service_json(serving, s, cache) for s in listed.services],
                "errors": dict(listed.errors),
            }

        self.finish(await self.state.run(services))


class ServiceHandler(ServingHandler):
    """`GET serving/services/NAME?mode=`: one served model."""

    example = "serving/services/x"

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name, mode = self.service_name(name), self.mode()

        def service() -> dict[str, Any]:
            serving = self.serving()
            found = serving.service(name, mode=mode)
            cache = self.state.watch_cache() if found.mode == "cluster" else None
            return service_json(serving, found, cache)

        self.finish(await self.state.run(service))


class MetadataHandler(ServingHandler):
    """`GET serving/services/NAME/metadata?mode=`: the model's v2 metadata (its signature)."""

    example = "serving/services/x/metadata"

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name, mode = self.service_name(name), self.mode()
        answer = await self.state.run(lambda: self.serving().metadata(name, mode=mode))
        self.finish(answer)


class PredictHandler(ServingHandler):
    """`POST serving/services/NAME/predict?mode=` with v2 `inputs` or `{"columns": {...}}`."""

    example = "serving/services/x/predict"

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        name, mode = self.service_name(name), self.mode()
        data = request_data(self.json_body())

        def predict() -> dict[str, Any]:
            prediction = self.serving().predict(name, data, mode=mode)
            answer = prediction.to_json()
            answer["table"] = table(prediction.data)
            return answer

        self.finish(await self.state.run(predict))


class ServeHandler(ServingHandler):
    """`POST serving/serve` with `{model, version | alias, name?, canary?, ...}`: apply the
    InferenceService (or update it to where the alias points now), without waiting for Ready."""

    example = "serving/serve"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        request = serve_request(self.json_body())

        def serve() -> dict[str, Any]:
            shown: list[Any] = []

            def confirm(plan: Any) -> bool:
                shown.append(plan)
                return True

            service = self.serving().serve(**request, confirm=confirm, wait=False)
            if service is None:  # confirm always agrees: unreachable, said for the types
                raise BadInput("nothing was served")
            plan = shown[0] if shown else None
            return {
                "service": service.to_json(),
                "findings": [f.to_json() for f in plan.findings] if plan else [],
                "manifest": plan.manifest if plan else None,
            }

        self.finish(await self.state.run(serve, backend="tracking"))


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadInput(f"{key} must be a string")
    return str(value)


SERVE_KEYS = {
    "model",
    "version",
    "alias",
    "name",
    "canary",
    "deployment_mode",
    "service_account",
    "runtime",
    "mode",
}


def serve_request(body: Any) -> dict[str, Any]:
    """`Serving.serve`'s arguments from a request body; `BadInput` naming what is wrong."""
    if not isinstance(body, dict):
        raise BadInput('the body must be JSON like {"model": "churn", "alias": "champion"}')
    unknown = sorted(set(body) - SERVE_KEYS)
    if unknown:
        raise BadInput(f"unknown keys {', '.join(unknown)}; use {', '.join(sorted(SERVE_KEYS))}")
    model = _text(body, "model")
    if model is None:
        raise BadInput("name the registered model: model")
    version, alias = _text(body, "version"), _text(body, "alias")
    if version is not None and alias is not None:
        raise BadInput("give a version or an alias, not both")
    if version is not None and not version.isdigit():
        raise BadInput(f"version must be a version number, not {version!r}")
    mode = _text(body, "mode") or "cluster"
    if mode not in MODES:
        raise BadInput(f"mode must be local or cluster, not {mode!r}")
    request: dict[str, Any] = {
        "model": model,
        "version_or_alias": version or (alias.lstrip("@") if alias else None),
        "name": _text(body, "name"),
        "mode": mode,
    }
    if mode == "cluster":
        request["canary"] = body.get("canary")
        request["deployment_mode"] = _text(body, "deployment_mode") or "Standard"
        request["service_account"] = _text(body, "service_account")
        request["runtime"] = _text(body, "runtime") or "auto"
    elif body.get("canary") is not None:
        raise BadInput("a canary splits a cluster's traffic: it needs mode cluster")
    return request


def request_data(body: Any) -> Any:
    """What a predict body sends: v2 `inputs` (named tensors are columns, as a column-based
    model takes them) or `{"columns": {name: [values]}}`, as a DataFrame or arrays."""
    from ..serving.protocol import decode

    if not isinstance(body, dict):
        raise BadInput('the body must be JSON like {"columns": {"x": [1.0, 2.0]}}')
    if "inputs" in body:
        inputs = body["inputs"]
        if not isinstance(inputs, list) or not all(isinstance(t, dict) for t in inputs):
            raise BadInput("inputs must be a list of v2 tensors {name, datatype, shape, data}")
        try:
            return decode(body, "inputs", "pd")
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise BadInput(f"the v2 inputs cannot be read: {exc}") from None
    columns = body.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise BadInput('send {"inputs": [v2 tensors]} or {"columns": {"name": [values]}}')
    import pandas as pd  # type: ignore[import-untyped]

    try:
        return pd.DataFrame({str(k): v if isinstance(v, list) else [v] for k, v in columns.items()})
    except (TypeError, ValueError) as exc:
        raise BadInput(f"the columns do not make a table: {exc}") from None


def table(data: Any) -> dict[str, Any]:
    """A prediction as columns and rows (at most `MAX_TABLE_ROWS`), for a table on screen."""
    import numpy as np
    import pandas as pd

    from ..serving.models import json_safe

    if isinstance(data, pd.DataFrame):
        columns = [str(c) for c in data.columns]
        rows = data.head(MAX_TABLE_ROWS).to_numpy(dtype=object).tolist()
        total = len(data)
    elif isinstance(data, Mapping):
        arrays = {str(k): np.asarray(v) for k, v in data.items()}
        columns = list(arrays)
        total = max((len(a) if a.ndim else 1 for a in arrays.values()), default=0)
        rows = [[_cell(a, i) for a in arrays.values()] for i in range(min(total, MAX_TABLE_ROWS))]
    else:
        array = np.asarray(data)
        array = array.reshape(1) if array.ndim == 0 else array
        total = len(array)
        shown = array[:MAX_TABLE_ROWS]
        if array.ndim == 2:
            columns = [f"output-{n}" for n in range(array.shape[1])]
            rows = shown.tolist()
        else:
            columns = ["prediction"]
            rows = [[v] for v in shown.tolist()]
    return {"columns": columns, "rows": json_safe(rows), "total": total}


def _cell(array: Any, row: int) -> Any:
    if array.ndim == 0:
        return array.tolist() if row == 0 else None
    return array[row].tolist() if row < len(array) else None


SERVING_ROUTES: list[tuple[str, Any]] = [
    ("serving/services", ServicesHandler),
    (f"serving/services/{NAME}/metadata", MetadataHandler),
    (f"serving/services/{NAME}/predict", PredictHandler),
    (f"serving/services/{NAME}", ServiceHandler),
    ("serving/serve", ServeHandler),
]
