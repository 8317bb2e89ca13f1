"""The model folder written from a finished run: assembled in a hidden sibling and renamed into place, so
that a crash never leaves a half-written folder that looks complete, and an earlier folder is replaced whole."""

import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np

from artnet.data.images import ImageError, load_image
from artnet.explain import faithfulness_report
from artnet.hub.card import render_model_card
from artnet.model import folder as model_folder
from artnet.model.network import save_folder
from artnet.train import answer_evaluation, evaluation
from artnet.train.setup import OutputError, output_problem

EXAMPLES_PER_MOVEMENT = 2


@dataclass
class FolderContents:
    """What the model folder is written from."""

    model: object  # the whole trained network
    metrics: dict
    state: object  # the RunState
    test: object  # the test Split
    test_probabilities: np.ndarray  # calibrated, whole painting
    neighbours: tuple  # (embeddings, entries, thumbnails) of the training paintings
    faithfulness: tuple  # (Measurement, the model inputs it measured) of the maps on test paintings
    answer_config: dict  # config.json's "prediction_sets" and, with out-of-scope images, "scope"
    scope_scores: tuple | None  # the test split's (paintings' scores, images' scores, images, threshold)


def write_model_folder(output, contents):
    """Assemble the whole folder in a hidden sibling, then rename it into place. The model's temperature
    is the one that metrics' calibration found."""
    model, metrics, state, test = contents.model, contents.metrics, contents.state, contents.test
    output = os.path.abspath(os.fspath(output)).rstrip(os.sep)
    parent, name = os.path.split(output)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent)
    labels, options = state.labels, state.options
    try:
        temperature = metrics["calibration"]["temperature"]
        # The view the app opens on: the maps that did best in the faithfulness test.
        most_faithful = metrics["faithfulness"].get("most_faithful")
        save_folder(
            model,
            staging,
            labels,
            backbone=options.backbone,
            head=options.head,
            temperature=temperature,
            way_in=options.way_in.as_config(),
            **contents.answer_config,
            **({"most_faithful": most_faithful} if most_faithful else {}),
        )
        model_folder.write_metrics(staging, metrics)
        evaluation.plot_training_curves(state.history, model_folder.plot_path(staging, "training_curves.png"))
        evaluation.plot_confusion_matrix(
            metrics["test"], labels, model_folder.plot_path(staging, "confusion_matrix.png")
        )
        evaluation.plot_most_wrong(
            test.paintings,
            test.labels,
            contents.test_probabilities,
            labels,
            model_folder.plot_path(staging, "most_wrong.png"),
        )
        evaluation.plot_reliability(metrics["calibration"], model_folder.plot_path(staging, "reliability.png"))
        if contents.scope_scores:
            answer_evaluation.plot_scope_scores(*contents.scope_scores, model_folder.plot_path(staging, "scope.png"))
        if most_faithful:
            faithfulness_report.plot_curves(
                *contents.faithfulness, metrics["faithfulness"], model_folder.plot_path(staging, "deletion.png"), labels
            )
        model_folder.write_examples(staging, held_out_examples(test.paintings, labels))
        model_folder.write_neighbours(staging, *contents.neighbours)
        model_folder.write_card(staging, render_model_card(staging))
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


def held_out_examples(test_paintings, labels):
    """(image, true movement, file name) of the first EXAMPLES_PER_MOVEMENT test paintings of each movement."""
    examples = []
    for label in labels:
        chosen = 0
        for painting in (p for p in test_paintings if p.movement == label):
            if chosen == EXAMPLES_PER_MOVEMENT:
                break
            try:
                examples.append((load_image(painting.path), label, os.path.basename(painting.path)))
            except ImageError:
                continue
            chosen += 1
    return examples
