"""The Gradio app: ArtNet's layout, its events and API endpoints, and how it is served.

This module knows Gradio and not TensorFlow. It is given a Classifier-like object (`labels`, `config`,
`gradcam_layers`, `classify`, `explain`) and the model folder, whose examples/ and metrics.json it shows.

One network pass serves a new painting: `Classifier.explain` returns the probabilities with the Grad-CAM
maps. The maps stay in the user's `gr.State`, so moving the opacity slider or changing the colormap only
re-renders the overlays.
"""

import contextlib
import hashlib
import io
import json
import os
from dataclasses import dataclass

import gradio as gr
from gradio.utils import get_upload_folder

from artnet.backbones import BACKBONES
from artnet.errors import UserError
from artnet.files import atomic_path
from artnet.images import MAX_PIXELS, READABLE_FORMATS
from artnet.model_folder import CONFIG_FILE, EXAMPLES_FOLDER, EXAMPLES_INDEX, MODEL_FILE, read_metrics
from artnet.styles import DESCRIPTIONS

# A high-resolution scan of a painting fits; a JPEG of MAX_PIXELS is usually far smaller.
MAX_FILE_SIZE = 50 * 1024 * 1024
DEFAULT_OPACITY = 0.5
DEFAULT_COLORMAP = "jet"
COLORMAPS = ("jet", "turbo", "inferno", "magma", "viridis", "plasma")
# Pillow's default, the quality Gradio's own JPEG files have.
JPEG_QUALITY = 75

# DenseNet-121 on two CPU cores: two passes at a time keep both cores busy (one image's decoding and
# encoding overlaps the other's network pass); more only make every user wait longer. app.py gives each
# pass its share of TensorFlow's threads (classifier.share_cpu_cores). Every event that may run the
# network, or draw overlays, waits in this one group.
MODEL_CONCURRENCY = 2
MODEL_GROUP = "model"
# About half a minute of waiting at ~0.3 s a painting on two cores; beyond that, "queue full" is kinder.
QUEUE_SIZE = 64
# One user's maps take up to ~11 MB (four 768 x 768 float32 maps and the picture). Forget them after a
# quarter of an hour; a user who comes back later pays one network pass, nothing more.
STATE_SECONDS = 15 * 60
# Bounds the memory that sessions hold: 256 x ~11 MB in the worst case.
STATE_SESSIONS = 256
# Overlays are written to Gradio's cache on every slider move: clear files older than two hours, hourly.
CACHE_CLEANUP = (3600, 7200)

# Gradio gives a gallery a fixed height with a scroll bar and clips long captions; the overlays and
# their layer names should show whole.
CSS = """
#overlays .fixed-height { min-height: 0; max-height: none; }
#overlays .caption-label { max-width: 100%; font-size: var(--text-sm); }
"""


@dataclass(frozen=True)
class Example:
    path: str
    label: str


@dataclass(frozen=True)
class ShownExplanation:
    """What one user's overlays are drawn from: the painting (its file on the server) and its maps."""

    painting: str
    explanation: object


class Handlers:
    """The app's event handlers. Paintings arrive as Gradio file payloads (events run with
    preprocess=False), so that every file, however broken, reaches `artnet.images.load_image` and its
    clear error messages."""

    def __init__(self, classifier, overlay_folder=None):
        self.classifier = classifier
        self.labels = list(classifier.labels)
        self.layers = [dict(layer) for layer in classifier.gradcam_layers]
        # Gradio's cache, which it serves files from and clears (delete_cache).
        self.overlay_folder = overlay_folder or get_upload_folder()

    def analyse(self, painting, opacity, colormap):
        """A new painting: label bars, description, the top class selected, overlays, and the state. A
        cleared painting clears them."""
        if painting is None:
            return None, "", None, [], None
        return self.analyse_again(painting, opacity, colormap)

    def analyse_again(self, painting, opacity, colormap):
        """What `analyse` shows, for the painting in the box; without one, a message says to add one."""
        path = painting_path(painting)
        explanation = self._explain(path, None)
        return (
            explanation.probabilities,
            describe(explanation.probabilities),
            explanation.class_name,
            self._overlays(explanation, opacity, colormap),
            ShownExplanation(path, explanation),
        )

    def redraw(self, painting, movement, opacity, colormap, shown):
        """Overlays for the chosen movement, opacity and colormap. The network runs only when the state
        does not hold this painting's maps for this movement (a new class, an example served from the
        cache, or a session that Gradio has forgotten)."""
        if painting is None:
            return [], None
        path = painting_path(painting)
        if shown is None or shown.painting != path or movement not in (None, shown.explanation.class_name):
            shown = ShownExplanation(path, self._explain(path, movement))
        return self._overlays(shown.explanation, opacity, colormap), shown

    def show_example(self, painting, true_movement):
        """An example's outputs, cached after its first click. The view returns to the default opacity
        and colormap, the ones the cached overlays are drawn with."""
        probabilities, description, movement, overlays, _ = self.analyse(painting, DEFAULT_OPACITY, DEFAULT_COLORMAP)
        return probabilities, description, movement, DEFAULT_OPACITY, DEFAULT_COLORMAP, overlays

    def classify(self, painting):
        """The probability of each movement for a painting."""
        path = painting_path(painting)
        with user_errors():
            return self.classifier.classify(path)

    def explain(self, painting, movement=None, opacity=DEFAULT_OPACITY, colormap=DEFAULT_COLORMAP):
        """Grad-CAM overlays of a painting for a movement (default: the top prediction), one per depth of
        the network, each captioned with its depth and layer."""
        return self._overlays(self._explain(painting_path(painting), movement), opacity, colormap)

    def _explain(self, path, movement):
        with user_errors():
            return self.classifier.explain(path, class_name=movement or None)

    def _overlays(self, explanation, opacity, colormap):
        """(JPEG file, caption) of each depth."""
        opacity = DEFAULT_OPACITY if opacity is None else opacity
        colormap = colormap or DEFAULT_COLORMAP
        with user_errors():
            return [
                (saved_jpeg(explanation.overlay(layer["name"], float(opacity), colormap), self.overlay_folder),
                 caption(layer))
                for layer in self.layers
            ]


def saved_jpeg(image, folder):
    """The path of `image` as a JPEG file in `folder`, named after its content as Gradio names its files.

    Overlays are saved here rather than by the Gallery: Gradio writes a picture over the file of the same
    content in place, so when two users get the same overlay (the same example, the same settings) one
    user's download is cut short while the other's is written. This file is written under a temporary
    name and renamed into place. JPEG takes ~3 ms for a 768 px overlay; Gradio's default WebP ~60 ms,
    longer than the network pass itself.
    """
    encoded = io.BytesIO()
    image.save(encoded, format="JPEG", quality=JPEG_QUALITY)
    content = encoded.getvalue()
    path = os.path.join(folder, hashlib.sha256(content).hexdigest(), "overlay.jpeg")
    try:
        # Gradio's delete_cache ages files by ctime: one handed out again must look new.
        os.utime(path)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_path(path, suffix=".jpeg") as temporary:
            with open(temporary, "wb") as file:
                file.write(content)
    return path


def painting_path(painting):
    """The server-side file of an image payload, or a gr.Error that says what to do."""
    if painting is None:
        raise user_error("Add a painting first: drop an image file on the box, paste one or use the webcam.")
    path = painting.get("path") if isinstance(painting, dict) else None
    if not path:
        raise user_error("No image file arrived with the request. Upload the painting again.")
    if not os.path.isfile(path):
        raise user_error("This upload has expired on the server. Upload the painting again.")
    return path


def user_error(message):
    return gr.Error(message, print_exception=False)


@contextlib.contextmanager
def user_errors():
    """Errors a user can cause (ImageError, an unknown movement or colormap, an opacity outside 0..1)
    are UserErrors whose message is written for them: show it, and keep serving everyone else."""
    try:
        yield
    except UserError as error:
        raise user_error(str(error)) from None


def caption(layer):
    return f"{layer['depth']} · {layer['name']}"


def describe(probabilities):
    top = max(probabilities, key=probabilities.get)
    heading = f"### {top}"
    description = DESCRIPTIONS.get(top)
    return f"{heading}\n\n{description}" if description else heading


def read_examples(folder):
    """The examples listed in `folder`/examples/index.json whose files exist; none if there is no index."""
    examples_folder = os.path.join(folder, EXAMPLES_FOLDER)
    index_path = os.path.join(examples_folder, EXAMPLES_INDEX)
    if not os.path.isfile(index_path):
        return []
    try:
        with open(index_path, encoding="utf-8") as file:
            entries = json.load(file)
    except (OSError, ValueError) as error:
        print(f"Skipping the examples: {index_path} is not readable JSON ({error}).")
        return []
    examples = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not {"file", "label"} <= entry.keys():
            continue
        path = os.path.join(examples_folder, entry["file"])
        if os.path.isfile(path):
            examples.append(Example(os.path.abspath(path), str(entry["label"])))
    return examples


def backbone_title(config):
    """The backbone as people read it: from config.json, or for folders older than that key, by its name."""
    name = config.get("backbone", "densenet121")
    return config.get("backbone_title") or (BACKBONES[name].title if name in BACKBONES else name)


def about(classifier, source):
    config = classifier.config
    size = config["image_size"]
    lines = [
        f"ArtNet is a {backbone_title(config)} (Keras 3) trained to tell {len(classifier.labels)} art movements "
        f"apart: {', '.join(classifier.labels)}. It sees a painting padded to a square and resized to {size} × {size} "
        "pixels.",
    ]
    test = (read_metrics(source.folder) or {}).get("test") or {}
    if "accuracy" in test:
        f1 = f", macro-F1 {test['macro_f1']:.2f}" if "macro_f1" in test else ""
        lines.append(f"On its held-out test set it is right {test['accuracy']:.1%} of the time{f1}.")
    else:
        lines.append("This model has not been evaluated: its folder has no test metrics.")
    if source.url:
        revision = f" at revision `{source.revision}`" if source.revision else ""
        if source.commit and source.commit != source.revision:
            revision += f" (commit `{source.commit[:12]}`)"
        lines.append(f"Model: [{source.repo_id}]({source.url}){revision}.")
    else:
        # The folder's name, not its path on the server, which is none of the visitors' business.
        lines.append(f"Model: the local folder `{os.path.basename(os.path.normpath(source.folder))}`.")
    lines.append(
        "The maps are Grad-CAM (Selvaraju et al., 2017): where the evidence for the chosen movement lies "
        "at each depth of the network, from small textures (early) to whole shapes (final)."
    )
    return "\n\n".join(lines)


def build_demo(classifier, source):
    """The ArtNet Blocks app for a loaded classifier and the ModelSource it was loaded from."""
    handlers = Handlers(classifier)
    labels = handlers.labels
    examples = read_examples(source.folder)
    with gr.Blocks(title="ArtNet", delete_cache=CACHE_CLEANUP) as demo:
        # The examples sit under the painting, but they fill the outputs further down: those are built
        # first and placed with render().
        bars = gr.Label(label="Art movement", num_top_classes=len(labels), elem_id="movements", render=False)
        description = gr.Markdown(elem_id="description", render=False)
        movement = gr.Radio(labels, label="Explain the movement", elem_id="movement", render=False)
        opacity = gr.Slider(
            0, 1, value=DEFAULT_OPACITY, step=0.05, label="Opacity", elem_id="opacity", render=False
        )
        colormap = gr.Dropdown(
            list(COLORMAPS), value=DEFAULT_COLORMAP, label="Colormap", elem_id="colormap", render=False
        )
        overlays = gr.Gallery(
            label="Grad-CAM overlays",
            # The handlers give JPEG files (saved_jpeg); anything else the Gallery encodes as JPEG too.
            format="jpeg",
            columns=2,
            object_fit="contain",
            elem_id="overlays",
            render=False,
        )
        shown = gr.State(time_to_live=STATE_SECONDS)

        gr.Markdown(
            "# ArtNet\nWhich art movement is this painting, and why does the network think so? "
            "Drop a painting on the box, paste one, use the webcam, or try an example."
        )
        with gr.Row(equal_height=False):
            with gr.Column():
                painting = gr.Image(
                    label="Painting",
                    sources=["upload", "clipboard", "webcam"],
                    type="filepath",
                    image_mode=None,
                    height=320,
                    elem_id="painting",
                    placeholder=(
                        f"Drop a painting here ({READABLE_FORMATS}, up to {MAX_FILE_SIZE // 2**20} MB and "
                        f"{MAX_PIXELS // 1_000_000} megapixels)"
                    ),
                )
                with gr.Row():
                    again = gr.Button("Classify again", variant="primary", elem_id="again")
                    true_movement = gr.Textbox(
                        label="True movement",
                        placeholder="known for the examples",
                        interactive=False,
                        max_lines=1,
                        elem_id="true-movement",
                    )
                if examples:
                    # Gradio names its example cache after the Dataset's component id alone, so a
                    # retrained model in the same folder would be answered from the old model's cache.
                    with _examples_cache(source.folder):
                        gallery = gr.Examples(
                            examples=[[example.path, example.label] for example in examples],
                            inputs=[painting, true_movement],
                            outputs=[bars, description, movement, opacity, colormap, overlays],
                            fn=handlers.show_example,
                            cache_examples=True,
                            cache_mode="lazy",
                            preprocess=False,
                            label="Examples: held-out paintings and their true movement",
                            elem_id="examples",
                        )
                    # Gradio gives the examples' event a concurrency group of its own, but an example's first
                    # click runs the network.
                    demo.fns[gallery.cache_event["id"]].concurrency_id = MODEL_GROUP
            with gr.Column():
                bars.render()
                description.render()
                gr.Markdown("## What the network sees")
                movement.render()
                with gr.Row():
                    opacity.render()
                    colormap.render()
                overlays.render()
        with gr.Accordion("About", open=False):
            gr.Markdown(about(classifier, source), elem_id="about")

        redraw = gr.on(
            [movement.input, opacity.input, colormap.input],
            handlers.redraw,
            inputs=[painting, movement, opacity, colormap, shown],
            outputs=[overlays, shown],
            preprocess=False,
            trigger_mode="always_last",
            show_progress="minimal",
            concurrency_id=MODEL_GROUP,
            api_visibility="private",
        )
        for trigger, analyse in ((painting.input, handlers.analyse), (again.click, handlers.analyse_again)):
            trigger(
                analyse,
                inputs=[painting, opacity, colormap],
                outputs=[bars, description, movement, overlays, shown],
                preprocess=False,
                concurrency_id=MODEL_GROUP,
                api_visibility="private",
                cancels=[redraw],
            )
        # A painting of the user's own has no known movement.
        painting.input(None, outputs=true_movement, js="() => ''", api_visibility="private")

        gr.on(
            [],
            handlers.classify,
            inputs=[painting],
            outputs=[bars],
            preprocess=False,
            concurrency_id=MODEL_GROUP,
            api_name="classify",
        )
        gr.on(
            [],
            handlers.explain,
            inputs=[painting, movement, opacity, colormap],
            outputs=[overlays],
            preprocess=False,
            concurrency_id=MODEL_GROUP,
            api_name="explain",
        )
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=MODEL_CONCURRENCY)
    return demo


@contextlib.contextmanager
def _examples_cache(folder):
    root = os.environ.get("GRADIO_EXAMPLES_CACHE", os.path.join(".gradio", "cached_examples"))
    previous = os.environ.get("GRADIO_EXAMPLES_CACHE")
    os.environ["GRADIO_EXAMPLES_CACHE"] = os.path.join(root, f"artnet-{_fingerprint(folder)}")
    try:
        # Gradio's start-up note tells users to delete a stale cache by hand; a cache per model replaces it.
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        if previous is None:
            del os.environ["GRADIO_EXAMPLES_CACHE"]
        else:
            os.environ["GRADIO_EXAMPLES_CACHE"] = previous


def _fingerprint(folder):
    """A short hash of the files that decide a model folder's answers to its examples."""
    digest = hashlib.sha256()
    for name in (MODEL_FILE, CONFIG_FILE, os.path.join(EXAMPLES_FOLDER, EXAMPLES_INDEX)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def serve(demo, host=None, port=None, share=False):
    """Launch the app and block. `host` and `port` default to Gradio's GRADIO_SERVER_NAME and
    GRADIO_SERVER_PORT (else 127.0.0.1:7860); GRADIO_SHARE=true asks for a share link like `share`."""
    # A Space is public already; Gradio refuses share links there.
    share = (share or os.environ.get("GRADIO_SHARE", "").lower() == "true") and not demo.space_id
    options = dict(
        server_name=host,
        server_port=port,
        max_file_size=MAX_FILE_SIZE,
        state_session_capacity=STATE_SESSIONS,
        theme=gr.themes.Soft(primary_hue="indigo"),
        css=CSS,
    )
    # Gradio's own start-up lines speak of launch() arguments, and it explains a failed tunnel in a
    # dozen lines; app.py's users get one line for each thing that matters.
    with contextlib.redirect_stdout(io.StringIO()):
        _, local_url, share_url = demo.launch(share=share, prevent_thread_lock=True, quiet=True, **options)
    print(f"ArtNet is running at {local_url}")
    if share_url:
        print(f"Public link, open for up to a week: {share_url}")
    elif share:
        print(f"Could not open a share link (offline, or the share server is unreachable); serving only at {local_url}")
    demo.block_thread()
