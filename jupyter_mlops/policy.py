"""What may be done, and where: the guard every write to shared state passes, and which
pipelines backend holds a run, whichever surface asks."""

from __future__ import annotations

import re
from typing import Literal

from .config import Settings
from .errors import BadInput, ReadOnly


def refuse_writes(settings: Settings | bool, action: str) -> None:
    """`ReadOnly` naming `action` ("deleting pods") when the settings (or flag) say read-only.

    Called by the Python API itself (not by handlers or magics), so no surface can skip it.
    """
    if settings.read_only if isinstance(settings, Settings) else settings:
        raise ReadOnly(f"read-only mode: {action} is turned off (c.MLOpsConfig.read_only)")


Source = Literal["local", "cluster"]
SOURCES: tuple[Source, ...] = ("local", "cluster")
# Local runs are named by uuid4().hex (or its first characters); KFP's run ids are UUIDs with
# dashes, so the shape of an id tells which backend holds it.
_LOCAL_ID = re.compile(r"[0-9a-f]{4,32}")
_ID = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,127}")


def run_source(run_id: str, source: str | None = None) -> Source:
    """The backend holding `run_id`: `source` when given, else told by the id's shape.

    `BadInput` for something that is no run id, or an unknown source.
    """
    if not _ID.fullmatch(run_id):
        raise BadInput(f"{run_id!r} is not a run id")
    if source is None:
        return "local" if _LOCAL_ID.fullmatch(run_id) else "cluster"
    if source == "local":
        return "local"
    if source == "cluster":
        return "cluster"
    raise BadInput(f"source must be local or cluster, not {source!r}")
