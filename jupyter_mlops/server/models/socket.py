"""The messages of the `mlops/api/ws` WebSocket, both ways (`server/socket.py` speaks them).

A client message is one JSON object with an `op`; a server frame is a JSON array of
`LiveServerMessage`s, each with the `id` of the request it answers (null for a message that
could not be read) and a `type`. The server encodes row pushes by hand, on a hot path: these
models document the bytes, and the tests validate every frame against them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from ...kube.doctor import Finding, Unreadable
from .kube import KubeRow
from .pipelines import RunsPush

Id = Annotated[str, Field(min_length=1, max_length=128, description="The request's own id.")]


class _Message(BaseModel):
    # A renamed or unknown field is refused, so the schema cannot drift from the wire.
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- client → server


class LiveSubscribe(_Message):
    """Watch the rows of a kind: answered by a `snapshot`, then row changes."""

    op: Literal["subscribe"]
    id: Id
    kind: str = Field(min_length=1, max_length=253, description="Plural, singular or short name.")
    namespace: str | None = Field(default=None, description="Empty or null: the server's own.")


class LiveUnsubscribe(_Message):
    """Stop a `subscribe` of the same id."""

    op: Literal["unsubscribe"]
    id: Id


class LiveFollow(_Message):
    """Follow a pod's log: answered by `lines` messages, then `end`."""

    op: Literal["follow"]
    id: Id
    pod: str = Field(description="The pod's name.")
    container: str | None = Field(default=None, description="Empty or null: the first one.")
    namespace: str | None = Field(default=None, description="Empty or null: the server's own.")
    tail: int = Field(default=1000, ge=0, le=100_000, description="Lines of the past to send.")
    previous: bool = Field(default=False, description="The previous run's log (not followed).")


class LiveUnfollow(_Message):
    """Stop a `follow` of the same id."""

    op: Literal["unfollow"]
    id: Id


class LiveWatchRuns(_Message):
    """Watch the pipeline runs of every source: answered by `runs` pushes."""

    op: Literal["watch-runs"]
    id: Id


class LiveUnwatchRuns(_Message):
    """Stop a `watch-runs` of the same id."""

    op: Literal["unwatch-runs"]
    id: Id


class LiveWatchDoctor(_Message):
    """Watch the doctor's findings in a namespace: answered by `findings` pushes."""

    op: Literal["watch-doctor"]
    id: Id
    namespace: str | None = Field(default=None, description="Empty or null: the server's own.")


class LiveUnwatchDoctor(_Message):
    """Stop a `watch-doctor` of the same id."""

    op: Literal["unwatch-doctor"]
    id: Id


class LiveClientMessage(
    RootModel[
        Annotated[
            LiveSubscribe
            | LiveUnsubscribe
            | LiveFollow
            | LiveUnfollow
            | LiveWatchRuns
            | LiveUnwatchRuns
            | LiveWatchDoctor
            | LiveUnwatchDoctor,
            Field(discriminator="op"),
        ]
    ]
):
    """Any message the browser sends; any other field is refused with an `error`."""


# ---------------------------------------------------------------- server → client


class LiveSnapshot(_Message):
    """Every row of a subscribed table, and its columns, in the table's order."""

    id: Id
    type: Literal["snapshot"]
    rows: list[KubeRow] = Field(description="Every row, as the kube table page gives them.")
    columns: list[str] = Field(description="The kind's columns beyond the common fields.")


class LiveRowChange(_Message):
    """One object of a subscribed table was added, changed or deleted: its row (as it was
    last, for DELETED)."""

    id: Id
    type: Literal["ADDED", "MODIFIED", "DELETED"]
    # No description: one beside the $ref would make the TypeScript generator copy KubeRow.
    row: KubeRow


class LiveSynced(_Message):
    """The table's watch is current again after a relist."""

    id: Id
    type: Literal["synced"]


class LiveLines(_Message):
    """Log lines of a followed pod, in order."""

    id: Id
    type: Literal["lines"]
    lines: list[str] = Field(description="The lines, without their newline.")
    skipped: int = Field(ge=0, description="Lines dropped before these: the browser was slow.")


class LiveEnd(_Message):
    """A followed log ended: the container stopped."""

    id: Id
    type: Literal["end"]


class LiveError(_Message):
    """A request was refused or failed; the channel stays open."""

    id: Id | None = Field(description="Null when the message was not readable enough to tell.")
    type: Literal["error"]
    reason: str = Field(description="Short name of the failure, as ErrorBody's.")
    message: str = Field(description="What went wrong and what to do, in words.")


class LiveFindings(_Message):
    """The doctor's findings: all of them first (`snapshot`), then what changed."""

    id: Id
    type: Literal["findings"]
    snapshot: bool = Field(default=False, description="Set on the first push only.")
    findings: dict[str, Finding] = Field(
        description="By key `Kind/name/cause` (`#2`…): added or changed, or all in a snapshot."
    )
    gone: list[str] = Field(description="Keys of the findings no longer true.")
    unreadable: list[Unreadable] = Field(description="What this identity could not read.")


class LiveServerMessage(
    RootModel[
        Annotated[
            LiveSnapshot
            | LiveRowChange
            | LiveSynced
            | LiveLines
            | LiveEnd
            | LiveError
            | RunsPush
            | LiveFindings,
            Field(discriminator="type"),
        ]
    ]
):
    """Any message of a server frame (a frame is a JSON array of them)."""


#: Every model of the WebSocket, in the order `api/schemas.json` lists them.
MODELS: list[type[BaseModel]] = [LiveClientMessage, LiveServerMessage]
