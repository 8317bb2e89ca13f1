"""The model's answer for a painting: its calibrated probabilities, the prediction set (the movements
that together hold the true one at the chosen coverage, artnet.model.conformal), and whether it looks like
one of the movements at all (the scope score and its threshold, artnet.model.scope); all from what one
network pass gives, by the rules that config.json keeps.

A folder written before prediction sets and the scope score answers its top movement alone, always in
scope, with no score. numpy alone.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from artnet.model import conformal
from artnet.model.scope import ScopeRule


@dataclass(frozen=True)
class Answer:
    """What the model says of one painting."""

    probabilities: dict[str, float]  # calibrated, every movement
    movements: list[str]  # the prediction set, most likely first
    in_scope: bool  # False: none of the movements fits
    scope_score: float | None  # log(p(any movement) / p(none)); None for a model without a scope score
    # Where the painting that was classified was found in a photo ([x, y] clockwise from top left, in the
    # upload's pixels); None when the whole image was classified (artnet.data.way_in).
    corners: list[list[float]] | None = None

    @classmethod
    def most_likely(cls, probabilities: Mapping[str, float]) -> "Answer":
        """The answer of a model without prediction sets or a scope score: its most likely movement, in scope."""
        return cls(dict(probabilities), [max(probabilities, key=probabilities.get)], True, None)

    @property
    def cropped(self) -> bool:
        return self.corners is not None

    @property
    def closest(self) -> str:
        """The most likely movement, which an out-of-scope painting is closest to."""
        return self.movements[0]

    @property
    def in_words(self) -> str:
        return in_words(self.movements, self.in_scope)

    def as_dict(self) -> dict[str, Any]:
        return {
            "probabilities": dict(self.probabilities),
            "movements": list(self.movements),
            "in_scope": self.in_scope,
            "scope_score": self.scope_score,
            "cropped": self.cropped,
            "corners": self.corners,
        }


def in_words(movements: list[str], in_scope: bool) -> str:
    """ "Expressionism", "Impressionism or Realism", or "none of the movements (closest: Realism)"."""
    if not in_scope:
        return f"none of the movements (closest: {movements[0]})"
    if len(movements) == 1:
        return movements[0]
    return f"{', '.join(movements[:-1])} or {movements[-1]}"


class AnswerRules:
    """A model folder's rules for answers: the labels, the prediction sets' probability floor and the scope rule."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.labels = list(config["labels"])
        sets = config.get("prediction_sets")
        # Without a floor, the set is the top movement alone: a floor above every probability.
        self.floor = float(sets["probability_floor"]) if sets else np.inf
        self.coverage = float(sets["coverage"]) if sets else None
        self.scope = ScopeRule.from_config(config)

    def answer(self, probabilities: np.ndarray, logits: np.ndarray, embedding: np.ndarray) -> Answer:
        """The Answer for one painting's calibrated probabilities, logits and embedding."""
        chosen = conformal.prediction_sets(np.asarray(probabilities)[np.newaxis], self.floor)[0]
        score = None
        if self.scope is not None:
            score = float(self.scope.scores(np.asarray(logits)[np.newaxis], np.asarray(embedding)[np.newaxis])[0])
        return Answer(
            probabilities={label: float(p) for label, p in zip(self.labels, probabilities)},
            movements=[self.labels[index] for index in chosen],
            in_scope=score is None or score >= self.scope.threshold,
            scope_score=score,
        )
