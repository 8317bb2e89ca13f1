"""The training samples drawn from cached features: the options that work against learning a painting's
collection instead of its movement, on a small cache whose values name the collection."""

import dataclasses

import numpy as np

from artnet.train.fitting import CachedSamples, OutOfScopeImages, sample_weights
from artnet.train.options import TrainingOptions

VIEWS = ("whole", "flipped")


class Cache:
    """A feature cache whose every value is its painting's collection number, the same in every view."""

    views = VIEWS

    def __init__(self, collections):
        self.values = np.array(collections, np.float32)

    def view_index(self, view):
        return VIEWS.index(view)

    def take(self, rows, views):
        return [np.repeat(self.values[rows][:, None], 3, axis=1)]


# Movement 0 from collections 0 (three paintings) and 1 (one painting); movement 1 from collection 2 alone.
LABELS = np.array([0, 0, 0, 0, 1, 1])
SOURCES = np.array(["a", "a", "a", "b", "c", "c"], dtype=object)
COLLECTION_NUMBERS = [0, 0, 0, 1, 2, 2]


def options(**changes):
    return dataclasses.replace(TrainingOptions(), views=VIEWS, batch_size=64, **changes)


def one_batch(**changes):
    samples = CachedSamples(Cache(COLLECTION_NUMBERS), (np.arange(6), LABELS), 2, options(**changes), sources=SOURCES)
    return samples, samples[0]


def test_without_the_options_every_sample_is_its_own_painting_and_weighs_one():
    samples, batch = one_batch()
    assert len(batch) == 2
    inputs, targets = batch
    chosen = samples.order
    assert np.array_equal(inputs[:, 0], np.array(COLLECTION_NUMBERS, np.float32)[samples.rows[chosen]])
    assert np.array_equal(targets.argmax(axis=1), samples.labels[chosen])


def test_balanced_collections_weigh_every_collection_of_a_movement_alike():
    weights = sample_weights(options(collection_weights="balanced"), LABELS, SOURCES)
    assert np.isclose(weights[:3].sum(), weights[3]) and np.isclose(weights[4], weights[5])
    assert np.isclose(weights.mean(), 1.0)
    # Each sample of the batch carries its painting's weight.
    samples, (_, _, batch_weights) = one_batch(collection_weights="balanced")
    assert np.allclose(batch_weights, weights[samples.rows[samples.order]])
    # Unknown collections: nothing to balance.
    assert sample_weights(options(collection_weights="balanced"), LABELS, None) is None


def test_mixing_blends_a_painting_with_another_collection_of_its_movement_and_no_other():
    samples, (inputs, _) = one_batch(mix_collections=1.0)
    rows = samples.rows[samples.order]
    values = inputs[:, 0]
    own = np.array(COLLECTION_NUMBERS, np.float32)[rows]
    # Movement 1 has one collection: its samples have no partner and stay as they are.
    assert np.array_equal(values[LABELS[rows] == 1], own[LABELS[rows] == 1])
    # Movement 0's samples lie between collection 0 and collection 1, and some moved away from their own.
    movement_0 = values[LABELS[rows] == 0]
    assert np.all((movement_0 >= 0) & (movement_0 <= 1))
    assert np.any(np.abs(movement_0 - own[LABELS[rows] == 0]) > 1e-3)
    # The same epoch and batch mix the same way: a resumed run sees what the interrupted one would have.
    assert np.array_equal(one_batch(mix_collections=1.0)[1][0], inputs)


class OtherCache(Cache):
    """The out-of-scope images' cache: every value is -1, in its own views."""

    views = ("whole", "flipped", "photographed")

    def view_index(self, view):
        return self.views.index(view)


def test_out_of_scope_images_train_the_last_output_in_each_of_their_views():
    others = OutOfScopeImages(OtherCache([-1, -1, -1]), np.arange(3))
    samples = CachedSamples(
        Cache(COLLECTION_NUMBERS), (np.arange(6), LABELS), 3, options(), sources=SOURCES, out_of_scope=others
    )
    inputs, targets = samples[0]
    # Six paintings in two views and three images in their three, in one batch of 64.
    assert len(targets) == 21
    none = targets.argmax(axis=1) == 2
    assert none.sum() == 9 and np.all(inputs[none] == -1) and np.all(inputs[~none] >= 0)
    # Balanced collections weigh the paintings; each out-of-scope sample weighs one.
    balanced = CachedSamples(
        Cache(COLLECTION_NUMBERS),
        (np.arange(6), LABELS),
        3,
        options(collection_weights="balanced"),
        sources=SOURCES,
        out_of_scope=others,
    )
    _, targets, weights = balanced[0]
    assert np.all(weights[targets.argmax(axis=1) == 2] == 1.0) and not np.allclose(weights, 1.0)
