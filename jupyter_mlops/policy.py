"""What may be done: the guard every write to shared state passes, whichever surface asks."""

from __future__ import annotations

from .config import Settings
from .errors import ReadOnly


def refuse_writes(settings: Settings | bool, action: str) -> None:
    """`ReadOnly` naming `action` ("deleting pods") when the settings (or flag) say read-only.

    Called by the Python API itself (not by handlers or magics), so no surface can skip it.
    """
    if settings.read_only if isinstance(settings, Settings) else settings:
        raise ReadOnly(f"read-only mode: {action} is turned off (c.MLOpsConfig.read_only)")
