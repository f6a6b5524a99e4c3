"""The sidebar's status poll and the real API server: a kept report asks it nothing, and a
revoked token still shows once the report is `STATUS_TTL` old."""

from __future__ import annotations

import asyncio
import logging
import time

from jupyter_mlops.checks import StatusReport
from jupyter_mlops.config import configure, resolve
from jupyter_mlops.server.state import STATUS_TTL, ServerState
from jupyter_mlops.testing.kubeflow_plane import EDITOR
from tests.plane import ProfileNamespace, wait_for

from .helpers import counted

# The sidebar asks for the status this often while it is open.
SIDEBAR_POLL = 10.0


def refused(report: StatusReport) -> StatusReport | None:
    return None if report.cluster.reachable else report


def test_kept_status_asks_nothing_and_a_revoked_token_shows_within_the_ttl(
    profile: ProfileNamespace,
) -> None:
    settings = resolve(configure(kubeconfig=str(profile.kubeconfig)), env={}, root=profile.tmp_path)
    state = ServerState(settings=settings, log=logging.getLogger("test"))

    def status() -> StatusReport:
        return asyncio.run(state.status.get())

    try:
        with counted(
            profile.admin, EDITOR, lambda: profile.cluster().can_i("list", "pods")
        ) as asked:
            assert status().cluster.reachable
            checked = time.monotonic()
            first = asked.since()["other"]
            assert first == 2, first  # GET /version and one SelfSubjectAccessReview
            # Polls within the TTL are answered from the kept report.
            for _ in range(3):
                assert status().cluster.reachable
            assert asked.since()["other"] == first

            # The token dies with its ServiceAccount; the API server notices within 10 s
            # (its token cache), the kept report once it is STATUS_TTL old.
            profile.admin.kubectl("delete", "serviceaccount", EDITOR)
            report = wait_for(
                "the status to say the token is refused",
                lambda: refused(status()),
                timeout=STATUS_TTL + SIDEBAR_POLL + 30,
            )
            assert "401" in (report.cluster.reason or "")
            assert time.monotonic() - checked >= STATUS_TTL
    finally:
        state.close()
