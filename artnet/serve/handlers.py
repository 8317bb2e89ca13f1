"""The page's event handlers: what each click, upload and API call returns, from the Classifier's one
network pass per painting. Paintings arrive as Gradio file payloads (events run with preprocess=False),
so that every file, however broken, reaches `artnet.data.images.load_image` and its clear error messages;
an error a user can cause becomes a `gr.Error` with its one-line message.

This module knows Gradio and not TensorFlow.
"""

import contextlib
import hashlib
import io
import logging
import os
from dataclasses import dataclass

import gradio as gr
from gradio.utils import get_upload_folder
from PIL import Image

from artnet.data.images import load_image
from artnet.errors import UserError
from artnet.model.answers import Answer, AnswerRules
from artnet.serve.gradio_workarounds import saved_jpeg
from artnet.styles import DESCRIPTIONS

logger = logging.getLogger(__name__)

DEFAULT_OPACITY = 0.5
DEFAULT_COLORMAP = "jet"

# What the page says over the crop when the model classified the painting it found in a photo, and when the
# visitor asked for the whole image instead.
LOOKED_AT_PAINTING = "ArtNet looked at the painting it found in your photo"
LOOKED_AT_WHOLE = "ArtNet looked at the whole image, as you asked"


@dataclass(frozen=True)
class ShownExplanation:
    """What one user's overlays are drawn from: the painting (its file on the server), its maps, and whether
    they are of the whole image, as the user asked, or of what the model chose to look at."""

    painting: str
    explanation: object
    whole: bool = False


class Handlers:
    """The app's event handlers, for one Classifier and the model folder's examples."""

    def __init__(self, classifier, overlay_folder=None, examples=()):
        self.classifier = classifier
        self.labels = list(classifier.labels)
        self.layers = [dict(layer) for layer in classifier.gradcam_layers]
        self.methods = list(classifier.cam_methods)
        # How the folder's answers are made, which the page says in a line.
        self.rules = AnswerRules(classifier.config)
        # The view that the faithfulness test found best: its method is the one the page opens on, and its
        # depth's overlay is the one shown large.
        self.most_faithful = dict(classifier.most_faithful)
        # Gradio's cache, which it serves files from and clears (delete_cache).
        self.overlay_folder = overlay_folder or get_upload_folder()
        # The model folder's examples, explained once, at start-up, in one pass: a click on one only draws.
        self.examples, paintings = readable_examples(examples)
        self.example_explanations = classifier.explain_many(paintings)
        # The examples by their files' content: the copy of one that Gradio serves and sends back (the
        # page's opening painting, a clicked example) is drawn from its explanation, without the network.
        self._example_numbers = {file_digest(example.path): number for number, example in enumerate(self.examples)}

    def analyse(self, painting, method, opacity, colormap, shown=None):
        """A new painting: the answer in words, label bars, description, the top class selected, what was
        looked at (`looked_at`), overlays, the state and the closest paintings. A new painting is looked at
        as the model chooses (the painting found in a photo), whatever the previous one was. A cleared
        painting clears them; the painting that the session already shows (`shown`) changes nothing, as when
        a painting dropped over it first clears the box, which reports the old one."""
        if painting is None:
            return "", None, "", None, *nothing_looked_at(), [], None, []
        if shown is not None and isinstance(painting, dict) and painting.get("path") == shown.painting:
            return (gr.skip(),) * 11
        return self.analyse_again(painting, method, opacity, colormap)

    def analyse_again(self, painting, method, opacity, colormap, whole=False):
        """What `analyse` shows, for the painting in the box, of the whole image with `whole`; without a
        painting, a message says to add one."""
        path = painting_path(painting)
        whole = wanted_whole(whole)
        explanation = self._explain(path, None, whole)
        return (
            self.answer_text(explanation),
            explanation.probabilities,
            describe(explanation.probabilities),
            explanation.class_name,
            *self.looked_at(explanation, whole),
            self._opened(self._overlays(explanation, method, opacity, colormap)),
            ShownExplanation(path, explanation, whole),
            self._similar(explanation.embedding),
        )

    def looked_at(self, explanation, whole=False):
        """What the page shows of what was classified: (the panel's visibility, what it says, the crop (its
        file, shown only when there is one), the "Use the whole image" box). Shown when the model classified the painting it found in a
        photo, with that painting warped flat (what the overlays are drawn on), or when the user asked for
        the whole image, so that they can ask for the painting again; hidden otherwise."""
        if cropped(explanation):
            left, top, right, bottom = explanation.content_box
            crop = Image.fromarray(explanation.image[top:bottom, left:right])
            note = f"**{LOOKED_AT_PAINTING}**, shown here straightened: the answer, the bars and the maps are for it."
            shown = gr.update(value=saved_jpeg(crop, self.overlay_folder), visible=True)
            return gr.update(visible=True), note, shown, False
        if whole:
            note = f"**{LOOKED_AT_WHOLE}**: the answer, the bars and the maps are for all of it."
            return gr.update(visible=True), note, gr.update(value=None, visible=False), True
        return nothing_looked_at()

    def similar(self, painting, whole=False):
        """The training paintings that the model finds closest, each captioned with its movement, its
        cosine similarity and its title."""
        path = painting_path(painting)
        whole = wanted_whole(whole)
        with user_errors():
            return self._matches(self.classifier.similar(path, whole=whole))

    def _similar(self, embedding):
        """The gallery of closest training paintings for an explanation's embedding; empty without an index."""
        if self.classifier.neighbours is None or embedding is None:
            return []
        return self._matches(self.classifier.similar_to(embedding))

    def _matches(self, matches):
        return [
            (
                saved_jpeg(Image.open(io.BytesIO(match.thumbnail)), self.overlay_folder),
                " · ".join(part for part in (match.movement, f"{match.similarity:.2f}", match.title) if part),
            )
            for match in matches
        ]

    def redraw(self, painting, movement, method, opacity, colormap, shown, whole=False):
        """Overlays for the chosen movement, method, opacity and colormap, of the whole image with `whole`.
        The network runs only when the state does not hold this painting's maps for this movement and this
        choice (a new class, or a session that Gradio has forgotten): every method's maps came from the pass
        that made the state."""
        if painting is None:
            return [], None
        path = painting_path(painting)
        whole = wanted_whole(whole)
        if (
            shown is None
            or (shown.painting, shown.whole) != (path, whole)
            or movement not in (None, shown.explanation.class_name)
        ):
            shown = ShownExplanation(path, self._explain(path, movement, whole), whole)
        return self._overlays(shown.explanation, method, opacity, colormap), shown

    def select_example(self, selected: gr.SelectData):
        """The example clicked in the gallery: what `load_example` shows for it, with the overlays opened on
        the most faithful depth, the note that says it is an example, and what was looked at in it."""
        shown = self._example(selected.index, opened=True)
        return *shown, self.example_note(selected.index), *self.looked_at(self.example_explanations[selected.index])

    def opening_example(self):
        """The number of the example that the page opens on, already analysed: the one the model is surest
        of among those it gets right (a worked example, not a puzzle), else the first; None without examples."""
        if not self.examples:
            return None
        right = [
            number
            for number, (example, explanation) in enumerate(zip(self.examples, self.example_explanations))
            if explanation.class_name == example.label
        ]
        return max(right or [0], key=lambda number: max(self.example_explanations[number].probabilities.values()))

    def example_note(self, number):
        """What tells a visitor that the painting shown is one of the examples, and how to replace it."""
        return (
            f"**An example**, already analysed: a held-out {self.examples[number].label} painting from the model's "
            "test set. Drop your own painting on the box to replace it."
        )

    def load_example(self, number):
        """The example at `number`: the painting, its true movement and what the model makes of it, from the
        explanation made at start-up. The view returns to the most faithful method and the default opacity
        and colormap."""
        return self._example(number, opened=False)

    def _example(self, number, opened):
        if not isinstance(number, (int, float)) or not 0 <= int(number) < len(self.examples):
            raise user_error(f"There is no example {number!r}; this model has {len(self.examples)}, from 0.")
        example, explanation = self.examples[int(number)], self.example_explanations[int(number)]
        overlays = self._overlays(explanation, self.most_faithful["method"], DEFAULT_OPACITY, DEFAULT_COLORMAP)
        return (
            example.path,
            example.label,
            explanation.probabilities,
            describe(explanation.probabilities),
            explanation.class_name,
            self.most_faithful["method"],
            DEFAULT_OPACITY,
            DEFAULT_COLORMAP,
            self._opened(overlays) if opened else overlays,
            ShownExplanation(example.path, explanation),
            self._similar(explanation.embedding),
            self.answer_text(explanation),
        )

    def example_gallery(self):
        """(file, caption) of each example: its true movement, and the model's answer, right or wrong."""
        return [
            (example.path, example_caption(example.label, explanation.class_name, explanation.probabilities))
            for example, explanation in zip(self.examples, self.example_explanations)
        ]

    def classify(self, painting, whole=False):
        """The probability of each movement for a painting (of the whole image with `whole`, else of the
        painting found in a photo, where the model looks for one)."""
        path = painting_path(painting)
        whole = wanted_whole(whole)
        with user_errors():
            return self.classifier.classify(path, whole=whole)

    def answer(self, painting, whole=False):
        """What the model answers for a painting: its probabilities, the prediction set (`movements`, most
        likely first), whether it looks like one of the movements (`in_scope`, `scope_score`), whether it
        classified the painting it found in a photo (`cropped`) and where it found it (`corners`), and the
        answer in words, as the page says it. With `whole`, of the whole image."""
        path = painting_path(painting)
        whole = wanted_whole(whole)
        with user_errors():
            answer = self.classifier.answer(path, whole=whole)
        return {**answer.as_dict(), "in_words": answer.in_words}

    def answer_text(self, explanation):
        """The page's answer above the bars: the prediction set, or "none of the movements" with the closest,
        for whose movement the bars' top and the maps then stand; and a line on how it was made."""
        answer = explanation.answer or Answer.most_likely(explanation.probabilities)
        if answer.in_scope:
            heading = f"## {answer.in_words}"
        else:
            heading = (
                f"## This does not look like any of the {count_in_words(len(self.labels))} movements ArtNet knows "
                f"(closest: {answer.closest})\n\nThe bars and the maps below are for the closest movement, "
                f"{answer.closest}."
            )
        return f"{heading}\n\n{self.how_answered()}"

    def how_answered(self):
        """One line on how the answers are made, with a link to the numbers in About."""
        if self.rules.coverage is None and self.rules.scope is None:
            how = (
                "The most likely movement: this model was trained before ArtNet gave prediction sets and "
                '"none of these"; train it again to get them.'
            )
        else:
            how = (
                f"How: every movement at {self.rules.floor:.0%} or more, a set that holds the true movement of "
                f"{self.rules.coverage:.0%} of paintings like the held-out ones"
                if self.rules.coverage is not None
                else "How: the most likely movement"
            )
            if self.rules.scope is not None:
                how += ', and "none of these" when the network finds none of the movements likely'
            how += "."
        return f"<small>{how} [The numbers](#about-section)</small>"

    def explain(
        self,
        painting,
        movement=None,
        opacity=DEFAULT_OPACITY,
        colormap=DEFAULT_COLORMAP,
        method=None,
        whole=False,
    ):
        """Overlays of a painting for a movement (default: the top prediction) by a CAM method (default: the
        model's most faithful), one per depth of the network, each captioned with its method, depth and layer,
        drawn over what was classified: the painting found in a photo, or with `whole` the whole image."""
        path = painting_path(painting)
        return self._overlays(self._explain(path, movement, wanted_whole(whole)), method, opacity, colormap)

    def _explain(self, path, movement, whole=False):
        """The explanation of the painting at `path` for `movement` (None: the top one), of the whole image
        with `whole`: an example's from start-up when it explains that movement and is of what was asked
        for, else from a network pass."""
        stored = self._example_explanation(path)
        if stored is not None and movement in (None, "", stored.class_name) and not (whole and cropped(stored)):
            return stored
        return self._network_pass(path, movement, whole)

    def _network_pass(self, path, movement, whole):
        with user_errors():
            return self.classifier.explain(path, class_name=movement or None, whole=whole)

    def _example_explanation(self, path):
        """The start-up explanation of the example whose file `path` is, or a copy of; else None. Reading
        the file costs a small fraction of the network pass that it may save."""
        if not self._example_numbers:
            return None
        number = self._example_numbers.get(file_digest(path))
        return None if number is None else self.example_explanations[number]

    def _overlays(self, explanation, method, opacity, colormap):
        """(JPEG file, caption) of each depth."""
        method = method or self.most_faithful["method"]
        opacity = DEFAULT_OPACITY if opacity is None else opacity
        colormap = colormap or DEFAULT_COLORMAP
        with user_errors():
            return [
                (
                    saved_jpeg(
                        explanation.overlay(layer["name"], float(opacity), colormap, method), self.overlay_folder
                    ),
                    self._caption(method, layer),
                )
                for layer in self.layers
            ]

    def _caption(self, method, layer):
        best = (method, layer["name"]) == (self.most_faithful["method"], self.most_faithful["layer"])
        return f"{method} · {caption(layer)}" + (" · most faithful" if best else "")

    def _opened(self, overlays):
        """The overlays of a new painting, opened on the most faithful depth."""
        if self.most_faithful_index is None:
            return overlays
        return gr.update(value=overlays, selected_index=self.most_faithful_index)

    @property
    def most_faithful_index(self):
        """Which of the overlays is the most faithful depth's, or None when the model folder names none."""
        names = [layer["name"] for layer in self.layers]
        return names.index(self.most_faithful["layer"]) if self.most_faithful["layer"] in names else None


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


def wanted_whole(whole):
    """The `whole` of a request as a bool: true, false, or None (not given: false); else a gr.Error."""
    if whole is None or isinstance(whole, bool):
        return bool(whole)
    raise user_error(f"whole must be true or false, not {whole!r}.")


def cropped(explanation):
    """Whether an Explanation is of the painting found in a photo rather than of the whole image."""
    return explanation.answer is not None and explanation.answer.cropped


def nothing_looked_at():
    """What the page shows of what was classified when it was the whole image, as the model chose: nothing."""
    return gr.update(visible=False), "", gr.update(value=None, visible=False), False


def readable_examples(examples):
    """(the examples whose files are readable images, their images): one that is not is left out, with a
    warning that says why, as read_examples leaves out a missing one."""
    readable, paintings = [], []
    for example in examples:
        try:
            painting = load_image(example.path)
        except UserError as error:
            logger.warning(f"Skipping the example {example.path}: {error}")
        else:
            readable.append(example)
            paintings.append(painting)
    return readable, paintings


def file_digest(path):
    """A digest of a file's content; None when it cannot be read (the painting's loader says why)."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


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


def count_in_words(count):
    """A small count as a word ("five"), a larger one in digits."""
    words = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[count - 1] if 1 <= count <= len(words) else str(count)


def example_caption(true_movement, predicted, probabilities):
    verdict = "✓" if predicted == true_movement else "✗"
    return f"{verdict} true {true_movement} · model: {predicted} {probabilities[predicted]:.0%}"


def caption(layer):
    return f"{layer['depth']} · {layer['name']}"


def describe(probabilities):
    top = max(probabilities, key=probabilities.get)
    heading = f"### {top}"
    description = DESCRIPTIONS.get(top)
    return f"{heading}\n\n{description}" if description else heading
