"""The live app in Debian's Chromium, driven by Playwright the way a visitor uses it."""

import base64
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from conftest import SHARED_PAINTINGS
from synthetic import painting

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
WAIT_MS = 30_000

# Drops a file on an element with a real DragEvent carrying a DataTransfer, as a file manager would.
DROP_FILE = """([selector, data, name, type]) => {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, {type}));
    const zone = document.querySelector(selector);
    for (const event of ["dragenter", "dragover", "drop"]) {
        zone.dispatchEvent(new DragEvent(event, {bubbles: true, cancelable: true, dataTransfer: transfer}));
    }
}"""
DROP_ZONE = "#painting button.upload-container"
# The overlays' grid (one thumbnail per depth), which Gradio keeps in the page while a preview is open.
OVERLAY_GRID = "#overlays .thumbnail-lg img"
OVERLAY_PREVIEW = "#overlays .preview .media-button img"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class Visit:
    """One visitor's page, with the queue calls it has made so far (by event name)."""

    def __init__(self, browser, url):
        self.page = browser.new_page(viewport={"width": 1280, "height": 1000})
        self.calls = []
        self.page.on("request", self._record)
        self.page.goto(url)
        self.page.wait_for_selector(DROP_ZONE, timeout=WAIT_MS)
        config = self.page.evaluate("() => window.gradio_config")
        self.event_names = {dependency["id"]: dependency["api_name"] for dependency in config["dependencies"]}

    def _record(self, request):
        if "/queue/join" in request.url:
            self.calls.append(self.event_names[json.loads(request.post_data)["fn_index"]])

    def drop(self, path, mime_type):
        data = base64.b64encode(Path(path).read_bytes()).decode()
        self.page.evaluate(DROP_FILE, [DROP_ZONE, data, Path(path).name, mime_type])

    def overlay_sources(self):
        return self.page.eval_on_selector_all(OVERLAY_GRID, "images => images.map(image => image.src)")

    def overlay_captions(self):
        return self.page.eval_on_selector_all(OVERLAY_GRID, "images => images.map(image => image.alt)")

    def wait_for_overlays(self):
        self.page.wait_for_function(f"() => document.querySelectorAll('{OVERLAY_GRID}').length == 4", timeout=WAIT_MS)

    def wait_for_new_overlays(self, previous):
        self.page.wait_for_function(
            """([selector, previous]) => {
                const now = [...document.querySelectorAll(selector)].map(image => image.src);
                return now.length == 4 && now.every(source => !previous.includes(source));
            }""",
            arg=[OVERLAY_GRID, previous],
            timeout=WAIT_MS,
        )

    def bars(self):
        return self.page.inner_text("#movements")

    def screenshot(self, path):
        self.page.screenshot(path=str(path), full_page=True)


def model_labels(live_app):
    return json.loads((live_app.folder / "config.json").read_text())["labels"]


def test_drop_a_painting_then_redraw_the_overlays_without_the_network(browser, live_app, screenshots, capsys, tmp_path):
    with capsys.disabled():
        print(f"\nScreenshots of the app: {screenshots}")
    path = tmp_path / "my_painting.jpg"
    real = sorted(Path(SHARED_PAINTINGS, "Impressionism").glob("*.jpg")) if Path(SHARED_PAINTINGS).is_dir() else []
    if real:
        shutil.copy(real[len(real) // 2], path)  # a real painting, for a real model
    else:
        painting("stripes", seed=7, size=(480, 360)).save(path, quality=92)
    visit = Visit(browser, live_app.url)

    visit.drop(path, "image/jpeg")
    visit.wait_for_overlays()
    bars = visit.bars()
    assert all(label in bars for label in model_labels(live_app))
    top = bars.split("\n")[1]
    assert top in model_labels(live_app)
    assert visit.page.inner_text("#description").startswith(top)
    assert visit.page.is_checked(f"#movement input[value='{top}']")
    assert visit.calls == ["analyse"]
    # The page opens on the most faithful view that the model folder records: its method selected, its
    # depth shown large.
    best = json.loads((live_app.folder / "config.json").read_text())["most_faithful"]
    assert visit.page.is_checked(f"#method input[value='{best['method']}']")
    assert visit.page.get_attribute(OVERLAY_PREVIEW, "alt") == (
        f"{best['method']} · {best['depth']} · {best['layer']} · most faithful"
    )
    assert all(caption.startswith(f"{best['method']} · ") for caption in visit.overlay_captions())
    visit.screenshot(screenshots / "1_dropped_painting.png")

    before = visit.overlay_sources()
    visit.page.fill("#opacity input[type=range]", "0.9")
    visit.wait_for_new_overlays(before)
    assert visit.calls == ["analyse", "redraw"]
    assert visit.bars() == bars
    visit.screenshot(screenshots / "2_opacity_0.9.png")

    # Another method: drawn from the maps in the session (one redraw, no analyse), at the same depth.
    other = next(method for method in ("Grad-CAM", "LayerCAM") if method != best["method"])
    before = visit.overlay_sources()
    visit.page.click(f"#method input[value='{other}']")
    visit.wait_for_new_overlays(before)
    assert visit.calls == ["analyse", "redraw", "redraw"]
    assert all(caption.startswith(f"{other} · ") for caption in visit.overlay_captions())
    assert visit.page.get_attribute(OVERLAY_PREVIEW, "alt") == f"{other} · {best['depth']} · {best['layer']}"
    assert visit.bars() == bars
    visit.screenshot(screenshots / "2b_another_method.png")

    with visit.page.expect_request(lambda request: "/queue/join" in request.url):
        visit.page.click("#again")
    assert visit.calls[-1] == "analyse_again"


def test_click_an_example_and_read_about_the_model(browser, live_app, screenshots):
    examples = json.loads((live_app.folder / "examples" / "index.json").read_text())
    visit = Visit(browser, live_app.url)
    chosen = len(examples) // 2

    # The gallery: a thumbnail of every example, captioned with its true movement and the model's answer.
    thumbnails = visit.page.locator("#examples .thumbnail-item")
    thumbnails.first.wait_for(timeout=WAIT_MS)
    assert thumbnails.count() == len(examples)
    captions = visit.page.locator("#examples .caption-label").all_inner_texts()
    assert [caption.split(" · ")[0][2:] for caption in captions] == [f"true {example['label']}" for example in examples]
    assert all(" · model: " in caption for caption in captions)
    visit.screenshot(screenshots / "3_examples_gallery.png")

    thumbnails.nth(chosen).click()
    visit.wait_for_overlays()
    assert visit.page.input_value("#true-movement input, #true-movement textarea") == examples[chosen]["label"]
    assert visit.calls == ["select_example"]
    # The model's answer in the caption is the answer the page shows.
    assert visit.bars().split("\n")[1] == captions[chosen].split("model: ")[1].rsplit(" ", 1)[0]
    assert any(label in visit.bars() for label in model_labels(live_app))
    shown = Image.open(live_app.folder / "examples" / examples[chosen]["file"]).size
    natural = visit.page.eval_on_selector("#painting img", "image => [image.naturalWidth, image.naturalHeight]")
    assert tuple(natural) == shown

    visit.page.click("text=About")
    about = visit.page.inner_text("#about")
    metrics_path = live_app.folder / "metrics.json"
    if metrics_path.exists():
        accuracy = json.loads(metrics_path.read_text())["test"]["accuracy"]
        assert f"{accuracy:.1%}" in about
    else:
        assert "has not been evaluated" in about
    assert f"local folder {live_app.folder.name}" in about and str(live_app.folder) not in about
    visit.screenshot(screenshots / "4_example_and_about.png")


def test_a_file_that_is_not_an_image_shows_its_message(browser, live_app, screenshots, tmp_path):
    path = tmp_path / "holiday.png"
    path.write_bytes(b"This is a shopping list, not a painting.")
    visit = Visit(browser, live_app.url)

    visit.drop(path, "image/png")
    toast = visit.page.wait_for_selector("[data-testid='toast-body']", state="visible", timeout=WAIT_MS)
    assert "not an image ArtNet can read" in toast.inner_text()
    visit.page.wait_for_timeout(500)  # the toast fades in
    visit.screenshot(screenshots / "5_not_an_image.png")
