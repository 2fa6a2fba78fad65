"""The quick study's report in real headless Chromium (Playwright driving
/usr/bin/chromium): it loads without console errors, every image decodes, an
animation has several frames, the visible text holds no dict fragments or dotted
keys, every section is there, and the findings carry numbers. A full-page screenshot
lands in the test's tmp_path."""

import base64
import io
import re
import shutil

import pytest

from behavstats.report import SECTIONS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="no chromium")


@pytest.fixture(scope="module")
def page(quick_study):
    out, _ = quick_study
    errors = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.route("**/*", lambda route: route.abort() if not route.request.url.startswith(
            ("file:", "data:")) else route.continue_())
        tab.goto((out / "report.html").as_uri(), wait_until="load")
        yield tab, errors
        browser.close()


def test_loads_without_errors_and_every_image_decodes(page, tmp_path):
    tab, errors = page
    assert errors == []
    sizes = tab.eval_on_selector_all(
        "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
    assert len(sizes) >= 8
    assert all(done and w > 0 and h > 0 for done, w, h in sizes)
    tab.screenshot(path=tmp_path / "report.png", full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 0


def test_an_animation_has_several_frames(page):
    from PIL import Image

    tab, _ = page
    sources = tab.eval_on_selector_all("img", "els => els.map(e => e.src)")
    animated = [s for s in sources if s.startswith(("data:image/gif", "data:image/webp"))]
    assert animated
    frames = [Image.open(io.BytesIO(base64.b64decode(s.split(",", 1)[1]))).n_frames
              for s in animated]
    assert max(frames) > 1


def test_visible_text_is_for_readers(page):
    tab, _ = page
    # innerText of the laid-out page without code elements (a detached copy has no
    # layout, so its cells would run together): code is put back afterwards
    text = tab.evaluate("""() => {
        const codes = [...document.querySelectorAll('code')];
        const marks = codes.map(c => { const m = document.createComment('');
                                       c.replaceWith(m); return m; });
        const text = document.body.innerText;
        marks.forEach((m, i) => m.replaceWith(codes[i]));
        return text; }""")
    assert "{'" not in text and "': " not in text
    assert re.findall(r"\w+\.\w+\.\w+", text) == []


def test_every_section_and_the_findings(page):
    tab, _ = page
    ids = tab.eval_on_selector_all("section", "els => els.map(e => e.id)")
    assert ids == [key for key, _ in SECTIONS]
    findings = tab.eval_on_selector_all("#findings li", "els => els.map(e => e.innerText)")
    with_numbers = [f for f in findings if re.search(r"\d", f)]
    assert len(with_numbers) >= 6
    links = tab.eval_on_selector_all("#findings li a", "els => els.map(e => e.hash)")
    assert set(links) <= {f"#{key}" for key, _ in SECTIONS}
