"""Training options: every choice of a training run, with its default, checked once before TensorFlow starts.

The defaults are the recipe that measured best on the shared WikiArt paintings (see the README's
Training section): MobileNet v1 (width 0.75) frozen, the style head on the channel statistics of its
deeper layers, six views of every painting, ten epochs on cached features.
"""

import dataclasses
from dataclasses import dataclass

from artnet.data.views import VIEWS
from artnet.data.way_in import WayIn
from artnet.errors import UserError
from artnet.model.backbones import IMAGENET, get_backbone
from artnet.model.heads import HEADS

CLASS_WEIGHTS = ("none", "balanced")
COLLECTION_WEIGHTS = ("none", "balanced")


class OptionError(UserError):
    """A training option that cannot work."""


@dataclass(frozen=True)
class TrainingOptions:
    backbone: str = "mobilenet_0.75"
    backbone_weights: str | None = IMAGENET
    freeze: str = "head"
    head: str = "style"
    views: tuple = ("whole", "flipped", "squashed", "centre", "degraded", "squashed_degraded", "photographed")
    image_size: int = 224
    epochs: int = 10
    batch_size: int = 256
    learning_rate: float = 3e-3
    halve_learning_rate_every: int = 3
    label_smoothing: float = 0.1
    class_weights: str = "none"
    collection_weights: str = "none"
    mix_collections: float = 0.0
    seed: int = 42
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    cross_collection: bool = True
    faithfulness_paintings: int = 50
    # The share of paintings whose prediction set holds their true movement (split conformal prediction).
    coverage: float = 0.9
    mixed_precision: bool = False
    run_eagerly: bool = False

    @property
    def way_in(self):
        """How every image reaches the network, in training and wherever the model is served."""
        return WayIn(self.image_size)

    def check(self):
        """Raise OptionError (or BackboneError) for the first option that cannot work."""
        backbone = get_backbone(self.backbone)
        if self.image_size < backbone.min_image_size:
            raise OptionError(
                f"--image-size must be at least {backbone.min_image_size} ({backbone.title}'s smallest input), "
                f"not {self.image_size}."
            )
        if self.epochs < 1 or self.batch_size < 1 or self.halve_learning_rate_every < 1:
            raise OptionError("--epochs, --batch-size and --halve-learning-rate-every must be at least 1.")
        if self.faithfulness_paintings < 1:
            raise OptionError(f"--faithfulness-paintings must be at least 1, not {self.faithfulness_paintings}.")
        if not 0 < self.coverage < 1:
            raise OptionError(f"--coverage is a share of paintings, between 0 and 1, not {self.coverage}.")
        if not self.learning_rate > 0:
            raise OptionError(f"--learning-rate must be positive, not {self.learning_rate}.")
        backbone.freeze_policy(self.freeze)
        if self.head not in HEADS:
            raise OptionError(f"--head must be one of {', '.join(HEADS)}, not {self.head!r}.")
        unknown = [view for view in self.views if view not in VIEWS]
        if unknown or not self.views:
            raise OptionError(
                f"--views takes a comma-separated list of {', '.join(VIEWS)}; not {','.join(unknown) or 'nothing'}."
            )
        if not 0 <= self.label_smoothing < 1:
            raise OptionError(f"--label-smoothing must be in [0, 1), not {self.label_smoothing}.")
        if self.class_weights not in CLASS_WEIGHTS:
            raise OptionError(f"--class-weights must be none or balanced, not {self.class_weights!r}.")
        if self.collection_weights not in COLLECTION_WEIGHTS:
            raise OptionError(f"--collection-weights must be none or balanced, not {self.collection_weights!r}.")
        if not 0 <= self.mix_collections <= 1:
            raise OptionError(f"--mix-collections is a probability, from 0 to 1, not {self.mix_collections}.")
        backbone.check_weights(self.backbone_weights)


def option_differences(saved, given):
    """'--epochs 3 (not 5), ...' for each option whose saved value differs from the given one."""
    given_values = dataclasses.asdict(given)
    return ", ".join(
        f"--{name.replace('_', '-')} {_option_text(value)} (not {_option_text(given_values[name])})"
        for name, value in dataclasses.asdict(saved).items()
        if value != given_values[name]
    )


def _option_text(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (tuple, list)):
        return ",".join(value)
    return "none" if value is None else str(value)


def options_from_saved(saved):
    """TrainingOptions from the dict that a run saved (JSON turns tuples into lists)."""
    known = {field.name for field in dataclasses.fields(TrainingOptions)}
    values = {
        name: tuple(value) if isinstance(value, list) else value for name, value in saved.items() if name in known
    }
    return TrainingOptions(**values)
