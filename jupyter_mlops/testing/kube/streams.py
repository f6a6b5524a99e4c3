"""Long-lived answers: watch streams and followed pod logs, written in large chunks."""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import time
from typing import Any

import tornado.iostream
import tornado.web

from . import tables
from .base import Base, RequestInfo, truthy
from .logs import ContainerLog, render, tail_chunks
from .selectors import parse_field_selector
from .status import ApiError, bad_request, invalid
from .store import Event, Watcher, dumps

Obj = dict[str, Any]

# Writes of this size keep a million-line log moving without one huge buffer.
CHUNK_BYTES = 1 << 20


class Wakeup:
    """Wakes one stream's coroutine from any thread; repeated wakes coalesce into one callback."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()
        self._scheduled = False
        self.stopped = False
        self.aborted = False

    def __call__(self) -> None:
        # Writers append before waking, so a wake skipped here is covered by the pending one.
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        self._scheduled = False
        self._event.set()

    def end(self, abort: bool = False) -> None:
        """Ask the stream to finish; abort=True cuts the connection instead of ending it."""
        self.stopped = True
        self.aborted = self.aborted or abort
        self()

    def clear(self) -> None:
        """Forget earlier wakes (before looking at what is pending)."""
        self._event.clear()

    async def wait(self, timeout: float | None = None) -> None:
        """Until woken, or until `timeout` seconds have passed."""
        if timeout is None:
            await self._event.wait()
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._event.wait(), max(0.0, timeout))


class StreamingHandler(Base):
    """Watches and log streams; ends them on client disconnect, drop or shutdown."""

    # Watches.

    async def _watch(self, info: RequestInfo) -> None:
        labels, fields = self._selectors(info)
        if info.name:
            fields = parse_field_selector(info.rt.key, f"metadata.name={info.name}")
        emu = self.emu
        loop = asyncio.get_running_loop()
        wake = Wakeup(loop)
        self._stream_end = wake.end
        watcher = Watcher(info.rt.key, info.namespace, labels, fields, wake)
        rv = self.get_query_argument("resourceVersion", "") or ""
        initial = truthy(self.get_query_argument("sendInitialEvents", None))
        bookmarks = truthy(self.get_query_argument("allowWatchBookmarks", None))
        timeout = self._int_arg("timeoutSeconds")
        table = self._wants_table()
        include = self.get_query_argument("includeObject", "Metadata") or "Metadata"
        override = self._api_version_override(info)
        api_version = info.rt.api_version(info.version)
        self.set_header("Content-Type", "application/json")
        try:
            emu.store.watch(info.rt, watcher, rv, initial)
        except ApiError as error:
            if error.code != 410:
                raise
            # The real server opens the stream, then sends the 410 as an ERROR event.
            self.set_status(200)
            self.finish(dumps({"type": "ERROR", "object": error.status()}) + b"\n")
            return
        emu.watch_streams.add(wake.end)
        deadline = loop.time() + timeout if timeout else None
        interval = emu.bookmark_interval
        next_bookmark = loop.time() + min(0.1, interval) if bookmarks else None
        initial_end_due = initial
        columns_sent = False
        try:
            self.set_status(200)
            await self.flush()
            while not wake.stopped:
                wake.clear()
                batch: list[bytes] = []
                while watcher.pending:
                    seen, event = watcher.pending.popleft()
                    if table:
                        batch.append(
                            self._table_event(info, seen, event, include, not columns_sent)
                        )
                        columns_sent = True
                    else:
                        batch.append(event.encoded(seen, override))
                if initial_end_due:
                    initial_end_due = False
                    batch.append(self._bookmark(watcher, info.rt.kind, api_version, True))
                if next_bookmark is not None and loop.time() >= next_bookmark:
                    bookmark = self._bookmark(watcher, info.rt.kind, api_version)
                    if bookmark:
                        batch.append(bookmark)
                    next_bookmark = loop.time() + interval
                if batch:
                    self.write(b"".join(batch))
                    await self.flush()
                waits = [t for t in (deadline, next_bookmark) if t is not None]
                if deadline is not None and loop.time() >= deadline:
                    break
                if not watcher.pending:
                    await wake.wait(min(waits) - loop.time() if waits else None)
        except tornado.iostream.StreamClosedError:
            return
        finally:
            emu.store.unwatch(watcher)
            emu.watch_streams.discard(wake.end)
        if wake.aborted:
            self.request.connection.close()  # type: ignore[union-attr]
            return
        if not self._finished:
            self.finish()

    def _bookmark(
        self, watcher: Watcher, kind: str, api_version: str, initial_end: bool = False
    ) -> bytes:
        store = self.emu.store
        with store.lock:
            if watcher.pending and not initial_end:
                return b""
            rv = store.rv
        meta: Obj = {"resourceVersion": str(rv), "creationTimestamp": None}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return (
            dumps(
                {
                    "type": "BOOKMARK",
                    "object": {"kind": kind, "apiVersion": api_version, "metadata": meta},
                }
            )
            + b"\n"
        )

    def _table_event(
        self, info: RequestInfo, seen: str, event: Event, include: str, columns: bool
    ) -> bytes:
        obj = event.new.obj
        table = tables.table(
            info.rt,
            [obj],
            include,
            obj["metadata"].get("resourceVersion", ""),
            with_columns=columns,
        )
        return dumps({"type": seen, "object": table}) + b"\n"

    # pods/log.

    async def _logs(self, info: RequestInfo) -> None:
        emu = self.emu
        pod = emu.store.get(info.rt, info.namespace, info.name).obj
        spec = pod.get("spec") or {}
        names = [str(c.get("name")) for c in spec.get("containers") or []]
        init_names = [str(c.get("name")) for c in spec.get("initContainers") or []]
        ephemeral = [str(c.get("name")) for c in spec.get("ephemeralContainers") or []]
        container = self.get_query_argument("container", None)
        if not container:
            if len(names) == 1:
                container = names[0]
            else:
                message = (
                    f"a container name must be specified for pod {info.name}, "
                    f"choose one of: [{' '.join(names)}]"
                )
                if init_names:
                    message += f" or one of the init containers: [{' '.join(init_names)}]"
                raise bad_request(message)
        elif container not in names + init_names + ephemeral:
            raise bad_request(f"container {container} is not valid for pod {info.name}")
        previous = truthy(self.get_query_argument("previous", None))
        follow = truthy(self.get_query_argument("follow", None))
        timestamps = truthy(self.get_query_argument("timestamps", None))
        tail = self._int_arg("tailLines")
        since_seconds = self._int_arg("sinceSeconds")
        limit_bytes = self._int_arg("limitBytes")
        since_time = self.get_query_argument("sinceTime", None)
        cutoff: float | None = None
        if since_seconds is not None:
            if since_seconds < 1:
                raise invalid(
                    "PodLogOptions",
                    "",
                    "",
                    [
                        (
                            "sinceSeconds",
                            "FieldValueInvalid",
                            f"Invalid value: {since_seconds}: must be greater than 0",
                        )
                    ],
                )
            cutoff = time.time() - since_seconds
        elif since_time:
            try:
                cutoff = calendar.timegm(time.strptime(since_time[:19], "%Y-%m-%dT%H:%M:%S"))
            except ValueError:
                raise bad_request(f'invalid sinceTime "{since_time}"') from None
        if previous:
            buffer = emu.logs.buffer(info.namespace, info.name, container, previous=True)
            if buffer is None:
                raise bad_request(
                    f'previous terminated container "{container}" in pod "{info.name}" not found'
                )
            follow = False
        else:
            waiting = _waiting_reason(pod, container)
            existing = emu.logs.buffer(info.namespace, info.name, container, previous=False)
            if waiting and (existing is None or not existing.lines):
                raise bad_request(
                    f'container "{container}" in pod "{info.name}" is waiting to start: {waiting}'
                )
            buffer = emu.logs.ensure(info.namespace, info.name, container)
        await self._stream_logs(
            info, container, buffer, follow, timestamps, tail, cutoff, limit_bytes
        )

    async def _stream_logs(
        self,
        info: RequestInfo,
        container: str,
        buffer: ContainerLog,
        follow: bool,
        timestamps: bool,
        tail: int | None,
        cutoff: float | None,
        limit_bytes: int | None,
    ) -> None:
        emu = self.emu
        wake = Wakeup(asyncio.get_running_loop())
        self._stream_end = wake.end
        if follow:
            emu.logs.follow(info.namespace, info.name, wake)
            emu.log_streams.add(wake.end)
        self.set_header("Content-Type", "text/plain")
        self.set_status(200)
        sent = 0
        position = len(buffer.chunks)
        chunks = buffer.chunks[:position]
        if cutoff is not None:
            chunks = [c for c in chunks if c[0] >= cutoff]
        if tail is not None:
            chunks = tail_chunks(chunks, tail)
        try:
            sent = await self._write_chunks(chunks, timestamps, sent, limit_bytes)
            if follow:
                await self.flush()  # the headers go out at once, even before the first line
            while follow and not wake.stopped and (limit_bytes is None or sent < limit_bytes):
                wake.clear()
                if len(buffer.chunks) > position:
                    fresh = buffer.chunks[position:]
                    position += len(fresh)
                    if cutoff is not None:
                        fresh = [c for c in fresh if c[0] >= cutoff]
                    sent = await self._write_chunks(fresh, timestamps, sent, limit_bytes)
                    continue
                # Checked before looking for lines: lines written before the end still go out.
                ended = self._log_source_ended(info, container, buffer)
                if len(buffer.chunks) > position:
                    continue
                if ended:
                    break
                await wake.wait()
        except tornado.iostream.StreamClosedError:
            return
        finally:
            if follow:
                emu.logs.unfollow(info.namespace, info.name, wake)
                emu.log_streams.discard(wake.end)
        if not self._finished:
            self.finish()

    def _log_source_ended(self, info: RequestInfo, container: str, buffer: ContainerLog) -> bool:
        pod = self.emu.store.find(("", "pods"), info.namespace, info.name)
        if pod is None:
            return True
        if self.emu.logs.buffer(info.namespace, info.name, container, previous=False) is not buffer:
            return True
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return True
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if cs.get("name") == container and "terminated" in (cs.get("state") or {}):
                return True
        return False

    async def _write_chunks(
        self, chunks: list[tuple[float, bytes, int]], timestamps: bool, sent: int, limit: int | None
    ) -> int:
        pending: list[bytes] = []
        size = 0
        for chunk in chunks:
            data = render(chunk, timestamps)
            if limit is not None and sent + size + len(data) > limit:
                data = data[: max(0, limit - sent - size)]
            pending.append(data)
            size += len(data)
            if size >= CHUNK_BYTES:
                self.write(b"".join(pending))
                await self.flush()
                sent += size
                pending, size = [], 0
            if limit is not None and sent + size >= limit:
                break
        if pending:
            self.write(b"".join(pending))
            await self.flush()
            sent += size
        return sent


def _waiting_reason(pod: Obj, container: str) -> str:
    status = pod.get("status") or {}
    for group in ("containerStatuses", "initContainerStatuses"):
        for cs in status.get(group) or []:
            if cs.get("name") == container:
                waiting = (cs.get("state") or {}).get("waiting")
                return (
                    str(waiting.get("reason", "ContainerCreating")) if waiting is not None else ""
                )
    if status.get("phase", "Pending") == "Pending" and (pod.get("spec") or {}).get("nodeName"):
        return "ContainerCreating"
    return ""
