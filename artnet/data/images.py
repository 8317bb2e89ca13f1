"""Safe image loading and the geometry shared by training and the app: pad to square and resize.

Everything a user can drop into the app passes through `load_image`, so it accepts any common format and
mode, and refuses bad files with an `ImageError` whose message says what to do.
"""

import io
import os
import warnings
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from artnet.errors import UserError

# Large enough for a high-resolution scan of a painting (for example 8000 x 8000), small enough that a
# decompression bomb cannot exhaust the server's memory.
MAX_PIXELS = 64_000_000
MIN_SIDE = 8
# The ImageNet mean colour: after the model's normalisation it is close to zero, so padding adds as
# little signal as possible.
PAD_COLOR = (124, 116, 104)
READABLE_FORMATS = "JPEG, PNG, WebP, GIF, BMP or TIFF"
# The file names of those formats, for finding paintings in a folder.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")

_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}


class ImageError(UserError):
    """A file that cannot be used as a painting. The message is meant for the user."""


# What load_image accepts as a painting.
ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | np.ndarray | Image.Image


def load_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open a path, bytes, a file object, a numpy array or a PIL image as an upright RGB PIL image."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        image = _image_from_array(source)
    else:
        image = _open(source)
    _check_size(image, max_pixels)
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(
            f"The image is truncated or corrupt ({error}). Re-export or re-download it and try again."
        ) from None
    return _to_rgb(image)


def _open(source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageError(f"The file is empty. Choose a {READABLE_FORMATS} image.")
        source = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise ImageError(f"There is no image file at {os.fspath(source)!r}. Check the path.")
        if os.path.getsize(source) == 0:
            raise ImageError(f"The file {os.path.basename(source)!r} is empty. Choose a {READABLE_FORMATS} image.")
    try:
        with warnings.catch_warnings():
            # Our own pixel limit, checked next, is stricter than Pillow's warning threshold.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(source)
    except Image.DecompressionBombError:
        raise ImageError(
            f"The image has too many pixels to open safely (the limit is {MAX_PIXELS / 1e6:.0f} "
            "megapixels). Resize it and try again."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError(f"This file is not an image ArtNet can read. Use a {READABLE_FORMATS} file.") from None


def _image_from_array(array):
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageError(f"An image array must be H x W or H x W x 1/3/4, not {array.shape}.")
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(array.squeeze(2) if array.ndim == 3 and array.shape[2] == 1 else array)


def _check_size(image, max_pixels):
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageError(
            f"The image is too large ({width}x{height} = {width * height / 1e6:.0f} megapixels; the limit is "
            f"{max_pixels / 1e6:.0f}). Resize it and try again."
        )
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"The image is too small ({width}x{height} pixels). It must be at least {MIN_SIDE} pixels on each side."
        )


def _to_rgb(image):
    if image.mode == "La":
        # Premultiplied alpha: Pillow converts it to plain LA and to nothing else.
        image = image.convert("LA")
    if image.mode in _SIXTEEN_BIT_MODES or image.mode == "I":
        values = np.asarray(image, dtype=np.float64)
        # "I" holds 16-bit data for most files (PNG, TIFF); scale only when it uses more than 8 bits.
        if image.mode in _SIXTEEN_BIT_MODES or values.max() > 255:
            values = values / 257.0
        image = Image.fromarray(np.clip(values, 0, 255).round().astype(np.uint8))
    elif image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        if values.max() <= 1.0:
            values = values * 255.0
        image = Image.fromarray(np.clip(values, 0, 255).round().astype(np.uint8))

    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        # A transparent background is shown as white, as a browser would show it.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def pad_to_square(image, fill=PAD_COLOR):
    """Centre `image` on a square canvas of its longer side, so that resizing never distorts it."""
    width, height = image.size
    side = max(width, height)
    if width == height:
        return image
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(image, content_box(image.size)[:2])
    return canvas


def content_box(size):
    """(left, top, right, bottom) of an image of `size` inside its padded square."""
    width, height = size
    side = max(width, height)
    left, top = (side - width) // 2, (side - height) // 2
    return left, top, left + width, top + height


def fit_within(size, side):
    """The size of an image of `size` scaled so that its longer side is `side`."""
    width, height = size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def square_image(image, side):
    """The whole painting, resized to fit `side` and padded to a `side` x `side` square: the model's view.

    Resizing before padding gives the same picture as padding first, without building a huge canvas
    for a large painting. Its content sits at `content_box(fit_within(image.size, side))`.
    """
    # reducing_gap lets Pillow shrink large images by fast box reduction first, with no visible loss.
    resized = image.resize(fit_within(image.size, side), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return pad_to_square(resized)


def to_array(image):
    """An RGB PIL image as a float32 H x W x 3 array of pixels in 0..255, the model's input format."""
    return np.asarray(image, dtype=np.float32)
