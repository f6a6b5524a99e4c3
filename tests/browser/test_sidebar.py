"""The MLOps sidebar in a real JupyterLab, driven through headless Chromium as a user would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, Response, WebSocket, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import SIDEBAR_TAB, by_test_id

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PANEL = "#jupyter-mlops-sidebar"
PLUGIN_ID = "jupyter-mlops:plugin"
THEME_PLUGIN_ID = "@jupyterlab/apputils-extension:themes"
STATUS_PATH = "mlops/api/status"
SECTIONS = [("cluster", "Cluster"), ("pipelines", "Pipelines"), ("tracking", "MLflow")]


@pytest.fixture
def restore_settings(lab: Any) -> Iterator[None]:
    """Put our settings and the theme back to their defaults after a test changes them."""
    yield
    lab.put_settings(PLUGIN_ID, {})
    lab.put_settings(THEME_PLUGIN_ID, {})


def run_from_menu(page: Page, *labels: str) -> None:
    """Click through the main menu bar, e.g. Settings, Theme, JupyterLab Dark."""
    page.locator(".lm-MenuBar-item").filter(has_text=labels[0]).click()
    for label in labels[1:]:
        item = page.locator(".lm-Menu .lm-Menu-item").filter(
            has=page.locator(".lm-Menu-itemLabel").get_by_text(label, exact=True)
        )
        item.click()


def open_panel(page: Page) -> Locator:
    """Open the panel from its sidebar tab and wait for the first status to show."""
    page.click(SIDEBAR_TAB)
    panel = page.locator(PANEL)
    expect(by_test_id(page, "mlops-section-cluster")).to_be_visible()
    return panel


def is_status(url: str, *, fresh: bool = False) -> bool:
    """Whether a request is the status route's; `fresh` tells the refresh button's from polls."""
    parts = urlsplit(url)
    asked_fresh = "fresh=1" in parts.query.split("&")
    return parts.path.endswith("/" + STATUS_PATH) and asked_fresh == fresh


def is_poll(message: Request | Response) -> bool:
    return is_status(message.url)


def state_words(backend: dict[str, Any]) -> str:
    """What a section says about a backend, from the route's fields."""
    if backend["mode"] == "none":
        return "not configured"
    return "reachable" if backend["reachable"] else "not reachable"


def open_settings(page: Page) -> None:
    """Open the settings editor on our plugin's page."""
    run_from_menu(page, "Settings", "Settings Editor")
    entry = page.locator(f'.jp-PluginList-entry[data-id="{PLUGIN_ID}"]')
    entry.click()
    expect(page.locator(f'[id="jp-SettingsEditor-{PLUGIN_ID}_refreshInterval"]')).to_be_visible()


def luminance(css_colour: str) -> float:
    """Relative brightness (0 to 1) of an `rgb(...)`/`rgba(...)` colour from getComputedStyle."""
    inside = css_colour[css_colour.index("(") + 1 : css_colour.index(")")]
    red, green, blue = (float(part) for part in inside.split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_palette_command_opens_the_panel(page: Page) -> None:
    expect(page.locator(PANEL)).to_be_hidden()
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Open MLOps panel")
    item = page.locator('.lm-CommandPalette-item[data-command="jupyter-mlops:open"]')
    expect(item.locator(".lm-CommandPalette-itemLabel")).to_have_text("Open MLOps panel")
    # The palette lists each command under the header of its category.
    header = item.locator(
        "xpath=preceding-sibling::li[contains(@class, 'lm-CommandPalette-header')][1]"
    )
    expect(header).to_have_text("MLOps")
    item.click()
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(SIDEBAR_TAB)).to_have_attribute("aria-selected", "true")


def test_sidebar_tab_opens_the_panel_with_its_caption(page: Page) -> None:
    tab = page.locator(SIDEBAR_TAB)
    expect(tab).to_have_attribute("title", "MLOps")
    expect(tab.locator("svg")).to_be_visible()
    tab.click()
    expect(page.locator(PANEL)).to_be_visible()
    tab.click()
    expect(page.locator(PANEL)).to_be_hidden()


def expect_sections_to_match(page: Page, report: dict[str, Any]) -> None:
    """Each section, the identity line and the badge say what the status route answered."""
    for key, heading in SECTIONS:
        backend = report[key]
        section = by_test_id(page, f"mlops-section-{key}")
        expect(section.get_by_role("heading", name=heading)).to_be_visible()
        expect(by_test_id(page, f"mlops-{key}-state")).to_have_text(state_words(backend))
        expect(by_test_id(page, f"mlops-{key}-mode")).to_have_text(backend["mode"])
        for field in ("endpoint", "hint"):
            if backend.get(field):
                expect(by_test_id(page, f"mlops-{key}-{field}")).to_have_text(backend[field])
            else:
                expect(by_test_id(page, f"mlops-{key}-{field}")).to_have_count(0)
        reason = by_test_id(page, f"mlops-{key}-reason")
        if backend.get("reason") and not backend["reachable"]:
            expect(reason).to_have_text(backend["reason"])
        else:
            expect(reason).to_have_count(0)
    identity = report["identity"]
    expect(by_test_id(page, "mlops-namespace")).to_have_text(identity["namespace"] or "none")
    expect(by_test_id(page, "mlops-version")).to_have_text(f"v{report['version']}")
    expect(by_test_id(page, "mlops-read-only")).to_have_count(1 if report["read_only"] else 0)
    expect(by_test_id(page, "mlops-error")).to_have_count(0)


def theme_colours(page: Page) -> dict[str, str]:
    """The computed colour of each kind of status dot on the page, and of the theme variables."""
    return dict(
        page.evaluate(
            """() => {
                const probe = document.createElement('span');
                document.body.appendChild(probe);
                const resolve = name => {
                    probe.style.color = `var(${name})`;
                    return getComputedStyle(probe).color;
                };
                const result = {
                    '--jp-success-color1': resolve('--jp-success-color1'),
                    '--jp-error-color1': resolve('--jp-error-color1'),
                    '--jp-ui-font-color3': resolve('--jp-ui-font-color3'),
                };
                probe.remove();
                for (const dot of document.querySelectorAll('.jp-mlops-dot')) {
                    result[dot.dataset.state] = getComputedStyle(dot).backgroundColor;
                }
                return result;
            }"""
        )
    )


def test_sections_show_what_the_route_reports(page: Page, lab: Any) -> None:
    report = lab.get_json(STATUS_PATH)
    # The fixture clears every cluster variable: the cluster must read "not configured".
    assert report["cluster"]["mode"] == "none"
    assert report["pipelines"]["mode"] == "local"
    assert report["tracking"]["mode"] == "local"
    open_panel(page)
    expect_sections_to_match(page, report)
    expect(by_test_id(page, "mlops-cluster-hint")).to_be_visible()
    expect(by_test_id(page, "mlops-namespace-source")).to_have_text("(none found)")

    colours = theme_colours(page)
    assert colours["not-configured"] == colours["--jp-ui-font-color3"]
    if report["pipelines"]["reachable"]:
        assert colours["reachable"] == colours["--jp-success-color1"]


def test_unreachable_backends_show_why(open_page: Any, lab_with_unreachable_backends: Any) -> None:
    lab = lab_with_unreachable_backends
    report = lab.get_json(STATUS_PATH)
    assert [report[key]["reachable"] for key, _ in SECTIONS] == [False, False, False]
    assert report["identity"]["source"] == "kubeconfig"
    with open_page(lab, "unreachable") as page:
        open_panel(page)
        expect_sections_to_match(page, report)
        expect(by_test_id(page, "mlops-namespace-source")).to_have_text(
            "(from the kubeconfig context)"
        )
        colours = theme_colours(page)
        assert colours["not-reachable"] == colours["--jp-error-color1"]


def test_refresh_button_asks_the_server_for_a_fresh_check(page: Page) -> None:
    open_panel(page)
    with page.expect_response(lambda r: is_status(r.url, fresh=True)) as answer:
        by_test_id(page, "mlops-refresh").click()
    assert answer.value.status == 200
    expect(by_test_id(page, "mlops-refresh")).to_be_enabled()
    expect(by_test_id(page, "mlops-updated")).to_contain_text("Updated")


@pytest.mark.usefixtures("restore_settings")
def test_refresh_interval_setting_applies_without_reload(page: Page) -> None:
    open_panel(page)
    expect(by_test_id(page, "mlops-updated")).to_contain_text("refreshes every 10 s")
    open_settings(page)

    field = page.locator(f'[id="jp-SettingsEditor-{PLUGIN_ID}_refreshInterval"]')
    field.fill("2")
    expect(by_test_id(page, "mlops-updated")).to_contain_text("refreshes every 2 s")

    # Two polls in a row must come about 2 s apart, not the default 10 s.
    with page.expect_response(is_poll, timeout=8_000):
        pass
    started = time.monotonic()
    with page.expect_response(is_poll, timeout=8_000):
        pass
    gap = time.monotonic() - started
    assert 1.0 < gap < 5.0, f"polls came {gap:.1f} s apart"


@pytest.mark.usefixtures("restore_settings")
def test_read_only_setting_applies_without_reload(page: Page, lab: Any) -> None:
    assert lab.get_json(STATUS_PATH)["read_only"] is False
    open_panel(page)
    badge = by_test_id(page, "mlops-read-only")
    expect(badge).to_have_count(0)
    open_settings(page)

    checkbox = page.locator(f'[id="jp-SettingsEditor-{PLUGIN_ID}_readOnly"]')
    checkbox.check()
    expect(badge).to_have_text("read-only")
    expect(badge).to_have_attribute("data-by", "settings")
    checkbox.uncheck()
    expect(badge).to_have_count(0)


@pytest.mark.usefixtures("restore_settings")
def test_hidden_panel_stands_by_and_refreshes_when_shown(open_page: Any, lab: Any) -> None:
    lab.put_settings(PLUGIN_ID, {"refreshInterval": 2})
    with open_page(lab, "stand-by") as page:
        with page.expect_request(is_poll):
            open_panel(page)
        expect(by_test_id(page, "mlops-updated")).to_contain_text("refreshes every 2 s")
        page.click(SIDEBAR_TAB)
        expect(page.locator(PANEL)).to_be_hidden()
        # Nothing can signal a request that never comes: watch for 2.5 intervals.
        with pytest.raises(PlaywrightTimeoutError), page.expect_request(is_poll, timeout=5_000):
            pass
        with page.expect_request(is_poll, timeout=1_500):
            page.click(SIDEBAR_TAB)


def test_network_down_is_said_in_words_and_recovers(page: Page) -> None:
    open_panel(page)
    page.context.set_offline(True)
    by_test_id(page, "mlops-refresh").click()
    error = by_test_id(page, "mlops-error")
    expect(error).to_contain_text("Cannot reach the Jupyter server")
    # What was known stays on screen, marked as such.
    expect(error).to_contain_text("last status")
    expect(by_test_id(page, "mlops-section-cluster")).to_be_visible()

    page.context.set_offline(False)
    by_test_id(page, "mlops-refresh").click()
    expect(error).to_have_count(0)


def test_missing_server_extension_is_explained(
    open_page: Any, lab_without_server_extension: Any
) -> None:
    with open_page(lab_without_server_extension, "no-server-extension") as page:
        page.click(SIDEBAR_TAB)
        error = by_test_id(page, "mlops-error")
        expect(error).to_contain_text("server extension is not running")
        expect(error).to_contain_text("404")
        expect(by_test_id(page, "mlops-section-cluster")).to_have_count(0)


def screenshot_sidebar(page: Page, path: Path) -> None:
    """Save the tab bar and the panel, down to the panel's footer."""
    panel = page.locator(PANEL).bounding_box()
    footer = by_test_id(page, "mlops-updated").bounding_box()
    assert panel is not None and footer is not None
    bottom = footer["y"] + footer["height"] + 12
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=path,
        clip={
            "x": 0,
            "y": panel["y"],
            "width": panel["x"] + panel["width"],
            "height": bottom - panel["y"],
        },
    )


@pytest.mark.usefixtures("restore_settings")
def test_screenshots_in_light_and_dark_themes(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    panel = open_panel(page)
    # Widen the sidebar, as a reader of long endpoints would, by dragging its split handle.
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    for theme, light, image in [
        ("JupyterLab Light", "true", "sidebar.png"),
        ("JupyterLab Dark", "false", "sidebar-dark.png"),
    ]:
        run_from_menu(page, "Settings", "Theme", theme)
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light)
        expect(page.locator("body")).to_have_attribute("data-jp-theme-name", theme)
        background = panel.evaluate("e => getComputedStyle(e).backgroundColor")
        text = by_test_id(page, "mlops-namespace").evaluate("e => getComputedStyle(e).color")
        # Light theme: dark text on a light panel; dark theme: the other way round.
        if light == "true":
            assert luminance(background) > 0.7 > luminance(text)
        else:
            assert luminance(background) < 0.3 < luminance(text)
        # Hover effects and the loading state would make the picture change from run to run.
        page.mouse.move(1000, 400)
        expect(by_test_id(page, "mlops-refresh")).to_be_enabled()
        screenshot_sidebar(page, IMAGES / image)
        assert (IMAGES / image).stat().st_size > 5_000


def test_without_a_cluster_the_section_only_says_how_to_connect(page: Page) -> None:
    sent: list[str] = []

    def record(socket: WebSocket) -> None:
        if "/mlops/api/ws" in socket.url:
            socket.on("framesent", lambda payload: sent.append(str(payload)))

    page.on("websocket", record)
    open_panel(page)
    expect(by_test_id(page, "mlops-cluster-state")).to_have_text("not configured")
    expect(by_test_id(page, "mlops-cluster-hint")).to_be_visible()
    expect(by_test_id(page, "mlops-cluster")).to_have_count(0)
    expect(by_test_id(page, "mlops-cluster-error")).to_have_count(0)
    # Other sections may use the live channel; the cluster's tables never subscribe.
    assert not [frame for frame in sent if '"subscribe"' in frame]


def test_an_unreachable_cluster_is_explained_in_its_section(
    open_page: Any, lab_with_unreachable_backends: Any
) -> None:
    with open_page(lab_with_unreachable_backends, "unreachable-cluster") as page:
        open_panel(page)
        # The route's own words: what is wrong and where, not a bare status code.
        error = by_test_id(page, "mlops-cluster-error")
        expect(error).to_contain_text("cannot reach the Kubernetes API at https://127.0.0.1:")
        expect(error).to_contain_text("Connection refused")
        expect(by_test_id(page, "mlops-cluster")).to_have_count(0)
