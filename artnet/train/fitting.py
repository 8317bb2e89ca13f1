"""Fitting the top of the network (the part that trains, artnet.model.network.split_at_training) on cached
features: the batches of (painting, view) samples, the loss and schedule, class weights, and predictions
from the cache. The run around it (checkpoints, evaluation, the model folder) is artnet.train.run's.
"""

import collections
import math

import keras
import numpy as np

from artnet.model.network import LOGITS_LAYER

# Rows of the cache predicted at a time.
PREDICTION_BATCH = 512


class CachedSamples(keras.utils.PyDataset):
    """Every training view of every training painting once per epoch, shuffled anew each epoch from the
    run's seed and the epoch's number, so that a resumed run sees the epochs that the interrupted one would
    have seen."""

    def __init__(self, features, training, num_classes, options, *, first_epoch=0):
        super().__init__()
        rows, labels = training
        self.features, self.num_classes = features, num_classes
        view_indices = [features.view_index(view) for view in options.views]
        self.rows = np.repeat(rows, len(view_indices))
        self.views = np.tile(view_indices, len(rows))
        self.labels = np.repeat(labels, len(view_indices))
        self.batch_size, self.seed, self.epoch = options.batch_size, options.seed, first_epoch
        self._shuffle()

    def _shuffle(self):
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.rows))

    def __len__(self):
        return math.ceil(len(self.rows) / self.batch_size)

    def __getitem__(self, index):
        chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        inputs = model_inputs(self.features.take(self.rows[chosen], self.views[chosen]))
        return inputs, one_hot(self.labels[chosen], self.num_classes)

    def on_epoch_end(self):
        self.epoch += 1
        self._shuffle()


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


def fit_top(top, features, training, validation, options, *, callbacks=(), first_epoch=0, verbose=2):
    """Train `top` on the cached training views of `training` (rows, label indices), validating on the
    whole view of `validation` (rows, label indices). Returns Keras's History."""
    num_classes = top.output_shape[-1]
    samples = CachedSamples(features, training, num_classes, options, first_epoch=first_epoch)
    validation_inputs = predictable(features, validation[0], "whole")
    return top.fit(
        samples,
        validation_data=(validation_inputs, one_hot(validation[1], num_classes)),
        epochs=options.epochs,
        initial_epoch=first_epoch,
        class_weight=class_weights(options, training[1]),
        callbacks=[learning_rate_schedule(options), *callbacks],
        verbose=verbose,
    )


def predictable(features, rows, view):
    """The cached inputs of `rows` under one view."""
    return model_inputs(features.take(rows, np.full(len(rows), features.view_index(view))))


def predict(top, features, rows, view):
    """(rows, classes) probabilities of `top` for each row under `view`, from the cache."""
    outputs = [
        top.predict(predictable(features, rows[start : start + PREDICTION_BATCH], view), verbose=0)
        for start in range(0, len(rows), PREDICTION_BATCH)
    ]
    return np.concatenate(outputs) if outputs else np.zeros((0, top.output_shape[-1]), np.float32)


def logits(top, features, rows, view="whole"):
    """The logits of each row under `view`: what temperature scaling divides."""
    return predict(keras.Model(top.inputs, top.get_layer(LOGITS_LAYER).output), features, rows, view)


def embeddings(top, features, rows, view="whole"):
    """What the logits layer sees for each row: the painting as the trained head describes it."""
    embedder = keras.Model(top.inputs, top.get_layer(LOGITS_LAYER).input)
    return predict(embedder, features, rows, view)


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
