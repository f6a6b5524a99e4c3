"""The tuning routes through a real jupyter_server: a Katib Experiment on the real control plane
(its trials played by the test as Katib's controllers, run by the real job controller and
kwok) and a local search in the server's own workspace, listed, read and stopped; every 200
answer checked against its model's schema in api/schemas.json, the one api/openapi.yaml
names."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from tornado.httpclient import HTTPClientError

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.tuning import choice, integer, tune
from tests.plane import ProfileNamespace, wait_for

from .conftest import SLOW, Notebook
from .katib_controller import EXPERIMENT_LABEL, KatibController
from .test_katib_plane import SCORE, SPACE, editor_settings, play_trial

API = Path(__file__).parents[2] / "api"
SPEC = yaml.safe_load((API / "openapi.yaml").read_text())
DEFS = json.loads((API / "schemas.json").read_text())["$defs"]

ADD = """
%%kfp_component add
def add(a: int, b: int) -> float:
    print(f"total={a + b}")
    return float(a + b)
"""


def conforms(answer: Any, model: str) -> Any:
    """`answer`, after checking it against its model's schema in api/schemas.json."""
    jsonschema.validate(answer, {"$ref": f"#/$defs/{model}", "$defs": DEFS})
    return answer


def test_the_spec_names_each_operations_model() -> None:
    answers = {
        ("experiments", "get"): "TuningList",
        ("experiments/{name}", "get"): "TuningDetail",
        ("experiments/{name}/stop", "post"): "TuningDetail",
    }
    for (path, method), model in answers.items():
        content = SPEC["paths"][f"/mlops/api/tuning/{path}"][method]["responses"]["200"]["content"]
        assert content["application/json"]["schema"] == {"$ref": f"schemas.json#/$defs/{model}"}
        assert model in DEFS


@pytest.fixture
def mlops_config(profile: ProfileNamespace, tmp_path: Path) -> dict[str, Any]:
    # The server's workspace is the notebook's: it sees the searches the test starts there.
    return {
        "workspace": str(tmp_path),
        "cluster": "kubeconfig",
        "kubeconfig": str(profile.kubeconfig),
    }


async def call(jp_fetch: Any, method: str, *path: str, **params: Any) -> Any:
    body = "{}" if method == "POST" else None
    response = await jp_fetch(
        "mlops", "api", "tuning", *path, method=method, body=body, params=params
    )
    return json.loads(response.body)


async def refused(jp_fetch: Any, method: str, *path: str, **params: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as error:
        await call(jp_fetch, method, *path, **params)
    assert error.value.response is not None
    answer = conforms(json.loads(error.value.response.body), "ErrorBody")
    assert set(answer) == {"reason", "message"}
    return error.value.code, answer["message"]


async def until(what: str, check: Callable[[], Any], timeout: float = 120.0) -> Any:
    """Await `check()` until it is truthy, giving the server the loop meanwhile."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {value!r}")
        await asyncio.sleep(0.3)


async def test_a_katib_experiment_is_listed_read_and_stopped(
    jp_fetch: Any,
    kubeflow_plane: ControlPlane,
    profile: ProfileNamespace,
    notebook: Notebook,
    tmp_path: Path,
) -> None:
    notebook.cell(SCORE)
    score = notebook.shell.user_ns["score"]
    settings = editor_settings(profile, tmp_path)
    tune(
        score,
        SPACE,
        "accuracy",
        max_trials=5,
        parallel=2,
        cluster=True,
        name="routed",
        settings=settings,
    )
    controller = KatibController(kubeflow_plane, profile.name, "routed")
    tried = [
        {"lr": "0.29", "depth": "3", "kind": "tree"},
        {"lr": "0.45", "depth": "6", "kind": "linear"},
    ]
    names = await asyncio.to_thread(
        lambda: [play_trial(controller, profile, a, tmp_path) for a in tried]
    )
    controller.summarise()
    expected = [
        score.python_func(lr=float(a["lr"]), depth=int(a["depth"]), kind=a["kind"]) for a in tried
    ]
    winner = max(range(2), key=lambda i: expected[i])

    listed = conforms(await call(jp_fetch, "GET", "experiments"), "TuningList")
    assert listed["errors"] == {}
    assert listed["namespace"] == profile.name
    (shown,) = [e for e in listed["experiments"] if e["name"] == "routed"]
    assert (shown["where"], shown["namespace"], shown["algorithm"]) == (
        "cluster",
        profile.name,
        "random",
    )
    assert (shown["trials_done"], shown["trials_total"]) == (2, 5)
    assert (shown["metric"], shown["direction"]) == ("accuracy", "maximize")
    assert shown["best"]["trial"] == names[winner]
    assert shown["best"]["value"] == pytest.approx(expected[winner])

    detail = conforms(
        await call(jp_fetch, "GET", "experiments", "routed", where="cluster"), "TuningDetail"
    )
    # The trials kubectl lists under the Experiment's label, each as the route shows it.
    on_cluster = profile.get("trials", "-l", f"{EXPERIMENT_LABEL}=routed")["items"]
    assert sorted(t["name"] for t in detail["trials"]) == sorted(
        t["metadata"]["name"] for t in on_cluster
    )
    # Oldest first, as Katib's creationTimestamp (whole seconds) and then the name order them.
    order = [
        t["metadata"]["name"]
        for t in sorted(
            on_cluster, key=lambda t: (t["metadata"]["creationTimestamp"], t["metadata"]["name"])
        )
    ]
    assert [t["name"] for t in detail["trials"]] == order
    assert [t["state"] for t in detail["trials"]] == ["Succeeded", "Succeeded"]
    objective = dict(zip(names, expected, strict=True))
    assert [t["objective"] for t in detail["trials"]] == pytest.approx(
        [objective[n] for n in order]
    )
    first = next(t for t in detail["trials"] if t["name"] == names[0])
    assert first["parameters"] == {"lr": 0.29, "depth": 3, "kind": "tree"}
    assert all(t["seconds"] is not None and t["seconds"] >= 0 for t in detail["trials"])
    assert detail["space"] == {n: p.describe() for n, p in SPACE.items()}
    charts = detail["charts"]
    assert charts["metric_by_trial"].startswith("<svg") and "<circle" in charts["metric_by_trial"]
    for name in names:
        assert f"<title>{name}</title>" in charts["parallel_coordinates"]

    # A third trial runs when Stop is pressed: it is deleted, the two that ended are kept.
    running = controller.create_trial({"lr": "0.2", "depth": "4", "kind": "tree"})
    running_name = running["metadata"]["name"]
    controller.running(running_name)
    controller.summarise()
    stopped = conforms(
        await call(jp_fetch, "POST", "experiments", "routed", "stop", where="cluster"),
        "TuningDetail",
    )
    assert stopped["stopped"] is True
    assert {t["name"]: t["state"] for t in stopped["trials"]} == {
        names[0]: "Succeeded",
        names[1]: "Succeeded",
        running_name: "Killed",
    }
    spec = profile.get("experiment", "routed")["spec"]
    assert (spec["maxTrialCount"], spec["parallelTrialCount"]) == (2, 2)
    await asyncio.to_thread(
        wait_for,
        "the stopped trial to be gone",
        lambda: profile.kubectl("get", "trial", running_name, check=False).returncode,
        60,
    )

    # Bad names and places are refused; unknown searches are not found.
    assert (await refused(jp_fetch, "GET", "experiments", "Not_A_Name"))[0] == 400
    assert (await refused(jp_fetch, "GET", "experiments", "routed", where="moon"))[0] == 400
    assert (await refused(jp_fetch, "POST", "experiments", "routed", "stop", where="x"))[0] == 400
    code, message = await refused(jp_fetch, "GET", "experiments", "nowhere", where="cluster")
    assert code == 404 and profile.name in message
    assert (await refused(jp_fetch, "GET", "experiments", "routed", where="local"))[0] == 404
    assert (await refused(jp_fetch, "POST", "experiments", "nowhere", "stop"))[0] == 404


async def test_a_local_search_is_listed_read_and_stopped(
    jp_fetch: Any, profile: ProfileNamespace, notebook: Notebook
) -> None:
    notebook.cell(ADD)
    notebook.cell(SLOW)
    settings = notebook.settings()
    ended = tune(
        notebook.shell.user_ns["add"],
        {"a": choice(1, 5), "b": integer(0, 3)},
        "total",
        max_trials=3,
        parallel=3,
        seed=3,
        name="adding",
        settings=settings,
        track=False,
    )
    done = await asyncio.to_thread(ended.wait, 240)
    assert done.state.finished
    slow = tune(
        notebook.shell.user_ns["slow"],
        {"seconds": integer(120, 130)},
        "score",
        max_trials=2,
        parallel=1,
        name="sleepy",
        settings=settings,
        track=False,
    )
    try:
        listed = conforms(await call(jp_fetch, "GET", "experiments"), "TuningList")
        local = {e["name"]: e for e in listed["experiments"] if e["where"] == "local"}
        assert set(local) == {"adding", "sleepy"}
        assert local["adding"]["state"] == done.state.value
        assert local["adding"]["trials_done"] == len(done.trials) == 3

        detail = conforms(await call(jp_fetch, "GET", "experiments", "adding"), "TuningDetail")
        totals = {
            t["name"]: float(t["parameters"]["a"] + t["parameters"]["b"]) for t in detail["trials"]
        }
        assert {t["name"]: t["objective"] for t in detail["trials"]} == totals
        best = max(totals, key=lambda n: totals[n])
        assert detail["best"]["trial"] == best
        assert detail["best"]["value"] == totals[best]

        async def sleeping() -> bool:
            answer = await call(jp_fetch, "GET", "experiments", "sleepy", where="local")
            return any(t["state"] == "Running" for t in answer["trials"])

        await until("the slow trial to run", sleeping)
        stopped = conforms(
            await call(jp_fetch, "POST", "experiments", "sleepy", "stop", where="local"),
            "TuningDetail",
        )
        assert stopped["stopped"] is True
        assert stopped["state"] in ("Succeeded", "Failed")
        assert all(t["state"] not in ("Pending", "Running") for t in stopped["trials"])
        assert slow.finished
        # A search that has ended cannot be stopped again.
        code, message = await refused(jp_fetch, "POST", "experiments", "adding", "stop")
        assert code == 409 and "already ended" in message
    finally:
        if not slow.finished:
            slow.stop()
