"""Serving routes under `mlops/api/serving/`: served models, their signature, a prediction, and
serving a registered version (or rolling out an alias) from the sidebar."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import BadInput, MLOpsError, Unavailable
from .base import MLOpsHandler

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from ..serving import Service, Serving
    from .models.serving import ServeRequest, ServingService

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


def wire(model: BaseModel) -> dict[str, Any]:
    """A model as the JSON the route answers."""
    answer: dict[str, Any] = model.model_dump(mode="json")
    return answer


def service_model(serving: Serving, service: Service, cache: Any | None) -> ServingService:
    """A served model for the sidebar: with the doctor's findings when an InferenceService is
    not Ready, and where its alias points now, so a moved alias can be rolled out."""
    from .models.serving import ServingService

    findings: list[dict[str, Any]] = []
    alias_version = None
    if service.mode == "cluster" and not service.ready and cache is not None:
        findings = _findings(cache, service)
    if service.model and service.alias:
        try:
            alias_version = serving.alias_version(service.model, service.alias)
        except MLOpsError:
            alias_version = None  # MLflow is down or the model is gone: not known
    answer = {**service.to_json(), "findings": findings, "alias_version": alias_version}
    return ServingService.model_validate(answer)


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
            from .models.serving import ServingServiceList

            serving = self.serving()
            listed = serving.list()
            on_cluster = self.state.settings.cluster != "none" and "cluster" not in listed.errors
            cache = self.state.watch_cache() if on_cluster else None
            answer = ServingServiceList(
                namespace=serving.cluster().namespace if on_cluster else None,
                services=[service_model(serving, s, cache) for s in listed.services],
                errors=dict(listed.errors),
            )
            return wire(answer)

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
            return wire(service_model(serving, found, cache))

        self.finish(await self.state.run(service))


class MetadataHandler(ServingHandler):
    """`GET serving/services/NAME/metadata?mode=`: the model's v2 metadata (its signature)."""

    example = "serving/services/x/metadata"

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name, mode = self.service_name(name), self.mode()

        def metadata() -> dict[str, Any]:
            from pydantic import ValidationError

            from .models.serving import ServingMetadata

            document = self.serving().metadata(name, mode=mode)
            try:
                return wire(ServingMetadata.model_validate(document))
            except ValidationError as exc:
                # The model server's own document: not ours to fix, and not a 500 of ours.
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise Unavailable(
                    "serving",
                    f"the model server of {name} sent metadata that is not the v2 protocol's "
                    f"({where}: {first['msg']}); check its runtime",
                ) from None

        self.finish(await self.state.run(metadata))


class PredictHandler(ServingHandler):
    """`POST serving/services/NAME/predict?mode=` with v2 `inputs` or `{"columns": {...}}`."""

    example = "serving/services/x/predict"

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        name, mode = self.service_name(name), self.mode()
        data = request_data(self.json_body())

        def predict() -> dict[str, Any]:
            from .models.serving import ServingPrediction

            prediction = self.serving().predict(name, data, mode=mode)
            answer = {**prediction.to_json(), "table": table(prediction.data)}
            return wire(ServingPrediction.model_validate(answer))

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
            from .models.serving import ServeAnswer

            shown: list[Any] = []

            def confirm(plan: Any) -> bool:
                shown.append(plan)
                return True

            service = self.serving().serve(**request, confirm=confirm, wait=False)
            if service is None:  # confirm always agrees: unreachable, said for the types
                raise BadInput("nothing was served")
            plan = shown[0] if shown else None
            answer = {
                "service": service.to_json(),
                "findings": [f.to_json() for f in plan.findings] if plan else [],
                "manifest": plan.manifest if plan else None,
            }
            return wire(ServeAnswer.model_validate(answer))

        self.finish(await self.state.run(serve, backend="tracking"))


def invalid(error: ValidationError, what: str) -> BadInput:
    """The first few of pydantic's complaints about a body, as one `BadInput`."""
    said = [
        f"{'.'.join(str(p) for p in e['loc']) or 'the body'}: {e['msg']}"
        for e in error.errors(include_url=False)[:3]
    ]
    return BadInput(f"{what}: {'; '.join(said)}")


def serve_request(body: Any) -> dict[str, Any]:
    """`Serving.serve`'s arguments from a request body (a `ServeRequest`); `BadInput` naming
    what is wrong."""
    from pydantic import ValidationError

    from .models.serving import ServeRequest

    if not isinstance(body, dict):
        raise BadInput('the body must be JSON like {"model": "churn", "alias": "champion"}')
    keys = set(ServeRequest.model_fields)
    unknown = sorted(set(body) - keys)
    if unknown:
        raise BadInput(f"unknown keys {', '.join(unknown)}; use {', '.join(sorted(keys))}")
    if body.get("model") in (None, ""):
        raise BadInput("name the registered model: model")
    # An empty text field means "not given", as the sidebar's empty inputs send it.
    given = {k: v for k, v in body.items() if v != ""}
    try:
        parsed = ServeRequest.model_validate(given)
    except ValidationError as error:
        raise invalid(error, "the serve request is not valid") from None
    return serve_arguments(parsed)


def serve_arguments(parsed: ServeRequest) -> dict[str, Any]:
    """`Serving.serve`'s arguments for a valid request, its defaults filled in."""
    version, alias = parsed.version, parsed.alias
    if version is not None and alias is not None:
        raise BadInput("give a version or an alias, not both")
    if version is not None and not version.isdigit():
        raise BadInput(f"version must be a version number, not {version!r}")
    mode = parsed.mode or "cluster"
    request: dict[str, Any] = {
        "model": parsed.model,
        "version_or_alias": version or (alias.lstrip("@") if alias else None),
        "name": parsed.name,
        "mode": mode,
    }
    if mode == "cluster":
        request["canary"] = parsed.canary
        request["deployment_mode"] = parsed.deployment_mode or "Standard"
        request["service_account"] = parsed.service_account
        request["runtime"] = parsed.runtime or "auto"
    elif parsed.canary is not None:
        raise BadInput("a canary splits a cluster's traffic: it needs mode cluster")
    return request


def request_data(body: Any) -> Any:
    """What a predict body (a `PredictBody`) sends: v2 `inputs` (named tensors are columns,
    as a column-based model takes them) or `{"columns": {name: [values]}}`, as a DataFrame or
    arrays."""
    from pydantic import ValidationError

    from ..serving.protocol import decode
    from .models.serving import PredictColumns, PredictInputs

    if not isinstance(body, dict):
        raise BadInput('the body must be JSON like {"columns": {"x": [1.0, 2.0]}}')
    if "inputs" in body:
        try:
            inputs = PredictInputs.model_validate(body)
        except ValidationError as error:
            what = "inputs must be a list of v2 tensors {name, datatype, shape, data}"
            raise invalid(error, what) from None
        try:
            return decode(inputs.model_dump(exclude_unset=True), "inputs", "pd")
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise BadInput(f"the v2 inputs cannot be read: {exc}") from None
    try:
        columns = PredictColumns.model_validate(body).columns
    except ValidationError:
        raise BadInput('send {"inputs": [v2 tensors]} or {"columns": {"name": [values]}}') from None
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
