"""MLflow routes under `mlops/api/mlflow/`: experiments, runs, metric charts, artifacts, models."""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import BadInput
from .base import MLOpsHandler

if TYPE_CHECKING:
    from ..tracking import Tracking

ID = r"(?P<run_id>[^/]+)"
EXPERIMENT = r"(?P<experiment_id>[^/]+)"
MODEL = r"(?P<name>[^/]+)"
MAX_PAGE = 1000
DEFAULT_POINTS = 500
CHUNK = 64 * 1024


class TrackingHandler(MLOpsHandler):
    """Shared parsing of the MLflow routes' arguments, and the server's one `Tracking`."""

    def tracking(self) -> Tracking:
        return self.state.tracking()

    def text(self, name: str) -> str:
        return (self.get_query_argument(name, "") or "").strip()

    def names(self, name: str) -> list[str] | None:
        """A comma-separated list (`params=lr,depth`); None when the argument is absent."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return None
        return [part.strip() for part in raw.split(",") if part.strip()]

    def page(self) -> dict[str, Any]:
        return {
            "max_results": self.integer("max_results", 100, 1, MAX_PAGE),
            "page_token": self.text("page_token") or None,
        }


class ExperimentsHandler(TrackingHandler):
    """`GET mlflow/experiments?name=&max_results=&page_token=`: experiments by name, paged."""

    example = "mlflow/experiments"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        name, page = self.text("name"), self.page()
        answer = await self.state.run(
            lambda: self.tracking().experiments(name, **page), backend="tracking"
        )
        self.finish(answer.model_dump_json())


class RunsHandler(TrackingHandler):
    """`GET mlflow/experiments/ID/runs?filter=&order_by=&params=&metrics=&page_token=&…`."""

    example = "mlflow/experiments/0/runs"

    @web.authenticated
    @authorized
    async def get(self, experiment_id: str) -> None:
        page = self.page()
        text, params, metrics = self.text("filter"), self.names("params"), self.names("metrics")
        order_by = [o.strip() for o in self.get_query_arguments("order_by") if o.strip()]
        answer = await self.state.run(
            lambda: self.tracking().runs(
                experiment_id,
                filter=text,
                order_by=order_by,
                params=params,
                metrics=metrics,
                **page,
            ),
            backend="tracking",
        )
        self.finish(answer.model_dump_json())


class RunHandler(TrackingHandler):
    """`GET mlflow/runs/ID`: a run's params, latest metrics and tags."""

    example = "mlflow/runs/x"

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        answer = await self.state.run(lambda: self.tracking().run(run_id), backend="tracking")
        self.finish(answer.model_dump_json())


class HistoryHandler(TrackingHandler):
    """`GET mlflow/runs/ID/history?key=&points=`: a metric's values, downsampled."""

    example = "mlflow/runs/x/history"

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        from ..tracking.client import MAX_POINTS
        from ..tracking.downsample import MIN_POINTS

        key = self.text("key")
        if not key:
            raise BadInput("name the metric: ?key=…")
        points = self.integer("points", DEFAULT_POINTS, MIN_POINTS, MAX_POINTS)
        answer = await self.state.run(
            lambda: self.tracking().metric_history(run_id, key, points=points), backend="tracking"
        )
        self.finish(answer.model_dump_json())


class ArtifactsHandler(TrackingHandler):
    """`GET mlflow/runs/ID/artifacts?path=`: the files and folders under one folder."""

    example = "mlflow/runs/x/artifacts"

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        from ..tracking.client import artifact_path
        from .models.tracking import MlflowArtifactList

        path = artifact_path(self.get_query_argument("path", "") or "", allow_root=True)
        listed = await self.state.run(
            lambda: self.tracking().artifacts(run_id, path), backend="tracking"
        )
        artifacts = [a.model_dump() for a in listed]
        answer = MlflowArtifactList.model_validate(
            {"run_id": run_id, "path": path, "artifacts": artifacts}
        )
        self.finish(answer.model_dump_json())


class ArtifactDownloadHandler(TrackingHandler):
    """`GET mlflow/runs/ID/artifacts/download?path=`: one artifact file, streamed."""

    example = "mlflow/runs/x/artifacts/download"

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        from ..tracking.client import artifact_path

        path = artifact_path(self.get_query_argument("path", "") or "")
        folder = tempfile.mkdtemp(prefix="mlops-artifact-")
        try:
            local = await self.state.run(
                lambda: self.tracking().download_artifact(run_id, path, folder), backend="tracking"
            )
            kind = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
            self.set_header("Content-Type", kind)
            self.set_header("Content-Length", str(local.stat().st_size))
            quoted = local.name.replace("\\", "_").replace('"', "_")
            self.set_header("Content-Disposition", f'attachment; filename="{quoted}"')
            with local.open("rb") as stream:
                # Chunk by chunk: an artifact may be larger than the server's memory allows.
                while chunk := await self.state.run(stream.read, CHUNK, backend="local"):
                    self.write(chunk)
                    await self.flush()
            self.finish()
        finally:
            await self.state.run(shutil.rmtree, folder, True, backend="local")


class ModelsHandler(TrackingHandler):
    """`GET mlflow/models?name=&max_results=&page_token=`: registered models with aliases."""

    example = "mlflow/models"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        name, page = self.text("name"), self.page()
        answer = await self.state.run(
            lambda: self.tracking().models(name, **page), backend="tracking"
        )
        self.finish(answer.model_dump_json())


class ModelHandler(TrackingHandler):
    """`GET mlflow/models/NAME`: one registered model and its aliases."""

    example = "mlflow/models/x"

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        answer = await self.state.run(lambda: self.tracking().model(name), backend="tracking")
        self.finish(answer.model_dump_json())


class ModelVersionsHandler(TrackingHandler):
    """`GET mlflow/models/NAME/versions?max_results=&page_token=`: versions, newest first."""

    example = "mlflow/models/x/versions"

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        page = self.page()
        answer = await self.state.run(
            lambda: self.tracking().model_versions(name, **page), backend="tracking"
        )
        self.finish(answer.model_dump_json())


TRACKING_ROUTES: list[tuple[str, Any]] = [
    ("mlflow/experiments", ExperimentsHandler),
    (f"mlflow/experiments/{EXPERIMENT}/runs", RunsHandler),
    (f"mlflow/runs/{ID}", RunHandler),
    (f"mlflow/runs/{ID}/history", HistoryHandler),
    (f"mlflow/runs/{ID}/artifacts", ArtifactsHandler),
    (f"mlflow/runs/{ID}/artifacts/download", ArtifactDownloadHandler),
    ("mlflow/models", ModelsHandler),
    (f"mlflow/models/{MODEL}", ModelHandler),
    (f"mlflow/models/{MODEL}/versions", ModelVersionsHandler),
]
