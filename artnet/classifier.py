"""Classifier: a loaded model folder that turns a painting into probabilities and Grad-CAM overlays.

Everything needed to interpret the model (labels, input size, Grad-CAM layers) comes from the folder's
config.json. A Classifier holds no per-user state, so one instance serves every user and thread.
"""

import os
import threading
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from artnet.errors import UserError
from artnet.gradcam import GradCAM, render_overlay, upsample_map
from artnet.images import content_box, fit_within, load_image, square_image, to_array
from artnet.model import load_folder

# Explanations are rendered at most this wide: sharper than any browser shows them, and small enough
# that keeping one user's maps between slider moves costs a few megabytes.
DISPLAY_SIDE = 768


@dataclass(frozen=True)
class Explanation:
    """Grad-CAM maps of one painting for one class, ready to re-render without the network.

    `image` is the painting padded to a square (at most DISPLAY_SIDE wide); each map in `maps` has its
    size and lies in 0..1. `content_box` is where the painting itself sits in `image`.
    """

    image: np.ndarray  # (side, side, 3) uint8
    content_box: tuple
    maps: dict  # layer name -> (side, side) float32 in 0..1
    probabilities: dict  # label -> probability, in the model's label order
    class_name: str  # the class the maps explain

    def overlay(self, layer, opacity=0.5, colormap="jet"):
        """The painting (without padding) with the layer's map blended over it, as a PIL RGB image."""
        if layer not in self.maps:
            raise UserError(f"No map for layer {layer!r}; this explanation has {', '.join(self.maps)}.")
        left, top, right, bottom = self.content_box
        return render_overlay(
            self.image[top:bottom, left:right], self.maps[layer][top:bottom, left:right], opacity, colormap
        )


def share_cpu_cores(concurrent_passes):
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

    def __init__(self, model, config, jit_compile=False, warm_up=True):
        self.model = model
        self.config = config
        self.labels = list(config["labels"])
        self.image_size = int(config["image_size"])
        self.gradcam_layers = [dict(layer) for layer in config["gradcam_layers"]]
        self._jit_compile = jit_compile
        self._predict = tf.function(
            lambda images: model(images, training=False),
            input_signature=[tf.TensorSpec([None, self.image_size, self.image_size, 3], tf.float32)],
            jit_compile=jit_compile,
        )
        self._default_layers = tuple(layer["name"] for layer in self.gradcam_layers)
        self._cams = {self._default_layers: GradCAM(model, self._default_layers, jit_compile=jit_compile)}
        self._cams_lock = threading.Lock()
        if warm_up:
            self.warm_up()

    @classmethod
    def from_folder(cls, folder, **options):
        model, config = load_folder(folder)
        return cls(model, config, **options)

    def warm_up(self):
        """Trace and run both compiled passes once, so that no user request pays for tracing."""
        blank = np.zeros((1, self.image_size, self.image_size, 3), np.float32)
        self._predict(blank)
        self._cams[self._default_layers](blank)

    def classify(self, image):
        """{label: probability} for a painting given as a path, bytes or a PIL image."""
        model_input = self._model_input(load_image(image))
        probabilities = self._predict(model_input[np.newaxis]).numpy()[0]
        return self._probability_dict(probabilities)

    def classify_many(self, images):
        """[{label: probability}] for several paintings in one network pass, which costs less per painting
        than one pass each (bench/load.py measures how much)."""
        model_inputs = np.stack([self._model_input(load_image(image)) for image in images])
        return [self._probability_dict(probabilities) for probabilities in self._predict(model_inputs).numpy()]

    def explain(self, image, class_name=None, layers=None):
        """Grad-CAM maps of `layers` (default: the model folder's layers) for `class_name` (default: the
        top prediction), with the probabilities from the same pass."""
        painting = load_image(image)
        class_index = -1 if class_name is None else self._class_index(class_name)
        layers = self._default_layers if layers is None else tuple(layers)
        result = self._cam_for(layers)(self._model_input(painting)[np.newaxis], [class_index])

        side = min(DISPLAY_SIDE, max(painting.size))
        shown = np.asarray(square_image(painting, side))
        box = content_box(fit_within(painting.size, side))
        # Grad-CAM gives an image without variation all-zero maps, but the padding of a flat painting that
        # is not square adds an edge for it to find. Nothing in a flat painting is evidence of anything.
        # (Checked on the painting as shown: at most 768 px wide, where the original can be 64 megapixels.)
        left, top, right, bottom = box
        content = shown[top:bottom, left:right]
        flat = bool((content == content[0, 0]).all())
        return Explanation(
            image=shown,
            content_box=box,
            maps={name: np.zeros((side, side), np.float32) if flat else upsample_map(result.maps[name][0], (side, side))
                  for name in layers},
            probabilities=self._probability_dict(result.probabilities[0]),
            class_name=self.labels[int(result.class_indices[0])],
        )

    def _model_input(self, painting):
        return to_array(square_image(painting, self.image_size))

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
                self._cams[layers] = GradCAM(self.model, layers, jit_compile=self._jit_compile)
            return self._cams[layers]
