"""Fitting the top of the network (the part that trains, artnet.model.network.split_at_training) on cached
features: the batches of (painting, view) samples, the loss and schedule, class weights, and predictions
from the cache. The run around it (checkpoints, evaluation, the model folder) is artnet.train.run's.
"""

import collections
import math
import weakref
from dataclasses import dataclass

import keras
import numpy as np

from artnet.model import calibration, scope
from artnet.model.network import LOGITS_LAYER, OUT_OF_SCOPE_LAYER, is_head_layer

# Rows of the cache predicted at a time.
PREDICTION_BATCH = 512
# Training views whose batch statistics become the moving statistics of the backbone's BatchNormalization
# layers that train, before each validation: enough for a stable mean and variance, a small cost per epoch.
RECALIBRATION_SAMPLES = 512
RECALIBRATION_BATCH = 32
# MixStyle's Beta(0.1, 0.1): most mixing weights lie near 0 or 1, so a mixed sample mostly keeps one
# painting's statistics with a touch of the other's.
MIX_ALPHA = 0.1
# The views in which out-of-scope images train: whole, mirrored and photographed. The views that work against
# the collections' looks did not separate them better, and each costs a pass over every image
# (bench/scope.py); without the photographed view, the look of a phone photo would mean "a painting".
OUT_OF_SCOPE_VIEWS = ("whole", "flipped", "photographed")


@dataclass(frozen=True)
class OutOfScopeImages:
    """Cached images that are none of the movements: the rows of their own feature cache (artnet.train.features),
    trained as the top's last output, "none of these", under each of `views`."""

    features: object  # CachedFeatures
    rows: np.ndarray
    views: tuple = OUT_OF_SCOPE_VIEWS


class CachedSamples(keras.utils.PyDataset):
    """Every training view of every training painting once per epoch, and each view of each out-of-scope
    image when given (labelled with the top's last output, "none of these"), shuffled anew each epoch from
    the run's seed and the epoch's number, so that a resumed run sees the epochs that the interrupted one
    would have seen.

    Two options work against learning the collection instead of the movement, given each painting's
    collection (`sources`):
    - mix_collections: with this probability, a sample's cached inputs are interpolated with those of the
      same view of a painting of the same movement from another collection, by a weight drawn from
      Beta(MIX_ALPHA, MIX_ALPHA) (MixStyle, Zhou et al., 2021: for the style head the cached inputs are the
      channel means and standard deviations, so this mixes the statistics that carry a collection's look);
    - collection_weights "balanced": every collection of a movement weighs alike in the loss, whatever its
      number of paintings.
    """

    def __init__(self, features, training, num_classes, options, *, first_epoch=0, sources=None, out_of_scope=None):
        super().__init__()
        rows, labels = training
        self.features, self.num_classes = features, num_classes
        view_indices = [features.view_index(view) for view in options.views]
        self.rows = np.repeat(rows, len(view_indices))
        self.views = np.tile(view_indices, len(rows))
        self.labels = np.repeat(labels, len(view_indices))
        self.batch_size, self.seed, self.epoch = options.batch_size, options.seed, first_epoch
        groups = np.repeat(_group_numbers(labels, sources), len(view_indices))
        weights = sample_weights(options, labels, sources)
        self.weights = None if weights is None else np.repeat(weights, len(view_indices))
        self.mix_probability = options.mix_collections if sources is not None else 0.0
        # The samples of each view, movement and collection may mix with those of the same view and movement
        # from another collection: one pool of partners per (view, movement, collection), shared by its samples.
        self.keys = list(zip(self.views.tolist(), self.labels.tolist(), groups.tolist()))
        self.partners = _partner_pools(self.keys) if self.mix_probability else None
        self.paintings = len(self.rows)
        self.out_of_scope = out_of_scope
        if out_of_scope is not None:
            other_views = [out_of_scope.features.view_index(view) for view in out_of_scope.views]
            self.other_rows = np.repeat(out_of_scope.rows, len(other_views))
            self.other_views = np.tile(other_views, len(out_of_scope.rows))
            if self.weights is not None:
                self.weights = np.concatenate([self.weights, np.ones(len(self.other_rows))])
        self._shuffle()

    def __len__(self):
        return math.ceil(len(self.order) / self.batch_size)

    def _shuffle(self):
        total = self.paintings + (len(self.other_rows) if self.out_of_scope is not None else 0)
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(total)

    def __getitem__(self, index):
        chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        paintings = chosen[chosen < self.paintings]
        arrays = self.features.take(self.rows[paintings], self.views[paintings])
        if self.mix_probability:
            arrays = self._mixed(arrays, paintings, np.random.default_rng([self.seed, self.epoch, index]))
        labels = self.labels[paintings]
        if len(paintings) < len(chosen):
            others = chosen[chosen >= self.paintings] - self.paintings
            other_arrays = self.out_of_scope.features.take(self.other_rows[others], self.other_views[others])
            arrays = [np.concatenate([mine, theirs]) for mine, theirs in zip(arrays, other_arrays)]
            labels = np.concatenate([labels, np.full(len(others), self.num_classes - 1)])
            # The batch's samples in the order of their labels: the paintings, then the others.
            chosen = np.concatenate([paintings, chosen[chosen >= self.paintings]])
        targets = one_hot(labels, self.num_classes)
        if self.weights is None:
            return model_inputs(arrays), targets
        return model_inputs(arrays), targets, self.weights[chosen].astype(np.float32)

    def _mixed(self, arrays, chosen, rng):
        """`arrays` with a share of the samples interpolated with a partner from another collection."""
        mixed = [
            sample
            for sample in range(len(chosen))
            if len(self.partners[self.keys[chosen[sample]]]) and rng.random() < self.mix_probability
        ]
        if not mixed:
            return arrays
        partners = np.array([rng.choice(self.partners[self.keys[chosen[sample]]]) for sample in mixed])
        weights = rng.beta(MIX_ALPHA, MIX_ALPHA, len(mixed)).astype(np.float32)
        partner_arrays = self.features.take(self.rows[partners], self.views[partners])
        result = []
        for array, partner_array in zip(arrays, partner_arrays):
            array = np.array(array, dtype=np.float32)
            shape = (-1,) + (1,) * (array.ndim - 1)
            array[mixed] = weights.reshape(shape) * array[mixed] + (1 - weights.reshape(shape)) * partner_array
            result.append(array)
        return result

    def on_epoch_end(self):
        self.epoch += 1
        self._shuffle()


def _group_numbers(labels, sources):
    """A number for each painting's collection (all zero where the collections are not known)."""
    if sources is None:
        return np.zeros(len(labels), np.int64)
    names = {name: number for number, name in enumerate(sorted({str(source) for source in sources}))}
    return np.array([names[str(source)] for source in sources], np.int64)


def _partner_pools(keys):
    """{(view, label, group): the indices of the samples with that view and label and another group}."""
    samples = np.arange(len(keys))
    views, labels, groups = (np.array(column) for column in zip(*keys)) if keys else (np.array([]),) * 3
    return {
        (view, label, group): samples[(views == view) & (labels == label) & (groups != group)]
        for view, label, group in set(keys)
    }


def sample_weights(options, labels, sources=None):
    """Each training painting's weight in the loss: the movement's class weight, times its collection's
    weight when every collection of a movement is to weigh alike; None when all weigh the same."""
    weights = np.ones(len(labels))
    by_class = class_weights(options, labels)
    if by_class:
        weights *= np.array([by_class[label] for label in labels.tolist()])
    if options.collection_weights == "balanced" and sources is not None:
        groups = _group_numbers(labels, sources)
        pairs = collections.Counter(zip(labels.tolist(), groups.tolist()))
        per_label = collections.Counter(labels.tolist())
        collections_of = collections.Counter(label for label, _ in pairs)
        weights *= np.array(
            [
                per_label[label] / (collections_of[label] * pairs[label, group])
                for label, group in zip(labels.tolist(), groups.tolist())
            ]
        )
    if np.allclose(weights, 1.0):
        return None
    return weights / weights.mean()


def one_hot(labels, num_classes):
    return np.eye(num_classes, dtype=np.float32)[labels]


def model_inputs(arrays):
    """Cached arrays as a Keras model's inputs: float32, one array or a list of them."""
    converted = [np.asarray(array, dtype=np.float32) for array in arrays]
    return converted[0] if len(converted) == 1 else converted


def compile_top(top, options):
    """Adam at the options' learning rate (the schedule sets it per epoch), categorical cross-entropy with
    the options' label smoothing."""
    top.compile(
        optimizer=keras.optimizers.Adam(options.learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=options.label_smoothing),
        metrics=["accuracy"],
        run_eagerly=options.run_eagerly,
    )
    return top


def learning_rate_schedule(options):
    """The learning rate of each epoch: halved every `halve_learning_rate_every` epochs, counted from the
    start of the run."""
    return keras.callbacks.LearningRateScheduler(
        lambda epoch: options.learning_rate * 0.5 ** (epoch // options.halve_learning_rate_every)
    )


def class_weights(options, labels):
    """{class index: weight} that balances the movements' numbers of training paintings, or None."""
    if options.class_weights == "none":
        return None
    counts = collections.Counter(labels.tolist())
    return {index: len(labels) / (len(counts) * count) for index, count in counts.items()}


def fit_top(
    top,
    features,
    training,
    validation,
    options,
    *,
    callbacks=(),
    first_epoch=0,
    verbose=2,
    sources=None,
    out_of_scope=None,
):
    """Train `top` on the cached training views of `training` (rows, label indices), validating on the
    whole view of `validation` (rows, label indices). `sources` is each training painting's collection,
    for the options that work against learning it; `out_of_scope` (OutOfScopeImages) trains the top's
    last output, "none of these", when the top has one (artnet.model.network.with_out_of_scope_output).
    Returns Keras's History."""
    num_classes = top.output_shape[-1]
    samples = CachedSamples(
        features,
        training,
        num_classes,
        options,
        first_epoch=first_epoch,
        sources=sources,
        out_of_scope=out_of_scope if has_out_of_scope_output(top) else None,
    )
    validation_inputs = predictable(features, validation[0], "whole")
    extra = [BatchNormRecalibration(features, training[0], options)] if training_batchnorms(top) else []
    return top.fit(
        samples,
        validation_data=(validation_inputs, one_hot(validation[1], num_classes)),
        epochs=options.epochs,
        initial_epoch=first_epoch,
        # The recalibration first: the callbacks after it (checkpoints) save what it set.
        callbacks=[learning_rate_schedule(options), *extra, *callbacks],
        verbose=verbose,
    )


def has_out_of_scope_output(top):
    return any(layer.name == OUT_OF_SCOPE_LAYER for layer in top.layers)


def scope_rule(top, logits, embeddings):
    """The scope rule of a top trained with an out-of-scope output: its unit, and the threshold that keeps
    the chosen share of the in-scope paintings whose logits and embeddings are given."""
    kernel, bias = top.get_layer(OUT_OF_SCOPE_LAYER).get_weights()
    return scope.ScopeRule.fitted(kernel, bias, logits, embeddings)


def training_batchnorms(top):
    """The backbone's BatchNormalization layers in `top` that train (none when the backbone is frozen)."""
    return [layer for layer in _trainable_batchnorms(top) if not is_head_layer(layer)]


def _trainable_batchnorms(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable]


class BatchNormRecalibration(keras.callbacks.Callback):
    """Before each validation, the moving mean and variance of every BatchNormalization layer that trains
    become the average of its batch statistics over a fixed sample of training views (precise BatchNorm).

    Keras's moving averages forget their starting values (mean 0, variance 1) over hundreds of steps; a run
    of few steps whose backbone's BatchNormalization trains (random weights, a small data folder) would
    otherwise validate, keep and save a network whose inference statistics describe no painting: it answers
    one movement for everything."""

    def __init__(self, features, rows, options):
        super().__init__()
        rng = np.random.default_rng(options.seed)
        chosen = rng.permutation(len(rows))[:RECALIBRATION_SAMPLES]
        view_indices = [features.view_index(view) for view in options.views]
        views = np.resize(np.array(view_indices, np.int64), len(chosen))
        self.batches = [
            model_inputs(
                features.take(
                    rows[chosen[start : start + RECALIBRATION_BATCH]], views[start : start + RECALIBRATION_BATCH]
                )
            )
            for start in range(0, len(chosen), RECALIBRATION_BATCH)
        ]

    def on_test_begin(self, logs=None):
        recalibrate_batchnorms(self.model, self.batches)


def recalibrate_batchnorms(model, batches):
    """Set the moving statistics of `model`'s training BatchNormalization layers to the mean of their batch
    statistics over `batches` (model inputs), changing no other weight."""
    layers = _trainable_batchnorms(model)
    momenta = [layer.momentum for layer in layers]
    try:
        for count, batch in enumerate(batches):
            # The k-th batch weighs 1/k: the moving statistics become the running mean of the batches'.
            for layer in layers:
                layer.momentum = count / (count + 1)
            model(batch, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


def predictable(features, rows, view):
    """The cached inputs of `rows` under one view."""
    return model_inputs(features.take(rows, np.full(len(rows), features.view_index(view))))


def predict(top, features, rows, view="whole"):
    """(rows, movements) probabilities of each row under `view`, from the cache: the softmax of the
    movements' logits alone, also for a top that has an out-of-scope output."""
    return calibration.softmax(logits(top, features, rows, view)).astype(np.float32)


def logits(top, features, rows, view="whole"):
    """The movements' logits of each row under `view`: what temperature scaling divides."""
    return head_outputs(top, features, rows, view)[0]


def embeddings(top, features, rows, view="whole"):
    """What the logits layer sees for each row: the painting as the trained head describes it."""
    return head_outputs(top, features, rows, view)[1]


def head_outputs(top, features, rows, view="whole"):
    """(logits, embeddings) of each row under `view`, from one pass over the cache."""
    model = head_model(top)
    parts = [
        model.predict(predictable(features, rows[start : start + PREDICTION_BATCH], view), verbose=0)
        for start in range(0, len(rows), PREDICTION_BATCH)
    ]
    if not parts:
        return tuple(np.zeros((0, output.shape[-1]), np.float32) for output in model.outputs)
    return tuple(np.concatenate(outputs) for outputs in zip(*parts))


# One model per top that outputs its logits and what the logits layer sees: Keras traces a model's
# prediction once, and a run asks each top for them many times.
_HEAD_MODELS = weakref.WeakKeyDictionary()


def head_model(top):
    """The model that gives a top's logits and what its logits layer sees, one per top."""
    if top not in _HEAD_MODELS:
        head = top.get_layer(LOGITS_LAYER)
        _HEAD_MODELS[top] = keras.Model(top.input, [head.output, head.input])
    return _HEAD_MODELS[top]


def fresh_copy(top):
    """A new top of the same architecture with freshly initialised weights."""
    return keras.Model.from_config(top.get_config())


class KeepBest(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the best validation accuracy, and restores them at the end."""

    def __init__(self):
        super().__init__()
        self.best, self.weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        accuracy = (logs or {}).get("val_accuracy", 0.0)
        if self.best is None or accuracy > self.best:
            self.best, self.weights = accuracy, self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.weights is not None:
            self.model.set_weights(self.weights)
