"""The jupyter_server extension: thin tornado handlers over the Python API."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Type

from ..config import configure, resolve
from ..connection import Connection
from ..errors import BadConfig
from .handlers import FALLBACK, ROUTES, RefusedHandler
from .log_filter import install as mask_tokens_in_logs
from .state import ServerState


class MLOpsExtension(ExtensionApp):
    """Resolves the settings once, registers every route under `<base_url>/mlops/api/`, and
    stops the cluster watches and log streams when the server stops."""

    name = "jupyter_mlops"
    load_other_extensions = True
    connection_class = Type(
        default_value=Connection,
        klass=Connection,
        config=True,
        help="The class of the object every route and the WebSocket stand on: a subclass of "
        "jupyter_mlops.connection.Connection, made from the resolved settings.",
    )
    state: ServerState | None = None
    refused: BadConfig | None = None  # the configuration error, when there is one

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        mask_tokens_in_logs(self.serverapp.log, self.log)
        try:
            config = configure(parent=self.serverapp)
            if config.workspace is None:
                config.workspace = self.serverapp.root_dir
            settings = resolve(config)
        except BadConfig as exc:
            # Keep serving, so that the sidebar can show the reason instead of a bare 404.
            self.log.error("jupyter_mlops: bad configuration: %s", exc.message)
            self.refused = exc
            self.settings["mlops_refused"] = exc
            return
        self.state = ServerState(
            settings=settings, log=self.log, connection_class=self.connection_class
        )
        self.settings["mlops"] = self.state
        self.log.info(
            "jupyter_mlops: namespace %s (%s), cluster %s, pipelines %s, tracking %s",
            settings.namespace or "none",
            settings.namespace_source,
            settings.cluster,
            settings.pipelines,
            settings.tracking,
        )

    def initialize_handlers(self) -> None:
        routes = [("(?P<path>.*)", RefusedHandler)] if self.refused else [*ROUTES, FALLBACK]
        self.handlers.extend((url_path_join("mlops/api", path), h) for path, h in routes)

    async def stop_extension(self) -> None:
        if self.state is not None:
            self.state.close()
