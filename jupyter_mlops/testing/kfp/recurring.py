"""Recurring runs as the KFP server reads them: triggers, cron syntax, mode, and schedule times.

The server (``toModelJob``, ``JobServer.createJob``) checks the name, ``max_concurrency``
(1 to 10), a cron expression (``github.com/robfig/cron`` v1: 5 or 6 fields starting with
seconds, or a descriptor such as ``@every 10s``) and a periodic interval (at least 1 s). A
ScheduledWorkflow then starts runs; the emulator does that for periodic triggers, with the
controller's arithmetic (``periodic_schedule.go``), and keeps cron triggers without firing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .resources import RecurringRun
from .wire import ApiError, GrpcCode, invalid_input
from .workflow import fnv32a

__all__ = [
    "RECURRING_RUN_FIELDS",
    "Trigger",
    "due_at",
    "enabled_of",
    "max_concurrency_of",
    "run_name",
    "swf_name_base",
    "trigger_of",
]

RECURRING_RUN_FIELDS = frozenset(
    {
        "recurring_run_id",
        "display_name",
        "description",
        "pipeline_version_id",
        "pipeline_spec",
        "pipeline_version_reference",
        "runtime_config",
        "service_account",
        "max_concurrency",
        "trigger",
        "mode",
        "created_at",
        "updated_at",
        "status",
        "error",
        "no_catchup",
        "namespace",
        "experiment_id",
        "plugins_input",
    }
)
MODES = {"MODE_UNSPECIFIED": False, "ENABLE": True, "DISABLE": False, 0: False, 1: True, 2: False}
CRON_HELP = "Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron)"
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec"
WEEKDAYS = "sun mon tue wed thu fri sat"
# (name, lowest, highest, names) of the cron fields, seconds first.
CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("second", 0, 59, {}),
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            m: i + 1
            for i, m in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            )
        },
    ),
    (
        "day of week",
        0,
        6,
        {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
    ),
)
DESCRIPTORS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_DURATION = re.compile(r"^((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$")


@dataclass(frozen=True)
class Trigger:
    """A validated trigger: the API's JSON for it and, for a periodic one, its times."""

    json: dict[str, Any]
    interval: int = 0
    start: int = 0
    end: int = 0


def _bad(text: str) -> ApiError:
    return invalid_input(text)


def _seconds(value: Any, field: str) -> int:
    if value in (None, ""):
        return 0
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise ApiError(
            GrpcCode.INVALID_ARGUMENT,
            f"proto: (line 1:2): invalid value for Timestamp field {field}",
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp())


def _int64(value: Any, field: str) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError) as error:
        raise ApiError(
            GrpcCode.INVALID_ARGUMENT,
            f"proto: (line 1:2): invalid value for int64 field {field}: {value!r}",
        ) from error


def trigger_of(raw: Any) -> Trigger:
    """The trigger of a request (cron or periodic); raises ApiError (400) as the server."""
    raw = raw if isinstance(raw, Mapping) else {}
    cron = raw.get("cron_schedule")
    periodic = raw.get("periodic_schedule")
    if isinstance(cron, Mapping) and cron.get("cron"):
        check_cron(str(cron["cron"]))
        times = _times(cron, "cron_schedule")
        return Trigger(json={"cron_schedule": {**times, "cron": str(cron["cron"])}})
    if isinstance(periodic, Mapping) and periodic.get("interval_second") not in (None, "", 0, "0"):
        interval = _int64(periodic.get("interval_second"), "interval_second")
        if interval < 1:
            raise _bad(
                f"Found invalid period schedule interval {interval}. Set at interval to least 1 "
                "second"
            )
        times = _times(periodic, "periodic_schedule")
        return Trigger(
            json={"periodic_schedule": {**times, "interval_second": str(interval)}},
            interval=interval,
            start=_seconds(periodic.get("start_time"), "start_time"),
            end=_seconds(periodic.get("end_time"), "end_time"),
        )
    # An empty trigger is kept as the server keeps it: the ScheduledWorkflow runs once.
    return Trigger(json={})


def _times(schedule: Mapping[str, Any], name: str) -> dict[str, str]:
    found = {}
    for field in ("start_time", "end_time"):
        seconds = _seconds(schedule.get(field), f"{name}.{field}")
        if seconds:
            found[field] = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
    return found


def check_cron(spec: str) -> None:
    """Refuse a cron expression robfig/cron v1's default parser refuses; raises ApiError."""
    try:
        _parse_cron(spec.strip())
    except ValueError as error:
        raise _bad(f"{CRON_HELP}. Error: {error}") from None


def _parse_cron(spec: str) -> None:
    if spec.startswith("@"):
        if spec in DESCRIPTORS:
            return
        if spec.startswith("@every "):
            duration = spec[len("@every ") :].strip()
            if not _DURATION.match(duration):
                raise ValueError(
                    f"Failed to parse duration {spec}: time: invalid duration {duration!r}"
                )
            return
        raise ValueError(f"Unrecognized descriptor: {spec}")
    fields = spec.split()
    if not 5 <= len(fields) <= 6:
        raise ValueError(f"Expected 5 to 6 fields, found {len(fields)}: {spec}")
    # Five fields leave out the day of the week.
    for text, (_, low, high, names) in zip(fields, CRON_FIELDS[: len(fields)], strict=True):
        for part in text.split(","):
            _parse_range(part, low, high, names)


def _parse_range(expression: str, low: int, high: int, names: Mapping[str, int]) -> None:
    range_and_step = expression.split("/")
    if len(range_and_step) > 2:
        raise ValueError(f"Too many slashes: {expression}")
    low_and_high = range_and_step[0].split("-")
    if len(low_and_high) > 2:
        raise ValueError(f"Too many hyphens: {expression}")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _number(low_and_high[0], names)
        end = _number(low_and_high[1], names) if len(low_and_high) == 2 else start
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], {})
        if step <= 0:
            raise ValueError(f"Step of range should be a positive number: {expression}")
    if start < low:
        raise ValueError(f"Beginning of range ({start}) below minimum ({low}): {expression}")
    if end > high:
        raise ValueError(f"End of range ({end}) above maximum ({high}): {expression}")
    if start > end:
        raise ValueError(f"Beginning of range ({start}) beyond end of range ({end}): {expression}")


def _number(text: str, names: Mapping[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(
            f"Failed to parse int from {text}: strconv.Atoi: parsing {text!r}: invalid syntax"
        )
    return int(text)


def enabled_of(raw: Any) -> bool:
    """Whether a request's ``mode`` enables the recurring run (unset: disabled)."""
    if raw in (None, ""):
        return False
    if raw not in MODES:
        raise ApiError(
            GrpcCode.INVALID_ARGUMENT,
            f"proto: (line 1:2): invalid value for enum type: {raw!r}",
        )
    return MODES[raw]


def max_concurrency_of(raw: Any) -> int:
    """``max_concurrency``: from 1 to 10; raises ApiError (400) otherwise."""
    value = _int64(raw, "max_concurrency")
    if value > 10 or value < 1:
        raise _bad(
            "Max concurrency of a recurring run must be at least 1 and at most 10. "
            f"Received {value}"
        )
    return value


def swf_name_base(display_name: str) -> str:
    """The ScheduledWorkflow's generateName: lower-case letters, digits and dashes, 25 at most."""
    processed = re.sub(r"[^a-z0-9-]+", "", display_name.lower()) or "job-"
    return processed[:25]


def run_name(k8s_name: str, index: int) -> str:
    """The workflow (and run) name of the ``index``-th run a ScheduledWorkflow starts."""
    resource = f"{k8s_name}-{index}"
    return f"{resource}-{fnv32a(resource)}"


def due_at(job: RecurringRun, trigger: Trigger, at: int) -> int | None:
    """When a periodic trigger next fires, as the ScheduledWorkflow controller works it out.

    None when it never fires again (past its end time, or not a periodic trigger).
    """
    if not trigger.interval:
        return None
    last = job.last_triggered or trigger.start or job.created_at
    due = trigger.start if trigger.start > last else last + trigger.interval
    if trigger.end and trigger.end < due:
        return None
    if job.no_catchup and at >= due + trigger.interval:
        return min(at, trigger.end) if trigger.end else at
    return due
