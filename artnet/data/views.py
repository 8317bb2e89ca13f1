"""The named views of a painting that training and evaluation show the network, each a square image.

"whole" is what the app shows the model: the painting padded to a square, never stretched. The others
vary what the paintings' collections differ in, so that the model cannot tell a movement by its
collection: one collection's images are squares squashed from their original shape (so they never show
padding), and the collections differ in resolution and JPEG quality.
"""

import io

from PIL import Image

from artnet.data.images import square_image

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


VIEWS = {view.__name__: view for view in (whole, flipped, squashed, centre, degraded, squashed_degraded)}
# Evaluation reads these: "whole" is the app's view; test-time augmentation averages all four; the shape
# test compares "whole" with "centre" and "squashed".
EVALUATION_VIEWS = ("whole", "flipped", "squashed", "centre")
SHAPE_VIEWS = ("centre", "squashed")
