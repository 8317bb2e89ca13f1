"""The live app in Debian's Chromium, driven by Playwright the way a visitor uses it."""

import base64
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from conftest import SHARED_PAINTINGS
from synthetic import painting, wall_photo

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
# The painting shown in the box (the example the page opens on): a visitor drops theirs over it.
SHOWN_PAINTING = "#painting .image-frame img"
# The painting box's button that turns it into a camera.
WEBCAM_SOURCE = "#painting [data-testid='source-select'] button[aria-label='Capture from camera']"
GRANT_CAMERA = "#painting [title='grant webcam access'] button"
TAKE_PICTURE = "#painting .button-wrap button"
# The overlays' grid (one thumbnail per depth), which Gradio keeps in the page while a preview is open.
OVERLAY_GRID = "#overlays .thumbnail-lg img"
OVERLAY_PREVIEW = "#overlays .preview .media-button img"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        # A camera that shows a test pattern, allowed without asking, for the webcam source.
        camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", *camera],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class Visit:
    """One visitor's page, with the queue calls it has made so far (by event name)."""

    def __init__(self, browser, url, width=1280):
        self.page = browser.new_page(viewport={"width": width, "height": 1000})
        self.calls = []
        self.page.on("request", self._record)
        self.page.goto(url)
        self.page.wait_for_selector("#painting", timeout=WAIT_MS)
        config = self.page.evaluate("() => window.gradio_config")
        self.event_names = {dependency["id"]: dependency["api_name"] for dependency in config["dependencies"]}

    def _record(self, request):
        if "/queue/join" in request.url:
            self.calls.append(self.event_names[json.loads(request.post_data)["fn_index"]])

    def drop(self, path, mime_type):
        """Drop a file where a visitor would: on the painting shown, or on the empty box."""
        data = base64.b64encode(Path(path).read_bytes()).decode()
        zone = SHOWN_PAINTING if self.page.query_selector(SHOWN_PAINTING) else DROP_ZONE
        self.page.evaluate(DROP_FILE, [zone, data, Path(path).name, mime_type])

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
                return now.length > 0 && now.length == previous.length && now.every(source => !previous.includes(source));
            }""",
            arg=[OVERLAY_GRID, previous],
            timeout=WAIT_MS,
        )

    def bars(self):
        return self.page.inner_text("#movements")

    def note(self):
        return self.page.inner_text("#example-note")

    def looked_note(self):
        return self.page.inner_text("#looked-note") if self.page.is_visible("#looked-note") else ""

    def box(self, selector):
        """(left, top, right, bottom) of the element, in the page's pixels."""
        found = self.page.eval_on_selector(
            selector,
            "element => { const r = element.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }",
        )
        return tuple(value + (self.page.evaluate("scrollY") if index % 2 else 0) for index, value in enumerate(found))

    def screenshot(self, path):
        # Scrolled through first, so that the thumbnails that load lazily are in the picture.
        height = self.page.evaluate("document.body.scrollHeight")
        for top in range(0, height, 600):
            self.page.evaluate(f"window.scrollTo(0, {top})")
            self.page.wait_for_timeout(100)
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(path), full_page=True)


def model_labels(live_app):
    return json.loads((live_app.folder / "config.json").read_text())["labels"]


def held_out(label):
    return f"held-out {label} painting"


def most_faithful_caption(live_app):
    best = json.loads((live_app.folder / "config.json").read_text())["most_faithful"]
    return f"{best['method']} · {best['depth']} · {best['layer']} · most faithful"


def test_the_page_opens_on_an_example_already_analysed(browser, live_app, screenshots, tmp_path):
    examples = json.loads((live_app.folder / "examples" / "index.json").read_text())
    visit = Visit(browser, live_app.url)

    # Everything a painting's analysis shows is there at once, before the visitor does anything.
    visit.wait_for_overlays()
    assert visit.note().startswith("An example")
    true_movement = visit.page.input_value("#true-movement input, #true-movement textarea")
    assert true_movement in {example["label"] for example in examples} and true_movement in visit.note()
    bars = visit.bars()
    assert all(label in bars for label in model_labels(live_app))
    top = bars.split("\n")[1]
    assert visit.page.inner_text("#description").startswith(top)
    assert visit.page.is_checked(f"#movement input[value='{top}']")
    assert visit.page.get_attribute(OVERLAY_PREVIEW, "alt") == most_faithful_caption(live_app)
    if (live_app.folder / "neighbours").is_dir():
        visit.page.wait_for_function("() => document.querySelectorAll('#similar .thumbnail-lg img').length == 8")
    # The painting is one of the examples, shown whole.
    shown = visit.page.eval_on_selector("#painting img", "image => [image.naturalWidth, image.naturalHeight]")
    sizes = {Image.open(live_app.folder / "examples" / example["file"]).size for example in examples}
    assert tuple(shown) in sizes
    # None of it ran the network for this visitor, and the page stays at its top.
    assert visit.calls == []
    assert visit.page.evaluate("window.scrollY") == 0
    visit.screenshot(screenshots / "0_opening_example.png")

    # The visitor's own painting replaces the example, which the page no longer claims it is.
    path = tmp_path / "mine.jpg"
    painting("blobs", seed=3, size=(320, 240)).save(path)
    before = visit.overlay_sources()
    visit.drop(path, "image/jpeg")
    visit.wait_for_new_overlays(before)
    assert visit.note() == ""
    assert visit.page.input_value("#true-movement input, #true-movement textarea") == ""
    assert_dropped_over_the_painting_shown(visit)


def assert_dropped_over_the_painting_shown(visit):
    """A drop over the painting shown makes one analysis, or two: the box's clearing reports the old
    painting (an example or the session's own, which needs no network pass), then the upload the new one.
    Then the calls are forgotten, for the next step to count its own."""
    assert visit.calls in (["analyse"], ["analyse", "analyse"])
    visit.calls.clear()


def boxes_overlapping(page, gallery):
    """For each thumbnail of `gallery`: whether its caption's box overlaps its image's box."""
    return page.eval_on_selector_all(
        f"{gallery} .thumbnail-lg",
        """thumbnails => thumbnails.map(thumbnail => {
            const image = thumbnail.querySelector("img").getBoundingClientRect();
            const caption = thumbnail.querySelector(".caption-label").getBoundingClientRect();
            return caption.top < image.bottom && image.top < caption.bottom
                && caption.left < image.right && image.left < caption.right;
        })""",
    )


@pytest.mark.parametrize("width", [1400, 400], ids=["laptop", "phone"])
def test_gallery_captions_sit_under_the_paintings_not_over_them(browser, live_app, screenshots, width):
    visit = Visit(browser, live_app.url, width)
    galleries = ["#examples"] + (["#similar"] if (live_app.folder / "neighbours").is_dir() else [])
    for gallery in galleries:
        visit.page.locator(f"{gallery} .thumbnail-lg img").first.wait_for(timeout=WAIT_MS)
        overlapping = boxes_overlapping(visit.page, gallery)
        assert overlapping and not any(overlapping), f"{gallery}: captions over their paintings {overlapping}"
        # Every thumbnail fits the page's width: none is cut off at the right or hidden in a scroll.
        right = visit.page.eval_on_selector_all(
            f"{gallery} .thumbnail-lg", "items => Math.max(...items.map(item => item.getBoundingClientRect().right))"
        )
        assert right <= width
    visit.screenshot(screenshots / f"6_galleries_{width}px.png")


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

    before = visit.overlay_sources()
    visit.drop(path, "image/jpeg")
    visit.wait_for_new_overlays(before)
    bars = visit.bars()
    assert all(label in bars for label in model_labels(live_app))
    top = bars.split("\n")[1]
    assert top in model_labels(live_app)
    assert visit.page.inner_text("#description").startswith(top)
    assert visit.page.is_checked(f"#movement input[value='{top}']")
    assert_dropped_over_the_painting_shown(visit)
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
    assert visit.calls == ["redraw"]
    assert visit.bars() == bars
    visit.screenshot(screenshots / "2_opacity_0.9.png")

    # Another method: drawn from the maps in the session (one redraw, no analyse), at the same depth.
    other = next(method for method in ("Grad-CAM", "LayerCAM") if method != best["method"])
    before = visit.overlay_sources()
    visit.page.click(f"#method input[value='{other}']")
    visit.wait_for_new_overlays(before)
    assert visit.calls == ["redraw", "redraw"]
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
    # An example of another movement than the one the page opens on.
    opening = visit.page.input_value("#true-movement input, #true-movement textarea")
    chosen = next(number for number, example in enumerate(examples) if example["label"] != opening)

    # The gallery: a thumbnail of every example, captioned with its true movement and the model's answer.
    thumbnails = visit.page.locator("#examples .thumbnail-item")
    thumbnails.first.wait_for(timeout=WAIT_MS)
    assert thumbnails.count() == len(examples)
    captions = visit.page.locator("#examples .caption-label").all_inner_texts()
    assert [caption.split(" · ")[0][2:] for caption in captions] == [f"true {example['label']}" for example in examples]
    assert all(" · model: " in caption for caption in captions)
    visit.screenshot(screenshots / "3_examples_gallery.png")

    thumbnails.nth(chosen).click()
    visit.page.wait_for_function(
        "label => document.querySelector('#true-movement input, #true-movement textarea').value == label",
        arg=examples[chosen]["label"],
        timeout=WAIT_MS,
    )
    visit.wait_for_overlays()
    assert held_out(examples[chosen]["label"]) in visit.note()
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


# --- A phone photo of a painting on a wall, on a phone and on a laptop. ---


@pytest.fixture(scope="module")
def stand_in_app(tmp_path_factory):
    """The page served in this process by a stand-in classifier (no network, no training) that finds the
    middle half of every image, with ten examples: (its URL, the stand-in, which records every pass)."""
    from test_ui import StandInFindingPaintings, write_folder

    from artnet.model.folder import ModelSource
    from artnet.serve import ui

    from live_app import free_port

    files = [f"{number}.png" for number in range(10)]
    folder = write_folder(
        tmp_path_factory.mktemp("stand_in") / "model",
        index=[{"file": name, "label": "Realism"} for name in files],
        files=files,
    )
    classifier = StandInFindingPaintings()
    demo = ui.build_demo(classifier, ModelSource(str(folder)))
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True, server_port=free_port(), **ui.launch_options(str(folder))
    )
    yield url, classifier
    demo.close()


@pytest.fixture(scope="module")
def phone_photo(tmp_path_factory):
    """A photo as a phone takes it, 900 x 1200 px, of a painting hanging on a wall: a real one where
    ../shared has them."""
    real = sorted(Path(SHARED_PAINTINGS, "Impressionism").glob("*.jpg")) if Path(SHARED_PAINTINGS).is_dir() else []
    shown = Image.open(real[len(real) // 3]) if real else painting("blobs", seed=5, size=(480, 360))
    path = tmp_path_factory.mktemp("phone") / "IMG_2041.jpg"
    wall_photo(shown, size=(900, 1200), seed=1)[0].save(path, quality=88)
    return path


def served(request, app):
    """(the URL of `app`, whether its model looks for paintings in photos): the stand-in always does; the
    live app's model as its config.json says (a folder written before the way in does not)."""
    if app != "live_app":
        return request.getfixturevalue(app)[0], True
    live_app = request.getfixturevalue(app)
    config = json.loads((live_app.folder / "config.json").read_text())
    return live_app.url, bool((config.get("way_in") or {}).get("find_painting"))


def assert_looked_at(visit, finds):
    """The painting found is shown with what the page says of it, or, for a model that does not look for
    paintings, nothing is said."""
    if finds:
        visit.page.wait_for_selector("#crop img", state="visible", timeout=WAIT_MS)
        assert "ArtNet looked at the painting it found in your photo" in visit.looked_note()
        assert not visit.page.is_checked("#whole input")
    else:
        assert not visit.page.is_visible("#looked-at")


@pytest.mark.parametrize("app", ["stand_in_app", "live_app"], ids=["stand-in", "real-model"])
def test_on_a_phone_the_answer_comes_right_after_the_photo_and_the_painting_found_in_it(
    browser, request, app, phone_photo, screenshots
):
    url, finds = served(request, app)
    visit = Visit(browser, url, width=400)
    before = visit.overlay_sources()
    visit.drop(phone_photo, "image/jpeg")
    visit.wait_for_new_overlays(before)
    assert_looked_at(visit, finds)
    painting_box, answer, bars, examples = (
        visit.box(selector) for selector in ("#painting", "#answer", "#movements", "#examples")
    )
    # One column, in the order a visitor reads it: the photo, what was looked at in it, the answer in
    # words and the bars, and only then the examples.
    assert painting_box[3] <= answer[1] < bars[1] < bars[3] <= examples[1]
    if finds:
        crop = visit.box("#crop")
        assert painting_box[3] <= crop[1] < crop[3] <= answer[1]
    # Nothing runs off the side of the screen.
    assert visit.page.evaluate("document.documentElement.scrollWidth") <= 400
    visit.screenshot(screenshots / f"7_phone_photo_400px_{app}.png")

    # The camera is still one tap away on a phone: it shows what it sees, and a picture taken is analysed.
    # (Turning to the camera clears the painting, and its analysis.)
    before = visit.overlay_sources()
    assert visit.page.is_visible(WEBCAM_SOURCE)
    visit.page.click(WEBCAM_SOURCE)
    visit.page.click(GRANT_CAMERA)
    visit.page.wait_for_function(
        """() => {
            const video = document.querySelector('#painting video');
            return video && video.readyState >= 2 && !video.classList.contains('hide');
        }""",
        timeout=WAIT_MS,
    )
    visit.page.click(TAKE_PICTURE)
    visit.wait_for_new_overlays(before)


@pytest.mark.parametrize("app", ["stand_in_app", "live_app"], ids=["stand-in", "real-model"])
def test_on_a_laptop_the_examples_sit_under_the_painting_beside_the_answer(
    browser, request, app, phone_photo, screenshots
):
    url, finds = served(request, app)
    visit = Visit(browser, url, width=1400)
    before = visit.overlay_sources()
    visit.drop(phone_photo, "image/jpeg")
    visit.wait_for_new_overlays(before)
    assert_looked_at(visit, finds)
    painting_box, answer, examples, overlays = (
        visit.box(selector) for selector in ("#painting", "#answer", "#examples", "#overlays")
    )
    # Two columns: the photo, the painting found and the examples on the left; the answer, level with the
    # photo, and everything after it on the right.
    assert painting_box[0] == examples[0] and painting_box[2] <= answer[0]
    assert painting_box[3] <= examples[1] < overlays[3]
    assert abs(answer[1] - painting_box[1]) < 60
    if finds:
        crop = visit.box("#looked-at")
        assert crop[0] == painting_box[0] and painting_box[3] <= crop[1] < crop[3] <= examples[1]
    visit.screenshot(screenshots / f"8_phone_photo_1400px_{app}.png")


def test_each_visitor_chooses_the_whole_image_for_themselves(browser, stand_in_app, phone_photo):
    """Visitor A asks for the whole image; visitor B, at the same time, still gets the painting found, and
    each one's later choices go on from their own."""
    url, classifier = stand_in_app
    first, second = Visit(browser, url), Visit(browser, url)
    for visit in (first, second):
        before = visit.overlay_sources()
        visit.drop(phone_photo, "image/jpeg")
        visit.wait_for_new_overlays(before)
    start = len(classifier.passes)

    before = first.overlay_sources()
    first.page.click("#whole input")
    first.wait_for_new_overlays(before)
    first.page.wait_for_selector("#crop", state="hidden", timeout=WAIT_MS)
    assert "ArtNet looked at the whole image" in first.looked_note() and first.page.is_checked("#whole input")
    assert classifier.passes[start:] == [("explain", None, "whole")]

    # The other visitor's next network pass is of the painting found, as theirs was.
    before = second.overlay_sources()
    second.page.click("#movement input[value='Realism']")
    second.wait_for_new_overlays(before)
    assert classifier.passes[-1] == ("explain", "Realism")
    assert "painting it found" in second.looked_note() and not second.page.is_checked("#whole input")
    before = first.overlay_sources()
    first.page.click("#movement input[value='Cubism']")
    first.wait_for_new_overlays(before)
    assert classifier.passes[-1] == ("explain", "Cubism", "whole")

    # Unticked, the painting found again.
    before = first.overlay_sources()
    first.page.click("#whole input")
    first.wait_for_new_overlays(before)
    first.page.wait_for_selector("#crop img", state="visible", timeout=WAIT_MS)
    assert "painting it found" in first.looked_note() and classifier.passes[-1] == ("explain", None)
