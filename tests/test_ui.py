"""The app's handlers and its About/examples, with a stand-in classifier that draws with the real artnet.explain.overlay: no
TensorFlow, no server."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest
from huggingface_hub import constants as hub_constants
from PIL import Image

from artnet.data.images import load_image
from artnet.errors import UserError
from artnet.explain import overlay
from artnet.explain.neighbours import NeighbourIndex, thumbnail_jpeg
from artnet.model import conformal, scope
from artnet.model import folder as model_folder
from artnet.model.answers import Answer
from artnet.model.folder import ModelSource
from artnet.serve import handlers as handlers_module
from artnet.serve import ui

from live_app import free_port
from synthetic import painting

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LABELS = ["Cubism", "Impressionism", "Realism"]
LAYERS = [{"name": "conv2_block6_concat", "depth": "early"}, {"name": "relu", "depth": "final"}]


PROBABILITIES = {"Cubism": 0.1, "Impressionism": 0.7, "Realism": 0.2}


METHODS = ["Grad-CAM", "LayerCAM"]
MOST_FAITHFUL = {"method": "LayerCAM", "layer": "relu", "depth": "final"}


def stand_in_maps(class_name):
    """Maps of the layers' own small sizes that differ by method, by layer and by class, as real ones do."""
    ramp = np.linspace(0, 1, 16, dtype=np.float32)
    return {
        method: {
            layer["name"]: np.outer(ramp, ramp[::-1] if number % 2 else ramp)
            ** (1 + LABELS.index(class_name) + 3 * METHODS.index(method))
            for number, layer in enumerate(LAYERS)
        }
        for method in METHODS
    }


class StandInClassifier:
    """Answers like a Classifier, loads images with the real load_image, and counts its network passes."""

    labels = LABELS
    gradcam_layers = LAYERS
    cam_methods = METHODS
    most_faithful = MOST_FAITHFUL
    neighbours = None  # no index of training paintings: the app hides the panel
    config = {"labels": LABELS, "image_size": 64, "backbone": "densenet121", "gradcam_layers": LAYERS}

    def __init__(self):
        self.passes = []

    def _record(self, kind, class_name, whole):
        """A pass, as (kind, class) or, of the whole image as asked, (kind, class, "whole")."""
        self.passes.append((kind, class_name, "whole") if whole else (kind, class_name))

    def classify(self, image, whole=False):
        load_image(image)
        self._record("classify", None, whole)
        return dict(PROBABILITIES)

    def explain(self, image, class_name=None, whole=False):
        picture = load_image(image)
        if class_name not in (None, *LABELS):
            raise UserError(f"Unknown class {class_name!r}; choose one of {', '.join(LABELS)}.")
        self._record("explain", class_name, whole)
        chosen = class_name or "Impressionism"
        return overlay.explanation(picture, stand_in_maps(chosen), dict(PROBABILITIES), chosen)

    def explain_many(self, images):
        """One pass for all the paintings, as the Classifier's; each explained for its top class."""
        pictures = [load_image(image) for image in images]
        if pictures:
            self.passes.append(("explain_many", len(pictures)))
        return [self._top_explanation(picture, number) for number, picture in enumerate(pictures)]

    def _top_explanation(self, picture, number):
        return overlay.explanation(picture, stand_in_maps("Impressionism"), dict(PROBABILITIES), "Impressionism")


@pytest.fixture
def classifier():
    return StandInClassifier()


@pytest.fixture
def handlers(classifier, tmp_path):
    return handlers_module.Handlers(classifier, str(tmp_path / "gradio_cache"))


@pytest.fixture
def upload(tmp_path):
    """A painting as Gradio hands it to the handlers: a file payload."""
    path = tmp_path / "upload.png"
    painting("blobs", size=(40, 30)).save(path)
    return {"path": str(path), "orig_name": "upload.png", "meta": {"_type": "gradio.FileData"}}


def pixels(overlays):
    return [np.asarray(Image.open(path)) for path, _ in overlays]


def opened(gallery):
    """The overlays of an update that opens the gallery on the most faithful depth, and that depth's index."""
    assert gallery["__type__"] == "update"
    return gallery["value"], gallery["selected_index"]


def test_a_new_painting_gets_bars_description_top_class_and_overlays_from_one_pass(handlers, classifier, upload):
    answer, bars, description, movement, *looked, gallery, shown, similar = handlers.analyse(
        upload, "LayerCAM", 0.5, "jet"
    )
    # A model folder without prediction sets or a scope score answers its most likely movement, and says so.
    assert answer.startswith("## Impressionism\n\n") and "train it again to get them" in answer
    assert bars == {"Cubism": 0.1, "Impressionism": 0.7, "Realism": 0.2}
    assert description.startswith("### Impressionism\n\nImpressionism captures")
    assert movement == "Impressionism"
    overlays, selected = opened(gallery)
    # Opened on the most faithful depth, which its caption names.
    assert selected == 1
    assert [caption for _, caption in overlays] == [
        "LayerCAM · early · conv2_block6_concat",
        "LayerCAM · final · relu · most faithful",
    ]
    assert all(Image.open(path).size == (40, 30) for path, _ in overlays)
    assert classifier.passes == [("explain", None)]
    assert shown.painting == upload["path"]
    assert similar == []  # this model folder has no index of its training paintings
    # The whole image was classified: nothing is said about what was looked at.
    assert looked == [gr.update(visible=False), "", gr.update(value=None, visible=False), False]


class StandInWithNeighbours(StandInClassifier):
    """A stand-in whose folder has an index of three training paintings."""

    EMBEDDING = np.array([0.1, 1.0, 0.3])

    def __init__(self):
        super().__init__()
        thumbnails = [thumbnail_jpeg(painting(style, size=(60, 40))) for style in ("stripes", "blobs", "noise")]
        entries = [
            {"movement": movement, "title": title, "source": None}
            for movement, title in (("Cubism", "Houses"), ("Impressionism", "Harbour"), ("Realism", "Field"))
        ]
        self.neighbours = NeighbourIndex(np.eye(3), entries, thumbnails.__getitem__)

    def explain(self, image, class_name=None, whole=False):
        return dataclasses.replace(super().explain(image, class_name, whole), embedding=self.EMBEDDING)

    def similar_to(self, embedding, k=8):
        return self.neighbours.matches(embedding, k)

    def similar(self, image, whole=False):
        load_image(image)
        self._record("similar", None, whole)
        return self.similar_to(self.EMBEDDING)


def test_the_closest_training_paintings_come_from_the_pass_that_explains(tmp_path, upload):
    classifier = StandInWithNeighbours()
    handlers = handlers_module.Handlers(classifier, str(tmp_path / "gradio_cache"))
    *_, similar = handlers.analyse(upload, None, 0.5, "jet")
    assert [caption for _, caption in similar] == [
        "Impressionism · 0.95 · Harbour",
        "Realism · 0.29 · Field",
        "Cubism · 0.10 · Houses",
    ]
    assert all(Image.open(path).size == (60, 40) for path, _ in similar)
    assert classifier.passes == [("explain", None)]
    # The API's endpoint gives the same gallery.
    assert [caption for _, caption in handlers.similar(upload)] == [caption for _, caption in similar]


def test_method_opacity_and_colormap_redraw_from_the_state_without_the_network(handlers, classifier, upload):
    *_, gallery, shown, _ = handlers.analyse(upload, "LayerCAM", 0.5, "jet")
    stronger, shown = handlers.redraw(upload, "Impressionism", "LayerCAM", 0.9, "jet", shown)
    recoloured, shown = handlers.redraw(upload, "Impressionism", "LayerCAM", 0.9, "inferno", shown)
    other_method, shown = handlers.redraw(upload, "Impressionism", "Grad-CAM", 0.9, "inferno", shown)
    assert classifier.passes == [("explain", None)]
    first, second, third, fourth = (
        pixels(overlays) for overlays in (opened(gallery)[0], stronger, recoloured, other_method)
    )
    assert not np.array_equal(first[0], second[0]) and not np.array_equal(second[0], third[0])
    assert not np.array_equal(third[0], fourth[0])
    # A redraw leaves the gallery where the user has it: open or closed, on whichever depth.
    assert isinstance(other_method, list)
    assert [caption for _, caption in other_method] == [
        "Grad-CAM · early · conv2_block6_concat",
        "Grad-CAM · final · relu",
    ]


def test_another_movement_costs_one_pass_then_redraws_from_the_state(handlers, classifier, upload):
    *_, shown, _ = handlers.analyse(upload, "LayerCAM", 0.5, "jet")
    _, shown = handlers.redraw(upload, "Realism", "LayerCAM", 0.5, "jet", shown)
    _, shown = handlers.redraw(upload, "Realism", "Grad-CAM", 0.2, "jet", shown)
    assert classifier.passes == [("explain", None), ("explain", "Realism")]
    assert shown.explanation.class_name == "Realism"


def test_the_state_of_another_painting_is_never_drawn(handlers, classifier, upload, tmp_path):
    *_, shown, _ = handlers.analyse(upload, "LayerCAM", 0.5, "jet")
    other = tmp_path / "example.png"
    painting("stripes", size=(50, 50)).save(other)
    overlays, shown = handlers.redraw({"path": str(other)}, "Impressionism", "LayerCAM", 0.5, "jet", shown)
    assert classifier.passes == [("explain", None), ("explain", "Impressionism")]
    assert shown.painting == str(other) and Image.open(overlays[0][0]).size == (50, 50)
    # A session that Gradio has forgotten (no state) also gets its overlays.
    handlers.redraw({"path": str(other)}, "Impressionism", "LayerCAM", 0.5, "jet", None)
    assert len(classifier.passes) == 3


def test_examples_are_explained_at_start_up_and_a_click_only_draws(classifier, tmp_path):
    files = ["a.png", "b.png"]
    folder = write_folder(
        tmp_path / "model",
        index=[{"file": "a.png", "label": "Impressionism"}, {"file": "b.png", "label": "Realism"}],
        files=files,
    )
    handlers = handlers_module.Handlers(
        classifier, str(tmp_path / "gradio_cache"), examples=model_folder.read_examples(folder)
    )
    assert classifier.passes == [("explain_many", 2)]
    # The gallery's captions show the true movement and the model's answer, a wrong one too.
    assert [caption for _, caption in handlers.example_gallery()] == [
        "✓ true Impressionism · model: Impressionism 70%",
        "✗ true Realism · model: Impressionism 70%",
    ]
    answer = handlers.load_example(1)
    painting, true_movement, bars, description, movement, method, opacity, colormap, overlays, shown, _, text = answer
    assert text.startswith("## Impressionism")
    assert painting == str(folder / "examples" / "b.png") and true_movement == "Realism"
    assert (movement, method, opacity, colormap) == (
        "Impressionism",
        "LayerCAM",
        handlers_module.DEFAULT_OPACITY,
        handlers_module.DEFAULT_COLORMAP,
    )
    assert bars == PROBABILITIES and len(overlays) == len(LAYERS) and shown.painting == painting
    # A click on the example opens the overlays on the most faithful depth, and says it is an example; the
    # API gets the plain list.
    clicked = handlers.select_example(gr.SelectData(None, {"index": 1, "value": None}))
    assert opened(clicked[8]) == (overlays, 1) and clicked[:8] == answer[:8]
    note = clicked[12]
    assert note.startswith("**An example**") and "held-out Realism painting" in note
    assert len(classifier.passes) == 1
    with pytest.raises(gr.Error, match="There is no example 2; this model has 2, from 0."):
        handlers.load_example(2)


class StandInWithAnswers(StandInClassifier):
    """A stand-in whose answer for the n-th example of a batch is ANSWERS[n]: right, wrong, surer, less sure."""

    ANSWERS = [
        {"Cubism": 0.6, "Impressionism": 0.3, "Realism": 0.1},
        {"Cubism": 0.05, "Impressionism": 0.9, "Realism": 0.05},
        {"Cubism": 0.1, "Impressionism": 0.1, "Realism": 0.8},
    ]

    def _top_explanation(self, picture, number):
        probabilities = self.ANSWERS[number]
        top = max(probabilities, key=probabilities.get)
        return overlay.explanation(picture, stand_in_maps(top), dict(probabilities), top)


def component(demo, elem_id):
    return next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == elem_id)


def test_the_page_opens_on_the_surest_right_example_already_analysed_without_a_pass_per_visitor(tmp_path):
    # The model is surest of b.png, but wrong about it: the page opens on c.png, the surest right answer.
    truths = {"a.png": "Cubism", "b.png": "Realism", "c.png": "Realism"}
    folder = write_folder(
        tmp_path / "model", index=[{"file": name, "label": label} for name, label in truths.items()], files=truths
    )
    classifier = StandInWithAnswers()
    demo = ui.build_demo(classifier, ModelSource(str(folder)))
    assert os.path.basename(component(demo, "painting").value["path"]) == "c.png"
    assert component(demo, "true-movement").value == "Realism"
    assert component(demo, "movements").value["label"] == "Realism"
    assert component(demo, "description").value.startswith("### Realism")
    assert component(demo, "answer").value.startswith("## Realism")
    assert component(demo, "movement").value == "Realism"
    note = component(demo, "example-note").value
    assert note.startswith("**An example**") and "held-out Realism painting" in note
    # The overlays of every depth, opened on the most faithful one, which its caption names.
    overlays = component(demo, "overlays")
    assert [image["caption"] for image in overlays.value] == [
        "LayerCAM · early · conv2_block6_concat",
        "LayerCAM · final · relu · most faithful",
    ]
    assert overlays.selected_index == 1
    # All of it from the one pass that explained the examples at start-up.
    assert classifier.passes == [("explain_many", 3)]


class StandInWithRules(StandInClassifier):
    """A stand-in whose folder has prediction sets and a scope score, and whose answer is ANSWER."""

    ANSWER = Answer(dict(PROBABILITIES), ["Impressionism"], True, 3.0)

    def __init__(self, answer=ANSWER):
        super().__init__()
        self.config = {**StandInClassifier.config, "prediction_sets": conformal.config_entry(0.9, 0.15)}
        self.config["scope"] = scope.config_entry(np.zeros(2), [0.0], threshold=-1.0)
        self.given = answer

    def explain(self, image, class_name=None, whole=False):
        return dataclasses.replace(super().explain(image, class_name, whole), answer=self.given)

    def answer(self, image, whole=False):
        load_image(image)
        self._record("answer", None, whole)
        return self.given


@pytest.mark.parametrize(
    "given, heading",
    [
        (StandInWithRules.ANSWER, "## Impressionism\n\n"),
        (Answer(dict(PROBABILITIES), ["Impressionism", "Realism"], True, 2.0), "## Impressionism or Realism\n\n"),
        (
            Answer(dict(PROBABILITIES), ["Impressionism"], False, -4.0),
            "## This does not look like any of the three movements ArtNet knows (closest: Impressionism)\n\n"
            "The bars and the maps below are for the closest movement, Impressionism.\n\n",
        ),
    ],
)
def test_the_answer_above_the_bars_says_the_set_or_none_of_these_and_how_it_was_made(given, heading, tmp_path, upload):
    handlers = handlers_module.Handlers(StandInWithRules(given), str(tmp_path / "gradio_cache"))
    answer, bars, *_ = handlers.analyse(upload, "LayerCAM", 0.5, "jet")
    assert answer.startswith(heading) and bars == PROBABILITIES
    how = answer.removeprefix(heading)
    assert "every movement at 15% or more" in how and "90%" in how and '"none of these"' in how
    assert how.endswith("[The numbers](#about-section)</small>")


def test_the_answer_endpoint_gives_the_fields_of_the_answer(tmp_path, upload):
    given = Answer(dict(PROBABILITIES), ["Impressionism"], False, -4.0)
    classifier = StandInWithRules(given)
    found = handlers_module.Handlers(classifier, str(tmp_path / "gradio_cache")).answer(upload)
    assert found == {**given.as_dict(), "in_words": "none of the movements (closest: Impressionism)"}
    assert classifier.passes == [("answer", None)]


class StandInFindingPaintings(StandInClassifier):
    """A stand-in for a model that looks for paintings in photos: it "finds" the middle half of every image
    (where a photo's painting would be) and explains that, with the corners in its answer, unless asked for
    the whole image."""

    @staticmethod
    def found(picture):
        """The box of the painting found in `picture`, and its corners clockwise from top left."""
        left, top, right, bottom = (
            picture.width // 4,
            picture.height // 4,
            3 * picture.width // 4,
            3 * picture.height // 4,
        )
        return (left, top, right, bottom), [[left, top], [right, top], [right, bottom], [left, bottom]]

    def explain(self, image, class_name=None, whole=False):
        picture = load_image(image)
        explained = super().explain(image, class_name, whole)
        if whole:
            return dataclasses.replace(explained, answer=Answer.most_likely(PROBABILITIES))
        box, corners = self.found(picture)
        crop = overlay.explanation(picture.crop(box), explained.maps, explained.probabilities, explained.class_name)
        return dataclasses.replace(crop, answer=dataclasses.replace(Answer.most_likely(PROBABILITIES), corners=corners))

    def _top_explanation(self, picture, number):
        box, corners = self.found(picture)
        explained = super()._top_explanation(picture.crop(box), number)
        return dataclasses.replace(
            explained, answer=dataclasses.replace(Answer.most_likely(PROBABILITIES), corners=corners)
        )

    def answer(self, image, whole=False):
        picture = load_image(image)
        self._record("answer", None, whole)
        return dataclasses.replace(Answer.most_likely(PROBABILITIES), corners=None if whole else self.found(picture)[1])


@pytest.fixture
def photo(tmp_path):
    """A photo as Gradio hands it to the handlers, 80 x 60, whose middle half the stand-in finds."""
    path = tmp_path / "photo.png"
    painting("gradients", size=(80, 60)).save(path)
    return {"path": str(path), "orig_name": "photo.png", "meta": {"_type": "gradio.FileData"}}


def looked_at(analysis):
    """The part of an analysis that shows what was classified: (visible, note, crop file or None, whole
    ticked)."""
    return shown_looked_at(*analysis[4:8])


def shown_looked_at(row, note, crop, whole):
    assert crop["visible"] == (crop["value"] is not None)
    return row["visible"], note, crop["value"], whole


def test_a_painting_found_in_a_photo_is_shown_straightened_with_a_way_to_the_whole_image(tmp_path, photo):
    classifier = StandInFindingPaintings()
    handlers = handlers_module.Handlers(classifier, str(tmp_path / "gradio_cache"))
    analysis = handlers.analyse(photo, "LayerCAM", 0.5, "jet")
    visible, note, crop, whole = looked_at(analysis)
    assert visible and handlers_module.LOOKED_AT_PAINTING in note
    assert whole is False
    # The crop shown is the painting found, which the overlays are drawn on too.
    box, _ = StandInFindingPaintings.found(load_image(photo["path"]))
    found = np.asarray(load_image(photo["path"]).crop(box), dtype=float)
    assert np.abs(np.asarray(Image.open(crop).convert("RGB"), dtype=float) - found).mean() < 8
    overlays, _ = opened(analysis[8])
    assert all(Image.open(path).size == (40, 30) for path, _ in overlays)
    assert classifier.passes == [("explain", None)]

    # Use the whole image: the same photo again, whole, and the panel stays to undo it.
    analysis = handlers.analyse_again(photo, "LayerCAM", 0.5, "jet", True)
    visible, note, crop, whole = looked_at(analysis)
    assert visible and handlers_module.LOOKED_AT_WHOLE in note and handlers_module.LOOKED_AT_PAINTING not in note
    assert crop is None and whole is True
    overlays, _ = opened(analysis[8])
    assert all(Image.open(path).size == (80, 60) for path, _ in overlays)
    assert classifier.passes == [("explain", None), ("explain", None, "whole")]
    # The user's choice stays with their state: another movement is explained whole, the method is redrawn
    # from the state; unticked, the painting found is explained again.
    shown = analysis[9]
    overlays, shown = handlers.redraw(photo, "Realism", "LayerCAM", 0.5, "jet", shown, True)
    assert Image.open(overlays[0][0]).size == (80, 60) and classifier.passes[-1] == ("explain", "Realism", "whole")
    handlers.redraw(photo, "Realism", "Grad-CAM", 0.5, "jet", shown, True)
    assert len(classifier.passes) == 3
    overlays, shown = handlers.redraw(photo, "Realism", "Grad-CAM", 0.5, "jet", shown, False)
    assert Image.open(overlays[0][0]).size == (40, 30) and classifier.passes[-1] == ("explain", "Realism")
    visible, note, _, whole = looked_at(handlers.analyse_again(photo, "LayerCAM", 0.5, "jet", False))
    assert visible and handlers_module.LOOKED_AT_PAINTING in note and whole is False

    # A new painting is looked at as the model chooses, whatever the last one was.
    other = tmp_path / "other.png"
    painting("blobs", size=(60, 60)).save(other)
    assert looked_at(handlers.analyse({"path": str(other)}, "LayerCAM", 0.5, "jet", shown))[::3] == (True, False)


@pytest.mark.parametrize("answer", [None, Answer(dict(PROBABILITIES), ["Impressionism"], True, 2.0, corners=None)])
def test_nothing_is_said_of_what_was_looked_at_when_the_whole_image_was_classified(answer, tmp_path, upload):
    """A model that does not look for paintings (no answer with corners), and one that found none."""
    classifier = StandInWithRules(answer) if answer else StandInClassifier()
    analysis = handlers_module.Handlers(classifier, str(tmp_path / "gradio_cache")).analyse(upload, None, 0.5, "jet")
    assert looked_at(analysis) == (False, "", None, False)
    assert analysis[0].startswith("## Impressionism")


def test_an_example_in_which_a_painting_was_found_shows_it_on_the_page_and_on_a_click(tmp_path):
    folder = write_folder(
        tmp_path / "model",
        index=[{"file": "a.png", "label": "Impressionism"}, {"file": "b.png", "label": "Realism"}],
        files=["a.png", "b.png"],
    )
    classifier = StandInFindingPaintings()
    demo = ui.build_demo(classifier, ModelSource(str(folder)))
    assert component(demo, "looked-at").visible
    assert handlers_module.LOOKED_AT_PAINTING in component(demo, "looked-note").value
    assert Image.open(component(demo, "crop").value["path"]).size == (10, 10)
    handlers = handlers_module.Handlers(
        classifier, str(tmp_path / "gradio_cache"), examples=model_folder.read_examples(folder)
    )
    clicked = handlers.select_example(gr.SelectData(None, {"index": 1, "value": None}))
    visible, note, crop, whole = shown_looked_at(*clicked[-4:])
    assert visible and handlers_module.LOOKED_AT_PAINTING in note and whole is False
    assert Image.open(crop).size == (10, 10)
    # The whole of an example in which a painting was found takes a pass; the painting found takes none.
    handlers.analyse_again({"path": clicked[0]}, "LayerCAM", 0.5, "jet", True)
    handlers.analyse_again({"path": clicked[0]}, "LayerCAM", 0.5, "jet", False)
    assert classifier.passes == [("explain_many", 2), ("explain_many", 2), ("explain", None, "whole")]
    # The API's example gives what it gave before the page showed what was looked at.
    assert len(handlers.load_example(1)) == 12


def test_the_api_handlers_pass_whole_to_the_classifier_and_the_answer_says_where_the_painting_was(tmp_path, photo):
    classifier = StandInWithNeighbours()
    handlers = handlers_module.Handlers(classifier, str(tmp_path / "gradio_cache"))
    handlers.classify(photo, True)
    handlers.explain(photo, None, 0.5, "jet", None, True)
    handlers.similar(photo, True)
    handlers.classify(photo)
    handlers.explain(photo)
    handlers.similar(photo, None)  # as a plain HTTP call that leaves it out: the default
    assert classifier.passes == [
        ("classify", None, "whole"),
        ("explain", None, "whole"),
        ("similar", None, "whole"),
        ("classify", None),
        ("explain", None),
        ("similar", None),
    ]
    finding = StandInFindingPaintings()
    handlers = handlers_module.Handlers(finding, str(tmp_path / "gradio_cache"))
    answer = handlers.answer(photo)
    assert answer["cropped"] is True and answer["corners"] == [[20, 15], [60, 15], [60, 45], [20, 45]]
    whole = handlers.answer(photo, True)
    assert (whole["cropped"], whole["corners"]) == (False, None)
    assert finding.passes == [("answer", None), ("answer", None, "whole")]
    assert set(answer) == {"probabilities", "movements", "in_scope", "scope_score", "cropped", "corners", "in_words"}
    for call in (lambda: handlers.classify(photo, "yes"), lambda: handlers.answer(photo, 1)):
        with pytest.raises(gr.Error, match="whole must be true or false, not"):
            call()


def test_whole_is_an_optional_last_parameter_of_the_api_and_old_calls_still_work(tmp_path, monkeypatch, photo):
    """gradio_client's calls with and without `whole`, and plain HTTP calls written before it, which give one
    value fewer."""
    from gradio_client import Client, handle_file

    monkeypatch.chdir(tmp_path)
    classifier = StandInFindingPaintings()
    demo = ui.build_demo(classifier, ModelSource(str(tmp_path)))
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_port=free_port())
    try:
        client = Client(url, verbose=False)
        parameters = {
            name: [
                (p["parameter_name"], p["parameter_has_default"], p["parameter_default"])
                for p in endpoint["parameters"]
            ]
            for name, endpoint in client.view_api(print_info=False, return_format="dict")["named_endpoints"].items()
        }
        for name in ("/answer", "/classify", "/explain"):
            assert parameters[name][0][0] == "painting" and parameters[name][-1] == ("whole", True, False)
        assert [name for name, *_ in parameters["/explain"]] == [
            "painting",
            "movement",
            "opacity",
            "colormap",
            "method",
            "whole",
        ]
        assert client.predict(handle_file(photo["path"]), api_name="/answer")["cropped"] is True
        assert client.predict(handle_file(photo["path"]), whole=True, api_name="/answer")["cropped"] is False
        client.predict(handle_file(photo["path"]), None, 0.6, "inferno", None, api_name="/explain")
        assert classifier.passes == [("answer", None), ("answer", None, "whole"), ("explain", None)]

        api = url.rstrip("/") + "/gradio_api"
        with open(photo["path"], "rb") as file:
            uploaded = httpx.post(f"{api}/upload", files={"files": file}, timeout=30).json()[0]
        painting_data = {"path": uploaded, "meta": {"_type": "gradio.FileData"}}
        for data, passes in (
            ([painting_data], ("classify", None)),
            ([painting_data, True], ("classify", None, "whole")),
        ):
            event = httpx.post(f"{api}/call/classify", json={"data": data}, timeout=30).json()["event_id"]
            stream = httpx.get(f"{api}/call/classify/{event}", timeout=30).text
            assert "event: complete" in stream and '"label": "Impressionism"' in stream, stream
            assert classifier.passes[-1] == passes
    finally:
        demo.close()


def test_a_folder_without_examples_opens_on_an_empty_page(tmp_path, classifier):
    demo = ui.build_demo(classifier, ModelSource(str(tmp_path)))
    assert component(demo, "painting").value is None and component(demo, "example-note").value == ""
    assert classifier.passes == []


def test_a_copy_of_an_example_is_drawn_from_its_start_up_explanation(tmp_path):
    """As Gradio sends the page's example back: a copy in its cache. Only another movement needs a pass."""
    folder = write_folder(
        tmp_path / "model", index=[{"file": "a.png", "label": "Cubism"}, {"file": "b.png", "label": "Realism"}]
    )
    for number, name in enumerate(("a.png", "b.png")):
        painting("stripes", seed=number, size=(30, 20)).save(folder / "examples" / name)
    classifier = StandInWithAnswers()
    handlers = handlers_module.Handlers(
        classifier, str(tmp_path / "gradio_cache"), examples=model_folder.read_examples(folder)
    )
    copy = tmp_path / "gradio_cache" / "0123" / "b.png"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((folder / "examples" / "b.png").read_bytes())
    overlays, shown = handlers.redraw({"path": str(copy)}, "Impressionism", "Grad-CAM", 0.7, "jet", None)
    assert shown.explanation.probabilities == StandInWithAnswers.ANSWERS[1] and len(overlays) == len(LAYERS)
    assert handlers.analyse_again({"path": str(copy)}, "LayerCAM", 0.5, "jet")[1] == StandInWithAnswers.ANSWERS[1]
    assert classifier.passes == [("explain_many", 2)]
    handlers.redraw({"path": str(copy)}, "Cubism", "Grad-CAM", 0.7, "jet", shown)
    assert classifier.passes == [("explain_many", 2), ("explain", "Cubism")]


def test_an_example_that_is_not_an_image_is_left_out_with_a_warning(tmp_path, classifier, caplog):
    folder = write_folder(
        tmp_path / "model",
        index=[{"file": "a.png", "label": "Cubism"}, {"file": "notes.png", "label": "Realism"}],
        files=["a.png"],
    )
    (folder / "examples" / "notes.png").write_text("not a painting")
    handlers = handlers_module.Handlers(
        classifier, str(tmp_path / "gradio_cache"), examples=model_folder.read_examples(folder)
    )
    assert [example.label for example in handlers.examples] == ["Cubism"]
    assert [caption for _, caption in handlers.example_gallery()] == ["✗ true Cubism · model: Impressionism 70%"]
    assert "Skipping the example" in caplog.text and "notes.png" in caplog.text


def test_the_api_explains_with_the_most_faithful_method_unless_told_another(handlers, upload):
    assert [caption for _, caption in handlers.explain(upload)][1] == "LayerCAM · final · relu · most faithful"
    assert [caption for _, caption in handlers.explain(upload, None, 0.5, "jet", "Grad-CAM")][
        1
    ] == "Grad-CAM · final · relu"


def test_overlays_are_jpeg_files_written_whole_under_their_content_hash(handlers, upload, tmp_path):
    first, _ = handlers.explain(upload)[0]
    assert Image.open(first).format == "JPEG"
    assert first.startswith(str(tmp_path / "gradio_cache"))
    # The same overlay again is the same file, never rewritten in place under a reader.
    written = os.stat(first)
    again, _ = handlers.explain(upload)[0]
    assert again == first and os.stat(again).st_ino == written.st_ino
    assert handlers.explain(upload, None, 0.9)[0][0] != first
    assert not [name for name in os.listdir(os.path.dirname(first)) if name.startswith(".")]


def test_the_painting_already_shown_is_not_analysed_again(handlers, classifier, upload):
    """A painting dropped over the one shown first clears the box, which reports the old painting."""
    *_, shown, _ = handlers.analyse(upload, "LayerCAM", 0.5, "jet")
    unchanged = handlers.analyse(upload, "LayerCAM", 0.5, "jet", shown)
    assert all(isinstance(output, type(gr.skip())) for output in unchanged) and len(unchanged) == 11
    assert classifier.passes == [("explain", None)]


def test_a_cleared_painting_clears_the_outputs(handlers, classifier):
    assert handlers.analyse(None, "LayerCAM", 0.5, "jet") == (
        "",
        None,
        "",
        None,
        gr.update(visible=False),
        "",
        gr.update(value=None, visible=False),
        False,
        [],
        None,
        [],
    )
    assert handlers.redraw(None, "Cubism", "LayerCAM", 0.5, "jet", None) == ([], None)
    assert classifier.passes == []


def test_classify_again_without_a_painting_says_to_add_one(handlers, classifier, upload):
    with pytest.raises(gr.Error, match="Add a painting first"):
        handlers.analyse_again(None, "LayerCAM", 0.5, "jet")
    assert handlers.analyse_again(upload, "LayerCAM", 0.5, "jet")[3] == "Impressionism"


@pytest.mark.parametrize(
    "contents, message",
    [
        (b"", "is empty"),
        (b"not a painting", "not an image ArtNet can read"),
        (None, "too small"),
    ],
)
def test_bad_images_become_gr_errors_with_the_same_one_line_message(handlers, tmp_path, contents, message):
    path = tmp_path / "upload.png"
    if contents is None:
        Image.new("RGB", (3, 3)).save(path)
    else:
        path.write_bytes(contents)
    for call in (
        lambda: handlers.classify({"path": str(path)}),
        lambda: handlers.explain({"path": str(path)}),
        lambda: handlers.analyse({"path": str(path)}, "LayerCAM", 0.5, "jet"),
    ):
        with pytest.raises(gr.Error, match=message) as error:
            call()
        assert "\n" not in error.value.message


def test_missing_or_expired_paintings_and_wrong_choices_say_what_to_do(handlers, upload, tmp_path):
    cases = [
        (lambda: handlers.classify(None), "Add a painting first"),
        (lambda: handlers.explain({"path": str(tmp_path / "gone.png")}), "expired on the server. Upload"),
        (lambda: handlers.explain(upload, "Baroque"), "Unknown class 'Baroque'; choose one of"),
        (lambda: handlers.explain(upload, None, 1.5), "Opacity must be between 0 and 1"),
        (lambda: handlers.explain(upload, None, 0.5, "rainbowz"), "Unknown colormap 'rainbowz'"),
        (
            lambda: handlers.explain(upload, None, 0.5, "jet", "ScoreCAM"),
            "Unknown method 'ScoreCAM'; choose one of Grad-CAM, LayerCAM[.]",
        ),
    ]
    for call, message in cases:
        with pytest.raises(gr.Error, match=message):
            call()


def write_folder(folder, metrics=None, index=None, files=()):
    (folder / "examples").mkdir(parents=True)
    for name in files:
        painting("noise", size=(20, 20)).save(folder / "examples" / name)
    if index is not None:
        (folder / "examples" / "index.json").write_text(index if isinstance(index, str) else json.dumps(index))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_examples_are_the_listed_files_that_exist_with_their_true_movement(tmp_path):
    folder = write_folder(
        tmp_path,
        index=[{"file": "a.png", "label": "Cubism"}, {"file": "missing.png", "label": "Realism"}, {"nonsense": 1}],
        files=["a.png"],
    )
    assert model_folder.read_examples(folder) == [model_folder.Example(str(folder / "examples" / "a.png"), "Cubism")]


def test_a_folder_without_a_readable_index_has_no_examples(tmp_path, caplog):
    assert model_folder.read_examples(write_folder(tmp_path / "none")) == []
    assert "Skipping the examples" not in caplog.text
    assert model_folder.read_examples(write_folder(tmp_path / "broken", index="{not json")) == []
    assert "Skipping the examples" in caplog.text


def test_about_gives_the_test_accuracy_or_says_the_model_was_not_evaluated(tmp_path, classifier):
    cross = {"mean_accuracy": 0.4712, "collections": [{}, {}, {}]}
    metrics = {"test": {"accuracy": 0.7312, "macro_f1": 0.7011}, "cross_collection": cross}
    evaluated = write_folder(tmp_path / "evaluated", metrics=metrics)
    text = ui.about(classifier, ModelSource(str(evaluated)))
    assert "right 73.1% of the time, macro-F1 0.70" in text and "local folder `evaluated`" in text
    # Beside it, the number that matters for a painting from elsewhere.
    assert "recognises that collection's paintings 47% of the time (mean over 3 collections)" in text
    assert str(tmp_path) not in text  # the server's paths are not shown to visitors
    assert "DenseNet-121" in text and "Cubism, Impressionism, Realism" in text and "64 × 64" in text
    fresh = ui.about(classifier, ModelSource(str(write_folder(tmp_path / "fresh"))))
    assert "has not been evaluated" in fresh


def test_about_gives_the_numbers_for_paintings_as_visitors_bring_them(tmp_path, classifier):
    files = {"top1": 0.83, "kept": 0.91}
    visitors = {
        "elsewhere": {"paintings": 68, "top1": 0.794, "kept": 0.941},
        "photos": {"paintings": 168, "top1": 0.802, "kept": 0.905, "as_files": files},
    }
    metrics = {"test": {"accuracy": 0.81}, "visitors": visitors}
    text = ui.about(classifier, ModelSource(str(write_folder(tmp_path / "evaluated", metrics=metrics))))
    assert "On 68 paintings of its movements from other sources, as those had them, it is right 79%" in text
    assert "keeps 94% of them in scope" in text
    assert "On 168 photos of paintings on a wall it is right 80% of the time and keeps 90% in scope" in text
    assert "(the same paintings as files: 83% and 91%)" in text
    # A folder from before the way in says how it sees a painting, as it was trained.
    assert "padded to a square and resized to 64 × 64" in text
    declared = {"find_painting": True, "jpeg_quality": 90}
    assert ui.way_in_sentence(declared, 224) == (
        "In a photo, it looks for the painting and straightens it; then it shrinks the image to 224 pixels on its "
        "longest side and saves it as JPEG at quality 90, as its training paintings were made, and pads it to a "
        "224 × 224 square."
    )


def test_about_links_to_the_hub_repo_at_its_revision(tmp_path, classifier):
    source = ModelSource(str(write_folder(tmp_path)), repo_id="someone/artnet", revision="0123abc")
    # The Hub that huggingface_hub talks to: huggingface.co unless HF_ENDPOINT names another.
    url = f"{hub_constants.ENDPOINT}/someone/artnet/tree/0123abc"
    assert source.url == url
    assert f"[someone/artnet]({url}) at revision `0123abc`" in ui.about(classifier, source)
    pinned = ModelSource(source.folder, repo_id="someone/artnet", revision="v1", commit="0123abc" * 5)
    assert pinned.url == f"{hub_constants.ENDPOINT}/someone/artnet/tree/{pinned.commit}"
    assert "at revision `v1` (commit `0123abc0123a`)" in ui.about(classifier, pinned)


def test_share_without_network_says_so_in_one_line_and_keeps_serving(tmp_path):
    port = free_port()
    script = textwrap.dedent(
        f"""
        import gradio as gr
        from artnet.serve.ui import serve
        with gr.Blocks() as demo:
            gr.Markdown("hello")
        serve(demo, host="127.0.0.1", port={port}, share=True)
        """
    )
    # A share server that cannot answer: no tunnel opens, here or on a machine with network.
    environment = {
        **os.environ,
        "GRADIO_SHARE_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    output = tmp_path / "output.txt"
    with open(output, "w") as file:
        process = subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, stdout=file, stderr=subprocess.STDOUT, env=environment
        )
    try:
        deadline = time.monotonic() + 120
        while "share link" not in output.read_text() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        lines = output.read_text().splitlines()
        assert lines == [
            f"ArtNet is running at http://127.0.0.1:{port}/",
            "Could not open a share link (offline, or the share server is unreachable); serving only at "
            f"http://127.0.0.1:{port}/",
        ]
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_examples_of_a_model_folder_outside_the_working_and_temporary_folders_are_served(tmp_path, monkeypatch):
    """As a model pulled from the Hub is, in the Hub's cache: a click on an example must not be refused."""
    import shutil

    from gradio_client import Client

    monkeypatch.chdir(tmp_path)
    outside = os.path.join(ROOT, "test-output", "model_outside_tmp")
    shutil.rmtree(outside, ignore_errors=True)
    os.makedirs(outside)
    try:
        folder = write_folder(Path(outside), index=[{"file": "a.png", "label": "Realism"}], files=["a.png"])
        demo = ui.build_demo(StandInClassifier(), ModelSource(str(folder)))
        _, url, _ = demo.launch(
            prevent_thread_lock=True, quiet=True, server_port=free_port(), **ui.launch_options(str(folder))
        )
        try:
            painting, true_movement, *_ = Client(url, verbose=False).predict(0, api_name="/load_example")
        finally:
            demo.close()
        assert true_movement == "Realism" and Image.open(painting).size == (20, 20)
    finally:
        shutil.rmtree(outside, ignore_errors=True)


class SlowStandInClassifier(StandInClassifier):
    """A stand-in whose network passes take a while, and which records how many ran at once."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0

    def _pass(self, answer):
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.3)
        with self._lock:
            self.running -= 1
        return answer()

    def classify(self, image, whole=False):
        return self._pass(lambda: super(SlowStandInClassifier, self).classify(image, whole))

    def explain(self, image, class_name=None, whole=False):
        return self._pass(lambda: super(SlowStandInClassifier, self).explain(image, class_name, whole))


def test_no_more_network_passes_run_at_once_than_the_app_allows(tmp_path, monkeypatch, upload):
    """/classify and /explain run the network, and example clicks draw overlays: together, at most
    MODEL_CONCURRENCY at a time, however many users ask. (Examples are explained once, at start-up, in one
    pass.)"""
    from gradio_client import Client, handle_file

    monkeypatch.chdir(tmp_path)  # Gradio keeps its files under the working folder
    files = [f"{index}.png" for index in range(4)]
    folder = write_folder(tmp_path / "model", index=[{"file": name, "label": "Realism"} for name in files], files=files)
    classifier = SlowStandInClassifier()
    demo = ui.build_demo(classifier, ModelSource(str(folder)))
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_port=free_port())
    try:
        calls = [(handle_file(upload["path"]), "/classify")] * 4 + [(handle_file(upload["path"]), "/explain")] * 4
        calls += [(index, "/load_example") for index in range(len(files))]
        errors = []

        def user(argument, api_name):
            try:
                Client(url, verbose=False).predict(argument, api_name=api_name)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(f"{api_name}: {error!r}")

        users = [threading.Thread(target=user, args=call) for call in calls]
        for thread in users:
            thread.start()
        for thread in users:
            thread.join()
    finally:
        demo.close()
    assert errors == []
    assert classifier.passes[0] == ("explain_many", len(files)) and len(classifier.passes) == 1 + 8
    assert classifier.most_at_once == ui.MODEL_CONCURRENCY
