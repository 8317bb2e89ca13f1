"""The fit loop: schedule, checkpoints and resume, evaluation, and the finished model folder.

What can be settled before TensorFlow starts (options, data, split, resume state) is in
artnet.training_setup. A run keeps its working state beside the output folder, in `<output>.run/`: the split (so that a
resumed run trains and evaluates on the same paintings), the options, the history and a checkpoint of
the last finished epoch with its optimizer state. The model folder itself is assembled in a temporary
sibling and renamed into place at the end, so a crash never leaves a half-written folder that looks
complete.
"""

import collections
import dataclasses
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass

import keras
import tensorflow as tf
from PIL import Image

from artnet.data import DecodeFailures, make_dataset, training_views, tta_views, whole_view
from artnet.files import atomic_path, write_json_atomically
from artnet.images import ImageError, load_image
from artnet.evaluation import classification_metrics, plot_confusion_matrix, plot_training_curves, predict_paintings
from artnet.model import apply_freeze_policy, build_model, save_folder
from artnet.model_card import render_model_card
from artnet.model_folder import CARD_FILE, METRICS_FILE
from artnet.training_setup import (
    OptionError, OutputError, RunState, TrainingOptions, checkpoint_name, output_problem, prepare_run, split_counts,
)


@dataclass
class TrainingResult:
    output: str
    metrics: dict
    epochs_run: int
    resumed_from_epoch: int

EXAMPLES_PER_MOVEMENT = 2
# Examples are shown in the app's gallery and uploaded to the Hub: a browser-sized copy is enough.
EXAMPLE_SIDE = 1024
# With caching set to "auto", decoded training samples stay in memory up to this size, else on disk.
MEMORY_CACHE_BYTES = 2 * 1024**3


def train(data_dir, output, options=TrainingOptions(), resume=False, log=print, prepared=None):
    """Train, evaluate and write the model folder `output`. Returns a TrainingResult."""
    source, splits, state = prepared or prepare_run(data_dir, output, options, resume, log)
    if state is not None:
        options = TrainingOptions(**state["options"])
    labels = state["labels"] if state is not None else source.labels
    keras.utils.set_random_seed(options.seed)
    gpus = tf.config.list_physical_devices("GPU")
    if options.mixed_precision:
        if not gpus:
            raise OptionError("--mixed-precision needs a GPU; this machine has none. Train without it.")
        keras.mixed_precision.set_global_policy("mixed_float16")
    # Several GPUs: one replica each; the global batch is split between them.
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    run = RunState(output)

    with strategy.scope():
        if state is not None:
            model = keras.saving.load_model(run.checkpoint_path(state["checkpoint"]), safe_mode=True)
            log(f"Restored the model of epoch {state['epochs_done']} with its optimizer state "
                f"({int(model.optimizer.iterations.numpy())} training steps done).")
        else:
            model = apply_freeze_policy(
                build_model(len(labels), options.image_size, backbone_weights=options.backbone_weights), options.freeze
            )
            model.compile(
                optimizer=keras.optimizers.Adam(options.learning_rate),
                loss=keras.losses.CategoricalCrossentropy(label_smoothing=options.label_smoothing),
                metrics=["accuracy"],
            )
    model.run_eagerly = options.run_eagerly

    failures = DecodeFailures()
    if state is not None:
        failures.paths.update(state.get("decode_failures", {}))
    train_data = make_dataset(
        splits["train"], labels, options.image_size, training_views, options.batch_size, failures,
        shuffle_seed=options.seed, cache=_training_cache(options, splits["train"], run),
    )
    validation_data = make_dataset(
        splits["validation"], labels, options.image_size, whole_view, options.batch_size, failures, cache="memory"
    )

    if state is None:
        state = {
            "options": dataclasses.asdict(options),
            "labels": labels,
            "split": {name: [dataclasses.asdict(p) for p in paintings] for name, paintings in splits.items()},
            "epochs_done": 0,
            "history": {},
            "checkpoint": None,
            "best_checkpoint": None,
            "best_epoch": None,
            "best_val_accuracy": None,
        }
        os.makedirs(run.folder, exist_ok=True)
    resumed_from = state["epochs_done"]
    history = keras.callbacks.History()
    callbacks = [
        keras.callbacks.LearningRateScheduler(
            lambda epoch: options.learning_rate * 0.5 ** (epoch // options.halve_learning_rate_every)
        ),
        EpochCheckpoint(run, state, failures),
        history,
    ]
    if resumed_from < options.epochs:
        # The datasets' length is unknown (a painting that fails to decode gives no samples), so Keras
        # counts the steps as it goes and warns at the end of every pass that the input "ran out".
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=options.epochs,
            initial_epoch=resumed_from,
            class_weight=_class_weights(options, splits["train"], labels),
            callbacks=callbacks,
            verbose=1 if log is print else 2,
        )
    if failures:
        log(f"Skipped {len(failures)} paintings that could not be decoded, e.g. {next(iter(failures.paths.items()))}.")

    best = keras.saving.load_model(run.checkpoint_path(state["best_checkpoint"]), safe_mode=True)
    log(f"Evaluating the model of epoch {state['best_epoch']} (best validation accuracy {state['best_val_accuracy']:.3f}) "
        f"on {len(splits['test'])} test paintings.")
    inference_model = _float32_copy(best, labels, options)
    metrics = evaluate(inference_model, splits, labels, source, state, options, failures, log)
    write_model_folder(output, inference_model, labels, metrics, state, splits["test"], options)
    run.remove()
    log(f"Wrote the model folder {output}. Serve it with: python app.py --model {output}")
    return TrainingResult(
        output=os.fspath(output), metrics=metrics, epochs_run=state["epochs_done"] - resumed_from,
        resumed_from_epoch=resumed_from,
    )


def _float32_copy(model, labels, options):
    """The trained weights in a fresh float32 model without optimizer state: what the app loads."""
    keras.mixed_precision.set_global_policy("float32")
    copy = build_model(len(labels), options.image_size, backbone_weights=None)
    copy.set_weights(model.get_weights())
    return copy


def evaluate(model, splits, labels, source, state, options, failures, log):
    """metrics.json's content: test metrics on the whole painting and with test-time augmentation, the
    data counts and the hyper-parameters."""
    results = {}
    for name, views in (("test", whole_view), ("test_tta", tta_views)):
        truth, probabilities, view_failures = predict_paintings(model, splits["test"], labels, options.image_size, views)
        for path, reason in view_failures.paths.items():
            failures.add(path, reason)
        results[name] = classification_metrics(truth, probabilities, labels)
    skipped = dict(source.skipped)
    if failures:
        skipped["undecodable file"] = len(failures)
    results["counts"] = {
        "layout": source.layout,
        **split_counts(splits, labels),
        "skipped": skipped,
        "unmapped_styles": dict(source.unmapped_styles.most_common(20)),
    }
    results["training"] = {
        "backbone": "DenseNet-121",
        **{key: value for key, value in dataclasses.asdict(options).items() if key != "run_eagerly"},
        "backbone_weights": options.backbone_weights or "none",
        "optimizer": "Adam",
        "loss": "categorical cross-entropy",
        "epochs_run": state["epochs_done"],
        "best_epoch": state["best_epoch"],
        "best_val_accuracy": state["best_val_accuracy"],
    }
    results["history"] = state["history"]
    log(f"Test accuracy {results['test']['accuracy']:.2%} (macro-F1 {results['test']['macro_f1']:.3f}); "
        f"with test-time augmentation {results['test_tta']['accuracy']:.2%} (macro-F1 {results['test_tta']['macro_f1']:.3f}).")
    for label, scores in results["test"]["per_class"].items():
        log(f"  {label:<15} precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  ({scores['support']} paintings)")
    return results


def write_model_folder(output, model, labels, metrics, state, test_paintings, options):
    """Assemble the whole folder in a hidden sibling, then rename it into place."""
    output = os.path.abspath(os.fspath(output)).rstrip(os.sep)
    parent, name = os.path.split(output)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent)
    try:
        save_folder(model, staging, labels)
        write_json_atomically(os.path.join(staging, METRICS_FILE), metrics)
        os.makedirs(os.path.join(staging, "plots"))
        plot_training_curves(state["history"], os.path.join(staging, "plots", "training_curves.png"))
        plot_confusion_matrix(metrics["test"], labels, os.path.join(staging, "plots", "confusion_matrix.png"))
        write_examples(os.path.join(staging, "examples"), test_paintings, labels)
        with open(os.path.join(staging, CARD_FILE), "w", encoding="utf-8") as file:
            file.write(render_model_card(staging))
        # Checked before training too, but hours may have passed. The run folder stays: nothing is lost.
        problem = output_problem(output)
        if problem:
            raise OutputError(f"{problem} Move it away, then run the same command with --resume.")
        if os.path.exists(output):
            previous = tempfile.mkdtemp(prefix=f".{name}.", suffix=".previous", dir=parent)
            os.rename(output, os.path.join(previous, name))
            os.rename(staging, output)
            shutil.rmtree(previous)
        else:
            os.rename(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_examples(folder, test_paintings, labels):
    """Two held-out paintings per movement, browser-sized, listed with their true movement."""
    os.makedirs(folder)
    index = []
    for label in labels:
        chosen = 0
        for painting in (p for p in test_paintings if p.movement == label):
            if chosen == EXAMPLES_PER_MOVEMENT:
                break
            try:
                image = load_image(painting.path)
            except ImageError:
                continue
            image.thumbnail((EXAMPLE_SIDE, EXAMPLE_SIDE), Image.Resampling.LANCZOS)
            chosen += 1
            file = f"{label.lower()}_{chosen}.jpg"
            image.save(os.path.join(folder, file), quality=90)
            index.append({"file": file, "label": label, "source": os.path.basename(painting.path)})
    write_json_atomically(os.path.join(folder, "index.json"), index)


def _training_cache(options, paintings, run):
    if options.cache == "none":
        return None
    sample_bytes = 6 * options.image_size**2 * 3
    if options.cache == "memory" or (options.cache == "auto" and len(paintings) * sample_bytes <= MEMORY_CACHE_BYTES):
        return "memory"
    # On disk, in the run folder: a resumed run reuses it, and it goes away with the run.
    cache_folder = os.path.join(run.folder, "cache")
    os.makedirs(cache_folder, exist_ok=True)
    for leftover in os.listdir(cache_folder):
        # A killed run leaves a partial cache behind, which tf.data refuses to reuse or overwrite.
        os.remove(os.path.join(cache_folder, leftover))
    return os.path.join(cache_folder, "train")


def _class_weights(options, paintings, labels):
    if options.class_weights == "none":
        return None
    counts = collections.Counter(p.movement for p in paintings)
    return {index: len(paintings) / (len(labels) * counts[label]) for index, label in enumerate(labels)}


class EpochCheckpoint(keras.callbacks.Callback):
    """After each epoch: the model with its optimizer state under the epoch's own name, then state.json,
    which names it as the last and maybe the best checkpoint. Each is written atomically and state.json
    last, so that a killed run resumes from its last finished epoch with that epoch's weights."""

    def __init__(self, run, state, failures):
        super().__init__()
        self.run, self.state, self.failures = run, state, failures

    def on_epoch_end(self, epoch, logs=None):
        logs = {name: float(value) for name, value in (logs or {}).items()}
        for name, value in logs.items():
            self.state["history"].setdefault(name, []).append(value)
        name = checkpoint_name(epoch + 1)
        with atomic_path(self.run.checkpoint_path(name), suffix=".keras") as temporary:
            self.model.save(temporary)
        self.state["checkpoint"] = name
        accuracy = logs.get("val_accuracy", 0.0)
        if self.state["best_val_accuracy"] is None or accuracy > self.state["best_val_accuracy"]:
            self.state.update(best_checkpoint=name, best_epoch=epoch + 1, best_val_accuracy=accuracy)
        self.state["epochs_done"] = epoch + 1
        self.state["decode_failures"] = dict(self.failures.paths)
        self.run.save(self.state)
