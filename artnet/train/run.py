"""The training run, from a prepared run (artnet.train.setup) to the finished model folder; `train` reads
as its outline.

The network is built and cut where training starts (artnet.model.network.split_at_training); what the frozen
trunk makes of every view of every painting is computed once (artnet.train.features); the top is fitted on
those cached features epoch by epoch, with a checkpoint and state.json after each, so that a killed run
resumes after its last finished epoch (artnet.train.fitting). The epoch with the best validation accuracy is
copied into the whole network, evaluated on the test split with the tests for shortcuts
(artnet.train.shortcuts), and written as the model folder (artnet.train.writing).
"""

import collections
import contextlib
import dataclasses
import json
import logging
import os
import sys
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from artnet.data.images import load_image
from artnet.data.titles import painting_caption
from artnet.data.views import EVALUATION_VIEWS, VIEWS
from artnet.data.way_in import look
from artnet.explain import faithfulness, faithfulness_report
from artnet.explain.neighbours import NeighbourIndex, agreement, normalised, thumbnail_jpeg
from artnet.files import atomic_path
from artnet.model import calibration, conformal, scope
from artnet.model.backbones import IMAGENET, get_backbone
from artnet.model.network import (
    OUT_OF_SCOPE_LAYER,
    apply_freeze_policy,
    build_model,
    split_at_training,
    with_out_of_scope_output,
)
from artnet.progress import progress_bar
from artnet.threads import in_order
from artnet.train import answer_evaluation, evaluation, fitting, shortcuts, visitors
from artnet.train.features import default_cache_root, load_or_build
from artnet.train.options import OptionError
from artnet.train.setup import RunFolder, checkpoint_name, split_counts
from artnet.train.writing import FolderContents, write_model_folder

logger = logging.getLogger(__name__)
# Test paintings classified again through the saved network, to check that the cached one computes the same.
AGREEMENT_SAMPLE = 8


@dataclass
class TrainingResult:
    output: str
    metrics: dict
    epochs_run: int
    resumed_from_epoch: int


class StepClock:
    """How long each step of a run took: the summary's last line and metrics.json's training.step_seconds."""

    def __init__(self):
        self.seconds = {}

    @contextlib.contextmanager
    def step(self, name):
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.monotonic() - started, 1)

    def summary(self):
        return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.seconds.items())


@dataclass
class Split:
    """The paintings of a split that decoded, their rows in the feature cache and their label indices."""

    paintings: list
    rows: np.ndarray
    labels: np.ndarray

    @classmethod
    def of(cls, paintings, features, labels):
        index = {label: number for number, label in enumerate(labels)}
        decoded = [painting for painting in paintings if not features.failed(painting)]
        return cls(decoded, features.rows(decoded), np.array([index[p.movement] for p in decoded], dtype=np.int64))

    @property
    def pair(self):
        return self.rows, self.labels

    @property
    def sources(self):
        """Each painting's collection (None where the data does not say)."""
        return np.array([painting.source for painting in self.paintings], dtype=object)


@dataclass
class OutOfScope:
    """The out-of-scope images of each split that decoded ({split: [OutOfScopeImage]}) and their cached
    features, in the views that train them."""

    features: object  # CachedFeatures
    images: dict

    def rows(self, split):
        return self.features.rows(self.images[split])

    @property
    def training(self):
        return fitting.OutOfScopeImages(self.features, self.rows("train"))


def train(prepared, output, feature_cache=None):
    """Train the prepared run (artnet.train.setup), evaluate it and write the model folder `output`.
    Returns a TrainingResult."""
    started = time.monotonic()
    state, options, labels = prepared.state, prepared.options, prepared.state.labels
    run = RunFolder(output)
    # Several GPUs: one replica each, the global batch split between them; elsewhere the default strategy.
    gpus = tf.config.list_physical_devices("GPU")
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    with strategy.scope():
        model = _build_network(options, labels)
    trunk, top = split_at_training(model)

    clock = StepClock()
    with clock.step("features"):
        features = _cached_features(trunk, state, options, feature_cache)
        out_of_scope = _out_of_scope_features(trunk, state, options, feature_cache)
    splits = {name: Split.of(split, features, labels) for name, split in state.split.items()}
    resumed_from = state.epochs_done
    with clock.step("training"), strategy.scope():
        best_top = _fit(top, features, splits, options, run, state, out_of_scope)
    _copy_weights(best_top, model)
    if options.mixed_precision:
        model = _float32_copy(model, options, labels)

    contents = _evaluate(model, best_top, features, splits, prepared, clock, out_of_scope, top)
    contents.metrics["training"]["seconds"] = round(time.monotonic() - started, 1)
    contents.metrics["training"]["step_seconds"] = dict(clock.seconds)
    with clock.step("writing the folder"):
        write_model_folder(output, contents)
    run.remove()
    logger.info(
        f"Wrote the model folder {output} in {time.monotonic() - started:.0f} s ({clock.summary()}). "
        f"Serve it with: python app.py --model {output}"
    )
    for warning in contents.metrics["warnings"]:
        logger.warning(f"Warning: {warning}")
    return TrainingResult(
        output=os.fspath(output),
        metrics=contents.metrics,
        epochs_run=state.epochs_done - resumed_from,
        resumed_from_epoch=resumed_from,
    )


def _cached_features(trunk, state, options, feature_cache):
    """What the frozen trunk makes of every view of every painting, computed once and cached. Every view,
    whichever train: runs that differ only in their views share one cache."""
    paintings = sorted((p for split in state.split.values() for p in split), key=lambda painting: painting.path)
    features = load_or_build(trunk, paintings, tuple(VIEWS), options.way_in, feature_cache or default_cache_root())
    if features.failures:
        path, reason = next(iter(features.failures.items()))
        logger.warning(f"Skipped {len(features.failures)} paintings that could not be decoded, e.g. {(path, reason)}.")
    return features


def _out_of_scope_features(trunk, state, options, feature_cache):
    """OutOfScope for a run with out-of-scope images, their features cached in the views that train
    them; None for a run without."""
    if not state.out_of_scope:
        return None
    images = sorted((image for split in state.out_of_scope.values() for image in split), key=lambda image: image.path)
    features = load_or_build(
        trunk, images, fitting.OUT_OF_SCOPE_VIEWS, options.way_in, feature_cache or default_cache_root()
    )
    if features.failures:
        logger.warning(f"Skipped {len(features.failures)} out-of-scope images that could not be decoded.")
    decoded = {
        name: [image for image in split if not features.failed(image)] for name, split in state.out_of_scope.items()
    }
    return OutOfScope(features, decoded)


def _evaluate(model, top, features, splits, prepared, clock, out_of_scope, architecture):
    """The best epoch tested on the test split, with the shortcut tests, calibration, the prediction sets,
    the scope score and the index of training paintings for similar ones. `architecture` is the top without
    an out-of-scope output, which the comparison without out-of-scope images trains afresh."""
    state, options, labels = prepared.state, prepared.options, prepared.state.labels
    logger.info(
        f"Evaluating the model of epoch {state.best_epoch} (best validation accuracy {state.best_val_accuracy:.3f}) "
        f"on {len(splits['test'].paintings)} test paintings."
    )
    with clock.step("testing and calibration"):
        probabilities = {view: fitting.predict(top, features, splits["test"].rows, view) for view in EVALUATION_VIEWS}
        _check_agreement(model, splits["test"], probabilities["whole"], options.way_in, features)
        metrics = evaluation.test_metrics(splits["test"].paintings, splits["test"].labels, probabilities, labels)
        metrics["calibration"], calibrated = _calibrate(top, features, splits)
    with clock.step("prediction sets and scope"):
        answer_config, scope_scores = _answers(top, features, splits, out_of_scope, options, labels, metrics)
        if out_of_scope:
            metrics["out_of_scope"]["test_accuracy_without_out_of_scope_images"] = _accuracy_without_out_of_scope(
                architecture, features, splits, options
            )
    with clock.step("paintings as visitors bring them"):
        metrics["visitors"] = visitors.visitor_metrics(
            model,
            {"labels": labels, "temperature": metrics["calibration"]["temperature"], **answer_config},
            options.way_in,
            prepared.elsewhere,
            splits["test"].paintings,
            out_of_scope.images["test"] if out_of_scope else None,
            options.seed,
        )
    with clock.step("shortcut tests"):
        metrics.update(
            shortcuts.shortcut_tests(
                top, features, splits, labels, options, metrics["per_source"], out_of_scope=out_of_scope
            )
        )
    with clock.step("closest-paintings index"):
        neighbours = _neighbour_index(top, features, splits["train"])
        metrics["neighbours"] = _neighbour_metrics(
            neighbours, fitting.embeddings(top, features, splits["test"].rows), splits["test"]
        )
    with clock.step("faithfulness"):
        metrics["faithfulness"], measured = _faithfulness(model, splits["test"], options, metrics["calibration"])
    metrics.update(_run_record(prepared.source, state, options, features))
    metrics["warnings"] = evaluation.training_warnings(metrics)
    evaluation.log_summary(metrics)
    return FolderContents(
        model, metrics, state, splits["test"], calibrated, neighbours, measured, answer_config, scope_scores
    )


def _faithfulness(model, test, options, calibration_metrics):
    """Deletion and insertion of every CAM method's maps at every depth, on a sample of the test split."""
    depths = {layer["name"]: layer["depth"] for layer in get_backbone(options.backbone).gradcam_layers}
    sample = faithfulness.stratified_sample(test.paintings, options.faithfulness_paintings, options.seed)
    pixels, measured, _ = faithfulness.model_inputs(sample, options.way_in)
    with progress_bar(len(pixels), "Measuring the maps' faithfulness", "painting") as bar:
        measurement = faithfulness.measure(
            model,
            list(depths),
            pixels,
            temperature=calibration_metrics["temperature"],
            seed=options.seed,
            names=[_caption(painting) for painting in measured],
            progress=bar.update,
        )
    summary = faithfulness_report.summarise(measurement, depths)
    best = summary.get("most_faithful")
    if best:
        row = summary["methods"][best["method"]][best["layer"]]
        logger.info(
            f"Faithfulness on {summary['paintings']} test paintings ({summary['steps']} steps, "
            f"{summary['seconds']:.0f} s): most faithful {best['method']} at the {best['depth']} depth: against each "
            f"baseline, its deletion does better on at least {row['deletion_worst']:.0%} of them and its insertion "
            f"on {row['insertion_worst']:.0%}."
        )
    return summary, (measurement, pixels)


def _neighbour_index(top, features, train):
    """(embeddings, entries, thumbnails) of the training paintings: what similar() searches."""
    thumbnails = []
    with progress_bar(len(train.paintings), "Making thumbnails", "painting") as bar:
        for jpeg in in_order(lambda painting: thumbnail_jpeg(load_image(painting.path)), train.paintings, window=64):
            thumbnails.append(jpeg)
            bar.update()
    entries = [
        {
            "movement": p.movement,
            "title": _caption(p),
            "style": p.style,
            "source": p.source,
            "file": os.path.basename(p.path),
        }
        for p in train.paintings
    ]
    return normalised(fitting.embeddings(top, features, train.rows)), entries, thumbnails


def _caption(painting):
    return painting_caption(painting.path, painting.movement, painting.style, painting.source)


def _neighbour_metrics(neighbours, test_embeddings, test):
    """How often a test painting's nearest training painting has its movement, and the index's size."""
    embeddings, entries, thumbnails = neighbours
    index = NeighbourIndex(embeddings, entries, thumbnails.__getitem__)
    return {
        "paintings": len(entries),
        "nearest_has_the_movement": agreement(index, test_embeddings, [p.movement for p in test.paintings]),
        "bytes": int(embeddings.size * 2 + sum(len(jpeg) for jpeg in thumbnails) + len(json.dumps(entries))),
    }


def _answers(top, features, splits, out_of_scope, options, labels, metrics):
    """metrics.json's "prediction_sets" and "out_of_scope" entries, from the validation split's calibrated
    probabilities and scope scores: what config.json keeps of them, and the test split's scope scores
    (paintings, out-of-scope images, those images, the threshold) for the figure, or None."""
    temperature = metrics["calibration"]["temperature"]
    validation, test = splits["validation"], splits["test"]
    validation_logits, validation_embeddings = fitting.head_outputs(top, features, validation.rows)
    test_logits, test_embeddings = fitting.head_outputs(top, features, test.rows)
    floor = conformal.probability_floor(
        calibration.softmax(validation_logits, temperature), validation.labels, options.coverage
    )
    config = {"prediction_sets": conformal.config_entry(options.coverage, floor)}
    metrics["prediction_sets"] = {
        **config["prediction_sets"],
        "test": answer_evaluation.prediction_set_metrics(
            calibration.softmax(test_logits, temperature), test.labels, floor, labels
        ),
    }
    if not out_of_scope:
        return config, None
    # The threshold keeps its share of the validation paintings as files and as photographed alike: a
    # visitor's photo of a painting is as much a painting as the file.
    photographed = fitting.head_outputs(top, features, validation.rows, "photographed")
    rule = fitting.scope_rule(
        top,
        np.concatenate([validation_logits, photographed[0]]),
        np.concatenate([validation_embeddings, photographed[1]]),
    )
    config["scope"] = scope.config_entry(rule.kernel, rule.bias, rule.threshold)

    def others_scores(split):
        return rule.scores(*fitting.head_outputs(top, out_of_scope.features, out_of_scope.rows(split)))

    test_scores, others_test_scores = rule.scores(test_logits, test_embeddings), others_scores("test")
    metrics["out_of_scope"] = {
        key: value for key, value in config["scope"].items() if key not in ("kernel", "bias")
    } | {
        "images": {
            split: dict(collections.Counter(image.category for image in images))
            for split, images in out_of_scope.images.items()
        },
        "validation": answer_evaluation.scope_metrics(
            rule.scores(validation_logits, validation_embeddings),
            others_scores("validation"),
            out_of_scope.images["validation"],
            rule.threshold,
        ),
        "test": answer_evaluation.scope_metrics(
            test_scores, others_test_scores, out_of_scope.images["test"], rule.threshold
        ),
        "test_accuracy": metrics["test"]["accuracy"],
    }
    return config, (test_scores, others_test_scores, out_of_scope.images["test"], rule.threshold)


def _accuracy_without_out_of_scope(architecture, features, splits, options):
    """The test accuracy of the same recipe trained without out-of-scope images: what they cost the movements."""
    model = fitting.compile_top(fitting.fresh_copy(architecture), options)
    fitting.fit_top(
        model,
        features,
        splits["train"].pair,
        splits["validation"].pair,
        options,
        callbacks=[fitting.KeepBest()],
        verbose=0,
        sources=splits["train"].sources,
    )
    predicted = np.argmax(fitting.predict(model, features, splits["test"].rows), axis=1)
    return float(np.mean(predicted == splits["test"].labels))


def _calibrate(top, features, splits):
    """The temperature fitted on the validation split: the test split's calibration with and without it,
    and the test paintings' calibrated probabilities (whole painting)."""
    temperature = calibration.fit_temperature(
        fitting.logits(top, features, splits["validation"].rows), splits["validation"].labels
    )
    test_logits = fitting.logits(top, features, splits["test"].rows)
    return (
        calibration.calibration_metrics(temperature, test_logits, splits["test"].labels),
        calibration.softmax(test_logits, temperature),
    )


def _build_network(options, labels):
    """The whole network with the options' backbone, weights, head and freeze policy."""
    keras.utils.set_random_seed(options.seed)
    if options.mixed_precision:
        if not tf.config.list_physical_devices("GPU"):
            raise OptionError("--mixed-precision needs a GPU; this machine has none. Train without it.")
        keras.mixed_precision.set_global_policy("mixed_float16")
    model = build_model(len(labels), options.image_size, options.backbone_weights, options.backbone, options.head)
    return apply_freeze_policy(model, options.freeze, options.backbone)


def _fit(top, features, splits, options, run, state, out_of_scope):
    """Fit the top from where the run stands, with an output for "none of these" when the run has
    out-of-scope images; the top of the best epoch, loaded from its checkpoint."""
    if state.checkpoint is not None:
        top = keras.saving.load_model(run.checkpoint_path(state.checkpoint), safe_mode=True)
        top.run_eagerly = options.run_eagerly
        logger.info(
            f"Restored the model of epoch {state.epochs_done} with its optimizer state "
            f"({int(top.optimizer.iterations.numpy())} training steps done)."
        )
    else:
        if out_of_scope:
            top = with_out_of_scope_output(top)
        fitting.compile_top(top, options)
        os.makedirs(run.folder, exist_ok=True)
    if state.epochs_done < options.epochs:
        samples = len(splits["train"].rows) * len(options.views)
        others = (
            f" and {len(out_of_scope.images['train']) * len(fitting.OUT_OF_SCOPE_VIEWS)} of out-of-scope images "
            f"({len(out_of_scope.images['train'])} x {len(fitting.OUT_OF_SCOPE_VIEWS)} views)"
            if out_of_scope
            else ""
        )
        logger.info(
            f"Training the top of the network on {samples} cached samples of paintings "
            f"({len(splits['train'].rows)} paintings x {len(options.views)} views){others} for {options.epochs} epochs."
        )
        fitting.fit_top(
            top,
            features,
            splits["train"].pair,
            splits["validation"].pair,
            options,
            callbacks=[EpochCheckpoint(run, state)],
            first_epoch=state.epochs_done,
            sources=splits["train"].sources,
            out_of_scope=out_of_scope.training if out_of_scope else None,
            # A progress bar on a terminal; in a log, a line per epoch.
            verbose=1 if sys.stdout.isatty() else 2,
        )
    return keras.saving.load_model(run.checkpoint_path(state.best_checkpoint), safe_mode=True)


def _copy_weights(top, model):
    """The trained top's weights into the whole network, layer by layer; the out-of-scope output, which
    config.json keeps, stays out."""
    for layer in top.layers:
        if layer.weights and layer.name != OUT_OF_SCOPE_LAYER:
            model.get_layer(layer.name).set_weights(layer.get_weights())


def _float32_copy(model, options, labels):
    """The trained weights in a float32 network: what the app loads."""
    keras.mixed_precision.set_global_policy("float32")
    copy = build_model(len(labels), options.image_size, None, options.backbone, options.head)
    copy.set_weights(model.get_weights())
    return copy


def _check_agreement(model, test, cached_probabilities, way_in, features):
    """Classify a few test paintings through the whole network, as the app does, and check that the
    cached trunk and the trained top gave the same answers: the split and the copy of the weights are right."""
    count = min(AGREEMENT_SAMPLE, len(test.paintings))
    pixels = np.stack([look(p.path, way_in, whole=True).model_input(way_in.side) for p in test.paintings[:count]])
    direct = model.predict(pixels, verbose=0)
    tolerance = 1e-4 if all(array.dtype != np.float16 for array in features.arrays) else 2e-2
    difference = float(np.abs(direct - cached_probabilities[:count]).max()) if count else 0.0
    if difference > tolerance:
        raise RuntimeError(
            f"The saved network and the cached one disagree by {difference:.2g}; this is a bug in ArtNet."
        )


def _run_record(source, state, options, features):
    """metrics.json's description of the run: data counts, options, history."""
    skipped = dict(source.skipped)
    if features.failures:
        skipped["undecodable file"] = len(features.failures)
    training = {key: value for key, value in dataclasses.asdict(options).items() if key != "run_eagerly"}
    return {
        "counts": {
            "dataset": source.name,
            "layout": source.layout,
            "collections": source.sources,
            **split_counts(state.split, state.labels),
            "skipped": skipped,
            "unmapped_styles": dict(source.unmapped_styles.most_common(20)),
        },
        "training": {
            **training,
            "views": list(options.views),
            # A weights file by its name: metrics.json travels to the Hub, the machine's paths stay home.
            "backbone_weights": os.path.basename(options.backbone_weights)
            if _is_path(options.backbone_weights)
            else options.backbone_weights or "none",
            "optimizer": "Adam",
            "loss": "categorical cross-entropy",
            "epochs_run": state.epochs_done,
            "best_epoch": state.best_epoch,
            "best_val_accuracy": state.best_val_accuracy,
        },
        "history": state.history,
    }


def _is_path(weights):
    return weights is not None and weights != IMAGENET


class EpochCheckpoint(keras.callbacks.Callback):
    """After each epoch: the top with its optimizer state under the epoch's own name, then state.json,
    which names it as the last and maybe the best checkpoint. Each is written atomically and state.json
    last, so that a killed run resumes from its last finished epoch with that epoch's weights."""

    def __init__(self, run, state):
        super().__init__()
        self.run, self.state = run, state

    def on_epoch_end(self, epoch, logs=None):
        logs = {name: float(value) for name, value in (logs or {}).items()}
        for name, value in logs.items():
            self.state.history.setdefault(name, []).append(value)
        name = checkpoint_name(epoch + 1)
        with atomic_path(self.run.checkpoint_path(name), suffix=".keras") as temporary:
            self.model.save(temporary)
        self.state.checkpoint = name
        accuracy = logs.get("val_accuracy", 0.0)
        if self.state.best_val_accuracy is None or accuracy > self.state.best_val_accuracy:
            self.state.best_checkpoint, self.state.best_epoch, self.state.best_val_accuracy = name, epoch + 1, accuracy
        self.state.epochs_done = epoch + 1
        self.run.save(self.state)
