"""Generated test paintings: five visually distinct synthetic "styles", so that tests never need real data.

Each style is a texture a small network learns to tell apart in a few steps: stripes, blobs, checkers,
gradients and noise. A seed makes every painting reproducible; each call varies colours and geometry.
"""

import numpy as np
from PIL import Image

STYLES = ("stripes", "blobs", "checkers", "gradients", "noise")


def painting(style, seed=0, size=(96, 80)):
    """A PIL RGB image of `size` = (width, height) in one of STYLES."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    colour_a, colour_b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    if style == "stripes":
        period = rng.uniform(6, 12)
        mask = (np.sin(2 * np.pi * (x + rng.uniform(0, period)) / period) > 0).astype(np.float32)
    elif style == "blobs":
        mask = np.zeros((height, width), np.float32)
        for _ in range(rng.integers(3, 6)):
            cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.1, 0.25) * min(size)
            mask = np.maximum(mask, ((x - cx) ** 2 + (y - cy) ** 2 < r**2).astype(np.float32))
    elif style == "checkers":
        cell = int(rng.integers(8, 14))
        mask = ((x // cell + y // cell) % 2).astype(np.float32)
    elif style == "gradients":
        angle = rng.uniform(0, 2 * np.pi)
        ramp = x * np.cos(angle) + y * np.sin(angle)
        mask = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    elif style == "noise":
        mask = rng.uniform(0, 1, (height, width)).astype(np.float32)
    else:
        raise ValueError(f"Unknown synthetic style {style!r}; choose one of {STYLES}.")
    pixels = colour_a * (1 - mask[..., None]) + colour_b * mask[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
