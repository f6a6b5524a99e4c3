"""Per-server state shared by every handler: settings, a thread pool, cached checks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..checks import StatusReport, status
from ..config import Settings

T = TypeVar("T")

STATUS_TTL = 5.0


class CachedCall(Generic[T]):
    """A blocking call run off the event loop, shared by concurrent callers, kept for `ttl` s."""

    def __init__(self, call: Callable[[], T], ttl: float, pool: ThreadPoolExecutor) -> None:
        self._call = call
        self._ttl = ttl
        self._pool = pool
        self._value: T | None = None
        self._at = 0.0
        self._pending: asyncio.Future[T] | None = None

    async def get(self, *, fresh: bool = False) -> T:
        if not fresh and self._value is not None and time.monotonic() - self._at < self._ttl:
            return self._value
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = asyncio.ensure_future(loop.run_in_executor(self._pool, self._call))
        pending = self._pending
        try:
            value = await asyncio.shield(pending)
        finally:
            if self._pending is pending and pending.done():
                self._pending = None
        self._value, self._at = value, time.monotonic()
        return value


@dataclass
class ServerState:
    """What the handlers share; created once when the extension loads."""

    settings: Settings
    log: logging.Logger
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="mlops")
    )
    status: CachedCall[StatusReport] = field(init=False)

    def __post_init__(self) -> None:
        self.status = CachedCall(lambda: status(settings=self.settings), STATUS_TTL, self.pool)
