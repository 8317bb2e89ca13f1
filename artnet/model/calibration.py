"""Calibrated probabilities: temperature scaling (Guo et al., 2017) and the expected calibration error.

A softmax that says 95 % should be right about 95 % of the time. One temperature T, fitted on the
validation split by minimising the negative log-likelihood of softmax(logits / T), divides every logit
the model gives; it never changes which movement comes first. numpy alone.
"""

import numpy as np

ECE_BINS = 15
# The temperatures searched, on a log scale: far beyond any that a trained network needs.
TEMPERATURE_RANGE = (0.05, 20.0)
SEARCH_STEPS = 60


def softmax(logits, temperature=1.0):
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exponentials = np.exp(scaled)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def negative_log_likelihood(logits, labels, temperature):
    probabilities = softmax(logits, temperature)
    return float(-np.mean(np.log(probabilities[np.arange(len(labels)), labels] + 1e-12)))


def fit_temperature(logits, labels):
    """The temperature that minimises the validation negative log-likelihood: a coarse search over
    TEMPERATURE_RANGE on a log scale, then golden-section search around the best point."""
    if len(labels) == 0:
        return 1.0
    grid = np.geomspace(*TEMPERATURE_RANGE, SEARCH_STEPS)
    losses = [negative_log_likelihood(logits, labels, t) for t in grid]
    best = int(np.argmin(losses))
    low, high = np.log(grid[max(0, best - 1)]), np.log(grid[min(len(grid) - 1, best + 1)])
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if negative_log_likelihood(logits, labels, np.exp(left)) < negative_log_likelihood(
            logits, labels, np.exp(right)
        ):
            high = right
        else:
            low = left
    return float(np.exp((low + high) / 2))


def reliability(probabilities, labels, bins=ECE_BINS):
    """Per confidence bin (equal width over 0..1): (count, mean confidence, accuracy) of the top class."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    return [
        (
            int(np.sum(which == number)),
            float(confidence[which == number].mean()) if np.any(which == number) else 0.0,
            float(right[which == number].mean()) if np.any(which == number) else 0.0,
        )
        for number in range(bins)
    ]


def expected_calibration_error(probabilities, labels, bins=ECE_BINS):
    """The mean gap between confidence and accuracy over the bins, weighted by how many paintings each holds."""
    total = len(labels)
    if total == 0:
        return 0.0
    return float(
        sum(
            count / total * abs(confidence - accuracy)
            for count, confidence, accuracy in reliability(probabilities, labels, bins)
        )
    )


def calibration_metrics(temperature, test_logits, test_labels):
    """metrics.json's "calibration": the temperature and the test split's ECE without and with it."""
    before, after = softmax(test_logits), softmax(test_logits, temperature)
    return {
        "temperature": temperature,
        "bins": ECE_BINS,
        "ece_before": expected_calibration_error(before, test_labels),
        "ece_after": expected_calibration_error(after, test_labels),
        "reliability_before": reliability(before, test_labels),
        "reliability_after": reliability(after, test_labels),
        "paintings": int(len(test_labels)),
    }
