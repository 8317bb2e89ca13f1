import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from artnet.data.images import (
    MAX_PIXELS,
    PAD_COLOR,
    ImageError,
    content_box,
    load_image,
    pad_to_square,
    square_image,
    to_array,
)


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def solid(colour, size=(40, 30), mode="RGB"):
    return Image.new(mode, size, colour)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_common_format_loads_as_rgb(fmt):
    image = load_image(encoded(solid((200, 40, 40)), fmt))
    assert image.mode == "RGB" and image.size == (40, 30)
    assert np.allclose(np.asarray(image)[15, 20], (200, 40, 40), atol=12)


def test_a_path_bytes_file_object_pil_image_and_array_all_load(tmp_path):
    path = tmp_path / "painting.png"
    original = solid((10, 20, 30))
    original.save(path)
    sources = [path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes()), original, np.asarray(original)]
    for source in sources:
        assert np.array_equal(np.asarray(load_image(source)), np.asarray(original)), type(source)


def test_an_animated_gif_gives_its_first_frame():
    frames = [solid((255, 0, 0)), solid((0, 0, 255))]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert tuple(np.asarray(load_image(data))[0, 0]) == (255, 0, 0)


def test_transparent_pixels_are_composited_on_white():
    rgba = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 10, 20))
    pixels = np.asarray(load_image(encoded(rgba, "PNG")))
    assert tuple(pixels[5, 15]) == (255, 255, 255)
    assert tuple(pixels[5, 5]) == (0, 0, 255)


def test_half_transparent_grey_with_alpha_blends_with_white():
    la = Image.new("LA", (20, 20), (0, 128))
    assert np.allclose(np.asarray(load_image(encoded(la, "PNG")))[0, 0], 127, atol=2)


@pytest.mark.parametrize("mode", ["La", "RGBa"])
def test_premultiplied_alpha_blends_with_white_too(mode):
    plain = Image.new("LA" if mode == "La" else "RGBA", (20, 20), (0, 128) if mode == "La" else (0, 0, 0, 128))
    assert np.allclose(np.asarray(load_image(plain.convert(mode)))[0, 0], 127, atol=2)


def test_palette_with_transparency_becomes_white():
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 255, 0] + [0, 0, 0] * 255)
    data = encoded(palette, "PNG", transparency=0)
    assert tuple(np.asarray(load_image(data))[0, 0]) == (255, 255, 255)


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (20, 20), (0, 255, 255, 0))  # pure red in CMYK
    pixels = np.asarray(load_image(encoded(cmyk, "JPEG")))
    assert pixels[10, 10, 0] > 200 and pixels[10, 10, 1] < 60 and pixels[10, 10, 2] < 60


def sixteen_bit_grey_png(width, height, value):
    """A 16-bit greyscale PNG written by hand, so the test does not depend on Pillow's writer."""
    row = b"\x00" + struct.pack(">H", value) * width
    raw = zlib.compress(row * height)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_sixteen_bit_greyscale_is_scaled_to_eight_bits():
    image = load_image(sixteen_bit_grey_png(16, 12, 65535 // 2))
    assert image.mode == "RGB" and image.size == (16, 12)
    assert np.allclose(np.asarray(image), 127, atol=1)


@pytest.mark.parametrize("mode, colour", [("L", 90), ("1", 1), ("I;16", 257 * 90), ("F", 90.0)])
def test_other_modes_become_rgb(mode, colour):
    image = load_image(solid(colour, mode=mode))
    assert image.mode == "RGB"
    expected = 255 if mode == "1" else 90
    assert np.allclose(np.asarray(image), expected, atol=1)


def test_exif_orientation_is_applied():
    upright = Image.new("RGB", (60, 30), (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, 10, 30))  # red on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    image = load_image(encoded(upright, "JPEG", exif=exif.tobytes(), quality=95))
    assert image.size == (30, 60)
    pixels = np.asarray(image).astype(int)
    assert pixels[2, 15, 0] > 200 and pixels[2, 15, 2] < 60  # red is now at the top
    assert pixels[57, 15, 2] > 200


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"this is a text file, not a painting\n", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image"),
    ],
)
def test_empty_and_non_image_bytes_are_refused(data, message):
    with pytest.raises(ImageError, match=message):
        load_image(data)


def test_a_truncated_jpeg_is_refused():
    data = encoded(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)), "JPEG")
    with pytest.raises(ImageError, match="truncated or corrupt"):
        load_image(data[: len(data) // 2])


def test_an_empty_file_and_a_missing_path_are_refused(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(empty)
    with pytest.raises(ImageError, match="no image file"):
        load_image(tmp_path / "missing.jpg")


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding():
    # 100 megapixels of 1-bit PNG is a few kilobytes on disk: a decompression bomb.
    bomb = encoded(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(bomb) < 100_000
    with pytest.raises(ImageError, match="too large"):
        load_image(bomb)
    assert MAX_PIXELS < 10_000 * 10_000


def test_an_image_beyond_pillows_own_bomb_limit_is_refused_cleanly():
    bomb = encoded(Image.new("1", (15_000, 15_000)), "PNG")
    with pytest.raises(ImageError, match="too many pixels"):
        load_image(bomb)


def test_the_pixel_limit_is_configurable():
    with pytest.raises(ImageError, match="too large"):
        load_image(solid((0, 0, 0), size=(100, 100)), max_pixels=5_000)


@pytest.mark.parametrize("size", [(7, 100), (100, 7), (1, 1)])
def test_images_smaller_than_eight_pixels_on_a_side_are_refused(size):
    with pytest.raises(ImageError, match="too small"):
        load_image(encoded(solid((0, 0, 0), size=size), "PNG"))


def test_pad_to_square_centres_the_image_without_distortion():
    wide = solid((255, 0, 0), size=(300, 100))
    square = pad_to_square(wide)
    assert square.size == (300, 300)
    assert content_box(wide.size) == (0, 100, 300, 200)
    pixels = np.asarray(square)
    assert tuple(pixels[50, 150]) == PAD_COLOR and tuple(pixels[250, 150]) == PAD_COLOR
    assert tuple(pixels[150, 150]) == (255, 0, 0)
    tall = solid((255, 0, 0), size=(50, 120))
    assert pad_to_square(tall).size == (120, 120) and content_box(tall.size) == (35, 0, 85, 120)


def test_square_image_keeps_the_aspect_ratio():
    image = square_image(solid((0, 255, 0), size=(400, 200)), 224)
    assert image.size == (224, 224)
    pixels = np.asarray(image)
    column = pixels[:, 112, 1]
    green_rows = np.flatnonzero(column > 200)
    assert green_rows.min() == 56 and green_rows.max() == 56 + 112 - 1


def test_to_array_gives_float_pixels_in_0_255():
    array = to_array(solid((255, 0, 7)))
    assert array.dtype == np.float32 and array.shape == (30, 40, 3)
    assert tuple(array[0, 0]) == (255.0, 0.0, 7.0)
