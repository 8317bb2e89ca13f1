"""The Gradio app: ArtNet's page (`layout`), its events and API endpoints (`wire_events`), and how it is
served; the handlers are in artnet.serve.handlers. Where it works around Gradio, artnet.serve.gradio_workarounds says why.

This module knows Gradio and not TensorFlow. It is given a Classifier-like object (`labels`, `config`,
`gradcam_layers`, `cam_methods`, `most_faithful`, `classify`, `explain`) and the model folder, whose
examples/ and metrics.json it shows.

One network pass serves a new painting: `Classifier.explain` returns the probabilities with the maps of
every CAM method at every depth. The maps stay in the user's `gr.State`, so switching the method, moving
the opacity slider or changing the colormap only re-renders the overlays. The page opens on the method
and depth that did best in the model folder's faithfulness test.
"""

import os
import threading
from dataclasses import dataclass

import gradio as gr

from artnet.data.images import MAX_PIXELS, READABLE_FORMATS
from artnet.model.backbones import BACKBONES
from artnet.model.folder import EXAMPLES_FOLDER, read_examples, read_metrics
from artnet.serve.gradio_workarounds import (
    GALLERY_CSS,
    GALLERY_HEAD,
    quiet_launch,
    share_link_wanted,
    trailing_inputs_optional,
)
from artnet.serve.handlers import DEFAULT_COLORMAP, DEFAULT_OPACITY, Handlers, nothing_looked_at

# A high-resolution scan of a painting fits; a JPEG of MAX_PIXELS is usually far smaller.
MAX_FILE_SIZE = 50 * 1024 * 1024
COLORMAPS = ("jet", "turbo", "inferno", "magma", "viridis", "plasma")

# Two CPU cores: two passes at a time keep both cores busy (one image's decoding and encoding overlaps the
# other's network pass); more only make every user wait longer. app.py gives each pass its share of
# TensorFlow's threads (classifier.share_cpu_cores). Every event that may run the network, or draw
# overlays, waits in this one group.
MODEL_CONCURRENCY = 2
MODEL_GROUP = "model"
# The API's endpoints; those that take a painting take `whole` last.
API_ENDPOINTS = ("answer", "classify", "explain", "similar", "load_example")
# Beyond this many waiting requests a user would wait for long: "queue full" is kinder.
QUEUE_SIZE = 64
# One user's state is the picture (at most 768 x 768 RGB) and the maps at the layers' own resolution:
# under 2 MB. Forget it after a quarter of an hour; a user who comes back later pays one network pass.
STATE_SECONDS = 15 * 60
# Bounds the memory that sessions hold: 256 x 2 MB in the worst case.
STATE_SESSIONS = 256
# Overlays are written to Gradio's cache on every slider move: clear files older than two hours, hourly.
CACHE_CLEANUP = (3600, 7200)
# The note over an example stands out from the page, so that nobody takes the example for their painting.
# The page is three columns in the order a phone shows them, one under the other: the painting (with what
# was looked at in it), the answer with everything after it, and the examples; a phone visitor reads the
# answer right under their painting, not ten thumbnails later. Wider, a grid puts the examples under the
# painting, on the left, and the answer beside both. (Gradio's columns wrap under 2 x 320 px.)
PAGE_CSS = """
#example-note p, #looked-note p {
    margin: 0; padding: var(--size-2) var(--size-3); border-left: 3px solid var(--color-accent);
    background: var(--color-accent-soft); border-radius: var(--radius-sm);
}
@media (min-width: 720px) {
    #page { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); grid-template-rows: auto 1fr; }
    #painting-column { grid-column: 1; grid-row: 1; }
    #results-column { grid-column: 2; grid-row: 1 / span 2; }
    #examples-column { grid-column: 1; grid-row: 2; align-self: start; }
}
"""


def backbone_title(config):
    """The backbone as people read it: from config.json, or for folders older than that key, by its name."""
    name = config.get("backbone", "densenet121")
    return config.get("backbone_title") or (BACKBONES[name].title if name in BACKBONES else name)


def about(classifier, source):
    config = classifier.config
    size = config["image_size"]
    lines = [
        f"ArtNet is a {backbone_title(config)} (Keras 3) trained to tell {len(classifier.labels)} art movements "
        f"apart: {', '.join(classifier.labels)}. {way_in_sentence(config.get('way_in'), size)}",
    ]
    metrics = read_metrics(source.folder) or {}
    test = metrics.get("test") or {}
    if "accuracy" in test:
        f1 = f", macro-F1 {test['macro_f1']:.2f}" if "macro_f1" in test else ""
        lines.append(f"On its held-out test set it is right {test['accuracy']:.1%} of the time{f1}.")
        lines.append(cross_collection_line(metrics))
        lines.append(visitors_line(metrics))
    else:
        lines.append("This model has not been evaluated: its folder has no test metrics.")
    if "temperature" in config:
        lines.append(
            "Its percentages are calibrated on held-out paintings (temperature scaling): a movement it "
            "gives 80 % is right about 80 % of the time."
        )
    lines += [prediction_sets_line(metrics), scope_line(metrics)]
    if source.url:
        revision = f" at revision `{source.revision}`" if source.revision else ""
        if source.commit and source.commit != source.revision:
            revision += f" (commit `{source.commit[:12]}`)"
        lines.append(f"Model: [{source.repo_id}]({source.url}){revision}.")
    else:
        # The folder's name, not its path on the server, which is none of the visitors' business.
        lines.append(f"Model: the local folder `{os.path.basename(os.path.normpath(source.folder))}`.")
    lines.append(
        "The maps show where the evidence for the chosen movement lies at each depth of the network, from small "
        "textures (early) to whole shapes (final), by four methods: Grad-CAM (Selvaraju et al., 2017), Grad-CAM++ "
        "(Chattopadhyay et al., 2018), LayerCAM (Jiang et al., 2021) and HiResCAM (Draelos and Carin, 2020)."
    )
    lines.append(faithfulness_line(metrics))
    return "\n\n".join(line for line in lines if line)


def way_in_sentence(way_in, size):
    """How an image reaches the network, as the model folder declares it."""
    if not way_in:
        return f"It sees a painting padded to a square and resized to {size} × {size} pixels."
    found = "In a photo, it looks for the painting and straightens it; then it " if way_in["find_painting"] else "It "
    encoded = f" and saves it as JPEG at quality {way_in['jpeg_quality']}" if way_in["jpeg_quality"] else ""
    return (
        f"{found}shrinks the image to {size} pixels on its longest side{encoded}, as its training paintings were made, "
        f"and pads it to a {size} × {size} square."
    )


def visitors_line(metrics):
    """How it does on paintings as visitors bring them: from other sources, and photographed on a wall."""
    visitors = metrics.get("visitors") or {}
    photos = visitors.get("photos")
    if not photos:
        return ""
    elsewhere = visitors.get("elsewhere")
    away = (
        f"On {elsewhere['paintings']} paintings of its movements from other sources, as those had them, it is right "
        f"{elsewhere['top1']:.0%} of the time and keeps {elsewhere['kept']:.0%} of them in scope. "
        if elsewhere
        else ""
    )
    return (
        f"{away}On {photos['paintings']} photos of paintings on a wall it is right {photos['top1']:.0%} of the time and "
        f"keeps {photos['kept']:.0%} in scope (the same paintings as files: {photos['as_files']['top1']:.0%} and "
        f"{photos['as_files']['kept']:.0%})."
    )


def cross_collection_line(metrics):
    """How often a painting from a collection the model never saw gets its movement: the number that
    matters for a visitor's painting, which comes from none of the training collections."""
    cross = metrics.get("cross_collection") or {}
    if "mean_accuracy" not in cross:
        return ""
    return (
        f"Its test paintings come from the collections it was trained on. Trained again without one collection of "
        f"a movement, it recognises that collection's paintings {cross['mean_accuracy']:.0%} of the time (mean over "
        f"{len(cross.get('collections', []))} collections): expect something between the two for a painting of yours."
    )


def prediction_sets_line(metrics):
    """How the answer's set of movements is made and how often it held the true one, in the training
    collections and in one left out."""
    sets = metrics.get("prediction_sets") or {}
    if "test" not in sets:
        return ""
    test, cross = sets["test"], metrics.get("cross_collection") or {}
    elsewhere = (
        f" On a collection left out of training, where that promise does not hold, they held it "
        f"{cross['mean_coverage']:.0%} of the time."
        if "mean_coverage" in cross
        else ""
    )
    return (
        f"Its answer names every movement at {sets['probability_floor']:.0%} or more (split conformal prediction): "
        f"a set meant to hold the true movement of {sets['coverage']:.0%} of paintings like its held-out ones. On "
        f"its {test['paintings']} test paintings the sets held it {test['coverage']:.1%} of the time, with "
        f"{test['mean_size']:.2f} movements on average.{elsewhere}"
    )


def scope_line(metrics):
    """How well "none of these" tells other images from the movements' paintings."""
    scope = metrics.get("out_of_scope") or {}
    if "test" not in scope:
        return ""
    test = scope["test"]
    kinds = " and ".join(
        f"{test[kind]['flagged']:.0%} of the {kind} ones ("
        + "".join(f"{name}, " for name in test[kind].get("categories", []))
        + f"AUROC {test[kind]['auroc']:.2f})"
        for kind in ("near", "far")
        if kind in test
    )
    cross = metrics.get("cross_collection") or {}
    new = (
        f" Paintings of its movements from a collection it never saw were kept {cross['mean_in_scope']:.0%} of the time."
        if "mean_in_scope" in cross
        else ""
    )
    return (
        f'It answers "none of these" for images that look like none of its movements: on held-out images it '
        f"flagged {kinds}, while it kept {test['kept']:.0%} of its test paintings.{new}"
    )


def faithfulness_line(metrics):
    """What the model folder's faithfulness test found, and what its choice of the most faithful view rests
    on, in a sentence."""
    found = metrics.get("faithfulness") or {}
    best = found.get("most_faithful")
    if not best:
        return "This model's maps have not been tested for faithfulness."
    row = found["methods"][best["method"]][best["layer"]]
    where = "deletion and insertion curves; the model card and the project's docs/explanations.md have the table"
    if "deletion_worst" not in row:  # a model folder measured against its own depth's random map alone
        return (
            f"The page opens on the most faithful maps: {best['method']} at the {best['depth']} depth. Removing "
            f"a painting's pixels in the order these maps rank them lowers the model's confidence faster than a "
            f"random map does on {row['deletion_beats_random']:.0%} of {found['paintings']} test paintings, and "
            f"revealing them raises it faster on {row['insertion_beats_random']:.0%} ({where} for every method "
            "and depth)."
        )
    *others, last = found["baselines"].values()
    return (
        f"The page opens on the most faithful maps: {best['method']} at the {best['depth']} depth, the view that "
        f"beats every baseline ({', '.join(others)} and {last}) on the most paintings in its worst case. Against "
        f"each of them, removing a painting's pixels in the order these maps rank them lowers the model's "
        f"confidence faster on at least {row['deletion_worst']:.0%} of {found['paintings']} test paintings, and "
        f"revealing them raises it faster on at least {row['insertion_worst']:.0%} ({where} for every method, "
        "depth and baseline)."
    )


@dataclass
class Page:
    """The components that the events read and write."""

    painting: object
    again: object
    true_movement: object
    example_note: object  # says that the painting shown is an example, and how to replace it
    looked: object  # the panel of what was classified: shown when it was the painting found in a photo
    looked_note: object  # what it says: the painting found, or the whole image as the user asked
    crop: object  # the painting found, warped flat: what the answer, the bars and the maps are for
    whole: object  # "Use the whole image": the user's choice, their own (each browser sends its own value)
    examples: object  # the gr.Gallery of examples, or None when the model folder has none
    example_index: object  # which example the API asks for
    answer: object  # the answer in words, above the bars
    bars: object
    description: object
    movement: object
    method: object
    opacity: object
    colormap: object
    overlays: object
    similar: object  # the gallery of closest training paintings (hidden without an index)
    shown: object


def build_demo(classifier, source):
    """The ArtNet Blocks app for a loaded classifier and the ModelSource it was loaded from."""
    handlers = Handlers(classifier, examples=read_examples(source.folder))
    with gr.Blocks(title="ArtNet", delete_cache=CACHE_CLEANUP) as demo:
        page = layout(handlers, classifier, source)
        wire_events(demo, page, handlers)
    # Endpoints that gained a parameter at the end (`whole`) still answer HTTP calls written before it.
    trailing_inputs_optional(demo, API_ENDPOINTS)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=MODEL_CONCURRENCY)
    return demo


def layout(handlers, classifier, source):
    """The page: the painting and what was looked at in it, then the answer, the bars and the overlays, then
    the examples (on a wide screen the examples sit under the painting and the answer beside both, PAGE_CSS);
    About under all. The examples fill the outputs that come before them, so those are built first
    (render=False) and placed where they belong with render(). The page opens on an example, analysed."""
    labels = handlers.labels
    opening = opening_values(handlers)
    answer = gr.Markdown(opening.get("answer", ""), elem_id="answer", render=False)
    bars = gr.Label(
        opening.get("bars"), label="Art movement", num_top_classes=len(labels), elem_id="movements", render=False
    )
    description = gr.Markdown(opening.get("description", ""), elem_id="description", render=False)
    movement = gr.Radio(
        labels, value=opening.get("movement"), label="Explain the movement", elem_id="movement", render=False
    )
    method = gr.Radio(
        handlers.methods, value=handlers.most_faithful["method"], label="Method", elem_id="method", render=False
    )
    opacity = gr.Slider(0, 1, value=DEFAULT_OPACITY, step=0.05, label="Opacity", elem_id="opacity", render=False)
    colormap = gr.Dropdown(list(COLORMAPS), value=DEFAULT_COLORMAP, label="Colormap", elem_id="colormap", render=False)
    # The handlers give JPEG files (saved_jpeg); anything else the Gallery encodes as JPEG too.
    overlays = gr.Gallery(
        opening.get("overlays"),
        label="Where the evidence lies, at four depths",
        selected_index=handlers.most_faithful_index if opening else None,
        format="jpeg",
        columns=2,
        object_fit="contain",
        elem_id="overlays",
        render=False,
    )
    similar = gr.Gallery(
        opening.get("similar"),
        label="Paintings the model finds closest (movement · similarity · title)",
        format="jpeg",
        columns=4,
        height="auto",
        allow_preview=False,
        buttons=[],
        object_fit="contain",
        elem_id="similar",
        render=False,
        visible=handlers.classifier.neighbours is not None,
    )
    gr.Markdown(
        "# ArtNet\nWhich art movement is this painting, and why does the network think so? "
        "Drop a painting on the box, paste one, use the webcam, or try an example."
    )
    with gr.Row(equal_height=False, elem_id="page"):
        with gr.Column(elem_id="painting-column"):
            example_note = gr.Markdown(opening.get("note", ""), elem_id="example-note")
            painting = gr.Image(
                opening.get("painting"),
                label="Painting",
                sources=["upload", "clipboard", "webcam"],
                type="filepath",
                image_mode=None,
                height=320,
                elem_id="painting",
                placeholder=f"Drop a painting here ({READABLE_FORMATS}, up to {MAX_FILE_SIZE // 2**20} MB and "
                f"{MAX_PIXELS // 1_000_000} megapixels)",
            )
            with gr.Row():
                again = gr.Button("Classify again", variant="primary", elem_id="again")
                true_movement = gr.Textbox(
                    opening.get("true_movement"),
                    label="True movement",
                    placeholder="known for the examples",
                    interactive=False,
                    max_lines=1,
                    elem_id="true-movement",
                )
            looked_visible, looked_text, crop_shown, whole_value = opening.get("looked", nothing_looked_at())
            with gr.Row(visible=looked_visible["visible"], elem_id="looked-at") as looked:
                crop = gr.Image(
                    crop_shown["value"],
                    visible=crop_shown["visible"],
                    label="What ArtNet classified",
                    show_label=False,
                    type="filepath",
                    interactive=False,
                    height=180,
                    buttons=["fullscreen"],
                    scale=1,
                    min_width=140,
                    elem_id="crop",
                )
                with gr.Column(scale=2, min_width=160):
                    looked_note = gr.Markdown(looked_text, elem_id="looked-note")
                    whole = gr.Checkbox(whole_value, label="Use the whole image", elem_id="whole")
        with gr.Column(elem_id="results-column"):
            answer.render()
            bars.render()
            description.render()
            similar.render()
            gr.Markdown("## What the network sees")
            movement.render()
            method.render()
            with gr.Row():
                opacity.render()
                colormap.render()
            overlays.render()
        with gr.Column(elem_id="examples-column", visible=bool(handlers.examples)):
            examples = examples_gallery(handlers)
    with gr.Accordion("About", open=False, elem_id="about-section"):
        gr.Markdown(about(classifier, source), elem_id="about")
    return Page(
        painting,
        again,
        true_movement,
        example_note,
        looked,
        looked_note,
        crop,
        whole,
        examples,
        gr.Number(0, precision=0, visible=False),
        answer,
        bars,
        description,
        movement,
        method,
        opacity,
        colormap,
        overlays,
        similar,
        gr.State(time_to_live=STATE_SECONDS),
    )


def opening_values(handlers):
    """The first value of each component that shows a painting's analysis: the opening example's, from its
    explanation made at start-up, so that no visitor's page waits for the network; none without examples."""
    number = handlers.opening_example()
    if number is None:
        return {}
    painting, true_movement, bars, description, movement, *_, overlays, _, similar, answer = handlers.load_example(
        number
    )
    return dict(
        answer=answer,
        painting=painting,
        true_movement=true_movement,
        bars=bars,
        description=description,
        movement=movement,
        overlays=overlays,
        similar=similar,
        note=handlers.example_note(number),
        looked=handlers.looked_at(handlers.example_explanations[number]),
    )


def examples_gallery(handlers):
    """The model folder's examples as a grid of thumbnails, each captioned with its true movement and the
    model's answer; None when the folder has none."""
    if not handlers.examples:
        return None
    return gr.Gallery(
        value=handlers.example_gallery(),
        label="Examples: held-out test paintings (click one)",
        columns=5,
        height="auto",
        allow_preview=False,
        buttons=[],
        object_fit="cover",
        elem_id="examples",
    )


def wire_events(demo, page, handlers):
    """The page's events and the API endpoints. Every event that runs the network or draws overlays waits in
    MODEL_GROUP; the page's own events are not part of the API. The endpoints take the painting and, last,
    `whole` (default false: the painting found in a photo, where the model looks for one)."""
    model = dict(preprocess=False, concurrency_id=MODEL_GROUP)
    redraw = gr.on(
        [page.movement.input, page.method.input, page.opacity.input, page.colormap.input],
        handlers.redraw,
        inputs=[page.painting, page.movement, page.method, page.opacity, page.colormap, page.shown, page.whole],
        outputs=[page.overlays, page.shown],
        trigger_mode="always_last",
        show_progress="minimal",
        api_visibility="private",
        **model,
    )
    looked = [page.looked, page.looked_note, page.crop, page.whole]
    analysis = [
        page.answer,
        page.bars,
        page.description,
        page.movement,
        *looked,
        page.overlays,
        page.shown,
        page.similar,
    ]
    # A painting dropped over the one shown fires two inputs: the box's clearing, which reports the old
    # painting (analyse leaves the page as it is), then the upload's, often while the first still runs.
    # Gradio's default would drop the second, and the page would keep the old painting's answer beside the
    # new painting.
    page.painting.input(
        handlers.analyse,
        inputs=[page.painting, page.method, page.opacity, page.colormap, page.shown],
        outputs=analysis,
        api_visibility="private",
        cancels=[redraw],
        trigger_mode="always_last",
        **model,
    )
    # Classify again, or the user's choice of the whole image or the painting found in it: the same painting
    # analysed again as the box says. Only a user's own tick runs it (input, not change): a new painting
    # unticks it without a second analysis.
    gr.on(
        [page.again.click, page.whole.input],
        handlers.analyse_again,
        inputs=[page.painting, page.method, page.opacity, page.colormap, page.whole],
        outputs=analysis,
        api_visibility="private",
        cancels=[redraw],
        trigger_mode="always_last",
        **model,
    )
    # A painting of the user's own has no known movement, and is no example.
    page.painting.input(
        None, outputs=[page.true_movement, page.example_note], js="() => ['', '']", api_visibility="private"
    )
    if page.examples is not None:
        example_outputs = [
            page.painting,
            page.true_movement,
            page.bars,
            page.description,
            page.movement,
            page.method,
            page.opacity,
            page.colormap,
            page.overlays,
            page.shown,
            page.similar,
            page.answer,
        ]
        # A click carries the example in its event data, an API call in its argument: one event each,
        # as Gradio gives no event data to an API call of a select event. The API's answer is as it was
        # before the page showed what was looked at.
        page.examples.select(
            handlers.select_example,
            outputs=[*example_outputs, page.example_note, *looked],
            api_visibility="private",
            **model,
        )
        gr.on(
            [],
            handlers.load_example,
            inputs=[page.example_index],
            outputs=example_outputs,
            api_name="load_example",
            **model,
        )
    gr.on([], handlers.classify, inputs=[page.painting, page.whole], outputs=[page.bars], api_name="classify", **model)
    gr.on(
        [],
        handlers.answer,
        inputs=[page.painting, page.whole],
        outputs=[gr.JSON(visible=False)],
        api_name="answer",
        **model,
    )
    gr.on(
        [],
        handlers.explain,
        inputs=[page.painting, page.movement, page.opacity, page.colormap, page.method, page.whole],
        outputs=[page.overlays],
        api_name="explain",
        **model,
    )
    if handlers.classifier.neighbours is not None:
        gr.on(
            [],
            handlers.similar,
            inputs=[page.painting, page.whole],
            outputs=[page.similar],
            api_name="similar",
            **model,
        )


def launch_options(model_folder=None):
    """What the app's launch() is given besides where to listen. `model_folder`'s examples may be served
    wherever the folder lies: Gradio serves only files under the working folder and the temporary one
    unless told, and a model pulled from the Hub lies in the Hub's cache."""
    return dict(
        max_file_size=MAX_FILE_SIZE,
        state_session_capacity=STATE_SESSIONS,
        theme=gr.themes.Soft(primary_hue="indigo"),
        css=GALLERY_CSS + PAGE_CSS,
        head=GALLERY_HEAD,
        allowed_paths=[os.path.join(model_folder, EXAMPLES_FOLDER)] if model_folder else None,
    )


def serve(demo, host=None, port=None, share=False, model_folder=None, warm_up=None):
    """Launch the app and block. `host` and `port` default to Gradio's GRADIO_SERVER_NAME and
    GRADIO_SERVER_PORT (else 127.0.0.1:7860); GRADIO_SHARE=true asks for a share link like `share`.
    `warm_up` runs in the background once the page is served: what the first visitor's page needs is
    ready before, what their first request needs follows while they look at it."""
    share = share_link_wanted(demo, share)
    local_url, share_url = quiet_launch(demo, share, server_name=host, server_port=port, **launch_options(model_folder))
    if warm_up is not None:
        threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    print(f"ArtNet is running at {local_url}")
    if share_url:
        print(f"Public link, open for up to a week: {share_url}")
    elif share:
        print(f"Could not open a share link (offline, or the share server is unreachable); serving only at {local_url}")
    demo.block_thread()
