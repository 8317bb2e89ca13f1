"""Tests for shortcuts: whether the model tells movements apart, or the collections that the paintings come
from. A user's painting comes from none of them.

- Cross-collection: where a movement's paintings come from two or more collections, the top is trained
  again with a collection of it left out of training and validation, and tested on all of that
  collection's paintings. Collections are left out in folds, each fold leaving out at most one collection
  per movement and each collection for at most one movement, so that the folds' models still see every
  movement and no collection disappears from several movements at once.
- Collection probe: a logistic regression, cross-validated, asked which collection a painting of a
  movement came from, on the features that the trained model's last layer sees. Lower is better; chance
  is the share of the movement's largest collection.

The shape test (padded, centre-cropped, squashed) is in artnet.train.evaluation.
"""

import collections
import logging

import numpy as np

from artnet.model import calibration, conformal
from artnet.train import fitting

logger = logging.getLogger(__name__)

PROBE_FOLDS = 5
PROBE_STEPS = 300
PROBE_L2 = 1e-2


def shortcut_tests(top, features, splits, labels, options, per_source, out_of_scope=None):
    """metrics.json's "cross_collection" (when asked for and the collections are known) and
    "collection_predictability" entries. `out_of_scope` (artnet.train.run.OutOfScope) trains the folds'
    "none of these" output as it trained the model's."""
    everything = [painting for split in splits.values() for painting in split.paintings]
    results = {}
    if options.cross_collection and collection_folds(everything):
        results["cross_collection"] = cross_collection(top, features, splits, labels, options, per_source, out_of_scope)
    rows = np.concatenate([split.rows for split in splits.values()])
    probe = collection_predictability(fitting.embeddings(top, features, rows), everything, labels)
    if probe:
        results["collection_predictability"] = probe
    return results


def collection_folds(paintings):
    """[[(movement, collection), ...], ...]: every collection of a movement that has two or more, once."""
    sources = collections.defaultdict(set)
    for painting in paintings:
        if painting.source is not None:
            sources[painting.movement].add(painting.source)
    pairs = [
        (movement, source) for movement in sources if len(sources[movement]) > 1 for source in sorted(sources[movement])
    ]
    uses = collections.Counter(source for _, source in pairs)
    folds = []
    # The collections shared by most movements first: they need the most folds.
    for movement, source in sorted(pairs, key=lambda pair: (-uses[pair[1]], pair)):
        fold = next((f for f in folds if all(movement != m and source != s for m, s in f)), None)
        if fold is None:
            folds.append(fold := [])
        fold.append((movement, source))
    return folds


def cross_collection(top, features, splits, labels, options, per_source, out_of_scope=None):
    """Train with each fold's collections left out; how often their paintings get their movement, and
    with the fold's own calibration, prediction sets and scope threshold (fitted on its validation split,
    as the model's are), how often their sets hold it and how often they are kept in scope. A new
    collection is not exchangeable with the validation split: the coverage measured here says how far
    the sets' guarantee holds for it."""
    everything = [painting for split in splits.values() for painting in split.paintings]
    index = {label: number for number, label in enumerate(labels)}
    results, flagged = [], []
    folds = collection_folds(everything)
    for number, fold in enumerate(folds, 1):
        logger.info(
            f"Cross-collection test, fold {number} of {len(folds)}: leaving out "
            + ", ".join(f"{movement} from {source}" for movement, source in fold)
            + "."
        )
        left_out = set(fold)
        model = fitting.compile_top(fitting.fresh_copy(top), options)
        train, validation = splits["train"], splits["validation"]
        kept_train, kept_validation = _kept(train, left_out), _kept(validation, left_out)
        fitting.fit_top(
            model,
            features,
            (train.rows[kept_train], train.labels[kept_train]),
            (validation.rows[kept_validation], validation.labels[kept_validation]),
            options,
            callbacks=[fitting.KeepBest()],
            verbose=0,
            sources=train.sources[kept_train],
            out_of_scope=out_of_scope.training if out_of_scope else None,
        )
        answer = _FoldAnswer(
            model, features, validation.rows[kept_validation], validation.labels[kept_validation], options
        )
        for movement, source in fold:
            held = [p for p in everything if (p.movement, p.source) == (movement, source)]
            rows = features.rows(held)
            results.append(
                {
                    "movement": movement,
                    "source": source,
                    "paintings": len(held),
                    **answer.metrics(features, rows, np.full(len(rows), index[movement])),
                    "test_accuracy_trained_with_it": per_source.get(movement, {}).get(source, {}).get("accuracy"),
                }
            )
        if out_of_scope:
            flagged.append(float(np.mean(~answer.in_scope(out_of_scope.features, out_of_scope.rows("test")))))
    summary = {
        "folds": [[list(pair) for pair in fold] for fold in folds],
        "collections": results,
        "mean_accuracy": float(np.mean([result["accuracy"] for result in results])),
        "mean_coverage": float(np.mean([result["coverage"] for result in results])),
        "mean_set_size": float(np.mean([result["mean_set_size"] for result in results])),
    }
    if out_of_scope:
        summary["mean_in_scope"] = float(np.mean([result["in_scope"] for result in results]))
        summary["out_of_scope_test_flagged_per_fold"] = flagged
    return summary


class _FoldAnswer:
    """A fold model's calibration, prediction sets and scope threshold, each fitted on its validation split."""

    def __init__(self, model, features, rows, labels, options):
        self.model = model
        logits, embeddings = fitting.head_outputs(model, features, rows)
        self.temperature = calibration.fit_temperature(logits, labels)
        self.floor = conformal.probability_floor(
            calibration.softmax(logits, self.temperature), labels, options.coverage
        )
        self.rule = fitting.scope_rule(model, logits, embeddings) if fitting.has_out_of_scope_output(model) else None

    def in_scope(self, features, rows):
        return self.rule.scores(*fitting.head_outputs(self.model, features, rows)) >= self.rule.threshold

    def metrics(self, features, rows, truth):
        """How often these paintings get their movement, how often their sets hold it and with how many
        movements, and the share kept in scope."""
        logits, embeddings = fitting.head_outputs(self.model, features, rows)
        sets = conformal.set_metrics(calibration.softmax(logits, self.temperature), truth, self.floor)
        found = {
            "accuracy": float(np.mean(np.argmax(logits, axis=1) == truth)),
            "coverage": sets["coverage"],
            "mean_set_size": sets["mean_size"],
        }
        if self.rule is not None:
            found["in_scope"] = float(np.mean(self.rule.scores(logits, embeddings) >= self.rule.threshold))
        return found


def collection_predictability(embeddings, paintings, labels):
    """Per movement with two or more collections: the cross-validated accuracy of a logistic regression
    that tells the collection from `embeddings`, beside chance."""
    results = {}
    for movement in labels:
        members = [number for number, p in enumerate(paintings) if p.movement == movement and p.source is not None]
        sources = sorted({paintings[number].source for number in members})
        if len(sources) < 2:
            continue
        targets = np.array([sources.index(paintings[number].source) for number in members])
        accuracy = _cross_validated_accuracy(embeddings[members], targets, len(sources))
        results[movement] = {
            "accuracy": accuracy,
            "chance": float(np.bincount(targets).max() / len(targets)),
            "collections": len(sources),
            "paintings": len(members),
        }
    if not results:
        return {}
    return {
        "per_movement": results,
        "mean_accuracy": float(np.mean([result["accuracy"] for result in results.values()])),
        "mean_chance": float(np.mean([result["chance"] for result in results.values()])),
    }


def _cross_validated_accuracy(features, targets, classes):
    order = np.random.default_rng(0).permutation(len(targets))
    right = 0
    for fold in range(PROBE_FOLDS):
        held = order[fold::PROBE_FOLDS]
        kept = np.setdiff1d(order, held)
        predict = linear_probe(features[kept], targets[kept], classes)
        right += int(np.sum(predict(features[held]) == targets[held]))
    return right / len(targets)


def linear_probe(features, targets, classes):
    """A logistic regression on standardised features: the function from features to predicted classes."""
    mean, spread = features.mean(axis=0), features.std(axis=0) + 1e-6
    weights, bias = _logistic_regression((features - mean) / spread, targets, classes)
    return lambda new: np.argmax((new - mean) / spread @ weights + bias, axis=1)


def _logistic_regression(features, targets, classes):
    """Multinomial logistic regression with an L2 penalty, by full-batch gradient descent with momentum."""
    # float64 and contiguous once, with the transpose laid out for its product: each step then runs on
    # its arrays as they are, without the conversions that otherwise cost more than the products.
    features = np.ascontiguousarray(features, dtype=np.float64)
    transposed = np.ascontiguousarray(features.T)
    weights = np.zeros((features.shape[1], classes))
    bias = np.zeros(classes)
    velocity_weights, velocity_bias = np.zeros_like(weights), np.zeros_like(bias)
    one_hot = np.eye(classes)[targets]
    for _ in range(PROBE_STEPS):
        logits = features @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        error = (probabilities - one_hot) / len(targets)
        velocity_weights = 0.9 * velocity_weights - 0.5 * (transposed @ error + PROBE_L2 * weights)
        velocity_bias = 0.9 * velocity_bias - 0.5 * error.sum(axis=0)
        weights += velocity_weights
        bias += velocity_bias
    return weights, bias


def _kept(split, left_out):
    """Which of the split's paintings are kept: those whose (movement, collection) is not left out."""
    return np.array([(p.movement, p.source) not in left_out for p in split.paintings], dtype=bool)
