"""Generated test paintings: five visually distinct synthetic "styles", so that tests never need real data.

Each style is a texture with its own palette, so that even a network trained from scratch for a few
steps tells them apart: stripes, blobs, checkers, gradients and noise. A seed makes every painting
reproducible; each call varies the colours (around the style's palette) and the geometry.
"""

import numpy as np
from PIL import Image

STYLES = ("stripes", "blobs", "checkers", "gradients", "noise")
PALETTES = {
    "stripes": ((200, 40, 40), (250, 215, 190)),
    "blobs": ((40, 150, 60), (240, 235, 110)),
    "checkers": ((30, 40, 160), (225, 230, 250)),
    "gradients": ((120, 40, 150), (250, 170, 60)),
    "noise": ((70, 70, 70), (205, 205, 205)),
}
COLOUR_JITTER = 30


def painting(style, seed=0, size=(96, 80)):
    """A PIL RGB image of `size` = (width, height) in one of STYLES."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    if style not in PALETTES:
        raise ValueError(f"Unknown synthetic style {style!r}; choose one of {STYLES}.")
    colour_a, colour_b = (
        np.array(colour) + rng.uniform(-COLOUR_JITTER, COLOUR_JITTER, 3) for colour in PALETTES[style]
    )
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
    else:
        mask = rng.uniform(0, 1, (height, width)).astype(np.float32)
    pixels = colour_a * (1 - mask[..., None]) + colour_b * mask[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


# Generated images that are none of the styles above, as the out-of-scope folder's categories: concentric
# rings and diagonal bands, each in a palette of its own.
OUT_OF_SCOPE_STYLES = {"rings": ((20, 170, 170), (10, 10, 10)), "diagonals": ((240, 240, 40), (150, 20, 90))}


def out_of_scope_image(style, seed=0, size=(96, 80)):
    """A PIL RGB image of `size` in one of OUT_OF_SCOPE_STYLES."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    colour_a, colour_b = (
        np.array(colour) + rng.uniform(-COLOUR_JITTER, COLOUR_JITTER, 3) for colour in OUT_OF_SCOPE_STYLES[style]
    )
    period = rng.uniform(8, 14)
    if style == "rings":
        radius = np.hypot(x - rng.uniform(0, width), y - rng.uniform(0, height))
        mask = (np.sin(2 * np.pi * radius / period) > 0).astype(np.float32)
    else:
        mask = (np.sin(2 * np.pi * (x + y) / period) > 0).astype(np.float32)
    pixels = colour_a * (1 - mask[..., None]) + colour_b * mask[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def wall_photo(picture, size=(900, 1200), seed=0):
    """A phone photo (`size`, portrait by default) of `picture` hanging in a dark frame on a plain, lit wall,
    seen a little from the left: (the photo, a PIL RGB image, and the painting's corners in it, clockwise from
    top left, a (4, 2) array). The painting covers about a third of the photo."""
    import cv2

    rng = np.random.default_rng(seed)
    width, height = size
    picture = picture.convert("RGB")
    scale = 0.62 * width / picture.width
    painted_w, painted_h = picture.width * scale, picture.height * scale
    left, top = (width - painted_w) / 2, 0.42 * (height - painted_h)
    # Seen from the left: the right edge is further away, so a little shorter.
    squeeze = 0.05 * painted_h
    corners = np.float32(
        [
            [left, top],
            [left + painted_w, top + squeeze],
            [left + painted_w, top + painted_h - squeeze],
            [left, top + painted_h],
        ]
    )
    source = np.float32([[0, 0], [picture.width, 0], [picture.width, picture.height], [0, picture.height]])
    matrix = cv2.getPerspectiveTransform(source, corners)
    frame = 0.025 * width
    outer = corners + np.float32([[-frame, -frame], [frame, -frame], [frame, frame], [-frame, frame]])
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    wall = np.array([218, 210, 192], np.float32) * (0.85 + 0.15 * x / width)[..., None]
    photo = np.clip(wall + rng.normal(0, 3, (height, width, 3)), 0, 255).astype(np.uint8)
    cv2.fillConvexPoly(photo, np.round(outer).astype(np.int32), (52, 38, 30), lineType=cv2.LINE_AA)
    warped = cv2.warpPerspective(np.asarray(picture), matrix, size, flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.full((picture.height, picture.width), 255, np.uint8), matrix, size)
    photo = np.where(inside[..., None] > 127, warped, photo)
    return Image.fromarray(photo), corners
