"""The jupyter_server extension: thin tornado handlers over the Python API."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from ..config import configure, resolve
from ..errors import BadConfig
from .handlers import ROUTES
from .state import ServerState


def load(serverapp: Any) -> None:
    """Resolve the settings once, then register every route under `<base_url>/mlops/api/`."""
    try:
        config = configure(parent=serverapp)
        if config.workspace is None:
            config.workspace = serverapp.root_dir
        settings = resolve(config)
    except BadConfig as exc:
        serverapp.log.error("jupyter_mlops: bad configuration: %s", exc.message)
        raise
    state = ServerState(settings=settings, log=serverapp.log)
    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    web_app.settings["mlops"] = state
    web_app.add_handlers(
        ".*$",
        [(url_path_join(base_url, "mlops/api", path), handler) for path, handler in ROUTES],
    )
    serverapp.log.info(
        "jupyter_mlops: namespace %s (%s), cluster %s, pipelines %s, tracking %s",
        settings.namespace or "none",
        settings.namespace_source,
        settings.cluster,
        settings.pipelines,
        settings.tracking,
    )
