"""Everything about a training run that is settled before TensorFlow starts: the options, the data, the
split and the state of an interrupted run. train.py checks all of it first, so that a bad option or data
folder ends at once, in one line, without TensorFlow's slow import and its log output.

A run keeps its working state beside the output folder, in `<output>.run/`: state.json (the options,
the split, the history and the names of the checkpoints) and the checkpoints that artnet.train.run writes
after every epoch, each named by its epoch.
"""

import collections
import dataclasses
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field

from artnet.data.out_of_scope import OutOfScopeImage, find_out_of_scope, split_out_of_scope
from artnet.data.paintings import DataError, Painting, find_paintings, split_paintings
from artnet.errors import UserError
from artnet.files import write_json_atomically
from artnet.model.folder import CONFIG_FILE, MODEL_FILE, looks_complete
from artnet.train.options import TrainingOptions, option_differences, options_from_saved

logger = logging.getLogger(__name__)

RUN_STATE_FILE = "state.json"
CHECKPOINT_NAME = re.compile(r"epoch_\d+\.keras")
SPLITS = ("train", "validation", "test")


class OutputError(UserError):
    """An --output where writing the model folder would destroy something else."""


def checkpoint_name(epoch):
    return f"epoch_{epoch}.keras"


@dataclass
class RunState:
    """What state.json holds: the run's options, labels and split, and how far it got. A checkpoint is
    written under a new name before state.json names it, so a run killed at any moment leaves a state and
    a checkpoint of the same epoch."""

    options: TrainingOptions
    labels: list
    split: dict  # split name -> [Painting]
    # split name -> [OutOfScopeImage]: the images that train and test "none of these"; None without them.
    out_of_scope: dict | None = None
    epochs_done: int = 0
    history: dict = field(default_factory=dict)
    checkpoint: str | None = None  # the last finished epoch's
    best_checkpoint: str | None = None
    best_epoch: int | None = None
    best_val_accuracy: float | None = None

    def to_json(self):
        return {
            **dataclasses.asdict(self),
            "options": dataclasses.asdict(self.options),
            "split": {name: [dataclasses.asdict(p) for p in paintings] for name, paintings in self.split.items()},
            "out_of_scope": None
            if self.out_of_scope is None
            else {name: [dataclasses.asdict(image) for image in images] for name, images in self.out_of_scope.items()},
        }

    @classmethod
    def from_json(cls, saved):
        return cls(
            **{
                **saved,
                "options": options_from_saved(saved["options"]),
                "split": {name: [Painting(**p) for p in paintings] for name, paintings in saved["split"].items()},
                "out_of_scope": None
                if saved.get("out_of_scope") is None
                else {
                    name: [OutOfScopeImage(**image) for image in images]
                    for name, images in saved["out_of_scope"].items()
                },
            }
        )


class RunFolder:
    """The run folder `<output>.run/`: state.json and the checkpoints it names."""

    def __init__(self, output):
        self.folder = os.path.abspath(os.fspath(output)).rstrip(os.sep) + ".run"
        self.state_path = os.path.join(self.folder, RUN_STATE_FILE)

    def checkpoint_path(self, name):
        return os.path.join(self.folder, name)

    def exists(self):
        """Whether an interrupted run is here: a state and the checkpoint it names."""
        if not os.path.isfile(self.state_path):
            return False
        name = self.load().checkpoint
        return name is not None and os.path.isfile(self.checkpoint_path(name))

    def load(self):
        with open(self.state_path, encoding="utf-8") as file:
            return RunState.from_json(json.load(file))

    def save(self, state):
        """Write state.json, then delete the checkpoints it no longer names."""
        os.makedirs(self.folder, exist_ok=True)
        write_json_atomically(self.state_path, state.to_json())
        named = {state.checkpoint, state.best_checkpoint}
        for name in os.listdir(self.folder):
            if CHECKPOINT_NAME.fullmatch(name) and name not in named:
                os.remove(self.checkpoint_path(name))

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class PreparedRun:
    """A run ready to train: its data, and its state (a new one, or an interrupted run's)."""

    source: object  # artnet.data.paintings.DataSource
    state: RunState
    resumed: bool
    # Paintings of the movements from other sources, kept as their sources had them: measured, never trained on.
    elsewhere: list | None = None

    @property
    def options(self):
        return self.state.options


def prepare_run(data_dir, output, options, resume=False, dataset=None, out_of_scope=None, elsewhere=None):
    """Everything that can fail quickly, before any training work: options, data, split, resume state.
    `out_of_scope` is the folder of images that are none of the movements, or None; `elsewhere` the folder of
    paintings from other sources that the model is measured on, or None. Raises UserError."""
    options.check()
    check_output(output, data_dir)
    elsewhere_paintings = None if elsewhere is None else _elsewhere(elsewhere, data_dir)
    run = RunFolder(output)
    if resume:
        if not run.exists():
            raise DataError(
                f"There is no interrupted run to resume for {output} (no {run.state_path}). Start without --resume."
            )
        state = run.load()
        missing = [p.path for paintings in state.split.values() for p in paintings if not os.path.isfile(p.path)]
        if missing:
            raise DataError(
                f"{len(missing)} paintings of the interrupted run are gone (e.g. {missing[0]}); start a new run."
            )
        source = find_paintings(data_dir, dataset)
        logger.info(f"Resuming the run in {run.folder} after epoch {state.epochs_done} of {state.options.epochs}.")
        differences = option_differences(state.options, options)
        if differences:
            logger.info(f"Resuming with the interrupted run's options, not the command line's: {differences}.")
    else:
        if run.exists():
            raise OutputError(
                f"An interrupted run of {output} is in {run.folder}: continue it with --resume, or delete that "
                "folder to start afresh."
            )
        others = None if out_of_scope is None else find_out_of_scope(out_of_scope)
        source = find_paintings(data_dir, dataset)
        splits = split_paintings(source.paintings, options.validation_fraction, options.test_fraction, options.seed)
        state = RunState(
            options=options,
            labels=source.labels,
            split=dict(zip(SPLITS, splits)),
            out_of_scope=None if others is None else split_out_of_scope(others, options.seed),
        )
    logger.info(describe_data(source, state.split))
    if state.out_of_scope:
        logger.info(describe_out_of_scope(state.out_of_scope))
    if elsewhere_paintings:
        logger.info(f"Measured on {len(elsewhere_paintings)} paintings from elsewhere ({elsewhere}), never trained on.")
    return PreparedRun(source, state, resumed=resume, elsewhere=elsewhere_paintings)


def _elsewhere(folder, data_dir):
    """The paintings of the folder of paintings from elsewhere; DataError when it is the training data."""
    if os.path.isdir(folder) and os.path.samefile(folder, data_dir):
        raise DataError(f"--elsewhere {folder} is the training data; paintings from elsewhere are never trained on.")
    if not os.path.isdir(folder):
        raise DataError(
            f"There is no folder of paintings from elsewhere at {folder!r}; give another --elsewhere, or none."
        )
    return find_paintings(folder).paintings


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
    if os.listdir(output) and not looks_complete(output):
        return (
            f"--output {output} holds files but is no ArtNet model folder (it lacks {CONFIG_FILE} or {MODEL_FILE}), "
            "and writing the model folder would delete them."
        )
    return None


def split_counts(splits, labels):
    """{split name: {movement: paintings}}."""
    counters = {name: collections.Counter(p.movement for p in paintings) for name, paintings in splits.items()}
    return {name: {label: counter[label] for label in labels} for name, counter in counters.items()}


def describe_data(source, splits):
    labels = source.labels
    counts = split_counts(splits, labels)
    lines = [
        f"Data: {source.layout}, {len(source.paintings)} paintings in {len(labels)} movements.",
        f"  {'movement':<15}{'train':>8}{'validation':>12}{'test':>8}",
    ]
    for label in labels:
        lines.append(
            f"  {label:<15}{counts['train'][label]:>8}{counts['validation'][label]:>12}{counts['test'][label]:>8}"
        )
    if source.sources:
        lines.append(f"  Collections: {', '.join(source.sources)}.")
    if source.skipped:
        reasons = ", ".join(f"{count} with {reason}" for reason, count in sorted(source.skipped.items()))
        top = ", ".join(f"{style} ({count})" for style, count in source.unmapped_styles.most_common(5))
        lines.append(f"  Left out: {reasons}" + (f"; most common unmapped styles: {top}" if top else "") + ".")
    return "\n".join(lines)


def describe_out_of_scope(split):
    """A line per category of the out-of-scope images, with its split."""
    categories = sorted({image.category for images in split.values() for image in images})
    lines = [f"Out of scope: {sum(len(images) for images in split.values())} images in {len(categories)} categories."]
    for category in categories:
        counts = [sum(image.category == category for image in split[name]) for name in SPLITS]
        lines.append(f"  {category:<26}{counts[0]:>6}{counts[1]:>12}{counts[2]:>8}")
    return "\n".join(lines)
