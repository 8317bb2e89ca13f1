"""Prediction sets by split conformal prediction: the movements that, together, hold a painting's true
movement with a chosen probability (the coverage), instead of one forced label.

The score of a validation painting is one minus the calibrated probability of its true movement
(the "least ambiguous set" score of Sadinle, Lei and Wasserman, 2019, which gives the smallest sets on
average). Its quantile at the coverage, corrected for the size of the validation split, becomes a
probability floor: a painting's set holds every movement at or above the floor, most likely first, and
at least the most likely one. The guarantee holds on average over paintings exchangeable with the
validation split; a painting from a collection the model never saw is not, and the measured coverage
there says how far it holds. numpy alone.
"""

import math

import numpy as np

DEFAULT_COVERAGE = 0.9
METHOD = "split conformal prediction, least ambiguous sets"


def probability_floor(probabilities, labels, coverage=DEFAULT_COVERAGE):
    """The probability at or above which a movement joins a set, from validation paintings'
    calibrated probabilities (rows) and their true movements' indices."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    count = len(labels)
    if count == 0:
        return 0.0
    scores = np.sort(1.0 - probabilities[np.arange(count), np.asarray(labels)])
    # The ceil((n + 1) * coverage)-th smallest score; with too few paintings for that, every movement.
    rank = math.ceil((count + 1) * coverage)
    if rank > count:
        return 0.0
    return float(1.0 - scores[rank - 1])


def prediction_sets(probabilities, floor):
    """Each row's set: the indices of the movements at or above `floor`, most likely first, never empty."""
    sets = []
    for row in np.asarray(probabilities, dtype=np.float64):
        order = np.argsort(-row, kind="stable")
        sets.append([int(index) for number, index in enumerate(order) if number == 0 or row[index] >= floor])
    return sets


def set_metrics(probabilities, labels, floor):
    """How often the sets hold the true movement (coverage) and how many movements they name (mean size)."""
    sets = prediction_sets(probabilities, floor)
    if not sets:
        return {"paintings": 0}
    return {
        "paintings": len(sets),
        "coverage": float(np.mean([int(label) in chosen for chosen, label in zip(sets, labels)])),
        "mean_size": float(np.mean([len(chosen) for chosen in sets])),
        "single": float(np.mean([len(chosen) == 1 for chosen in sets])),
    }


def config_entry(coverage, floor):
    """What config.json's "prediction_sets" holds."""
    return {"method": METHOD, "coverage": float(coverage), "probability_floor": float(floor)}
