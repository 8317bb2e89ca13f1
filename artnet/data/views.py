"""The named views of a painting that training and evaluation show the network, each a square image.

"whole" is what the app shows the model: the painting padded to a square, never stretched. The others
vary what the paintings' collections differ in, so that the model cannot tell a movement by its
collection: one collection's images are squares squashed from their original shape (so they never show
padding), and the collections differ in resolution and JPEG quality. "photographed" is a painting as a phone
photo of it reaches the network once the painting is found and warped flat.

Every view is given the painting as the way in prepared it (`artnet.data.way_in`), and is a fixed function of
its pixels, so that a feature cache is reproducible.
"""

import io
import zlib

import cv2
import numpy as np
from PIL import Image

from artnet.data.images import square_image
from artnet.data.way_in import TRAINING_COPY_QUALITY, training_copy

# Shrunk to this side and re-encoded at this JPEG quality, a painting loses the fine detail and the
# compression traces by which its collection can be told.
DEGRADED_SIDE = 160
DEGRADED_QUALITY = 75


def whole(image, side):
    return square_image(image, side)


def flipped(image, side):
    return square_image(image, side).transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def squashed(image, side):
    return image.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=3.0)


def centre(image, side):
    width, height = image.size
    crop = min(width, height)
    left, top = (width - crop) // 2, (height - crop) // 2
    return image.crop((left, top, left + crop, top + crop)).resize(
        (side, side), Image.Resampling.BILINEAR, reducing_gap=3.0
    )


def _degraded(image):
    small = image.copy()
    small.thumbnail((DEGRADED_SIDE, DEGRADED_SIDE), Image.Resampling.BILINEAR)
    encoded = io.BytesIO()
    small.save(encoded, format="JPEG", quality=DEGRADED_QUALITY)
    return Image.open(io.BytesIO(encoded.getvalue())).convert("RGB")


def degraded(image, side):
    return square_image(_degraded(image), side)


def squashed_degraded(image, side):
    return squashed(_degraded(image), side)


def photographed(image, side):
    """The painting as a phone photo of it reaches the network after the painting was found and warped flat:
    taken at a higher resolution than the copy, the warp a little off, lit unevenly (a gradient, warm
    light, sometimes a glare), a little blurred or sharpened, with sensor noise and the phone's JPEG; then
    the way in brings it back to the training copies' form.

    A simulation of its own, drawn from the painting's pixels: the photos of paintings on walls that measure
    the app (`artnet.data.wall_photos`) share none of its code, so the measure is not of what was trained."""
    pixels = np.asarray(image)
    rng = np.random.default_rng(zlib.crc32(pixels.tobytes()))
    height, width = pixels.shape[:2]
    scale = rng.uniform(320, 640) / max(height, width)
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    photo = cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    photo = _warped_a_little(photo, rng)
    photo = _lit_unevenly(photo, rng)
    if rng.random() < 0.3:
        photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.5, 1.5))
    # Sensor noise, stronger in the dark.
    photo += rng.normal(0, 1, photo.shape).astype(np.float32) * rng.uniform(2, 7) * (1.3 - photo / 255)
    if rng.random() < 0.5:
        photo += rng.uniform(0.3, 1.0) * (photo - cv2.GaussianBlur(photo, (0, 0), 1.5))
    encoded = io.BytesIO()
    Image.fromarray(np.clip(photo, 0, 255).round().astype(np.uint8)).save(
        encoded, format="JPEG", quality=int(rng.integers(70, 93))
    )
    phone_jpeg = Image.open(io.BytesIO(encoded.getvalue())).convert("RGB")
    return square_image(training_copy(phone_jpeg, side, TRAINING_COPY_QUALITY), side)


def _warped_a_little(photo, rng):
    """The painting warped flat from a photo's corners found a few pixels off."""
    height, width = photo.shape[:2]
    corners = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    off = corners + rng.uniform(-0.02, 0.02, (4, 2)).astype(np.float32) * np.float32([width, height])
    matrix = cv2.getPerspectiveTransform(off, corners)
    return cv2.warpPerspective(photo, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _lit_unevenly(photo, rng):
    """Exposure, a light gradient across the painting, warm or cool light, and sometimes a glare."""
    height, width = photo.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (x / width - 0.5) + np.sin(angle) * (y / height - 0.5)).astype(np.float32)
    light = rng.uniform(0.8, 1.15) * (1 + rng.uniform(0, 0.5) * ramp)
    tint = np.float32([1 + rng.uniform(-0.04, 0.1), 1.0, 1 - rng.uniform(-0.04, 0.1)])
    photo = photo * light[..., np.newaxis] * tint
    if rng.random() < 0.3:
        centre_x, centre_y = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        radius = rng.uniform(0.05, 0.15) * max(width, height)
        glare = np.exp(-((x - centre_x) ** 2 + (y - centre_y) ** 2) / (2 * radius**2))
        photo = photo + (rng.uniform(40, 130) * glare)[..., np.newaxis]
    return photo


VIEWS = {view.__name__: view for view in (whole, flipped, squashed, centre, degraded, squashed_degraded, photographed)}
# Evaluation reads these: "whole" is the app's view; test-time augmentation averages all four; the shape
# test compares "whole" with "centre" and "squashed".
EVALUATION_VIEWS = ("whole", "flipped", "squashed", "centre")
SHAPE_VIEWS = ("centre", "squashed")
