"""Async code on its own event loop and blocking clients in other threads share one emulator."""

from __future__ import annotations

import asyncio
import json

from kubernetes import client
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE


async def test_async_watch_sees_writes_made_by_a_blocking_client(
    emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    emulator.controllers = False
    version = core.list_namespaced_config_map(PROFILE).metadata.resource_version
    lines: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    buffer = bytearray()

    def on_chunk(chunk: bytes) -> None:
        buffer.extend(chunk)
        while b"\n" in buffer:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            lines.put_nowait(json.loads(line))

    http = AsyncHTTPClient()
    request = HTTPRequest(
        f"{emulator.url}/api/v1/namespaces/{PROFILE}/configmaps?watch=true&resourceVersion={version}&timeoutSeconds=10",
        headers={"Authorization": "Bearer admin"},
        streaming_callback=on_chunk,
        request_timeout=30,
    )
    watching = asyncio.ensure_future(http.fetch(request))
    # The blocking client runs in a worker thread while this loop keeps streaming.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(
        None, lambda: core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "a"}})
    )
    await loop.run_in_executor(
        None, lambda: core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "b"}})
    )
    first = await asyncio.wait_for(lines.get(), 10)
    second = await asyncio.wait_for(lines.get(), 10)
    assert [first["type"], second["type"]] == ["ADDED", "ADDED"]
    assert [first["object"]["metadata"]["name"], second["object"]["metadata"]["name"]] == ["a", "b"]  # type: ignore[index]
    emulator.drop_watches()
    response = await watching
    assert response.code == 200


async def test_concurrent_async_requests(emulator: KubeEmulator) -> None:
    http = AsyncHTTPClient()
    answers = await asyncio.gather(
        *[
            http.fetch(
                f"{emulator.url}/api/v1/namespaces", headers={"Authorization": "Bearer admin"}
            )
            for _ in range(20)
        ]
    )
    assert {a.code for a in answers} == {200}
    assert emulator.request_count(verb="list", path_prefix="/api/v1/namespaces") == 20
