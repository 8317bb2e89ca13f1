"""The answer beyond one movement, on numbers whose right answers are known: prediction sets by split
conformal prediction, the scope score and its threshold, how they are measured, and what a model folder
written before them answers."""

import math

import numpy as np
import pytest

from artnet.data.out_of_scope import OutOfScopeImage
from artnet.model import conformal, scope
from artnet.model.answers import AnswerRules, in_words
from artnet.train.answer_evaluation import auroc, prediction_set_metrics, scope_metrics

LABELS = ["Cubism", "Impressionism", "Expressionism", "Realism", "Abstract"]


def noisy_classifier(count, seed, accuracy=0.7):
    """Probabilities of a classifier right about `accuracy` of the time, and the true classes."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, count)
    logits = rng.normal(0, 1, (count, 5))
    logits[np.arange(count), truth] += rng.normal(2.2, 1.0, count) * (rng.random(count) < accuracy + 0.1)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probabilities, truth


def test_prediction_sets_hold_the_true_movement_at_the_chosen_coverage_on_new_paintings():
    validation, validation_truth = noisy_classifier(2000, seed=0)
    test, test_truth = noisy_classifier(4000, seed=1)
    for coverage in (0.8, 0.9, 0.95):
        floor = conformal.probability_floor(validation, validation_truth, coverage)
        found = conformal.set_metrics(test, test_truth, floor)
        assert coverage - 0.02 <= found["coverage"] <= coverage + 0.03, (coverage, found)
    # Higher coverage asks for larger sets.
    sizes = [
        conformal.set_metrics(test, test_truth, conformal.probability_floor(validation, validation_truth, c))[
            "mean_size"
        ]
        for c in (0.8, 0.95)
    ]
    assert 1 < sizes[0] < sizes[1] <= 5


def test_a_set_lists_its_movements_most_likely_first_and_never_is_empty():
    probabilities = np.array([[0.1, 0.5, 0.05, 0.3, 0.05], [0.2, 0.2, 0.2, 0.2, 0.2]])
    assert conformal.prediction_sets(probabilities, 0.2) == [[1, 3], [0, 1, 2, 3, 4]]
    assert conformal.prediction_sets(probabilities, 0.99) == [[1], [0]]
    # Too few validation paintings for the coverage asked: every movement.
    assert conformal.probability_floor(probabilities, [1, 0], 0.9) == 0.0


def test_the_scope_score_is_the_log_odds_of_any_movement_against_none():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    none = np.array([1.0, math.log(3.0)])
    found = scope.scores(logits, none)
    expected = [math.log(sum(math.exp(v) for v in row)) - n for row, n in zip(logits, none)]
    assert found == pytest.approx(expected)
    # p(any movement) = p(none): zero.
    assert found[1] == pytest.approx(0.0)


def test_the_threshold_keeps_the_chosen_share_of_validation_paintings():
    scores = np.random.default_rng(0).normal(size=1000)
    threshold = scope.threshold_keeping(scores, 0.95)
    assert np.mean(scores >= threshold) == pytest.approx(0.95, abs=0.002)


def test_auroc_counts_the_pairs_ordered_right_and_ties_as_half():
    assert auroc([3, 4], [1, 2]) == 1.0
    assert auroc([1, 2], [3, 4]) == 0.0
    assert auroc([1, 3], [2, 2]) == 0.5
    assert auroc([1, 1], [1]) == 0.5
    rng = np.random.default_rng(0)
    positive, negative = rng.normal(1, 1, 300), rng.normal(0, 1, 200)
    brute = np.mean([(p > n) + 0.5 * (p == n) for p in positive for n in negative])
    assert auroc(positive, negative) == pytest.approx(brute)
    assert auroc([], [1.0]) is None


def test_scope_metrics_report_near_far_and_each_category_at_the_threshold():
    images = [
        OutOfScopeImage(f"{i}.jpg", category, kind)
        for i, (category, kind) in enumerate([("Baroque", "near")] * 4 + [("Photograph", "far")] * 4)
    ]
    paintings = np.array([5.0, 6.0, 7.0, 0.5])
    others = np.array([1.0, 2.0, 6.5, 0.0, -3.0, -2.0, -1.0, 0.0])
    found = scope_metrics(paintings, others, images, threshold=1.5)
    assert found["kept"] == 0.75 and found["flagged"] == 6 / 8
    assert found["near"]["flagged"] == 0.5 and found["far"]["flagged"] == 1.0
    assert found["far"]["auroc"] == 1.0 and found["near"]["auroc"] < 1.0
    assert set(found["per_category"]) == {"Baroque", "Photograph"}
    assert found["near"] == found["per_category"]["Baroque"] | {"categories": ["Baroque"]}


def test_prediction_set_metrics_are_given_per_movement():
    probabilities, truth = noisy_classifier(500, seed=2)
    found = prediction_set_metrics(probabilities, truth, 0.3, LABELS)
    assert set(found["per_movement"]) == set(LABELS)
    assert sum(entry["paintings"] for entry in found["per_movement"].values()) == found["paintings"] == 500


CONFIG = {"labels": LABELS, "temperature": 1.0}
PROBABILITIES = np.array([0.05, 0.5, 0.05, 0.35, 0.05])
LOGITS = np.log(PROBABILITIES)
EMBEDDING = np.array([1.0, -2.0])


def test_a_model_folder_written_before_sets_and_scope_answers_its_top_movement_in_scope():
    answer = AnswerRules(CONFIG).answer(PROBABILITIES, LOGITS, EMBEDDING)
    assert answer.movements == ["Impressionism"] and answer.in_scope and answer.scope_score is None
    assert answer.in_words == "Impressionism"
    assert answer.as_dict()["probabilities"]["Realism"] == pytest.approx(0.35)


def test_the_folders_rules_make_the_set_and_the_scope():
    sets = {"prediction_sets": conformal.config_entry(0.9, 0.3)}
    answer = AnswerRules(CONFIG | sets).answer(PROBABILITIES, LOGITS, EMBEDDING)
    assert answer.movements == ["Impressionism", "Realism"] and answer.in_words == "Impressionism or Realism"
    # The none unit reads the embedding: here its logit is 2.0 - 1.0 = 1.0, against logsumexp(LOGITS) = 0.
    for threshold, in_scope in ((-2.0, True), (0.0, False)):
        rules = AnswerRules(CONFIG | sets | {"scope": scope.config_entry(np.array([2.0, 0.0]), [-1.0], threshold)})
        answer = rules.answer(PROBABILITIES, LOGITS, EMBEDDING)
        assert answer.scope_score == pytest.approx(-1.0) and answer.in_scope is in_scope
    assert answer.in_words == "none of the movements (closest: Impressionism)"


def test_in_words_names_every_movement_of_a_set():
    assert in_words(["Cubism", "Abstract", "Expressionism"], True) == "Cubism, Abstract or Expressionism"
