"""Classifier: a loaded model folder that turns a painting into probabilities and Explanations.

A painting goes artnet.data.way_in (load, find the painting in a photo, bring it to the training copies' form,
pad to a square) -> the network -> artnet.explain.cams (the maps of every depth, in the same pass as the
probabilities) -> artnet.explain.overlay (an Explanation that draws its overlays over what was classified).
Everything needed to interpret the model (labels, input size, how an image is prepared, Grad-CAM layers,
its most faithful CAM method) comes from the folder's config. Each method that takes an image takes
`whole=True` to classify the whole image even where a painting is found in it. A Classifier holds no per-user state, so one instance serves every user and thread.
"""

import dataclasses
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Self

import keras
import numpy as np
import tensorflow as tf

from artnet.data.images import ImageSource
from artnet.data.way_in import LookedAt, WayIn, look
from artnet.errors import UserError
from artnet.explain.cams import CAM_METHODS, BaseCAM
from artnet.explain.neighbours import DEFAULT_K, Match, NeighbourIndex
from artnet.explain.overlay import Explanation, explanation
from artnet.model.answers import Answer, AnswerRules
from artnet.model.folder import read_neighbours
from artnet.model.network import answer_outputs, calibrated_probabilities, load_folder


def share_cpu_cores(concurrent_passes: int) -> None:
    """Size TensorFlow's thread pools for `concurrent_passes` network passes at a time: each pass gets
    its share of the cores for its operations (intra-op), and the passes run side by side (inter-op).

    TensorFlow's default gives every pass all the cores, so two passes at once fight over them: on 2 cores
    two requests at a time serve 1.3x more explanations per second with one thread each, and a lone
    request is no slower (bench/threads.py). Call it before TensorFlow runs its first operation.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    tf.config.threading.set_intra_op_parallelism_threads(max(1, cores // concurrent_passes))
    tf.config.threading.set_inter_op_parallelism_threads(concurrent_passes)


class Classifier:
    """Classifies and explains paintings with a model folder's model. Safe to share between threads."""

    model: keras.Model
    config: dict[str, Any]
    labels: list[str]
    image_size: int
    gradcam_layers: list[dict[str, Any]]
    cam_methods: list[str]
    most_faithful: dict[str, Any]
    temperature: float
    neighbours: NeighbourIndex | None

    def __init__(
        self,
        model: keras.Model,
        config: dict[str, Any],
        jit_compile: bool = False,
        warm_up: bool = True,
        neighbours: NeighbourIndex | None = None,
    ) -> None:
        self.model = model
        self.config = config
        self.labels = list(config["labels"])
        self.image_size = int(config["image_size"])
        self.way_in = WayIn.from_config(config)
        self.gradcam_layers = [dict(layer) for layer in config["gradcam_layers"]]
        self.cam_methods = list(CAM_METHODS)
        # The method and layer whose maps did best in the folder's faithfulness test (artnet.explain.faithfulness);
        # folders written before it open on Grad-CAM, with no depth singled out.
        self.most_faithful = dict(config.get("most_faithful") or {"method": "Grad-CAM", "layer": None})
        # Folders written before calibration have no temperature: their softmax is as trained.
        self.temperature = float(config.get("temperature", 1.0))
        # The training paintings that similar() searches (a NeighbourIndex), or None.
        self.neighbours = neighbours
        self._jit_compile = jit_compile
        # The prediction sets' floor and the scope rule: what an Answer is made by.
        self.answer_rules = AnswerRules(config)
        outputs = answer_outputs(model)
        self._predict = tf.function(
            lambda images: self._calibrated(outputs(images, training=False)),
            input_signature=[tf.TensorSpec([None, self.image_size, self.image_size, 3], tf.float32)],
            jit_compile=jit_compile,
        )
        self._default_layers = tuple(layer["name"] for layer in self.gradcam_layers)
        self._cams = {self._default_layers: self._new_cam(self._default_layers)}
        self._cams_lock = threading.Lock()
        if warm_up:
            self.warm_up()

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], **options: Any) -> Self:
        model, config = load_folder(folder)
        found = read_neighbours(folder)
        return cls(model, config, neighbours=NeighbourIndex(*found) if found else None, **options)

    def _calibrated(self, outputs):
        """(calibrated probabilities, embeddings, logits as the network gives them)."""
        logits, embeddings = outputs
        logits = tf.cast(logits, tf.float32)
        return calibrated_probabilities(logits, self.temperature), tf.cast(embeddings, tf.float32), logits

    def warm_up(self) -> None:
        """Trace and run both compiled passes once, so that no user request pays for tracing."""
        blank = np.zeros((1, self.image_size, self.image_size, 3), np.float32)
        self._predict(blank)
        self._cams[self._default_layers](blank)

    def classify(self, image: ImageSource, whole: bool = False) -> dict[str, float]:
        """{label: probability} for a painting given as a path, bytes or a PIL image."""
        return self.classify_batch([self.model_input(image, whole)])[0]

    def classify_many(self, images: Iterable[ImageSource]) -> list[dict[str, float]]:
        """[{label: probability}] for several paintings in one network pass, which costs less per painting
        than one pass each (bench/load.py measures how much)."""
        return self.classify_batch([self.model_input(image) for image in images])

    def look(self, image: ImageSource, whole: bool = False) -> LookedAt:
        """What the network looks at in an image (a path, bytes or a PIL image): the painting found in a photo,
        warped flat, or the whole image. Safe to call from several threads at once."""
        return look(image, self.way_in, whole)

    def model_input(self, image: ImageSource, whole: bool = False) -> np.ndarray:
        """What the network is given for a painting (a path, bytes or a PIL image), through the model's way
        in. Safe to call from several threads at once."""
        return self.look(image, whole).model_input(self.image_size)

    def classify_batch(self, model_inputs: Sequence[np.ndarray]) -> list[dict[str, float]]:
        """[{label: probability}] for paintings already made model inputs, in one network pass."""
        probabilities, _, _ = self._predict(np.stack(model_inputs))
        return [self._probability_dict(row) for row in probabilities.numpy()]

    def answer(self, image: ImageSource, whole: bool = False) -> Answer:
        """What the model answers for a painting (a path, bytes or a PIL image): its calibrated probabilities,
        the prediction set, whether it looks like one of the movements at all and where the painting was
        found in a photo, from one pass."""
        return self.answer_looked([self.look(image, whole)])[0]

    def answer_looked(self, looked: Sequence[LookedAt]) -> list[Answer]:
        """The Answers for images already looked at (`look`), each with where its painting was found, in
        one network pass."""
        answers = self.answer_batch([seen.model_input(self.image_size) for seen in looked])
        return [dataclasses.replace(answer, corners=seen.corners) for answer, seen in zip(answers, looked)]

    def answer_batch(self, model_inputs: Sequence[np.ndarray]) -> list[Answer]:
        """The Answers for paintings already made model inputs, in one network pass."""
        probabilities, embeddings, logits = (output.numpy() for output in self._predict(np.stack(model_inputs)))
        return [self.answer_rules.answer(*row) for row in zip(probabilities, logits, embeddings)]

    def similar(self, image: ImageSource, k: int = DEFAULT_K, whole: bool = False) -> list[Match]:
        """The k training paintings closest to a painting (Matches, most similar first), from the pass that
        classifies it. Raises UserError when the model folder has no index of them."""
        _, embeddings, _ = self._predict(self.model_input(image, whole)[np.newaxis])
        return self.similar_to(embeddings.numpy()[0], k)

    def similar_to(self, embedding: np.ndarray, k: int = DEFAULT_K) -> list[Match]:
        """The k training paintings closest to an embedding, such as an Explanation's."""
        if self.neighbours is None:
            raise UserError("This model folder has no index of its training paintings; train it again to get one.")
        return self.neighbours.matches(embedding, k)

    def explain(
        self,
        image: ImageSource,
        class_name: str | None = None,
        layers: Iterable[str] | None = None,
        whole: bool = False,
    ) -> Explanation:
        """The maps of every CAM method at `layers` (default: the model folder's layers) for `class_name`
        (default: the top prediction), with the probabilities and the answer, all from one pass, drawn over
        what was classified (the painting found in a photo, or the whole image)."""
        class_index = -1 if class_name is None else self._class_index(class_name)
        seen = self.look(image, whole)
        layers = self._default_layers if layers is None else tuple(layers)
        result = self._cam_for(layers)(seen.model_input(self.image_size)[np.newaxis], [class_index])
        return self._explanation(seen, result, 0, layers)

    def explain_many(self, images: Iterable[ImageSource], batch_size: int = 16) -> list[Explanation]:
        """Explanations of several paintings, each for its top prediction, at the model folder's layers, from
        one pass per `batch_size` of them (the backward pass holds every painting's activations): cheaper
        than a pass each, and the first one traces the pass (as `warm_up` does)."""
        looked = [self.look(image) for image in images]
        explanations = []
        for start in range(0, len(looked), batch_size):
            batch = looked[start : start + batch_size]
            result = self._cam_for(self._default_layers)(
                np.stack([seen.model_input(self.image_size) for seen in batch])
            )
            explanations += [
                self._explanation(seen, result, row, self._default_layers) for row, seen in enumerate(batch)
            ]
        return explanations

    def _explanation(self, seen, result, row, layers):
        """The Explanation of what was looked at (a LookedAt) in row `row` of a CamResult."""
        answer = self.answer_rules.answer(result.probabilities[row], result.logits[row], result.embeddings[row])
        return explanation(
            seen.image,
            {method: {name: method_maps[name][row] for name in layers} for method, method_maps in result.maps.items()},
            self._probability_dict(result.probabilities[row]),
            self.labels[int(result.class_indices[row])],
            result.embeddings[row],
            dataclasses.replace(answer, corners=seen.corners),
        )

    def _probability_dict(self, probabilities):
        return {label: float(p) for label, p in zip(self.labels, probabilities)}

    def _class_index(self, class_name):
        if class_name not in self.labels:
            raise UserError(f"Unknown class {class_name!r}; choose one of {', '.join(self.labels)}.")
        return self.labels.index(class_name)

    def _cam_for(self, layers):
        """The compiled CAM covering `layers`: the default one when it does, else one built once per set."""
        if set(layers) <= set(self._default_layers):
            return self._cams[self._default_layers]
        with self._cams_lock:
            if layers not in self._cams:
                self._cams[layers] = self._new_cam(layers)
            return self._cams[layers]

    def _new_cam(self, layers):
        return BaseCAM(
            self.model,
            layers,
            jit_compile=self._jit_compile,
            temperature=self.temperature,
            methods=CAM_METHODS.values(),
        )
