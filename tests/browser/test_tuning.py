"""The Tuning section in a real JupyterLab on the real control plane with Katib's CRDs: a
search applied as a Katib Experiment in a Kubeflow profile, whose trials the test runs as
Katib's controllers would (Trials, their Jobs made into pods by the real job controller and
run by kwok, their metrics as the StdOut collector reads them). The view lists it, opens it on
its trials, best trial and both charts at the default sidebar width, and Stop asks first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.tuning import tune
from tests.plane import ProfileNamespace, wait_for
from tests.tuning.conftest import Notebook, notebook
from tests.tuning.katib_controller import KatibController
from tests.tuning.test_katib_plane import SCORE, SPACE, editor_settings, play_trial

from .conftest import SIDEBAR, SIDEBAR_TAB, Lab, OpenPage, across, box, by_test_id, open_section

pytestmark = pytest.mark.browser

__all__ = ["notebook"]  # the tuning tests' IPython shell, a fixture here too

TRIED = [
    {"lr": "0.31", "depth": "2", "kind": "tree"},
    {"lr": "0.15", "depth": "7", "kind": "linear"},
]


def tune_on_katib(
    notebook: Notebook,
    profile: ProfileNamespace,
    tmp_path: Path,
    name: str,
    max_trials: int,
    parallel: int,
) -> Any:
    """The notebook's `score` tuned as a Katib Experiment `name` in the profile; `score`."""
    notebook.cell(SCORE)
    score: Any = notebook.shell.user_ns["score"]
    tune(
        score,
        SPACE,
        "accuracy",
        max_trials=max_trials,
        parallel=parallel,
        cluster=True,
        name=name,
        settings=editor_settings(profile, tmp_path),
    )
    return score


def test_the_experiment_view_shows_trials_best_and_charts_and_stop_asks_first(
    open_page: OpenPage,
    profile_lab: Lab,
    kubeflow_plane: ControlPlane,
    profile: ProfileNamespace,
    notebook: Notebook,
    tmp_path: Path,
) -> None:
    score = tune_on_katib(notebook, profile, tmp_path, "viewed", max_trials=4, parallel=2)
    controller = KatibController(kubeflow_plane, profile.name, "viewed")
    names = [play_trial(controller, profile, a, tmp_path) for a in TRIED]
    running = controller.create_trial({"lr": "0.2", "depth": "4", "kind": "tree"})
    running_name = running["metadata"]["name"]
    controller.running(running_name)
    controller.summarise()
    values = [
        score.python_func(lr=float(a["lr"]), depth=int(a["depth"]), kind=a["kind"]) for a in TRIED
    ]
    winner, other = (0, 1) if values[0] > values[1] else (1, 0)

    with open_page(profile_lab, "tuning-story") as page:
        section = open_section(page, "tuning")
        card = section.locator('[data-testid="mlops-tuning"][data-name="viewed"]')
        expect(card).to_have_attribute("data-where", "cluster")
        expect(by_test_id(card, "mlops-tuning-where")).to_have_text("Katib")
        expect(by_test_id(card, "mlops-tuning-progress")).to_have_text("2/4 ended")
        expect(by_test_id(card, "mlops-tuning-objective")).to_have_text("accuracy (maximize)")
        expect(by_test_id(card, "mlops-tuning-best-value")).to_contain_text(names[winner])

        # Opened: the trials kubectl lists, the best one marked, both charts drawn.
        by_test_id(card, "mlops-tuning-open").click()
        panel = by_test_id(card, "mlops-tuning-panel")
        rows = by_test_id(panel, "mlops-tuning-trial")
        trials = profile.get("trials")["items"]
        on_cluster = [t["metadata"]["name"] for t in trials]
        assert sorted(on_cluster) == sorted([*names, running_name])
        expect(rows).to_have_count(3)
        # Oldest first, as Katib's creationTimestamp (whole seconds) and then the name order them.
        oldest = min(
            trials, key=lambda t: (t["metadata"]["creationTimestamp"], t["metadata"]["name"])
        )["metadata"]["name"]
        expect(rows.nth(0)).to_have_attribute("data-name", oldest)
        first = panel.locator(f'tr[data-name="{names[0]}"]')
        for key, value in TRIED[0].items():
            expect(by_test_id(first, "mlops-tuning-trial-params")).to_contain_text(f"{key}={value}")
        best = by_test_id(panel, "mlops-tuning-best")
        expect(best).to_have_attribute("data-trial", names[winner])
        for key, value in TRIED[winner].items():
            expect(best.locator(f'[data-name="{key}"]')).to_have_text(f"{key}={value}")
        expect(panel.locator('tr[data-best="true"]')).to_have_attribute("data-name", names[winner])
        expect(panel.locator(f'tr[data-name="{running_name}"]')).to_have_attribute(
            "data-state", "Running"
        )
        for chart in ("mlops-tuning-chart-metric", "mlops-tuning-chart-parallel"):
            image = by_test_id(panel, chart).locator("img")
            expect(image).to_be_visible()
            assert image.evaluate("img => img.complete && img.naturalWidth > 0"), chart

        # Sorted by the metric: best first (it is maximised), then the other way round.
        by_test_id(panel, "mlops-tuning-sort-metric").click()
        expect(rows.nth(0)).to_have_attribute("data-name", names[winner])
        expect(rows.nth(1)).to_have_attribute("data-name", names[other])
        by_test_id(panel, "mlops-tuning-sort-metric").click()
        expect(rows.nth(0)).to_have_attribute("data-name", names[other])
        # The trial without a metric stays last either way.
        expect(rows.nth(2)).to_have_attribute("data-name", running_name)

        # At the default width nothing needs sideways scrolling.
        sidebar = box(page.locator(SIDEBAR))
        assert section.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
        assert card.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
        for part in (by_test_id(panel, "mlops-tuning-trials"), best, *charts(panel)):
            part.scroll_into_view_if_needed()
            assert across(part, sidebar), part

        # Stop asks first: cancelled, nothing changes on the cluster.
        stop = by_test_id(panel, "mlops-tuning-stop")
        stop.click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Stop the search?")
        dialog.locator("button", has_text="Cancel").click()
        expect(dialog).to_have_count(0)
        assert profile.get("experiment", "viewed")["spec"]["maxTrialCount"] == 4
        assert profile.kubectl("get", "trial", running_name, check=False).returncode == 0

        # Agreed: the running trial is deleted, the two ended ones are kept, no more start.
        stop.click()
        dialog.locator("button", has_text="Stop search").click()
        expect(dialog).to_have_count(0)
        wait_for(
            "the stopped trial to be gone",
            lambda: profile.kubectl("get", "trial", running_name, check=False).returncode,
            timeout=60,
        )
        spec = profile.get("experiment", "viewed")["spec"]
        assert (spec["maxTrialCount"], spec["parallelTrialCount"]) == (2, 2)
        expect(by_test_id(card, "mlops-tuning-progress")).to_have_text("2/2 ended")
        expect(rows).to_have_count(2)
        expect(panel.locator(f'tr[data-name="{running_name}"]')).to_have_count(0)
        expect(by_test_id(panel, "mlops-tuning-stop-error")).to_have_count(0)


def charts(panel: Locator) -> list[Locator]:
    return [by_test_id(panel, f"mlops-tuning-chart-{c}") for c in ("metric", "parallel")]


def test_stop_is_hidden_when_the_panel_is_read_only(
    open_page: OpenPage,
    profile_lab: Lab,
    profile: ProfileNamespace,
    notebook: Notebook,
    tmp_path: Path,
) -> None:
    tune_on_katib(notebook, profile, tmp_path, "watched", max_trials=2, parallel=1)
    profile_lab.put_settings("jupyter-mlops:plugin", {"refreshInterval": 2, "readOnly": True})
    with open_page(profile_lab, "tuning-read-only") as page:
        page.click(SIDEBAR_TAB)
        expect(by_test_id(page, "mlops-read-only")).to_be_visible()
        card = page.locator('[data-testid="mlops-tuning"][data-name="watched"]')
        expect(card).to_have_attribute("data-state", "Created")
        by_test_id(card, "mlops-tuning-open").click()
        panel = by_test_id(card, "mlops-tuning-panel")
        expect(by_test_id(panel, "mlops-tuning-best")).to_contain_text("No trial has reported")
        expect(by_test_id(panel, "mlops-tuning-stop")).to_have_count(0)
