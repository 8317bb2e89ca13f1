"""Explanations and how they are drawn: the class activation maps of one painting for one class, scaled
to the size the painting is shown, and blended over it with a matplotlib colormap at an opacity.

numpy, Pillow and matplotlib; no TensorFlow and no Gradio, so that the app and its tests draw with the
real thing. artnet.explain.cams computes the maps; artnet.serve.classifier turns them into an Explanation here.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from matplotlib import colormaps
from PIL import Image

from artnet.data.images import content_box, fit_within, square_image
from artnet.errors import UserError
from artnet.model.answers import Answer

# Explanations are rendered at most this wide: sharper than any browser shows them.
DISPLAY_SIDE = 768


@dataclass(frozen=True)
class Explanation:
    """Class activation maps of one painting for one class, by method and layer, ready to re-render
    without the network.

    `image` is the painting padded to a square (at most DISPLAY_SIDE wide); `content_box` is where the
    painting itself sits in it. Each map lies in 0..1 over that square at its layer's own resolution, and
    is scaled to the picture when it is drawn: a user's session keeps a few kilobytes of maps, not megabytes.
    """

    image: np.ndarray  # (side, side, 3) uint8
    content_box: tuple[int, int, int, int]  # (left, top, right, bottom)
    maps: dict[str, dict[str, np.ndarray]]  # method name -> layer name -> (height, width) float32 in 0..1
    probabilities: dict[str, float]  # label -> probability, in the model's label order
    class_name: str  # the class the maps explain
    embedding: np.ndarray | None = None  # what the model's last layer saw, for similar paintings
    answer: Answer | None = None  # what the model answers, from the same pass

    @property
    def methods(self) -> list[str]:
        return list(self.maps)

    def layer_map(self, layer: str, method: str) -> np.ndarray:
        """The map of `method` at `layer`, scaled to the picture (side x side, 0..1)."""
        if method not in self.maps:
            raise UserError(f"Unknown method {method!r}; choose one of {', '.join(self.maps)}.")
        if layer not in self.maps[method]:
            raise UserError(f"No map for layer {layer!r}; this explanation has {', '.join(self.maps[method])}.")
        side = self.image.shape[0]
        return upsample_map(self.maps[method][layer], (side, side))

    def overlay(
        self, layer: str, opacity: float = 0.5, colormap: str = "jet", method: str | None = None
    ) -> Image.Image:
        """The painting (without padding) with the map of `method` (default: the first) at `layer` blended
        over it, as a PIL RGB image."""
        heatmap = self.layer_map(layer, self.methods[0] if method is None else method)
        left, top, right, bottom = self.content_box
        return render_overlay(self.image[top:bottom, left:right], heatmap[top:bottom, left:right], opacity, colormap)


def explanation(
    painting: Image.Image,
    maps: Mapping[str, Mapping[str, npt.ArrayLike]],
    probabilities: dict[str, float],
    class_name: str,
    embedding: np.ndarray | None = None,
    answer: Answer | None = None,
) -> Explanation:
    """The Explanation of `painting` (a PIL image) from maps at the layers' own resolution (method ->
    layer -> (height, width) in 0..1, over the padded square)."""
    side = min(DISPLAY_SIDE, max(painting.size))
    shown = np.asarray(square_image(painting, side))
    box = content_box(fit_within(painting.size, side))
    # The CAM pass gives an image without variation all-zero maps, but the padding of a flat painting
    # that is not square adds an edge for it to find. Nothing in a flat painting is evidence of anything.
    # (Checked on the painting as shown: at most DISPLAY_SIDE wide, where the original can be 64 megapixels.)
    left, top, right, bottom = box
    content = shown[top:bottom, left:right]
    flat = bool((content == content[0, 0]).all())
    return Explanation(
        image=shown,
        content_box=box,
        maps={
            method: {
                layer: np.zeros_like(cam, dtype=np.float32) if flat else np.asarray(cam, np.float32)
                for layer, cam in layer_maps.items()
            }
            for method, layer_maps in maps.items()
        },
        probabilities=probabilities,
        class_name=class_name,
        embedding=embedding,
        answer=answer,
    )


def upsample_map(cam: npt.ArrayLike, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of a (height, width) map to `size` = (width, height), clipped to 0..1."""
    resized = Image.fromarray(np.asarray(cam, dtype=np.float32)).resize(size, Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


@functools.lru_cache(maxsize=32)
def colormap_lut(name: str) -> np.ndarray:
    """A (256, 3) uint8 lookup table of a matplotlib colormap."""
    try:
        colormap = colormaps[name]
    except KeyError:
        raise UserError(f"Unknown colormap {name!r}; use a matplotlib colormap such as 'jet' or 'inferno'.") from None
    return np.round(colormap(np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)


def render_overlay(
    image: npt.ArrayLike | Image.Image, heatmap: npt.ArrayLike, opacity: float = 0.5, colormap: str = "jet"
) -> Image.Image:
    """Blend a colour-mapped `heatmap` (0..1, the image's height x width) over an RGB `image`."""
    if not 0.0 <= opacity <= 1.0:
        raise UserError(f"Opacity must be between 0 and 1, not {opacity}.")
    pixels = np.asarray(image, dtype=np.float32)
    heatmap = np.asarray(heatmap)
    if heatmap.shape != pixels.shape[:2]:
        raise ValueError(f"The heatmap is {heatmap.shape} but the image is {pixels.shape[:2]}.")
    colours = colormap_lut(colormap)[np.round(heatmap * 255).astype(np.uint8)]
    blended = pixels * (1.0 - opacity) + colours.astype(np.float32) * opacity
    return Image.fromarray(np.round(blended).astype(np.uint8))
