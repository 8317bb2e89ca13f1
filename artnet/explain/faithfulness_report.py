"""What a faithfulness Measurement (artnet.explain.faithfulness) says: the summary that metrics.json keeps,
the most faithful view, the Markdown table of the model card and the command, and a plot of a few
paintings' curves. NumPy and matplotlib; no TensorFlow."""

import numpy as np

from artnet.explain.faithfulness import BLUR_FRACTION, CENTRE, RANDOM, area
from artnet.explain.overlay import upsample_map


def summarise(measurement, depths):
    """metrics.json's record of a Measurement: per method and layer, the mean deletion and insertion areas
    and how often they beat the random map and the centre blob on the same painting; the baselines' areas;
    and the most faithful view. `depths` names each layer's depth (layer -> "early", ...)."""
    views, keys = measurement.views, measurement.views.keys
    deletion, insertion = area(measurement.deletion), area(measurement.insertion)
    column = {key: number for number, key in enumerate(keys)}
    centre = column[CENTRE, None]

    def share(values):
        return round(float(np.mean(values)), 4) if len(values) else None

    methods = {}
    for method, layer in keys[: len(views.methods) * len(views.layers)]:
        here, random = column[method, layer], column[RANDOM, layer]
        methods.setdefault(method, {})[layer] = {
            "depth": depths.get(layer, layer),
            "deletion": share(deletion[:, here]),
            "insertion": share(insertion[:, here]),
            "deletion_beats_random": share(deletion[:, here] < deletion[:, random]),
            "insertion_beats_random": share(insertion[:, here] > insertion[:, random]),
            "deletion_beats_centre": share(deletion[:, here] < deletion[:, centre]),
            "insertion_beats_centre": share(insertion[:, here] > insertion[:, centre]),
        }
    summary = {
        "paintings": len(measurement.paintings),
        "left_out_without_maps": measurement.left_out,
        "steps": measurement.deletion.shape[-1] - 1,
        "removed_pixels_show": f"a Gaussian blur of the painting (sigma {BLUR_FRACTION:.3f} of its side)",
        "seconds": measurement.seconds,
        "methods": methods,
        "random": {
            layer: {
                "deletion": share(deletion[:, column[RANDOM, layer]]),
                "insertion": share(insertion[:, column[RANDOM, layer]]),
            }
            for layer in views.layers
        },
        "centre": {"deletion": share(deletion[:, centre]), "insertion": share(insertion[:, centre])},
    }
    if len(measurement.paintings):
        summary["most_faithful"] = most_faithful(methods)
    return summary


def most_faithful(methods):
    """The (method, layer) that beats the random map most reliably: the higher of its two shares (deletion
    and insertion) at the lower; ties go to the larger gap between insertion and deletion areas."""

    def score(item):
        (_, _), row = item
        return min(row["deletion_beats_random"], row["insertion_beats_random"]), row["insertion"] - row["deletion"]

    (method, layer), row = max(
        (((method, layer), row) for method, layers in methods.items() for layer, row in layers.items()), key=score
    )
    return {"method": method, "layer": layer, "depth": row["depth"]}


def table_lines(summary):
    """The summary as a Markdown table: one row per method and depth, and the baselines. A value missing
    from the summary (an incomplete metrics.json) shows as n/a."""
    lines = [
        "| method | depth | deletion ↓ | insertion ↑ | deletion beats random | insertion beats random "
        "| beats the centre blob (del. / ins.) |",
        "|---|---|---|---|---|---|---|",
    ]
    best = summary.get("most_faithful") or {}
    depths = {}
    for method, layers in (summary.get("methods") or {}).items():
        for layer, row in layers.items():
            depths[layer] = row.get("depth", layer)
            star = " ★" if (method, layer) == (best.get("method"), best.get("layer")) else ""
            noise = "" if _beats_random(row) else " (noise)"
            lines.append(
                f"| {method}{star} | {depths[layer]}{noise} | {_value(row, 'deletion', '.3f')} "
                f"| {_value(row, 'insertion', '.3f')} | {_value(row, 'deletion_beats_random', '.0%')} "
                f"| {_value(row, 'insertion_beats_random', '.0%')} | {_value(row, 'deletion_beats_centre', '.0%')}"
                f" / {_value(row, 'insertion_beats_centre', '.0%')} |"
            )
    for layer, row in (summary.get("random") or {}).items():
        lines.append(
            f"| {RANDOM} | {depths.get(layer, layer)} | {_value(row, 'deletion', '.3f')} "
            f"| {_value(row, 'insertion', '.3f')} | | | |"
        )
    centre = summary.get("centre") or {}
    lines.append(f"| {CENTRE} | | {_value(centre, 'deletion', '.3f')} | {_value(centre, 'insertion', '.3f')} | | | |")
    return lines


def _beats_random(row):
    """Whether a table row's map does better than the random map on most paintings, for both curves."""
    shares = (row.get("deletion_beats_random"), row.get("insertion_beats_random"))
    return all(isinstance(share, (int, float)) and share > 0.5 for share in shares)


def _value(row, key, spec):
    value = row.get(key)
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"


def plot_curves(measurement, pixels, summary, path, labels=None, count=4):
    """A few paintings (`pixels`: those given to measure()), each with the most faithful map over it and its deletion and insertion curves beside
    those of the random map (same depth) and the centre blob. `labels` name the explained classes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from artnet.explain.overlay import render_overlay

    best = summary["most_faithful"]
    keys = measurement.views.keys
    here, random, centre = (
        keys.index(key) for key in ((best["method"], best["layer"]), (RANDOM, best["layer"]), (CENTRE, None))
    )
    shown = _spread(len(measurement.paintings), count)
    fractions = np.linspace(0, 1, measurement.deletion.shape[-1])
    figure, axes = pyplot.subplots(
        len(shown), 3, figsize=(11, 3.2 * len(shown)), squeeze=False, constrained_layout=True
    )
    for (picture, deletion_axis, insertion_axis), row in zip(axes, shown):
        painting = pixels[measurement.rows[row]]
        side = painting.shape[0]
        picture.imshow(
            render_overlay(
                painting, upsample_map(measurement.maps[row][best["method"], best["layer"]], (side, side)), 0.45
            )
        )
        explained = int(measurement.class_indices[row])
        picture.set_title(
            f"{labels[explained] if labels else explained} · {str(measurement.paintings[row])[:34]}", fontsize=8
        )
        picture.axis("off")
        for axis, curves, name in (
            (deletion_axis, measurement.deletion, "deletion"),
            (insertion_axis, measurement.insertion, "insertion"),
        ):
            for column, label, style in (
                (here, f"{best['method']} · {best['depth']}", "-"),
                (random, f"{RANDOM} · {best['depth']}", "--"),
                (centre, CENTRE, ":"),
            ):
                curve = curves[row, column]
                axis.plot(fractions, curve, style, label=f"{label} (area {area(curve):.2f})")
            axis.set_ylim(0, 1)
            axis.set_xlabel(f"share of pixels {'removed' if name == 'deletion' else 'revealed'}, most salient first")
            axis.set_ylabel("probability of the class")
            axis.set_title(name, fontsize=9)
            axis.grid(alpha=0.3)
            axis.legend(fontsize=7)
    figure.suptitle(f"Deletion and insertion on test paintings: {best['method']} at the {best['depth']} depth")
    figure.savefig(path, dpi=80)
    pyplot.close(figure)


def _spread(total, count):
    return sorted({round(i * (total - 1) / max(1, count - 1)) for i in range(min(count, total))})
