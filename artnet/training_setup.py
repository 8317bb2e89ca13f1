"""Everything about a training run that is settled before TensorFlow starts: the options, the data, the
split and the state of an interrupted run. train.py checks all of it first, so that a bad option or data
folder ends at once, in one line, without TensorFlow's slow import and its log output.

A run keeps its working state beside the output folder, in `<output>.run/`: state.json (the options,
the split, the history) and the checkpoints that artnet.training writes after every epoch.
"""

import collections
import json
import os
import shutil
from dataclasses import dataclass

from artnet.data import DataError, Painting, find_paintings, split_paintings
from artnet.errors import UserError
from artnet.files import write_json_atomically

RUN_STATE_FILE = "state.json"
CHECKPOINT_FILE = "last_epoch.keras"
BEST_CHECKPOINT_FILE = "best_epoch.keras"
# seed: the reference ArtNet's policy (its last three convolutions, every BatchNormalization layer and
# the head); conv5: dense block 5 and the head; all: the whole network.
FREEZE_POLICIES = ("seed", "conv5", "all")


class OptionError(UserError):
    """A training option that cannot work."""


@dataclass(frozen=True)
class TrainingOptions:
    image_size: int = 224
    epochs: int = 15
    batch_size: int = 32
    learning_rate: float = 1e-4
    halve_learning_rate_every: int = 2
    freeze: str = "seed"
    backbone_weights: str | None = "imagenet"
    label_smoothing: float = 0.0
    class_weights: str = "none"
    seed: int = 42
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    mixed_precision: bool = False
    cache: str = "auto"
    run_eagerly: bool = False

    def check(self):
        """Raise OptionError for the first option that cannot work."""
        if self.image_size < 32:
            raise OptionError(f"--image-size must be at least 32 (DenseNet-121's smallest input), not {self.image_size}.")
        if self.epochs < 1 or self.batch_size < 1 or self.halve_learning_rate_every < 1:
            raise OptionError("--epochs, --batch-size and --halve-learning-rate-every must be at least 1.")
        if not self.learning_rate > 0:
            raise OptionError(f"--learning-rate must be positive, not {self.learning_rate}.")
        if self.freeze not in FREEZE_POLICIES:
            raise OptionError(f"--freeze must be one of {', '.join(FREEZE_POLICIES)}, not {self.freeze!r}.")
        if not 0 <= self.label_smoothing < 1:
            raise OptionError(f"--label-smoothing must be in [0, 1), not {self.label_smoothing}.")
        if self.class_weights not in ("none", "balanced"):
            raise OptionError(f"--class-weights must be none or balanced, not {self.class_weights!r}.")
        if self.cache not in ("auto", "memory", "disk", "none"):
            raise OptionError(f"--cache must be auto, memory, disk or none, not {self.cache!r}.")
        if self.backbone_weights not in ("imagenet", None) and not os.path.isfile(self.backbone_weights):
            raise OptionError(
                f"--backbone-weights {self.backbone_weights!r} is not a file; use imagenet, none or the path of a "
                "DenseNet-121 notop weights file."
            )


class RunState:
    """The run folder `<output>.run/`: state.json and the checkpoints."""

    def __init__(self, output):
        self.folder = os.path.abspath(os.fspath(output)).rstrip(os.sep) + ".run"
        self.state_path = os.path.join(self.folder, RUN_STATE_FILE)
        self.checkpoint = os.path.join(self.folder, CHECKPOINT_FILE)
        self.best_checkpoint = os.path.join(self.folder, BEST_CHECKPOINT_FILE)

    def exists(self):
        return os.path.isfile(self.state_path) and os.path.isfile(self.checkpoint)

    def load(self):
        with open(self.state_path, encoding="utf-8") as file:
            return json.load(file)

    def save(self, state):
        os.makedirs(self.folder, exist_ok=True)
        write_json_atomically(self.state_path, state)

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def prepare_run(data_dir, output, options, resume=False, log=print):
    """Everything that can fail quickly, before any training work: options, data, split, resume state.
    Returns (source, splits, state or None). Raises UserError."""
    options.check()
    run = RunState(output)
    state = None
    if resume:
        if not run.exists():
            raise DataError(f"There is no interrupted run to resume for {output} (no {run.state_path}). Start without --resume.")
        state = run.load()
        splits = {name: [Painting(**painting) for painting in paintings] for name, paintings in state["split"].items()}
        missing = [p.path for paintings in splits.values() for p in paintings if not os.path.isfile(p.path)]
        if missing:
            raise DataError(f"{len(missing)} paintings of the interrupted run are gone (e.g. {missing[0]}); start a new run.")
        source = find_paintings(data_dir)
        log(f"Resuming the run in {run.folder} after epoch {state['epochs_done']} of {state['options']['epochs']}.")
    else:
        source = find_paintings(data_dir)
        train, validation, test = split_paintings(
            source.paintings, options.validation_fraction, options.test_fraction, options.seed
        )
        splits = {"train": train, "validation": validation, "test": test}
    log(describe_data(source, splits))
    return source, splits, state


def split_counts(splits, labels):
    """{split name: {movement: paintings}}."""
    counters = {name: collections.Counter(p.movement for p in paintings) for name, paintings in splits.items()}
    return {name: {label: counter[label] for label in labels} for name, counter in counters.items()}


def describe_data(source, splits):
    labels = source.labels
    counts = split_counts(splits, labels)
    lines = [f"Data: {source.layout}, {len(source.paintings)} paintings in {len(labels)} movements.",
             f"  {'movement':<15}{'train':>8}{'validation':>12}{'test':>8}"]
    for label in labels:
        lines.append(f"  {label:<15}{counts['train'][label]:>8}{counts['validation'][label]:>12}{counts['test'][label]:>8}")
    if source.skipped:
        reasons = ", ".join(f"{count} with {reason}" for reason, count in sorted(source.skipped.items()))
        top = ", ".join(f"{style} ({count})" for style, count in source.unmapped_styles.most_common(5))
        lines.append(f"  Left out: {reasons}" + (f"; most common unmapped styles: {top}" if top else "") + ".")
    return "\n".join(lines)
