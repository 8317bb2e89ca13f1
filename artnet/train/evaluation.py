"""Evaluation on held-out paintings: the metrics (accuracy, macro-F1, per-class precision and recall,
confusion matrix), the same per movement and collection, how often the shape of the view changes the
answer, and the report plots: training curves, the confusion matrix, and a contact sheet of the test
paintings that the model gets most wrong."""

import collections
import logging
import math

import numpy as np

from artnet.data.images import load_image, square_image
from artnet.data.views import EVALUATION_VIEWS, SHAPE_VIEWS
from artnet.model.calibration import TEMPERATURE_RANGE

logger = logging.getLogger(__name__)

# The contact sheet of the most confidently wrong test paintings: this many, in rows of this many.
MOST_WRONG = 24
MOST_WRONG_COLUMNS = 6


def test_metrics(paintings, truth, probabilities, labels):
    """metrics.json's test results, from the probabilities of each test painting under each view
    ({view: (paintings, classes)}): the whole painting (the app's view), test-time augmentation (the
    mean over EVALUATION_VIEWS), the shape test and the results per collection."""
    mean = np.mean([probabilities[view] for view in EVALUATION_VIEWS], axis=0)
    return {
        "test": classification_metrics(truth, probabilities["whole"], labels),
        "test_tta": classification_metrics(truth, mean, labels),
        "shape": shape_changes(probabilities),
        "per_source": accuracy_per_source(paintings, truth, probabilities["whole"], labels),
    }


def shape_changes(probabilities):
    """How often the movement changes when the painting is shown centre-cropped or squashed to a square
    instead of padded: per view, and by either."""
    whole = np.argmax(probabilities["whole"], axis=1)
    changed = {view: np.argmax(probabilities[view], axis=1) != whole for view in SHAPE_VIEWS}
    either = np.logical_or.reduce(list(changed.values()))
    return {
        **{f"changed_{view}": float(np.mean(flags)) if len(whole) else 0.0 for view, flags in changed.items()},
        "changed_any": float(np.mean(either)) if len(whole) else 0.0,
        "paintings": int(len(whole)),
    }


def accuracy_per_source(paintings, truth, probabilities, labels):
    """{movement: {collection: {"paintings", "accuracy"}}} for the paintings whose collection is known."""
    predicted = np.argmax(probabilities, axis=1)
    right = collections.defaultdict(list)
    for painting, actual, guess in zip(paintings, truth, predicted):
        if painting.source is not None:
            right[actual, painting.source].append(bool(actual == guess))
    results = {}
    for (actual, source), flags in sorted(right.items()):
        results.setdefault(labels[actual], {})[source] = {"paintings": len(flags), "accuracy": float(np.mean(flags))}
    return results


def training_warnings(metrics):
    """One line for each sign that the run learned nothing usable, with what to check; none for a sound run.

    Chance is what answering the validation split's commonest movement for every painting scores; the best
    validation accuracy must beat it by more than two standard errors of that accuracy."""
    warnings = []
    counts = [int(count) for count in metrics["counts"]["validation"].values()]
    best = metrics["training"]["best_val_accuracy"]
    if sum(counts):
        chance = max(counts) / sum(counts)
        if best <= chance + 2 * math.sqrt(chance * (1 - chance) / sum(counts)):
            warnings.append(
                f"The validation accuracy never rose clearly above chance (best {best:.1%}, chance {chance:.1%}): this "
                "model learned nothing usable. Check that each movement's folder holds its paintings, the backbone "
                "weights (--backbone-weights) and the learning rate."
            )
    temperature = metrics["calibration"]["temperature"]
    if not TEMPERATURE_RANGE[0] * 1.01 < temperature < TEMPERATURE_RANGE[1] * 0.99:
        warnings.append(
            f"The calibration's temperature ran to its bound ({temperature:.2f}): the probabilities could not be "
            "calibrated on the validation split. Check that the validation accuracy rose above chance and that "
            "the validation split has paintings of every movement."
        )
    return warnings


def log_summary(metrics):
    test, tta, shape = metrics["test"], metrics["test_tta"], metrics["shape"]
    logger.info(
        f"Test accuracy {test['accuracy']:.2%} (macro-F1 {test['macro_f1']:.3f}); "
        f"with test-time augmentation {tta['accuracy']:.2%} (macro-F1 {tta['macro_f1']:.3f})."
    )
    for label, scores in test["per_class"].items():
        logger.info(
            f"  {label:<15} precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  ({scores['support']} paintings)"
        )
    logger.info(
        f"Shape test: the movement changes for {shape['changed_any']:.1%} of the test paintings when they are "
        "centre-cropped or squashed to a square instead of padded."
    )
    sets = metrics.get("prediction_sets")
    if sets:
        found = sets["test"]
        logger.info(
            f"Prediction sets for {sets['coverage']:.0%} coverage: they hold the true movement of "
            f"{found['coverage']:.1%} of the test paintings, with {found['mean_size']:.2f} movements on average "
            f"({found['single']:.0%} of them name one)."
        )
    scope = metrics.get("out_of_scope")
    if scope:
        test = scope["test"]
        by_kind = ", ".join(f"{kind} {test[kind]['auroc']:.3f}" for kind in ("near", "far") if kind in test)
        logger.info(
            f"Scope: AUROC {test['auroc']:.3f} against {test['images']} out-of-scope test images ({by_kind}); at the "
            f"threshold {test['kept']:.1%} of the test paintings are kept in scope and {test['flagged']:.1%} of the "
            f"images flagged. Test accuracy {scope['test_accuracy_without_out_of_scope_images']:.2%} when trained "
            "without them."
        )
    cross = metrics.get("cross_collection")
    if cross:
        kept = f", {cross['mean_in_scope']:.1%} kept in scope" if "mean_in_scope" in cross else ""
        logger.info(
            f"Cross-collection test: {cross['mean_accuracy']:.1%} of the paintings of a left-out collection are "
            f"recognised (mean over {len(cross['collections'])} collections){kept}; their prediction sets hold "
            f"the movement {cross['mean_coverage']:.1%} of the time."
        )
    visitors = metrics.get("visitors")
    if visitors:
        elsewhere = visitors.get("elsewhere")
        if elsewhere:
            logger.info(
                f"Paintings from elsewhere: {elsewhere['top1']:.1%} right, {elsewhere['kept']:.1%} kept in scope "
                f"({elsewhere['paintings']} paintings; per movement kept: "
                + ", ".join(f"{name} {found['kept']:.0%}" for name, found in elsewhere["per_movement"].items())
                + ")."
            )
        photos = visitors["photos"]
        logger.info(
            f"Photos of paintings on a wall: {photos['top1']:.1%} right and {photos['kept']:.1%} kept in scope "
            f"(the same {photos['paintings']} paintings as files: {photos['as_files']['top1']:.1%} and "
            f"{photos['as_files']['kept']:.1%}); a painting was found in {photos['cropped']:.1%} of the photos, "
            f"and {visitors['test_left_whole']:.1%} of the test paintings were left whole."
        )
        others = visitors.get("photos_out_of_scope")
        if others:
            logger.info(
                f'Photos of out-of-scope images: {others["flagged"]:.1%} flagged "none of these" ({others["images"]} photos).'
            )
    calibration = metrics.get("calibration")
    if calibration:
        logger.info(
            f"Calibration: temperature {calibration['temperature']:.2f}; expected calibration error on the test split "
            f"{calibration['ece_before']:.3f} as trained, {calibration['ece_after']:.3f} calibrated."
        )
    probe = metrics.get("collection_predictability")
    if probe:
        logger.info(
            f"Collection probe: the model's features tell a painting's collection {probe['mean_accuracy']:.1%} of "
            f"the time within a movement (chance {probe['mean_chance']:.1%})."
        )


def classification_metrics(truth, probabilities, labels):
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix (rows: true)."""
    predicted = np.argmax(probabilities, axis=1)
    size = len(labels)
    confusion = np.zeros((size, size), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    per_class = {}
    for index, label in enumerate(labels):
        true_positives = confusion[index, index]
        predicted_count, actual_count = confusion[:, index].sum(), confusion[index, :].sum()
        precision = true_positives / predicted_count if predicted_count else 0.0
        recall = true_positives / actual_count if actual_count else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(actual_count),
        }
    return {
        "accuracy": float(np.mean(predicted == truth)) if len(truth) else 0.0,
        "macro_f1": float(np.mean([scores["f1"] for scores in per_class.values()])),
        "per_class": per_class,
        "confusion_matrix": confusion.tolist(),
        "paintings": int(len(truth)),
    }


def plot_training_curves(history, path):
    """Loss and accuracy per epoch, training against validation."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    figure, (loss_axes, accuracy_axes) = pyplot.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for axes, metric, title in ((loss_axes, "loss", "Loss"), (accuracy_axes, "accuracy", "Accuracy")):
        axes.plot(epochs, history.get(metric, []), marker="o", label="training")
        axes.plot(epochs, history.get(f"val_{metric}", []), marker="o", label="validation")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.legend()
    accuracy_axes.set_ylim(0, 1)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def plot_confusion_matrix(metrics, labels, path, title="Test set (whole painting)"):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    confusion = np.array(metrics["confusion_matrix"])
    figure, axes = pyplot.subplots(figsize=(6.5, 5.5), constrained_layout=True)
    image = axes.imshow(confusion, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"{title}: accuracy {metrics['accuracy']:.1%}")
    threshold = confusion.max() / 2 if confusion.size else 0
    for row in range(len(labels)):
        for column in range(len(labels)):
            axes.text(
                column,
                row,
                str(confusion[row, column]),
                ha="center",
                va="center",
                color="white" if confusion[row, column] > threshold else "black",
            )
    figure.colorbar(image, ax=axes, shrink=0.8)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def plot_most_wrong(paintings, truth, probabilities, labels, path, count=MOST_WRONG):
    """A contact sheet of the test paintings the model gets wrong with the most confidence, each captioned
    with its true and predicted movement and the confidence."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    predicted = np.argmax(probabilities, axis=1)
    confidence = probabilities[np.arange(len(predicted)), predicted] if len(predicted) else np.zeros(0)
    wrong = [index for index in np.argsort(-confidence) if predicted[index] != truth[index]][:count]
    rows = max(1, -(-len(wrong) // MOST_WRONG_COLUMNS))
    figure, axes = pyplot.subplots(
        rows, MOST_WRONG_COLUMNS, figsize=(2.3 * MOST_WRONG_COLUMNS, 2.7 * rows), constrained_layout=True, squeeze=False
    )
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, wrong):
        axis.imshow(square_image(load_image(paintings[index].path), 200))
        axis.set_title(f"true {labels[truth[index]]}\n→ {labels[predicted[index]]} {confidence[index]:.0%}", fontsize=8)
    if not wrong:
        axes.flat[0].text(0.5, 0.5, "No test painting is wrong.", ha="center", va="center")
    figure.suptitle(f"The {len(wrong)} test paintings the model gets most confidently wrong (whole painting)")
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def plot_reliability(calibration, path):
    """The reliability diagram of the test split: accuracy against confidence per bin, without and with the
    temperature, beside the diagonal that a calibrated model follows."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    bins = calibration["bins"]
    centres = (np.arange(bins) + 0.5) / bins
    figure, axes = pyplot.subplots(1, 2, figsize=(10, 4.5), constrained_layout=True, sharey=True)
    for axis, key, title in (
        (axes[0], "before", "Softmax as trained"),
        (axes[1], "after", f"Temperature {calibration['temperature']:.2f}"),
    ):
        counts, confidences, accuracies = (np.array(values) for values in zip(*calibration[f"reliability_{key}"]))
        shown = counts > 0
        axis.bar(centres[shown], accuracies[shown], width=1 / bins, edgecolor="black", alpha=0.7, label="accuracy")
        axis.plot(confidences[shown], accuracies[shown], "o", color="black", markersize=3, label="mean confidence")
        axis.plot([0, 1], [0, 1], "--", color="gray", label="calibrated")
        axis.set_title(f"{title}: ECE {calibration[f'ece_{key}']:.3f}")
        axis.set_xlabel("confidence of the top movement")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="upper left")
    figure.suptitle(f"Reliability on the {calibration['paintings']} test paintings ({bins} bins)")
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
