"""The explorer page in a real browser (Debian's Chromium under Playwright): it loads
without console errors, draws the field, moves the cheese on a click, answers the
cheese-vector slider, and a reload of its URL restores the view."""

import shutil

import pytest

from behavstats.explore.engine import Engine
from behavstats.explore.server import Server
from behavstats.policy import load_policy

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
IDLE = "document.body.dataset.state === 'idle' && window.explorer.acts !== null"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("chromium") is None,
                                                   reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def server():
    running = Server(Engine(load_policy("default")), port=0).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _field_changed(page, version: int) -> None:
    page.wait_for_function(f"Number(document.getElementById('maze').dataset.version) > {version}"
                           f" && {IDLE}", timeout=30_000)


def _readout(page) -> dict:
    return page.evaluate("""() => Object.fromEntries(['p-cheese', 'p-topright'].map(id => {
        const el = document.getElementById(id);
        return [id, [el.dataset.original, el.dataset.patched, el.textContent]]; }))""")


def test_edit_intervene_and_reload(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.url}?level=27")
    page.wait_for_function(IDLE, timeout=60_000)
    assert page.evaluate("window.explorer.field.cells.length") > 50
    inked = page.evaluate("""() => {
        const c = document.getElementById('maze'), d = c.getContext('2d')
            .getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 60 && d[i + 1] < 60 && d[i + 2] < 70
            && d[i + 2] > 30) n++;
        return n; }""")
    assert inked > 500  # the arrows (and dark walls) are drawn
    before = _readout(page)
    arrows = page.evaluate("JSON.stringify(window.explorer.field.original)")

    # click the maze's top-left cell (0, 10): the cheese moves there
    box = page.locator("#maze").bounding_box()
    cell = box["width"] / 11
    version = int(page.locator("#maze").get_attribute("data-version"))
    page.mouse.click(box["x"] + 0.5 * cell, box["y"] + 0.5 * cell)
    _field_changed(page, version)
    assert page.evaluate("window.explorer.field.maze.cheese") == [0, 10]
    assert page.evaluate("JSON.stringify(window.explorer.field.original)") != arrows
    moved = _readout(page)
    assert moved["p-cheese"][0] != before["p-cheese"][0]

    version = int(page.locator("#maze").get_attribute("data-version"))
    page.fill("#cv-coeff-num", "-1")
    page.dispatch_event("#cv-coeff-num", "change")
    _field_changed(page, version)
    patched = _readout(page)
    assert float(patched["p-cheese"][1]) < float(patched["p-cheese"][0])
    assert "cheese=0.10" in page.url and "cv=-1" in page.url

    page.reload()
    page.wait_for_function(IDLE, timeout=60_000)
    assert _readout(page) == patched
    assert page.input_value("#cv-coeff-num") == "-1"
    page.screenshot(path=tmp_path / "explorer.png", full_page=True)
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
    assert errors == []


def _map_shown(page, kind: str) -> None:
    page.wait_for_function(f"document.getElementById('maze').dataset.map === '{kind}' && "
                           f"window.explorer.map && window.explorer.map.kind === '{kind}' && "
                           f"{IDLE}", timeout=30_000)


def _heat_pixels(page) -> int:
    """Canvas pixels of the map's scales that the plain maze never has (saturated
    blue, red, green or purple)."""
    return page.evaluate("""() => {
        const c = document.getElementById('maze'), d = c.getContext('2d')
            .getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
            if ((b > 120 && r < 110) || (r > 150 && g < 90 && b < 90) || (g > 130 && r < 110))
                n++;
        }
        return n; }""")


def test_map_toggles_overlay_and_follow_edits(server, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.url}?level=27")
    page.wait_for_function(IDLE, timeout=60_000)
    plain = _heat_pixels(page)
    assert page.locator("#map-legend").is_hidden()
    for kind, select, option in (("value", None, None),
                                 ("attribution", "#map-baseline", "blank"),
                                 ("patching", "#map-corruption", "cheese_moved")):
        page.check(f"input[name=map][value={kind}]")
        _map_shown(page, kind)
        if select:
            page.select_option(select, option)
            page.wait_for_function(f"window.explorer.map.{select[5:]} === '{option}'",
                                   timeout=30_000)
            _map_shown(page, kind)
        assert _heat_pixels(page) > plain + 1_000, kind
        assert page.locator("#map-legend").is_visible()
        assert page.locator("#map-caption").inner_text()
        assert f"map={kind}" in page.url
    notes = page.locator("#map-notes").inner_text()
    assert "clean" in notes and "corrupted" in notes

    # an edit (the cheese moves to the top-left cell) recomputes the shown map
    before = page.evaluate("JSON.stringify(window.explorer.map.grid)")
    box = page.locator("#maze").bounding_box()
    page.check("input[name=tool][value=cheese]")
    page.mouse.click(box["x"] + 0.5 * box["width"] / 11, box["y"] + 0.5 * box["width"] / 11)
    page.wait_for_function("JSON.stringify(window.explorer.map.grid) !== " + repr(before)
                           + f" && {IDLE}", timeout=30_000)
    assert page.evaluate("window.explorer.field.maze.cheese") == [0, 10]

    page.check("input[name=map][value=none]")
    page.wait_for_function("document.getElementById('maze').dataset.map === ''")
    assert page.locator("#map-legend").is_hidden()
    assert errors == []
