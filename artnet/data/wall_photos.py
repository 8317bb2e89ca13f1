"""Photos of a painting hanging on a museum wall, as a visitor's phone takes them: for measuring how ArtNet
answers for such a photo, which is what many users will give it rather than a clean file of the painting.

`photograph` draws one photo of a painting from a numpy Generator: the wall (a museum colour, plaster,
sometimes a skirting and floor), the frame (none, a thin plain one or a wide carved moulding), the
camera's angle, the gallery's light (a gradient, a spotlight, a warm cast, sometimes a glare on the
painting), sometimes a visitor's head and shoulders or a label beside it, and then what the phone adds
(blur, noise, sharpening, JPEG). `corners` says where the painting itself lies in the photo, so that a
measurement can also crop it out. `photographs` draws one photo per painting from a seed.

These photos are never training data. Training simulates photos its own, simpler way; a measurement on
these tells how the model does on photos unlike anything it was fitted to.
"""

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class WallPhoto:
    # The photo, RGB, as a phone saves it (already through JPEG).
    image: Image.Image
    # float32 (4, 2): the painting's own corners (x, y) in the photo, clockwise from the top left, inside
    # any frame; (0, 0) is the photo's top-left corner and (width, height) its bottom-right one.
    corners: np.ndarray


# A phone's sensor.
PHOTO_ASPECT = 4 / 3
# The painting's share of the photo's area (with its frame at most the largest): a photo of the painting,
# not of the room, nor a crop of it. A painting too long or tall to fill the smallest share of a 4:3
# photo gets less.
SMALLEST_SHARE, LARGEST_SHARE = 0.30, 0.80
# The framed painting stays this share of the photo's shorter side away from its edges.
MARGIN = 0.02
# How much larger than a painting seen head on one seen at an angle can be, measured by its bounding box.
PERSPECTIVE_ROOM = 1.3
# Degrees: a visitor stands a little to the side of a painting, and it often hangs above their eyes; the
# phone is held nearly level. LARGEST_ANGLE bounds the line of sight's angle to the wall's normal.
LARGEST_YAW, LARGEST_PITCH, LARGEST_ROLL, LARGEST_ANGLE = 15.0, 12.0, 3.0, 15.0
# A phone's main camera (about 26 mm equivalent) and a little zoom, in units of the photo's longer side.
FOCAL_LENGTHS = (0.75, 1.1)

# Museum walls (sRGB), each made a little lighter or darker per photo.
WALL_COLOURS = {
    "white": (240, 239, 234),
    "off-white": (232, 225, 208),
    "grey": (165, 165, 161),
    "dark green": (46, 72, 60),
    "deep red": (118, 34, 40),
    "navy": (34, 46, 76),
}
SKIRTING_COLOURS = ((236, 235, 230), (70, 66, 62), (120, 88, 60))
FLOOR_COLOURS = ((128, 90, 58), (150, 147, 140), (70, 62, 54))

# Steps across a moulding's width: finer than a pixel of the widest frame.
PROFILE_STEPS = 256


def _profile(points, heights):
    """A height per step across a moulding, for OpenCV's table look-up, from heights at some points."""
    return np.interp(np.linspace(0, 1, PROFILE_STEPS), points, heights).astype(np.float32)


# How a moulding rises and falls across its width (0 at the outer edge, 1 at the painting): the heights
# shade it like a bevel. The ornate one has a torus that carries eggs and a bead by the painting.
THIN_PROFILE = _profile((0.0, 0.15, 0.5, 0.85, 1.0), (0.0, 0.8, 1.0, 0.8, 0.35))
ORNATE_PROFILE = _profile(
    (0.0, 0.06, 0.18, 0.3, 0.42, 0.55, 0.7, 0.82, 0.88, 0.94, 1.0),
    (0.0, 0.55, 0.8, 0.95, 0.8, 0.45, 0.3, 0.28, 0.42, 0.3, 0.05),
)
EGG_BAND, BEAD_BAND = (0.3, 0.1), (0.88, 0.04)  # (centre, half width) across the moulding
# How deep the chisel marks are across an ornate moulding: on its carved bands, less in the hollow.
CARVING_BY_DEPTH = _profile((0.0, 0.45, 0.55, 0.8, 0.85, 1.0), (1.0, 1.0, 0.3, 0.3, 1.0, 1.0))
# (colour, specular strength) of each finish.
THIN_FINISHES = (
    ((22, 21, 20), 0.25),
    ((232, 230, 224), 0.1),
    ((78, 50, 32), 0.15),
    ((172, 132, 88), 0.15),
    ((178, 178, 174), 0.45),
    ((190, 148, 72), 0.5),
)
ORNATE_FINISHES = (((198, 156, 78), 0.55), ((168, 132, 68), 0.4), ((96, 60, 34), 0.2), ((28, 26, 24), 0.3))
# Gallery light comes from above and a little to the side; the half vector is for the specular highlights
# seen from the front. float32, as the images they shade: float64 scalars would make numpy compute in float64.
LIGHT = (np.array([-0.35, -0.6, 0.72]) / np.linalg.norm([-0.35, -0.6, 0.72])).astype(np.float32)
HALF_VECTOR = ((LIGHT + [0, 0, 1]) / np.linalg.norm(LIGHT + [0, 0, 1])).astype(np.float32)

# A spotlight's reflection, a little warm.
GLARE_COLOUR = np.array((255.0, 250.0, 238.0))
# A visitor in front of the painting hides at most this share of it.
LARGEST_HIDDEN_SHARE = 0.10
# Dark clothes and hair: seen against the light, a visitor is nearly a silhouette.
VISITOR_CLOTHES = ((28, 28, 30), (24, 28, 44), (44, 34, 28), (40, 40, 40), (26, 36, 30))
VISITOR_HAIR = ((22, 18, 16), (40, 30, 22), (30, 30, 30))
# Masks and light maps are drawn this many times smaller than the photo: they are smooth.
COARSE = 8
# The standard normal's quantiles at the middles of 256 equal steps: looked up by random bytes, a Gaussian
# sample per pixel many times faster than Generator.standard_normal.
GAUSSIAN_BY_BYTE = np.array([NormalDist().inv_cdf((k + 0.5) / 256) for k in range(256)], dtype=np.float32)
# The sensor noise's spread by brightness (0..255), relative: a phone's gain lifts the dark parts, and
# their noise with them.
NOISE_BY_BRIGHTNESS = (0.6 + 1.8 * (1 - np.arange(256, dtype=np.float32) / 255) ** 2).astype(np.float32)


@dataclass(frozen=True)
class _Frame:
    # Its width as a share of the painting's shorter side.
    width: float
    colour: np.ndarray
    # Its heights across its width, in PROFILE_STEPS steps from the outer edge to the painting.
    profile: np.ndarray
    # The moulding's depth as a share of its width.
    relief: float
    shine: float
    carved: bool
    # Of the eggs and beads along a carved moulding, as shares of its width.
    egg_period: float
    bead_period: float


@dataclass(frozen=True)
class _Layout:
    photo_size: tuple[int, int]
    painting_size: tuple[int, int]
    # The frame's width in pixels of the wall; 0 for none.
    border: int
    # Wall coordinates (the painting's top-left corner at 0, 0; about a pixel of the photo each) to the photo.
    wall_to_photo: np.ndarray


def photograph(painting: Image.Image, rng: np.random.Generator, longest_side: int = 1280) -> WallPhoto:
    """A photo of `painting` hanging on a wall, drawn at random from `rng`."""
    pixels = np.asarray(painting.convert("RGB"))
    frame = _draw_frame(rng)
    layout = _layout(pixels.shape[1] / pixels.shape[0], frame, rng, longest_side)
    width, height = layout.photo_size
    painting_width, painting_height = layout.painting_size
    corners = _transform([[0, 0], [painting_width, 0], [painting_width, painting_height], [0, painting_height]], layout)

    shape, origin = _canvas_extent(layout)
    outer = (-layout.border, -layout.border, painting_width + layout.border, painting_height + layout.border)
    label = _label_box(outer, layout, rng) if rng.random() < 0.35 else None
    canvas = _paint_wall(shape, origin, outer, label, rng)
    if rng.random() < 0.4:
        _paint_floor(canvas, origin, outer, rng)
    if frame is not None:
        _paint_frame(canvas, origin, outer, layout.border, frame, rng)
    _paint_painting(canvas, origin, pixels, layout, frame is not None, rng)
    if label is not None:
        _paint_label(canvas, origin, label, rng)

    photo = cv2.warpPerspective(
        canvas,
        _pixel_centre_transform(layout.wall_to_photo @ _translation(*origin)),
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    photo = _light(photo, layout, corners, rng)
    if rng.random() < 0.25:
        photo = _add_visitor(photo, corners, rng)
    photo = _phone(photo, rng)
    return WallPhoto(image=_jpeg(photo, int(rng.integers(70, 93))), corners=corners.astype(np.float32))


def photographs(paintings: Sequence[Image.Image], seed: int, longest_side: int = 1280) -> list[WallPhoto]:
    """One photo per painting; the same seed gives the same photos bit for bit.

    Each painting draws from a stream of its own, so a photo depends only on the seed, its painting and
    its place in the list, not on the paintings before it.
    """
    streams = np.random.SeedSequence(seed).spawn(len(paintings))
    return [
        photograph(painting, np.random.default_rng(stream), longest_side)
        for painting, stream in zip(paintings, streams)
    ]


# --- The scene's geometry ---


def _draw_frame(rng):
    kind = rng.choice(("none", "thin", "ornate"), p=(0.25, 0.35, 0.4))
    if kind == "none":
        return None
    carved = kind == "ornate"
    finishes = ORNATE_FINISHES if carved else THIN_FINISHES
    colour, shine = finishes[rng.integers(len(finishes))]
    return _Frame(
        width=rng.uniform(0.08, 0.16) if carved else rng.uniform(0.015, 0.04),
        colour=np.array(colour, np.float32) * rng.uniform(0.9, 1.1),
        profile=ORNATE_PROFILE if carved else THIN_PROFILE,
        relief=rng.uniform(0.25, 0.45) if carved else rng.uniform(0.15, 0.3),
        shine=shine,
        carved=carved,
        egg_period=rng.uniform(0.35, 0.55),
        bead_period=rng.uniform(0.12, 0.2),
    )


def _layout(aspect, frame, rng, longest_side):
    """Where the painting and its frame lie on the wall and how the camera sees the wall."""
    # In units of the painting's height.
    border = frame.width * min(aspect, 1.0) if frame else 0.0
    outer_width, outer_height = aspect + 2 * border, 1 + 2 * border
    outer_aspect = outer_width / outer_height
    short_side = round(longest_side / PHOTO_ASPECT)
    landscape, portrait = (longest_side, short_side), (short_side, longest_side)
    along, across = (landscape, portrait) if outer_aspect >= 1 else (portrait, landscape)

    def largest_height(photo_size):
        """The painting's largest height in a photo of `photo_size`, seen head on."""
        room = np.array(photo_size) - 2 * MARGIN * short_side
        return min(room[0] / outer_width, room[1] / outer_height)

    # Phones are turned to fit the painting, mostly; across it only where it would still fill enough of
    # the photo, seen at an angle.
    across_chance = 0.5 if 0.9 < outer_aspect < 1.1 else 0.15
    fits_across = aspect * largest_height(across) ** 2 >= PERSPECTIVE_ROOM * SMALLEST_SHARE * math.prod(across)
    width, height = across if rng.random() < across_chance and fits_across else along
    margin = MARGIN * short_side

    frame_to_painting = outer_width * outer_height / aspect
    share = rng.uniform(SMALLEST_SHARE, max(SMALLEST_SHARE, LARGEST_SHARE / frame_to_painting))
    painting_height = math.sqrt(share * width * height / aspect)
    # The wall is drawn at about the photo's scale, never much larger, whatever the painting's shape.
    painting_height = min(painting_height, largest_height((width, height)))
    painting_width = max(2, round(aspect * painting_height))
    painting_height = max(2, round(painting_height))
    border_pixels = max(1, round(frame.width * min(painting_width, painting_height))) if frame else 0

    outer = _rectangle(-border_pixels, -border_pixels, painting_width + border_pixels, painting_height + border_pixels)
    centre = np.array([painting_width / 2, painting_height / 2])
    seen = _camera_view(outer - centre, longest_side, rng)
    wall_to_seen = cv2.getPerspectiveTransform(outer.astype(np.float32), seen.astype(np.float32))
    inner_seen = cv2.perspectiveTransform(
        _rectangle(0, 0, painting_width, painting_height)[None].astype(np.float32), wall_to_seen
    )[0]
    # As large in the photo as drawn on the wall (rounding kept from taking it under the smallest share),
    # unless that would cross the photo's edges or the frame would fill more than the largest share.
    drawn_area = max(painting_width * painting_height, SMALLEST_SHARE * width * height)
    scale = math.sqrt(min(drawn_area / _polygon_area(inner_seen), LARGEST_SHARE * width * height / _polygon_area(seen)))
    extent = seen.max(axis=0) - seen.min(axis=0)
    scale = min(scale, (width - 2 * margin) / extent[0], (height - 2 * margin) / extent[1])
    low = margin - scale * seen.min(axis=0)
    high = np.array([width, height]) - margin - scale * seen.max(axis=0)
    # Nearer the middle than the edges, as a visitor aims.
    shift = low + (high - low) * rng.triangular(0, 0.5, 1, size=2)
    seen_to_photo = _translation(*shift) @ np.diag([scale, scale, 1.0])
    return _Layout((width, height), (painting_width, painting_height), border_pixels, seen_to_photo @ wall_to_seen)


def _camera_view(points, longest_side, rng):
    """Where a pinhole camera, turned by a random angle, sees flat points around the origin of the wall."""
    yaw, pitch = rng.uniform(-LARGEST_YAW, LARGEST_YAW), rng.uniform(-LARGEST_PITCH, LARGEST_PITCH)
    # Both at their largest would look at the wall more obliquely than LARGEST_ANGLE.
    excess = max(1.0, math.hypot(yaw, pitch) / LARGEST_ANGLE)
    yaw, pitch = math.radians(yaw / excess), math.radians(pitch / excess)
    roll = math.radians(rng.uniform(-LARGEST_ROLL, LARGEST_ROLL))
    turn_y = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    turn_x = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]])
    turn_z = np.array([[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]])
    focal = longest_side * rng.uniform(*FOCAL_LENGTHS)
    # At the focal length's distance the painting appears at about its drawn size.
    in_camera = np.column_stack([points, np.zeros(len(points))]) @ (turn_z @ turn_x @ turn_y).T + [0, 0, focal]
    return focal * in_camera[:, :2] / in_camera[:, 2:]


def _rectangle(left, top, right, bottom):
    """Its corners clockwise from the top left."""
    return np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float64)


def _polygon_area(points):
    x, y = np.asarray(points, np.float64).T
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _translation(x, y):
    return np.array([[1, 0, x], [0, 1, y], [0, 0, 1]], np.float64)


def _transform(points, layout, inverse=False):
    matrix = np.linalg.inv(layout.wall_to_photo) if inverse else layout.wall_to_photo
    return cv2.perspectiveTransform(np.asarray(points, np.float64)[None], matrix)[0]


def _pixel_centre_transform(matrix):
    """`matrix` between coordinates with (0, 0) at an image's corner, for OpenCV, which puts it at the
    first pixel's centre."""
    return _translation(-0.5, -0.5) @ matrix @ _translation(0.5, 0.5)


# --- The wall, drawn flat at about the photo's scale, then seen by the camera in one warp ---


def _canvas_extent(layout):
    """The shape of a canvas of the part of the wall that the photo sees, and the wall coordinates of its
    top-left corner."""
    width, height = layout.photo_size
    seen = _transform(_rectangle(0, 0, width, height), layout, inverse=True)
    # A pixel more on each side, so that the warp's interpolation never reaches past the canvas.
    left, top = np.floor(seen.min(axis=0)).astype(int) - 2
    right, bottom = np.ceil(seen.max(axis=0)).astype(int) + 2
    return (int(bottom - top), int(right - left)), (int(left), int(top))


def _coarse_noise(shape, cell, rng):
    """Smooth noise of unit spread with features about `cell` pixels across, at `shape`."""
    rows, columns = max(2, round(shape[0] / cell)), max(2, round(shape[1] / cell))
    coarse = rng.standard_normal((rows, columns), dtype=np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _paint_wall(shape, origin, outer, label, rng):
    colour = np.array(WALL_COLOURS[rng.choice(list(WALL_COLOURS))], np.float32) * rng.uniform(0.88, 1.08)
    # The plaster's broad unevenness and the frame's shadow are smooth: drawn coarse and enlarged once.
    coarse_shape = (shape[0] // COARSE + 1, shape[1] // COARSE + 1)
    coarse = 1 + rng.uniform(0.005, 0.02) * _coarse_noise(coarse_shape, 90 / COARSE, rng)
    coarse *= 1 - _drop_shadow(coarse_shape, origin, outer, label, rng)
    shade = cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    # The plaster's finer trowelled grain.
    cv2.scaleAdd(_coarse_noise(shape, 5, rng), rng.uniform(0.004, 0.012), shade, dst=shade)
    # Channel by channel with OpenCV's saturating conversion: several times faster than numpy's broadcast.
    return cv2.merge([cv2.convertScaleAbs(shade, alpha=float(value)) for value in colour])


def _drop_shadow(coarse_shape, origin, outer, label, rng):
    """The frame's (and the label's) soft shadow on the wall, cast by light from above, on the coarse grid."""
    frame_height = outer[3] - outer[1]
    offset = np.array([rng.uniform(-0.01, 0.02), rng.uniform(0.01, 0.03)]) * frame_height
    shadow = np.zeros(coarse_shape, np.float32)
    for box in [outer] + ([label] if label is not None else []):
        left, top = (np.array(box[:2]) - origin + offset) / COARSE
        right, bottom = (np.array(box[2:]) - origin + offset) / COARSE
        shadow[max(0, round(top)) : max(0, round(bottom)), max(0, round(left)) : max(0, round(right))] = 1
    blur = max(0.5, rng.uniform(0.01, 0.03) * frame_height / COARSE)
    return cv2.GaussianBlur(shadow, (0, 0), blur) * rng.uniform(0.15, 0.35)


def _paint_floor(canvas, origin, outer, rng):
    """A skirting and the floor below the painting, where the photo reaches that low."""
    frame_height = outer[3] - outer[1]
    floor = outer[3] + round(rng.uniform(0.1, 0.5) * frame_height) - origin[1]
    skirting = floor - max(2, round(rng.uniform(0.03, 0.07) * frame_height))
    if skirting >= canvas.shape[0]:
        return
    skirting_colour = SKIRTING_COLOURS[rng.integers(len(SKIRTING_COLOURS))]
    floor_colour = np.array(FLOOR_COLOURS[rng.integers(len(FLOOR_COLOURS))], np.float32)
    canvas[skirting:floor] = skirting_colour
    canvas[skirting : skirting + 1] = np.array(skirting_colour) * 0.8  # the skirting's top edge, in shadow
    if floor < canvas.shape[0]:
        rows = canvas.shape[0] - floor
        # Darker away from the wall, with the boards' grain running along it.
        fall_off = np.linspace(1.0, rng.uniform(0.6, 0.85), rows, dtype=np.float32)[:, None]
        grain = 1 + 0.05 * _coarse_noise((rows, 2), 6, rng)[:, :1]
        canvas[floor:] = np.clip((fall_off * grain)[..., None] * floor_colour, 0, 255).astype(np.uint8)


def _paint_frame(canvas, origin, outer, border, frame, rng):
    """The moulding, drawn as four strips that meet at mitred corners, shaded from its height."""
    left, top = outer[0] - origin[0], outer[1] - origin[1]
    width, height = outer[2] - outer[0], outer[3] - outer[1]
    # Carving marks and wear: an uneven height over the whole moulding, and a patina in its colour.
    carving = _coarse_noise((height + 4, width + 4), max(2.0, border / 16), rng) if frame.carved else None
    patina = _coarse_noise((height // COARSE + 2, width // COARSE + 2), 4, rng)
    strips = (
        (0, border, 0, width),
        (height - border, height, 0, width),
        (border, height - border, 0, border),
        (border, height - border, width - border, width),
    )
    for strip_top, strip_bottom, strip_left, strip_right in strips:
        if strip_bottom <= strip_top:
            continue
        diffuse, specular = _moulding(
            frame, border, (width, height), (strip_top, strip_bottom, strip_left, strip_right), carving
        )
        tint = cv2.resize(
            patina[strip_top // COARSE : strip_bottom // COARSE + 2, strip_left // COARSE : strip_right // COARSE + 2],
            (strip_right - strip_left, strip_bottom - strip_top),
        )
        diffuse *= 1 + 0.06 * tint
        # Channel by channel, saturating: much faster than numpy's broadcast and clip over three channels.
        canvas[top + strip_top : top + strip_bottom, left + strip_left : left + strip_right] = cv2.merge(
            [cv2.convertScaleAbs(cv2.scaleAdd(diffuse, float(value), specular)) for value in frame.colour]
        )


def _moulding(frame, border, size, strip, carving):
    """The light that the frame's surface reflects over one strip (top, bottom, left, right in the frame's
    pixels): its diffuse share, to multiply by the frame's colour, and its highlights (0..255)."""
    strip_top, strip_bottom, strip_left, strip_right = strip
    width, height = size
    # A pixel beyond the strip on each side, for the slopes at its edges.
    rows = np.arange(strip_top - 1, strip_bottom + 1, dtype=np.float32) + 0.5
    columns = np.arange(strip_left - 1, strip_right + 1, dtype=np.float32) + 0.5
    from_top_or_bottom = np.minimum(rows, height - rows)[:, None]
    from_sides = np.minimum(columns, width - columns)[None, :]
    across = np.clip(np.minimum(from_top_or_bottom, from_sides) / border, 0, 1)
    steps = cv2.convertScaleAbs(across, alpha=PROFILE_STEPS - 1)
    surface = cv2.LUT(steps, frame.profile)
    if frame.carved:
        along = np.where(from_top_or_bottom < from_sides, columns[None, :], rows[:, None]) / border
        surface += 0.3 * _domes(across, along, EGG_BAND, frame.egg_period, 0.38)
        surface += 0.12 * _domes(across, along, BEAD_BAND, frame.bead_period, 0.42)
        surface += (
            0.03
            * cv2.LUT(steps, CARVING_BY_DEPTH)
            * carving[strip_top + 1 : strip_bottom + 3, strip_left + 1 : strip_right + 3]
        )
    depth = surface * (frame.relief * border)
    slope_x = cv2.Sobel(depth, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    slope_y = cv2.Sobel(depth, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    normal_length = 1 / np.sqrt(slope_x * slope_x + slope_y * slope_y + 1)
    light_x, light_y, light_z = LIGHT
    half_x, half_y, half_z = HALF_VECTOR
    diffuse = np.clip((light_z - light_x * slope_x - light_y * slope_y) * normal_length, 0, 1)
    facing = np.clip((half_z - half_x * slope_x - half_y * slope_y) * normal_length, 0, 1)
    # Recesses catch less light and keep more dirt.
    diffuse = (0.3 + 0.75 * diffuse) * (0.55 + 0.45 * np.clip(surface, 0, 1))
    specular = cv2.pow(facing, 14) * (frame.shine * 255)
    return diffuse[1:-1, 1:-1], specular[1:-1, 1:-1]


def _domes(across, along, band, period, length):
    """Rounded bumps in a row along the moulding: eggs or beads, `period` apart, `length` of it long."""
    centre, half_width = band
    phase = (along / period) % 1 - 0.5
    return np.sqrt(np.clip(1 - (phase / length) ** 2 - ((across - centre) / half_width) ** 2, 0, 1))


def _paint_painting(canvas, origin, pixels, layout, framed, rng):
    width, height = layout.painting_size
    # Smooth when enlarging, as a photo of a small file would be; averaging when shrinking, without aliasing.
    enlarging = width > pixels.shape[1]
    resized = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_CUBIC if enlarging else cv2.INTER_AREA)
    if framed:
        # The frame's lip shades the painting's top edge.
        reach = max(1, round(rng.uniform(0.01, 0.03) * height))
        rows = min(height, 4 * reach)
        shade = 1 - rng.uniform(0.2, 0.45) * np.exp(-np.arange(rows, dtype=np.float32) / reach)
        resized = resized.copy()
        resized[:rows] = (resized[:rows] * shade[:, None, None]).astype(np.uint8)
    left, top = -origin[0], -origin[1]
    canvas[top : top + height, left : left + width] = resized


def _label_box(outer, layout, rng):
    """A museum label beside the frame, on the side where the photo shows it whole; None if neither does."""
    frame_width, frame_height = outer[2] - outer[0], outer[3] - outer[1]
    label_width = max(8, round(rng.uniform(0.12, 0.2) * max(frame_width, frame_height)))
    label_height = max(5, round(label_width * rng.uniform(0.55, 0.75)))
    gap = round(rng.uniform(0.04, 0.12) * frame_width)
    bottom = outer[3] - round(rng.uniform(0.0, 0.3) * frame_height)
    sides = [outer[2] + gap, outer[0] - gap - label_width]
    if rng.random() < 0.3:
        sides.reverse()
    width, height = layout.photo_size
    for left in sides:
        box = (left, bottom - label_height, left + label_width, bottom)
        seen = _transform(_rectangle(*box), layout)
        if seen.min() >= 0 and (seen[:, 0].max() <= width) and (seen[:, 1].max() <= height):
            return box
    return None


def _paint_label(canvas, origin, box, rng):
    """A white card with a title and a few lines of text-like dashes."""
    left, top, right, bottom = (box[0] - origin[0], box[1] - origin[1], box[2] - origin[0], box[3] - origin[1])
    width, height = right - left, bottom - top
    canvas[top:bottom, left:right] = np.array((236, 234, 227)) * rng.uniform(0.95, 1.02)
    ink = (30, 30, 32)
    margin = max(1, round(0.1 * width))
    line_top = top + max(1, round(0.12 * height))
    for line in range(int(rng.integers(3, 6))):
        thickness = max(1, round((0.09 if line == 0 else 0.055) * height))
        if line_top + thickness > bottom - margin // 2:
            break
        line_end = left + margin + round(rng.uniform(0.4, 0.85 if line else 0.7) * (width - 2 * margin))
        x = left + margin
        while x < line_end:
            word = max(1, round(rng.uniform(0.05, 0.18) * width))
            canvas[line_top : line_top + thickness, x : min(x + word, line_end)] = ink
            x += word + max(1, round(0.025 * width))
        line_top += thickness + max(1, round((0.1 if line == 0 else 0.06) * height))


# --- Light, a visitor and the phone, in the photo ---


def _coarse_grid(size):
    """The coordinates of the centres of a coarse grid over an image of `size`: (columns, rows) arrays."""
    width, height = size
    columns, rows = width // COARSE, height // COARSE
    return np.meshgrid(
        (np.arange(columns, dtype=np.float32) + 0.5) * width / columns,
        (np.arange(rows, dtype=np.float32) + 0.5) * height / rows,
    )


def _light(photo, layout, corners, rng):
    """The uint8 scene as float32 in the gallery's light: a gradient across the photo, sometimes a
    spotlight's pool on the wall, the phone's vignetting and exposure, a warm cast, and sometimes a glare
    off the painting's varnish."""
    width, height = layout.photo_size
    x, y = _coarse_grid(layout.photo_size)
    angle = rng.uniform(0, 2 * math.pi)
    light = 1 + rng.uniform(0.05, 0.25) * ((x / width - 0.5) * math.cos(angle) + (y / height - 0.5) * math.sin(angle))
    if rng.random() < 0.5:
        wall = cv2.perspectiveTransform(
            np.stack([x, y], axis=-1).reshape(1, -1, 2).astype(np.float64), np.linalg.inv(layout.wall_to_photo)
        )[0].reshape(*x.shape, 2)
        painting_width, painting_height = layout.painting_size
        centre = np.array([rng.uniform(0.3, 0.7) * painting_width, rng.uniform(0.2, 0.5) * painting_height])
        reach = np.array([painting_width, painting_height]) * rng.uniform(0.7, 1.2)
        pool = np.exp(-0.5 * (((wall - centre) / reach) ** 2).sum(axis=-1))
        strength = rng.uniform(0.3, 0.6)
        light *= 1 - strength + strength * pool
    light *= 1 - rng.uniform(0.1, 0.3) * (((x - width / 2) / width) ** 2 + ((y - height / 2) / height) ** 2) * 2
    # The phone brightens a dark scene towards a middle grey, partly.
    small = cv2.resize(photo, (x.shape[1], x.shape[0]), interpolation=cv2.INTER_AREA)
    brightness = float((small.mean(axis=-1) * light).mean())
    light *= np.clip((118 / max(brightness, 1.0)) ** 0.5, 0.85, 1.6) * rng.uniform(0.92, 1.08)

    warmth = rng.uniform(-0.3, 1.0)
    cast = np.array([1 + 0.07 * warmth, 1 + rng.uniform(-0.02, 0.02), 1 - 0.12 * warmth], np.float32)
    # Three channels at the coarse grid's size, enlarged once, and OpenCV's arithmetic in place: numpy's
    # broadcasts and fresh full-size arrays would cost several times more.
    lit = cv2.resize((light[..., None] * cast).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    cv2.multiply(photo, lit, dst=lit, dtype=cv2.CV_32F)
    if rng.random() < 0.35:
        _add_glare(lit, corners, rng)
    return lit


def _add_glare(photo, corners, rng):
    """A soft specular spot somewhere on the painting, nothing off it."""
    left, top = np.floor(corners.min(axis=0)).astype(int)
    right, bottom = np.ceil(corners.max(axis=0)).astype(int)
    x, y = _coarse_grid((right - left, bottom - top))
    centre = rng.dirichlet(np.ones(4)) @ (corners - [left, top])
    size = math.sqrt(_polygon_area(corners)) * rng.uniform(0.06, 0.18)
    stretch, angle = rng.uniform(1.0, 2.5), rng.uniform(0, math.pi)
    along = (x - centre[0]) * math.cos(angle) + (y - centre[1]) * math.sin(angle)
    across = -(x - centre[0]) * math.sin(angle) + (y - centre[1]) * math.cos(angle)
    spot = rng.uniform(0.1, 0.3) * np.exp(-0.5 * ((along / (size * stretch)) ** 2 + (across / size) ** 2))
    glare = cv2.resize((spot[..., None] * GLARE_COLOUR).astype(np.float32), (right - left, bottom - top))
    # Only on the painting: its quad, anti-aliased.
    on_painting = np.zeros((bottom - top, right - left, 3), np.uint8)
    quad = np.round((corners - [left, top]) * 16).astype(np.int32)
    cv2.fillConvexPoly(on_painting, quad, (255, 255, 255), cv2.LINE_AA, shift=4)
    photo[top:bottom, left:right] += cv2.multiply(glare, on_painting, scale=1 / 255, dtype=cv2.CV_32F)


def _add_visitor(photo, corners, rng):
    """A visitor's head and shoulders from behind, near the camera and out of focus, to one side of the
    painting's middle, hiding at most LARGEST_HIDDEN_SHARE of it."""
    height, width = photo.shape[:2]
    small_size = (width // COARSE * 2, height // COARSE * 2)  # a quarter of the photo's side
    to_small = small_size[0] / width
    painting = np.zeros(small_size[::-1], np.uint8)
    cv2.fillConvexPoly(painting, np.round(corners * to_small).astype(np.int32), 1)
    painting_area = max(1, int(painting.sum()))

    side = 1 if rng.random() < 0.5 else -1
    head = rng.uniform(0.07, 0.11) * height
    shoulders = rng.uniform(1.8, 2.3) * head
    shoulders_top = height - rng.uniform(0.8, 1.8) * head
    tilt = rng.uniform(-8, 8)
    middle = corners[:, 0].mean()
    edge = corners[:, 0].max() if side > 0 else corners[:, 0].min()
    x = middle + side * shoulders + rng.uniform(0.0, 0.6) * (edge - middle)
    while True:
        body, hair = _visitor_masks(
            small_size, (x * to_small, shoulders_top * to_small), head * to_small, shoulders * to_small, tilt
        )
        if int(((body | hair) & painting).sum()) <= LARGEST_HIDDEN_SHARE * painting_area:
            break
        x += side * 0.02 * width

    blur = max(0.5, rng.uniform(0.002, 0.008) * height * to_small)
    clothes = np.array(VISITOR_CLOTHES[rng.integers(len(VISITOR_CLOTHES))], np.float32) * rng.uniform(0.7, 1.3)
    hair_colour = np.array(VISITOR_HAIR[rng.integers(len(VISITOR_HAIR))], np.float32) * rng.uniform(0.7, 1.3)
    for mask, colour in ((body, clothes), (hair, hair_colour)):
        cover = cv2.resize(
            cv2.GaussianBlur(mask.astype(np.float32), (0, 0), blur), (width, height), interpolation=cv2.INTER_LINEAR
        )
        # Only where the visitor is: a small part of the photo.
        rows, columns = np.flatnonzero(cover.any(axis=1)), np.flatnonzero(cover.any(axis=0))
        if len(rows) == 0:
            continue
        region = np.s_[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
        part = cover[region][..., None]
        photo[region] = photo[region] * (1 - part) + colour * part
    return photo


def _visitor_masks(size, shoulders_middle, head, shoulders, tilt):
    """The body (shoulders and neck) and the hair of a visitor, as uint8 masks of `size`."""
    body = np.zeros(size[::-1], np.uint8)
    hair = np.zeros(size[::-1], np.uint8)
    x, top = shoulders_middle
    # Rounded shoulders over a straight body down to the photo's bottom edge.
    cv2.ellipse(body, (round(x), round(top + 0.7 * head)), (round(shoulders), round(0.7 * head)), 0, 180, 360, 1, -1)
    cv2.rectangle(body, (round(x - shoulders), round(top + 0.7 * head)), (round(x + shoulders), size[1]), 1, -1)
    neck = [
        (x - 0.35 * head, top - 0.6 * head),
        (x + 0.35 * head, top - 0.6 * head),
        (x + 1.1 * head, top + 0.3 * head),
        (x - 1.1 * head, top + 0.3 * head),
    ]
    cv2.fillConvexPoly(body, np.round(np.array(neck)).astype(np.int32), 1)
    cv2.ellipse(hair, (round(x), round(top - 0.95 * head)), (round(0.75 * head), round(head)), tilt, 0, 360, 1, -1)
    return body, hair


def _phone(photo, rng):
    """What the phone adds: sometimes focus or motion blur, noise (stronger in the dark), sometimes sharpening."""
    if rng.random() < 0.3:
        scale = max(photo.shape[:2]) / 1280
        if rng.random() < 0.6:
            photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.6, 1.6) * scale)
        else:
            length = max(2, round(rng.uniform(3, 9) * scale))
            kernel = np.zeros((length, length), np.float32)
            kernel[length // 2] = 1 / length
            turn = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1.0)
            kernel = cv2.warpAffine(kernel, turn, (length, length))
            photo = cv2.filter2D(photo, -1, kernel / kernel.sum())
    height, width = photo.shape[:2]
    level = rng.uniform(1.5, 5.0)
    brightness = cv2.convertScaleAbs(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY))
    grain = cv2.LUT(_random_bytes(rng, (height, width)), GAUSSIAN_BY_BYTE)
    cv2.multiply(grain, cv2.LUT(brightness, NOISE_BY_BRIGHTNESS * level), dst=grain)
    # Grain in the brightness only: a phone's denoiser removes the colour noise.
    cv2.add(photo, cv2.merge([grain, grain, grain]), dst=photo)
    if rng.random() < 0.5:
        amount = rng.uniform(0.3, 1.0)
        blurred = cv2.GaussianBlur(photo, (5, 5), rng.uniform(0.8, 1.6))
        cv2.addWeighted(photo, 1 + amount, blurred, -amount, 0, dst=photo)
    return photo


def _random_bytes(rng, shape):
    return np.frombuffer(rng.bytes(math.prod(shape)), np.uint8).reshape(shape)


def _jpeg(photo, quality):
    encoded = io.BytesIO()
    Image.fromarray(np.clip(photo, 0, 255, out=photo).astype(np.uint8)).save(encoded, format="JPEG", quality=quality)
    image = Image.open(encoded)
    image.load()
    return image
