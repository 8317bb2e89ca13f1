"""Evaluation of the answer beyond one movement: how well the scope score tells the paintings of the
movements from out-of-scope images (the area under the ROC curve, and at the stored threshold the share
of paintings kept and of images flagged), and how often the prediction sets hold the true movement
(coverage) with how many movements (size); with the figure of the scope score's distributions.

numpy (and matplotlib for the figure); the scores and sets come from artnet.model.scope and
artnet.model.conformal.
"""

import numpy as np

from artnet.model import conformal

NEAR, FAR = "near", "far"


def auroc(in_scope_scores, out_of_scope_scores):
    """The probability that a painting of the movements scores above an out-of-scope image (ties count
    half): the area under the ROC curve of the score. None when either side is empty."""
    positive = np.asarray(in_scope_scores, dtype=np.float64)
    negative = np.asarray(out_of_scope_scores, dtype=np.float64)
    if not len(positive) or not len(negative):
        return None
    values = np.concatenate([positive, negative])
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    # Tied values share the mean of their ranks.
    unique, inverse = np.unique(values, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    counts = np.bincount(inverse)
    ranks = (sums / counts)[inverse]
    greater = ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2
    return float(greater / (len(positive) * len(negative)))


def scope_metrics(in_scope_scores, out_of_scope_scores, images, threshold):
    """metrics.json's scope results on one split: the AUROC against every out-of-scope image, the near
    and far ones, and each category; the share of paintings kept in scope and of images flagged."""
    in_scope_scores = np.asarray(in_scope_scores, dtype=np.float64)
    out_of_scope_scores = np.asarray(out_of_scope_scores, dtype=np.float64)
    flagged = out_of_scope_scores < threshold
    kinds = np.array([image.kind for image in images], dtype=object)
    categories = np.array([image.category for image in images], dtype=object)

    def group(mask):
        return {
            "images": int(mask.sum()),
            "auroc": auroc(in_scope_scores, out_of_scope_scores[mask]),
            "flagged": float(flagged[mask].mean()) if mask.any() else None,
        }

    return {
        "paintings": int(len(in_scope_scores)),
        "images": int(len(out_of_scope_scores)),
        "auroc": auroc(in_scope_scores, out_of_scope_scores),
        "kept": float(np.mean(in_scope_scores >= threshold)) if len(in_scope_scores) else None,
        "flagged": float(flagged.mean()) if len(flagged) else None,
        **{
            kind: group(kinds == kind) | {"categories": sorted(set(categories[kinds == kind]))}
            for kind in (NEAR, FAR)
            if (kinds == kind).any()
        },
        "per_category": {category: group(categories == category) for category in sorted(set(categories))},
    }


def prediction_set_metrics(probabilities, truth, floor, labels):
    """Coverage and mean size of the prediction sets, overall and per true movement."""
    truth = np.asarray(truth)
    per_movement = {}
    for index, label in enumerate(labels):
        mine = truth == index
        if mine.any():
            per_movement[label] = conformal.set_metrics(np.asarray(probabilities)[mine], truth[mine], floor)
    return {**conformal.set_metrics(probabilities, truth, floor), "per_movement": per_movement}


def plot_scope_scores(in_scope_scores, out_of_scope_scores, images, threshold, path):
    """Histograms of the scope score of the test paintings of the movements and of the near and far
    out-of-scope test images, with the threshold under which the answer is "none of these"."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    out_of_scope_scores = np.asarray(out_of_scope_scores, dtype=np.float64)
    kinds = np.array([image.kind for image in images], dtype=object)
    groups = [("paintings of the movements", np.asarray(in_scope_scores, dtype=np.float64), "tab:blue")]
    groups += [
        (f"out of scope, {kind}", out_of_scope_scores[kinds == kind], colour)
        for kind, colour in ((NEAR, "tab:orange"), (FAR, "tab:red"))
        if (kinds == kind).any()
    ]
    every = np.concatenate([scores for _, scores, _ in groups])
    bins = np.linspace(every.min(), every.max(), 40) if len(every) else 10
    figure, axes = pyplot.subplots(figsize=(8, 4.5), constrained_layout=True)
    for name, scores, colour in groups:
        axes.hist(scores, bins=bins, density=True, alpha=0.45, color=colour, label=f"{name} ({len(scores)})")
    axes.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    axes.set_xlabel("scope score: log(p(any movement) / p(none of these))")
    axes.set_ylabel("density")
    axes.set_title('Test split: below the threshold, the answer is "none of the movements"')
    axes.legend()
    axes.grid(alpha=0.3)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
