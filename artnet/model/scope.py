"""The scope score: how much a painting looks like one of the movements the model knows rather than none
of them (an earlier period, a print, a photograph), and the threshold under which the answer is "none of
these".

The head is trained with a further output beside the movements, "none of these", on out-of-scope images
(outlier exposure with an extra class; Hendrycks et al., 2019). That output is one unit on what the
logits layer sees (the embedding), so it travels in config.json as a kernel and a bias, and the network
in model.keras keeps its movements' outputs alone. The score is log(p(any movement) / p(none)) under the
softmax of the movements' logits and that unit together: above zero, the network finds a movement more
likely than none. The threshold keeps a chosen share of the validation paintings in scope.

numpy alone: training fits it, the Classifier applies it to the pass that classifies.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

METHOD = "out-of-scope output"
DESCRIPTION = (
    'an output beside the movements, "none of these", trained on out-of-scope images; the score is '
    "log(p(any movement) / p(none))"
)
# The share of in-scope validation paintings (as files and as photographed) that the threshold keeps in scope:
# the largest share at which three in four of the near out-of-scope validation images, the hardest, are still
# flagged (bench/threshold.py). A painting from a collection never seen scores lower than the validation
# paintings, so a threshold that keeps fewer of them tells a visitor's painting "none of these" too often.
DEFAULT_KEPT = 0.97


def scores(logits, out_of_scope_logits):
    """log(p(any movement) / p(none)) for each row: logsumexp of the movements' logits minus the
    out-of-scope logit."""
    logits = np.asarray(logits, dtype=np.float64)
    peak = logits.max(axis=-1)
    movements = peak + np.log(np.exp(logits - peak[..., np.newaxis]).sum(axis=-1))
    return movements - np.asarray(out_of_scope_logits, dtype=np.float64).reshape(movements.shape)


def threshold_keeping(in_scope_scores, kept=DEFAULT_KEPT):
    """The score at or above which a share `kept` of these in-scope paintings lie."""
    return float(np.quantile(np.asarray(in_scope_scores, dtype=np.float64), 1.0 - kept, method="lower"))


@dataclass(frozen=True)
class ScopeRule:
    """config.json's "scope": the out-of-scope unit and the threshold."""

    kernel: np.ndarray  # (embedding size,)
    bias: float
    threshold: float

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "ScopeRule | None":
        """The rule of a model folder's config, or None for a folder trained without out-of-scope images."""
        scope = config.get("scope")
        if not scope:
            return None
        return cls(np.asarray(scope["kernel"], dtype=np.float64), float(scope["bias"]), float(scope["threshold"]))

    @classmethod
    def fitted(cls, kernel, bias, logits, embeddings, kept=DEFAULT_KEPT) -> "ScopeRule":
        """The rule of an out-of-scope unit (kernel, bias) whose threshold keeps a share `kept` of the
        in-scope paintings whose logits and embeddings are given."""
        unfitted = cls(np.asarray(kernel, dtype=np.float64).reshape(-1), float(np.asarray(bias).reshape(-1)[0]), 0.0)
        return cls(unfitted.kernel, unfitted.bias, threshold_keeping(unfitted.scores(logits, embeddings), kept))

    def out_of_scope_logits(self, embeddings):
        return np.asarray(embeddings, dtype=np.float64) @ self.kernel + self.bias

    def scores(self, logits, embeddings):
        return scores(logits, self.out_of_scope_logits(embeddings))


def config_entry(kernel, bias, threshold, kept=DEFAULT_KEPT):
    """What config.json's "scope" holds."""
    return {
        "method": METHOD,
        "description": DESCRIPTION,
        "kept_on_validation": kept,
        "threshold": float(threshold),
        "bias": float(np.asarray(bias).reshape(-1)[0]),
        "kernel": [float(value) for value in np.asarray(kernel).reshape(-1)],
    }
