"""Do the maps point at what the model uses? Deletion and insertion curves (Petsiuk et al., 2018).

Deletion takes a painting and removes its pixels, the most salient first by a map, in equal steps, and
follows the explained class's probability: a map that finds the evidence makes it fall fast (a small area
under the curve). Insertion starts from the painting with everything removed and reveals the most salient
pixels first: a faithful map makes the probability rise fast (a large area). A removed pixel shows a
Gaussian blur of the painting, the same for both curves, so that what the model loses is detail (brushwork,
edges, texture) and not the colours and the layout that the blur keeps.

Every map of every CAM method at every depth is measured against maps that know nothing of the model, on
the same painting: random maps at the depth's own resolution and at coarser fixed ones (all upsampled like
the real maps), and a centred Gaussian blob, which is where paintings tend to keep their subject. A map
that does not beat a random one is noise, whatever it looks like; and a fine map must also beat a coarse
random one, whose smooth blobs delete whole regions at once, before it is called faithful.

`measure` runs the model (TensorFlow); the curves and their areas are NumPy, and artnet.explain.faithfulness_report
sums them up, as a table and a plot. train.py measures a sample of the test split; `python -m
artnet.cli.faithfulness` measures more, with a progress bar.
"""

import math
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from artnet.data.images import ImageError
from artnet.data.way_in import look
from artnet.errors import UserError
from artnet.explain.overlay import upsample_map

# The number of steps of each curve: few, so that every method at every depth fits a training run's budget
# on two CPU cores (train.py logs the time it took); `python -m artnet.cli.faithfulness` measures more.
DEFAULT_STEPS = 6
# The blur that removed pixels show, as a fraction of the painting's side: about the size of a brushstroke
# cluster at the input's resolution, far coarser than any texture the early layers see.
BLUR_FRACTION = 1 / 28
RANDOM, CENTRE = "random map", "centre blob"
# The sides of the random maps that every view is measured against besides the one at its own resolution.
# A random map of one side is the same baseline at every depth, so each side is measured once per painting;
# where a depth's own side is one of these (MobileNet's late and final depths at 224 px), it costs nothing.
COARSE_RANDOM_SIDES = (14, 7)
# Perturbed paintings are classified in batches of this many images, and maps made for this many paintings.
BATCH = 64
CAM_BATCH = 16


@dataclass(frozen=True)
class Views:
    """What is measured on each painting: every (method, layer), a random map of each side (the layers' own
    and the coarse ones), the centre blob."""

    methods: tuple
    layers: tuple
    sides: tuple  # each layer's map side, in the order of `layers`

    @property
    def random_sides(self):
        """The random maps' sides, each once, finest first."""
        return tuple(sorted({*self.sides, *COARSE_RANDOM_SIDES}, reverse=True))

    @property
    def keys(self):
        return (
            [(method, layer) for method in self.methods for layer in self.layers]
            + [(RANDOM, side) for side in self.random_sides]
            + [(CENTRE, None)]
        )

    def side_of(self, layer):
        return self.sides[self.layers.index(layer)]


@dataclass
class Measurement:
    """Per painting and view: the deletion and insertion curves (paintings, views, steps + 1), and how
    many paintings were left out because they have nothing to explain (all their maps are zero)."""

    views: Views
    deletion: np.ndarray
    insertion: np.ndarray
    class_indices: np.ndarray
    paintings: list  # what each row is: a name
    rows: list  # each row's painting among those given to measure()
    maps: list  # per painting: (method, layer) -> the map at the layer's resolution
    left_out: int
    seconds: float


def area(curves):
    """The area under curves sampled at equal steps from 0 to 1 (trapezoids), along the last axis."""
    curves = np.asarray(curves, dtype=np.float64)
    return (curves[..., 1:] + curves[..., :-1]).sum(axis=-1) / (2 * (curves.shape[-1] - 1))


def pixel_ranks(saliency, side, rng):
    """Each pixel's place, from 0 (most salient), when the map is scaled to side x side. Pixels the map
    ranks equally (a map's zeros) come in random order: the map says nothing about them."""
    scaled = upsample_map(saliency, (side, side)).ravel()
    order = np.lexsort((rng.random(scaled.size), -scaled))
    ranks = np.empty(scaled.size, dtype=np.int64)
    ranks[order] = np.arange(scaled.size)
    return ranks.reshape(side, side)


def blurred(pixels):
    """The painting with its detail removed: what a removed pixel shows."""
    side = pixels.shape[0]
    image = Image.fromarray(np.asarray(pixels, dtype=np.uint8))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(side * BLUR_FRACTION)))


def interior_steps(pixels, removed, ranks, steps):
    """The deletion and insertion images between the two ends, (2 * (steps - 1), side, side, 3) uint8: at
    step k of `steps`, the k/steps most salient pixels are removed (deletion) or revealed (insertion)."""
    counts = np.round(np.arange(1, steps) / steps * ranks.size).astype(np.int64)
    masks = (ranks[np.newaxis] < counts[:, np.newaxis, np.newaxis])[..., np.newaxis]
    deletion = np.where(masks, removed, pixels)
    insertion = np.where(masks, pixels, removed)
    return np.concatenate([deletion, insertion])


def random_map(side, rng):
    return rng.random((side, side)).astype(np.float32)


def centre_map(side):
    """A Gaussian blob in the middle of the square, a quarter of its side wide (one standard deviation)."""
    coordinates = (np.arange(side) + 0.5) / side - 0.5
    return np.exp(-(coordinates[:, None] ** 2 + coordinates[None, :] ** 2) / (2 * 0.25**2)).astype(np.float32)


def curves_of_painting(pixels, maps, class_index, probability_of, steps, rng):
    """(deletion, insertion) curves, (views, steps + 1) each, of one painting (side x side x 3 uint8) for
    the maps in view order. `probability_of(images, class_index)` gives the class's probability of each image."""
    side = pixels.shape[0]
    removed = blurred(pixels)
    images = [pixels[np.newaxis], removed[np.newaxis]]
    images += [interior_steps(pixels, removed, pixel_ranks(saliency, side, rng), steps) for saliency in maps]
    probabilities = probability_of(np.concatenate(images), class_index)
    whole, none, inside = probabilities[0], probabilities[1], probabilities[2:].reshape(len(maps), 2, steps - 1)
    ends = np.ones((len(maps), 1))
    deletion = np.concatenate([ends * whole, inside[:, 0], ends * none], axis=1)
    insertion = np.concatenate([ends * none, inside[:, 1], ends * whole], axis=1)
    return deletion, insertion


def measure(model, layers, pixels, *, temperature=1.0, steps=DEFAULT_STEPS, seed=0, names=None, progress=None):
    """Deletion and insertion curves of every CAM method at `layers` of `model` (an ArtNet network), with
    the random maps and the centre blob, for the top class of each painting of `pixels` (model inputs,
    side x side x 3 in 0..255). Returns a Measurement. `progress(count)` is told of each painting done."""
    from artnet.explain.cams import CAM_METHODS, BaseCAM

    started = time.monotonic()
    if steps < 2:
        raise UserError(f"A curve needs at least 2 steps, not {steps}.")
    sides = tuple(int(model.get_layer(layer).output.shape[1]) for layer in layers)
    views = Views(tuple(CAM_METHODS), tuple(layers), sides)
    cam = BaseCAM(model, views.layers, temperature=temperature, methods=CAM_METHODS.values())
    predict = _probability_function(model, temperature)
    rng = np.random.default_rng(seed)
    side = int(model.input_shape[1])
    centre = centre_map(side)

    def probability_of(images, class_index):
        rows = [predict(images[start : start + BATCH].astype(np.float32)) for start in range(0, len(images), BATCH)]
        return np.concatenate(rows)[:, class_index]

    deletions, insertions, classes, kept, rows, kept_maps, left_out = [], [], [], [], [], [], 0
    measured = len(views.methods) * len(views.layers)
    for start in range(0, len(pixels), CAM_BATCH):
        batch = np.stack(pixels[start : start + CAM_BATCH]).astype(np.float32)
        result = cam(batch)
        for row, painting in enumerate(batch):
            maps = {key: result.maps[key[0]][key[1]][row] for key in views.keys[:measured]}
            if not any(saliency.any() for saliency in maps.values()):
                left_out += 1
            else:
                baselines = [random_map(side, rng) for side in views.random_sides] + [centre]
                class_index = int(result.class_indices[row])
                deletion, insertion = curves_of_painting(
                    painting.astype(np.uint8), [*maps.values(), *baselines], class_index, probability_of, steps, rng
                )
                deletions.append(deletion)
                insertions.append(insertion)
                classes.append(class_index)
                kept.append(names[start + row] if names else str(start + row))
                rows.append(start + row)
                kept_maps.append(maps)
            if progress:
                progress(1)
    empty = np.zeros((0, len(views.keys), steps + 1))
    return Measurement(
        views,
        np.array(deletions) if deletions else empty,
        np.array(insertions) if insertions else empty,
        np.array(classes, dtype=np.int64),
        kept,
        rows,
        kept_maps,
        left_out,
        round(time.monotonic() - started, 1),
    )


def _probability_function(model, temperature):
    """The compiled pass from model inputs to calibrated probabilities, as the app computes them."""
    import keras
    import tensorflow as tf

    from artnet.model.network import LOGITS_LAYER, calibrated_probabilities

    logits = keras.Model(model.inputs, model.get_layer(LOGITS_LAYER).output)
    return tf.function(
        lambda images: calibrated_probabilities(logits(images, training=False), temperature),
        input_signature=[tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)],
    )


def stratified_sample(paintings, count, seed=0, group=lambda painting: painting.movement):
    """Up to `count` paintings, as many of each movement (or other `group`) as the groups allow, chosen at
    random (seeded)."""
    by_movement = {}
    for painting in paintings:
        by_movement.setdefault(group(painting), []).append(painting)
    rng = np.random.default_rng(seed)
    each = math.ceil(count / max(1, len(by_movement)))
    chosen = [
        painting
        for group in by_movement.values()
        for painting in (group[i] for i in sorted(rng.permutation(len(group))[:each]))
    ]
    return chosen[:count]


def model_inputs(paintings, way_in):
    """(pixels, kept paintings, the count that could not be read): each painting as the model sees it, through
    the model's way in (artnet.data.way_in.WayIn), whole: they are files of paintings, as in training."""
    pixels, kept, unreadable = [], [], 0
    for painting in paintings:
        try:
            pixels.append(look(painting.path, way_in, whole=True).model_input(way_in.side).astype(np.uint8))
            kept.append(painting)
        except ImageError:
            unreadable += 1
    return pixels, kept, unreadable
