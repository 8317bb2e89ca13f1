"""Finding the painting in a photo of it, so that the classifier sees the painting and not the wall around it.

A visitor's phone photo shows a painting hanging on a wall, in a frame or not, seen a little from the side.
`find_painting` looks for it as a large convex quadrilateral whose four sides are edges in the photo (the
painting's edge against the wall, or its frame's) and warps it flat. When a frame is clearly there, the
painting inside it is returned (inside a ring that is plain, or about as wide on every side as a carved
frame is, or found again among the strongest edges alone); when its inner edge cannot be told, the frame's
outer edge is.

Most images are not photos of a wall but the painting itself (a scan, a download), and those must be left
whole. A painting is full of rectangles of its own (a Mondrian's cells, a window in an interior, a Rothko's
colour fields), so a quadrilateral counts as a painting on a wall only when what lies just outside each of
its sides looks like a wall: plain, much plainer than its inside, and not cut off by the image's border. One
side's band may be busy in part (a visitor, a label, the floor), unless the quadrilateral is an upright
rectangle, as a painting's own rectangles are, and a photo's painting seen at an angle is not. A
download's plain margin is plain too; it is told from a wall by its flatness, where a photo's wall shows
light falling off across it and noise: an image whose own border is one flat colour is left whole, and so
is an upright rectangle in a flat band.

The search runs on a copy downscaled first, so its cost does not grow with the photo's size; only the warp,
done from the full-resolution photo, grows with the size of the painting in it.
"""

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# The longest side of the copy searched: enough to place a painting's corners within a fraction of a
# percent of the photo's diagonal, small enough to search in milliseconds.
WORKING_SIDE = 512
# Below this, an image cannot show both a painting and the wall around it.
SMALLEST_SIDE = 32
# The painting's share of the photo: a visitor frames it with some wall around, so it is neither a
# detail of the photo nor the whole of it.
MIN_AREA, MAX_AREA = 0.15, 0.95
# A painting seen up to about 15 degrees from the side, or tilted in the hand, keeps corners this close to
# right angles; a painted shape's hull rarely does.
MAX_CORNER_DEVIATION = 35
# The smallest share of each side that lies on an edge of the photo: a painting's sides are straight edges
# along their whole length, a hull drawn around a figure is not.
MIN_SIDE_ON_EDGE = 0.4
# How far from a side of the hull's quadrilateral the edge pixels fitted to it may lie, as a share of the
# working copy's diagonal.
SIDE_REACH = 0.01
# The painting is not cut by the photo's border: a quadrilateral touching it is the image's own edge.
MIN_MARGIN = 0.01
# The wall just outside each side of the painting is plain: its mean gradient magnitude (the Sobel
# operator's, on the blurred grey working copy) is below WALL_ENERGY and below WALL_CONTRAST times the mean
# inside. A wall's texture and a camera's noise stay below; a painting's detail does not.
WALL_ENERGY = 8.0
WALL_CONTRAST = 0.35
# The band outside a quadrilateral that is taken for the wall, and the strip along its sides that is left
# out of both sides' measures (the edge itself, blurred), as shares of the working copy's diagonal.
WALL_BAND = 0.06
EDGE_STRIP = 0.015
# How far a blurred edge spreads its gradient, in working pixels: left out of a frame's measure. A frame
# (or a mount) is plain next to the painting, as the wall is: the painting inside it is returned.
EDGE_WIDTH = 4
# A scan's or a download's margin, told from a wall in a photo, which shows light falling off across it and
# noise: the image's own border (its outer IMAGE_BORDER of the diagonal) spans fewer than FLAT_BORDER grey
# levels, or the quadrilateral is an upright rectangle (every side within UPRIGHT degrees of the image's
# axes) in a band that spans fewer than FLAT_MARGIN. A photo taken head-on of a wall lit evenly is left
# whole too: the classifier then sees the wall as well, as it would without a finder.
IMAGE_BORDER = 0.01
FLAT_BORDER = 8
UPRIGHT = 1.5
FLAT_MARGIN = 20
# A wall is plain on at least three sides of a painting seen at an angle: a visitor, a label or the floor
# can fill part of the band along the fourth (less than half of it: its median stays plain). An upright
# rectangle, as a painting's own are, gets no such leeway.
MOST_BUSY_SIDES = 1
# A frame's width on its narrowest side is at least this share of its width on its widest, seen from up
# to about 15 degrees aside.
EVEN_RING = 0.6
# A frame's inner edge, the painting, covers at least this share of the frame's outer edge.
MIN_SHARE_IN_FRAME = 0.5
# Canny's thresholds on the blurred working copy's colour gradient (the larger of its channels'): a
# painting can differ from its wall in hue alone. Edges of a few grey levels (a wall's texture, noise)
# stay below them.
BLUR_SIGMA = 1.2
CANNY_LOW, CANNY_HIGH = 30, 90
# Inside a frame whose inner edge is not found, the painting's edge is looked for again at thresholds this
# many times higher, at which a carved frame's relief falls away.
STRONG_EDGES = 3


@dataclass(frozen=True)
class FoundPainting:
    """The painting found in a photo: its corners in the photo and the painting warped flat."""

    corners: np.ndarray  # float32 (4, 2): (x, y) in the photo's pixels, clockwise from top left
    # The painting warped flat, RGB, at about the resolution it has in the photo, its aspect ratio from the
    # quadrilateral's side lengths.
    image: Image.Image


def find_painting(image: Image.Image) -> FoundPainting | None:
    """The painting in a photo of it, or None when the image is already just a painting (or no painting is found)."""
    if min(image.size) < SMALLEST_SIDE:
        return None
    small = _working_copy(image)
    quad = _find_quad(small)
    if quad is None:
        return None
    # Pixel centres of the working copy mapped onto those of the photo.
    scale = np.float32([image.width / small.shape[1], image.height / small.shape[0]])
    corners = ((quad + 0.5) * scale - 0.5).astype(np.float32)
    return FoundPainting(corners, _warped_flat(image, corners))


def _working_copy(image):
    """`image` as an RGB array at most WORKING_SIDE long. Sampling every few pixels to twice that size, then
    averaging each 2 x 2 block, costs about a millisecond on a 12-megapixel photo; averaging over all its
    pixels (or just converting them for OpenCV) costs many times more, for edges that look the same."""
    width, height = image.size
    scale = WORKING_SIDE / max(width, height)
    size = max(1, round(width * scale)), max(1, round(height * scale))
    if scale < 0.5:
        image = image.resize((2 * size[0], 2 * size[1]), Image.Resampling.NEAREST)
    pixels = np.asarray(_rgb(image))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA) if scale < 1 else pixels


def _rgb(image):
    """`image` in RGB, converted as Pillow converts it: the app hands over what `load_image` made, RGB already."""
    if image.mode == "La":
        # Premultiplied alpha: Pillow converts it to plain LA and to nothing else.
        image = image.convert("LA")
    return image if image.mode == "RGB" else image.convert("RGB")


@dataclass
class _Candidate:
    quad: np.ndarray  # float32 (4, 2), clockwise from top left, in the working copy's pixels
    area: float  # as a share of the working copy


def _find_quad(small):
    """The painting's corners in the working copy, or None."""
    if _has_a_flat_border(small):
        return None
    blurred = cv2.GaussianBlur(small, (0, 0), BLUR_SIGMA)
    thin_edges = cv2.Canny(blurred, CANNY_LOW, CANNY_HIGH, L2gradient=True)
    edges = cv2.dilate(thin_edges, np.ones((3, 3), np.uint8))
    edge_points = np.column_stack(np.nonzero(thin_edges)[::-1]).astype(np.float32)
    gray = cv2.cvtColor(blurred, cv2.COLOR_RGB2GRAY)
    energy = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    shaped = [
        candidate for candidate in _quadrilaterals(edges, edge_points) if _is_shaped_like_a_painting(candidate, edges)
    ]
    on_a_wall = [candidate for candidate in shaped if _hangs_on_a_wall(candidate, energy, small)]
    if not on_a_wall:
        return None
    outermost = painting = max(on_a_wall, key=lambda candidate: candidate.area)
    # Inward from the frame's outer edge, past each plain ring (the frame, a mount) to the painting.
    for candidate in sorted(shaped, key=lambda candidate: candidate.area, reverse=True):
        if (
            MIN_SHARE_IN_FRAME * outermost.area <= candidate.area < painting.area
            and _lies_within(candidate.quad, painting.quad)
            and (_is_plain_ring(painting.quad, candidate.quad, energy) or _is_even_ring(painting.quad, candidate.quad))
        ):
            painting = candidate
    if painting is outermost:
        painting = _inside_a_carved_frame(outermost, blurred) or painting
    return painting.quad


def _inside_a_carved_frame(frame, blurred):
    """The painting inside `frame` told by its strongest edges alone, or None. A carved frame's relief joins
    its edges into one run with the painting's, whose hull is the frame's; the painting's edge against the
    frame is sharper than the carving's, and stands alone at thresholds STRONG_EDGES times higher."""
    strong = cv2.Canny(blurred, STRONG_EDGES * CANNY_LOW, STRONG_EDGES * CANNY_HIGH, L2gradient=True)
    strong = strong * _shrunk(_filled(frame.quad, strong.shape), EDGE_WIDTH)
    edges = cv2.dilate(strong, np.ones((3, 3), np.uint8))
    edge_points = np.column_stack(np.nonzero(strong)[::-1]).astype(np.float32)
    for candidate in sorted(_quadrilaterals(edges, edge_points), key=lambda candidate: candidate.area, reverse=True):
        if (
            MIN_SHARE_IN_FRAME * frame.area <= candidate.area < frame.area
            and _is_shaped_like_a_painting(candidate, edges)
            and _lies_within(candidate.quad, frame.quad)
            and _is_even_ring(frame.quad, candidate.quad)
        ):
            return candidate
    return None


def _quadrilaterals(edges, edge_points):
    """Every large quadrilateral with corners near right angles that the convex hull of a connected run of
    edges approximates, fitted to the edges. The hulls of small runs are left out before approximating."""
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    image_area = edges.shape[0] * edges.shape[1]
    for contour in contours:
        hull = cv2.convexHull(contour)
        area = cv2.contourArea(hull) / image_area
        if not MIN_AREA <= area <= MAX_AREA:
            continue
        perimeter = cv2.arcLength(hull, True)
        # The loosest approximation that still has four corners: rounded or clipped corners give a hull more.
        for tolerance in (0.01, 0.02, 0.03, 0.05, 0.08):
            approximation = cv2.approxPolyDP(hull, tolerance * perimeter, True)
            if len(approximation) <= 4:
                break
        if len(approximation) == 4:
            quad = _clockwise_from_top_left(approximation.reshape(4, 2).astype(np.float32))
            if np.abs(_corner_angles(quad) - 90).max() <= MAX_CORNER_DEVIATION:
                quad = _fitted_to_edges(quad, edge_points, SIDE_REACH * np.hypot(*edges.shape))
                yield _Candidate(quad, cv2.contourArea(quad) / image_area)


def _fitted_to_edges(quad, edge_points, reach):
    """`quad` with each side moved onto the line that best fits the edge pixels along it. The hull's
    approximation can cut a rounded corner or ride on a bump; the painting's straight edges place it exactly."""
    lines = []
    for start, end in zip(quad, np.roll(quad, -1, axis=0)):
        length = np.linalg.norm(end - start)
        along = (end - start) / length
        offsets = edge_points - start
        position = offsets @ along / length
        distance = np.abs(offsets @ np.float32([-along[1], along[0]]))
        # The middle of the side: near the corners, the other side's pixels would pull the line.
        near = edge_points[(distance <= reach) & (position > 0.1) & (position < 0.9)]
        if len(near) >= 2:
            direction_x, direction_y, x, y = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
            lines.append((np.float32([x, y]), np.float32([direction_x, direction_y])))
        else:
            lines.append((start, along))
    corners = []
    for (point_a, direction_a), (point_b, direction_b) in zip(lines[-1:] + lines[:-1], lines):
        # point_a + s * direction_a == point_b + t * direction_b
        matrix = np.column_stack([direction_a, -direction_b]).astype(np.float64)
        if abs(np.linalg.det(matrix)) < 1e-6:
            return quad
        s, _ = np.linalg.solve(matrix, (point_b - point_a).astype(np.float64))
        corners.append(point_a + s * direction_a)
    return np.float32(corners)


def _clockwise_from_top_left(points):
    centre = points.mean(axis=0)
    # Image y points down, so increasing angle is clockwise on screen.
    points = points[np.argsort(np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0]))]
    return np.roll(points, -int(np.argmin(points.sum(axis=1))), axis=0)


def _is_shaped_like_a_painting(candidate, edges):
    quad = candidate.quad
    height, width = edges.shape
    margin = min(quad[:, 0].min() / width, quad[:, 1].min() / height)
    margin = min(margin, 1 - quad[:, 0].max() / width, 1 - quad[:, 1].max() / height)
    return (
        MIN_AREA <= candidate.area <= MAX_AREA
        and margin >= MIN_MARGIN
        and cv2.isContourConvex(quad)
        and np.abs(_corner_angles(quad) - 90).max() <= MAX_CORNER_DEVIATION
        and min(_share_on_edge(quad[i], quad[(i + 1) % 4], edges) for i in range(4)) >= MIN_SIDE_ON_EDGE
    )


def _corner_angles(quad):
    before, after = np.roll(quad, 1, axis=0) - quad, np.roll(quad, -1, axis=0) - quad
    cosines = (before * after).sum(axis=1) / (np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1))
    return np.degrees(np.arccos(np.clip(cosines, -1, 1)))


def _share_on_edge(start, end, edges):
    steps = max(2, int(np.linalg.norm(end - start)))
    points = np.rint(np.linspace(start, end, steps)).astype(int)
    points = np.clip(points, 0, [edges.shape[1] - 1, edges.shape[0] - 1])
    return float(np.mean(edges[points[:, 1], points[:, 0]] > 0))


def _hangs_on_a_wall(candidate, energy, small):
    """Whether the band just outside each side of the quadrilateral looks like a wall around a painting:
    plain, much plainer than the inside, and not a scan's flat margin around an upright rectangle. Each
    side on its own: a painting's own line that closes a rectangle with the image's border has the painting
    outside it. One side of a quadrilateral seen at an angle may be busy in part (MOST_BUSY_SIDES)."""
    diagonal = np.hypot(*energy.shape)
    strip, band = EDGE_STRIP * diagonal, (EDGE_STRIP + WALL_BAND) * diagonal
    inside = _shrunk(_filled(candidate.quad, energy.shape), max(1, round(strip)))
    if not inside.any():
        return False
    most_energy = min(WALL_ENERGY, WALL_CONTRAST * float(energy[inside].mean()))
    centre = candidate.quad.mean(axis=0)
    wall = np.zeros(energy.shape, bool)
    busy = 0
    for start, end in zip(candidate.quad, np.roll(candidate.quad, -1, axis=0)):
        normal = np.float32([end[1] - start[1], start[0] - end[0]]) / np.linalg.norm(end - start)
        if np.dot(normal, (start + end) / 2 - centre) < 0:
            normal = -normal
        side = (
            _filled(
                np.float32([start + strip * normal, end + strip * normal, end + band * normal, start + band * normal]),
                energy.shape,
            )
            > 0
        )
        # A side too close to the photo's border to show any wall tells nothing either way.
        if side.any() and float(energy[side].mean()) >= most_energy:
            # Busy, but only in part, as a visitor or a label beside the painting is: not a painting's own
            # detail beyond a line across it.
            if float(np.median(energy[side])) >= most_energy:
                return False
            busy += 1
        else:
            wall |= side
    upright = _is_upright(candidate.quad)
    if busy > (0 if upright else MOST_BUSY_SIDES) or not wall.any():
        return False
    return not (upright and _spread(small[wall]) < FLAT_MARGIN)


def _has_a_flat_border(small):
    """Whether the image's own border is one flat colour: a download's margin, never a photo's wall."""
    width = max(1, round(IMAGE_BORDER * np.hypot(*small.shape[:2])))
    border = [small[:width], small[-width:], small[:, :width], small[:, -width:]]
    return _spread(np.concatenate([part.reshape(-1, 3) for part in border])) < FLAT_BORDER


def _spread(colours):
    """How many levels (of 256) the colours span in the channel where they span most, leaving out the
    brightest and darkest 5 % (JPEG's ringing, a speck of dust)."""
    return float((np.percentile(colours, 95, axis=0) - np.percentile(colours, 5, axis=0)).max())


def _is_plain_ring(outer, inner, energy):
    """Whether the ring between two nested quadrilaterals is plain like a frame or a mount around a
    painting; a ring too thin to measure counts, as it makes no difference which of the two is returned."""
    ring = _shrunk(_filled(outer, energy.shape), EDGE_WIDTH) & ~_grown(_filled(inner, energy.shape), EDGE_WIDTH)
    inside = _shrunk(_filled(inner, energy.shape), EDGE_WIDTH)
    return not ring.any() or (
        inside.any() and float(energy[ring].mean()) < WALL_CONTRAST * float(energy[inside].mean())
    )


def _is_even_ring(outer, inner):
    """Whether the ring between two nested quadrilaterals is about as wide on every side, as a frame is
    (a carved one is not plain, but its moulding runs the same all round); a painting's own rectangle
    rarely lies at the same distance from all four of its edges."""
    widths = []
    for i in range(4):
        start, end = outer[i], outer[(i + 1) % 4]
        along = (end - start) / np.linalg.norm(end - start)
        middle = (inner[i] + inner[(i + 1) % 4]) / 2 - start
        widths.append(abs(float(middle[0] * along[1] - middle[1] * along[0])))
    return min(widths) >= EVEN_RING * max(widths)


def _filled(quad, shape):
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.rint(quad).astype(np.int32), 255)
    return mask


def _grown(mask, radius):
    return cv2.dilate(mask, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)) > 0


def _shrunk(mask, radius):
    return cv2.erode(mask, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)) > 0


def _is_upright(quad):
    sides = np.roll(quad, -1, axis=0) - quad
    angles = np.degrees(np.arctan2(sides[:, 1], sides[:, 0])) % 90
    return bool(np.minimum(angles, 90 - angles).max() < UPRIGHT)


def _lies_within(inner, outer):
    return all(cv2.pointPolygonTest(outer, (float(x), float(y)), False) >= 0 for x, y in inner)


def _warped_flat(image, corners):
    """The quadrilateral `corners` of `image` warped to a rectangle whose sides are the mean lengths of its
    opposite sides: the painting's aspect ratio, at the resolution the photo has of it."""
    top, right, bottom, left = np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)
    size = max(1, round((top + bottom) / 2)), max(1, round((left + right) / 2))
    # Only the painting's bounding box is converted for OpenCV: converting a whole 12-megapixel photo
    # costs more than the warp.
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 1, image.size)
    box = image.crop((int(x0), int(y0), int(x1), int(y1)))
    pixels = np.asarray(_rgb(box))
    flat = np.float32([[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]])
    matrix = cv2.getPerspectiveTransform(corners - np.float32([x0, y0]), flat)
    return Image.fromarray(
        cv2.warpPerspective(pixels, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    )
