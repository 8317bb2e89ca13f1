"""Everything about a training run that is settled before TensorFlow starts: the options, the data, the
split and the state of an interrupted run. train.py checks all of it first, so that a bad option or data
folder ends at once, in one line, without TensorFlow's slow import and its log output.

A run keeps its working state beside the output folder, in `<output>.run/`: state.json (the options,
the split, the history and the names of the checkpoints) and the checkpoints that artnet.training writes
after every epoch, each named by its epoch.
"""

import collections
import dataclasses
import json
import os
import re
import shutil
from dataclasses import dataclass

from artnet.data import DataError, Painting, find_paintings, split_paintings
from artnet.errors import UserError
from artnet.files import write_json_atomically
from artnet.model_folder import CONFIG_FILE, MODEL_FILE

RUN_STATE_FILE = "state.json"
CHECKPOINT_NAME = re.compile(r"epoch_\d+\.keras")
# seed: the reference ArtNet's policy (its last three convolutions, every BatchNormalization layer and
# the head); conv5: dense block 5 and the head; all: the whole network.
FREEZE_POLICIES = ("seed", "conv5", "all")


class OptionError(UserError):
    """A training option that cannot work."""


class OutputError(UserError):
    """An --output where writing the model folder would destroy something else."""


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


def checkpoint_name(epoch):
    return f"epoch_{epoch}.keras"


class RunState:
    """The run folder `<output>.run/`: state.json and the checkpoints it names ("checkpoint": the last
    finished epoch, "best_checkpoint": the best one so far). A checkpoint is written under a new name
    before state.json names it, so a run killed at any moment leaves a state and a checkpoint of the same
    epoch."""

    def __init__(self, output):
        self.folder = os.path.abspath(os.fspath(output)).rstrip(os.sep) + ".run"
        self.state_path = os.path.join(self.folder, RUN_STATE_FILE)

    def checkpoint_path(self, name):
        return os.path.join(self.folder, name)

    def exists(self):
        """Whether an interrupted run is here: a state and the checkpoint it names."""
        if not os.path.isfile(self.state_path):
            return False
        name = self.load().get("checkpoint")
        return name is not None and os.path.isfile(self.checkpoint_path(name))

    def load(self):
        with open(self.state_path, encoding="utf-8") as file:
            return json.load(file)

    def save(self, state):
        """Write state.json, then delete the checkpoints it no longer names."""
        os.makedirs(self.folder, exist_ok=True)
        write_json_atomically(self.state_path, state)
        named = {state["checkpoint"], state["best_checkpoint"]}
        for name in os.listdir(self.folder):
            if CHECKPOINT_NAME.fullmatch(name) and name not in named:
                os.remove(self.checkpoint_path(name))

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def prepare_run(data_dir, output, options, resume=False, log=print):
    """Everything that can fail quickly, before any training work: options, data, split, resume state.
    Returns (source, splits, state or None). Raises UserError."""
    options.check()
    check_output(output, data_dir)
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
        differences = option_differences(TrainingOptions(**state["options"]), options)
        if differences:
            log(f"Resuming with the interrupted run's options, not the command line's: {differences}.")
    else:
        if run.exists():
            raise OutputError(
                f"An interrupted run of {output} is in {run.folder}: continue it with --resume, or delete that "
                "folder to start afresh."
            )
        source = find_paintings(data_dir)
        train, validation, test = split_paintings(
            source.paintings, options.validation_fraction, options.test_fraction, options.seed
        )
        splits = {"train": train, "validation": validation, "test": test}
    log(describe_data(source, splits))
    return source, splits, state


def check_output(output, data_dir):
    """Raise OutputError unless the model folder can be written to `output` without destroying anything:
    outside the data folder and around no data, where there is nothing, an empty folder or a model folder."""
    output_path, data_path = os.path.realpath(output), os.path.realpath(data_dir)
    if os.path.commonpath([output_path, data_path]) == data_path:
        raise OutputError(f"--output {output} is the data folder or inside it; give a folder outside the data.")
    if os.path.commonpath([output_path, data_path]) == output_path:
        raise OutputError(f"--output {output} contains the data folder {data_dir}; give a folder outside the data.")
    problem = output_problem(output)
    if problem:
        raise OutputError(f"{problem} Give --output a new folder, or an earlier model folder to replace.")


def output_problem(output):
    """Why writing the model folder to `output` would destroy something, or None. Writing replaces
    `output` whole: safe for nothing, an empty folder or an earlier model folder, and nothing else."""
    if not os.path.lexists(output):
        return None
    if not os.path.isdir(output):
        return f"--output {output} is a file, and writing the model folder would replace it."
    if os.listdir(output) and not all(os.path.isfile(os.path.join(output, name)) for name in (CONFIG_FILE, MODEL_FILE)):
        return (f"--output {output} holds files but is no ArtNet model folder (it lacks {CONFIG_FILE} or {MODEL_FILE}), "
                "and writing the model folder would delete them.")
    return None


def option_differences(saved, given):
    """'--epochs 3 (not 5), ...' for each option whose saved value differs from the given one."""
    given_values = dataclasses.asdict(given)
    return ", ".join(
        f"--{name.replace('_', '-')} {_option_text(value)} (not {_option_text(given_values[name])})"
        for name, value in dataclasses.asdict(saved).items()
        if value != given_values[name]
    )


def _option_text(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else str(value)


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
