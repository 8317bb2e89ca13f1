"""Evaluation on held-out paintings: predictions with or without test-time augmentation, the metrics
(accuracy, macro-F1, per-class precision and recall, confusion matrix) and the report plots."""

import numpy as np

from artnet.data import DecodeFailures, make_dataset

# Predictions of one painting's views are averaged; a batch of 64 views keeps memory flat.
EVALUATION_BATCH = 64


def predict_paintings(model, paintings, labels, image_size, views, batch_size=EVALUATION_BATCH):
    """(true label indices, mean probabilities over each painting's views) for the paintings that
    decode, in order, and the DecodeFailures of those that do not."""
    failures = DecodeFailures()
    dataset = make_dataset(paintings, labels, image_size, views, batch_size, failures)
    probabilities = model.predict(dataset.map(lambda pixels, label: pixels), verbose=0)
    decoded = [painting for painting in paintings if painting.path not in failures.paths]
    views_per_painting = len(probabilities) // max(1, len(decoded))
    if views_per_painting * len(decoded) != len(probabilities):
        raise RuntimeError("The evaluation pipeline lost track of which views belong to which painting.")
    label_index = {label: index for index, label in enumerate(labels)}
    truth = np.array([label_index[painting.movement] for painting in decoded], dtype=np.int64)
    mean_probabilities = probabilities.reshape(len(decoded), views_per_painting, len(labels)).mean(axis=1)
    return truth, mean_probabilities, failures


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
            "precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(actual_count)
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
            axes.text(column, row, str(confusion[row, column]), ha="center", va="center",
                      color="white" if confusion[row, column] > threshold else "black")
    figure.colorbar(image, ax=axes, shrink=0.8)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
