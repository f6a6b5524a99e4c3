"""The kernel's one `Connection`, shared by every magic: made again only when `%config
MLOpsConfig` changes the settings, so a backend is built once, not once per command."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from IPython.core.magic import Magics

from ..connection import Connection

_BY_SHELL: weakref.WeakKeyDictionary[Any, Connection] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def connection(shell: Any) -> Connection:
    """The connection of this shell's current settings (the old one closed if they changed)."""
    from ..config import configure, resolve

    settings = resolve(configure(parent=shell))
    with _LOCK:
        known = _BY_SHELL.get(shell)
        if known is not None and known.settings == settings:
            return known
        made = _BY_SHELL[shell] = Connection(settings)
    if known is not None:
        known.close()
    return made


class ConnectedMagics(Magics):
    """Magics that stand on the kernel's `Connection`."""

    @property
    def connection(self) -> Connection:
        return connection(self.shell)

    def close(self) -> None:
        """Close the kernel's cluster connection (local servers and searches keep running);
        the next command makes a new one."""
        self.connection.close()
