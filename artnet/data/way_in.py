"""The way in: the one path from a file to what the network is shown, for training, the app, the batch command
and the API alike.

A file is decoded and turned upright (`load_image`); in a photo, the painting is found and warped flat
(`artnet.data.finding`), unless the whole image is asked for; then it is brought to the form of the training
copies: shrunk to the model's side with Lanczos (never enlarged) and saved as JPEG once more. The views
(`artnet.data.views`) then square it. The training copies were made so, and the network has only ever seen
JPEG blocking at its own resolution: the style head reads the spread of activations down to that texture,
so an upload that skipped the step would look, to the network and to its "none of these" output, like
something else than a painting.

A model folder says how its images were prepared (config.json "way_in", `WayIn`); a folder written before
the way in prepared them by squaring alone, and is served so.
"""

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from artnet.data.finding import find_painting
from artnet.data.images import ImageSource, fit_within, load_image, square_image, to_array

# How the training copies were saved: the longest side at most the model's side (Lanczos, nothing enlarged),
# then RGB JPEG at this quality.
TRAINING_COPY_QUALITY = 90


@dataclass(frozen=True)
class WayIn:
    """The steps that prepare an image for a model, as its model folder declares them."""

    side: int  # the model's input side
    jpeg_quality: int | None = TRAINING_COPY_QUALITY  # None: the image is not re-encoded (folders before the way in)
    find_painting: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "WayIn":
        declared = config.get("way_in")
        if declared is None:
            return cls(int(config["image_size"]), jpeg_quality=None, find_painting=False)
        return cls(int(config["image_size"]), declared["jpeg_quality"], bool(declared["find_painting"]))

    def as_config(self) -> dict[str, Any]:
        """config.json's "way_in" (the side is the folder's image_size)."""
        return {
            "steps": "decode and orient; find the painting in a photo and warp it flat; shrink to image_size on the "
            "longest side (Lanczos, never enlarged); save as JPEG at jpeg_quality; pad to a square",
            "find_painting": self.find_painting,
            "jpeg_quality": self.jpeg_quality,
        }

    def training_copy(self, image: Image.Image) -> Image.Image:
        """`image` in the form of the training copies: at most `side` on its longest side, through JPEG."""
        return training_copy(image, self.side, self.jpeg_quality)


@dataclass(frozen=True)
class LookedAt:
    """What the network looked at in an image: the painting found in it, or the whole image."""

    image: Image.Image  # what was classified, at the upload's own resolution: what the page shows and draws on
    corners: list[list[float]] | None  # where it was found in the upload, [x, y] clockwise from top left; None: whole
    model_copy: Image.Image  # `image` prepared as the training copies were: what the views square

    def model_input(self, side: int) -> np.ndarray:
        """What the network is given: the model copy padded to a `side` square, float32 pixels in 0..255."""
        return to_array(square_image(self.model_copy, side))

    @property
    def cropped(self) -> bool:
        """Whether a painting was found in the image, and that is what was classified."""
        return self.corners is not None


def look(source: ImageSource | Image.Image, way_in: WayIn, whole: bool = False) -> LookedAt:
    """Decode `source` and find what the network should look at: with `whole`, or for a model that does
    not look for paintings, the whole image. Raises ImageError for a file that is not a usable image."""
    image = load_image(source)
    found = None if whole or not way_in.find_painting else find_painting(image)
    if found is None:
        return LookedAt(image, None, way_in.training_copy(image))
    corners = [[round(float(x), 1), round(float(y), 1)] for x, y in found.corners]
    return LookedAt(found.image, corners, way_in.training_copy(found.image))


def training_copy(image: Image.Image, side: int, jpeg_quality: int | None) -> Image.Image:
    """`image` shrunk to at most `side` on its longest side (Lanczos) and, with a quality, saved as JPEG."""
    if max(image.size) > side:
        image = image.resize(fit_within(image.size, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if jpeg_quality is None:
        return image
    encoded = io.BytesIO()
    image.save(encoded, format="JPEG", quality=jpeg_quality)
    return Image.open(io.BytesIO(encoded.getvalue())).convert("RGB")
