"""What a faithfulness Measurement (artnet.explain.faithfulness) says: the summary that metrics.json keeps,
the most faithful view, the Markdown table of the model card and the command, and a plot of a few
paintings' curves. NumPy and matplotlib; no TensorFlow."""

import numpy as np

from artnet.explain.faithfulness import BLUR_FRACTION, CENTRE, COARSE_RANDOM_SIDES, RANDOM, area
from artnet.explain.overlay import upsample_map

CURVES = ("deletion", "insertion")
CHOICE_RULE = (
    "the view whose lowest share of paintings on which it beats a baseline, over every baseline and both "
    "curves, is the highest; ties go to the higher mean share"
)


# Each baseline's name in a summary row's keys (deletion_beats_<name>), with what it is in words.
BASELINE_NAMES = {
    "random": "a random map at the view's own resolution",
    **{f"random_{side}x{side}": f"a random map at {side} × {side}" for side in COARSE_RANDOM_SIDES},
    "centre": "a blob in the middle",
}


def summarise(measurement, depths):
    """metrics.json's record of a Measurement: per method and layer, the mean deletion and insertion areas,
    how often they beat each baseline on the same painting (the random map at the view's own resolution,
    the coarse random maps, the centre blob) and the lowest of those shares; the baselines' areas; and the
    most faithful view, with the rule that chose it. `depths` names each layer's depth (layer -> "early", ...)."""
    views, keys = measurement.views, measurement.views.keys
    areas = {"deletion": area(measurement.deletion), "insertion": area(measurement.insertion)}
    column = {key: number for number, key in enumerate(keys)}

    def share(values):
        return round(float(np.mean(values)), 4) if len(values) else None

    def beats(curve, here, baseline):
        better = np.less if curve == "deletion" else np.greater
        return share(better(areas[curve][:, here], areas[curve][:, column[baseline]]))

    methods = {}
    for method, layer in keys[: len(views.methods) * len(views.layers)]:
        here, baselines = column[method, layer], _baselines(views, layer)
        # A view whose own side is a coarse one meets that random map once, not twice.
        shares = {curve: {key: beats(curve, here, key) for key in baselines.values()} for curve in CURVES}
        row = {"depth": depths.get(layer, layer), "side": views.side_of(layer)}
        row.update({curve: share(areas[curve][:, here]) for curve in CURVES})
        row.update({f"{curve}_beats_{name}": shares[curve][key] for curve in CURVES for name, key in baselines.items()})
        if len(measurement.paintings):
            row.update({f"{curve}_worst": min(shares[curve].values()) for curve in CURVES})
            row["mean_share"] = share([value for curve in CURVES for value in shares[curve].values()])
        methods.setdefault(method, {})[layer] = row
    summary = {
        "paintings": len(measurement.paintings),
        "left_out_without_maps": measurement.left_out,
        "steps": measurement.deletion.shape[-1] - 1,
        "removed_pixels_show": f"a Gaussian blur of the painting (sigma {BLUR_FRACTION:.3f} of its side)",
        "seconds": measurement.seconds,
        "baselines": BASELINE_NAMES,
        "choice_rule": CHOICE_RULE,
        "methods": methods,
        "random": {
            f"{side}x{side}": {curve: share(areas[curve][:, column[RANDOM, side]]) for curve in CURVES}
            for side in views.random_sides
        },
        "centre": {curve: share(areas[curve][:, column[CENTRE, None]]) for curve in CURVES},
    }
    if len(measurement.paintings):
        summary["most_faithful"] = most_faithful(methods)
    return summary


def _baselines(views, layer):
    """The baselines of a view at `layer`, by their names in BASELINE_NAMES: their keys in the Measurement."""
    coarse = {f"random_{side}x{side}": (RANDOM, side) for side in COARSE_RANDOM_SIDES}
    return {"random": (RANDOM, views.side_of(layer)), **coarse, "centre": (CENTRE, None)}


def most_faithful(methods):
    """The (method, layer) chosen by CHOICE_RULE: no one baseline decides, so a view that beats the fine
    random map of its own depth but not a smooth one, or not the blob, is not chosen for that. Last ties go
    to the larger gap between insertion and deletion areas."""

    def score(item):
        (_, _), row = item
        return (
            min(row["deletion_worst"], row["insertion_worst"]),
            row["mean_share"],
            row["insertion"] - row["deletion"],
        )

    (method, layer), row = max(
        (((method, layer), row) for method, layers in methods.items() for layer, row in layers.items()), key=score
    )
    return {"method": method, "layer": layer, "depth": row["depth"]}


def table_lines(summary):
    """The summary as a Markdown table: one row per method and depth with its shares against every
    baseline, and the baselines' own areas. A value missing from the summary (an incomplete or older
    metrics.json) shows as n/a."""
    coarse = [f"random_{side}x{side}" for side in COARSE_RANDOM_SIDES]
    lines = [
        "| method | depth | deletion ↓ | insertion ↑ | beats random, own resolution (del. / ins.) | "
        + " | ".join(f"beats random {name.removeprefix('random_').replace('x', ' × ')}" for name in coarse)
        + " | beats the centre blob | worst share (del. / ins.) |",
        "|---|---|---|---|---|" + "---|" * len(coarse) + "---|---|",
    ]
    best = summary.get("most_faithful") or {}
    for method, layers in (summary.get("methods") or {}).items():
        for layer, row in layers.items():
            star = " ★" if (method, layer) == (best.get("method"), best.get("layer")) else ""
            noise = "" if _beats_random(row) else " (noise)"
            shares = [_pair(row, f"{{}}_beats_{name}") for name in ("random", *coarse, "centre")]
            lines.append(
                f"| {method}{star} | {row.get('depth', layer)}{noise} | {_value(row, 'deletion', '.3f')} "
                f"| {_value(row, 'insertion', '.3f')} | {' | '.join(shares)} | **{_pair(row, '{}_worst')}** |"
            )
    blank = " |" * (3 + len(coarse))
    for side, row in (summary.get("random") or {}).items():
        lines.append(
            f"| {RANDOM} | {side.replace('x', ' × ')} | {_value(row, 'deletion', '.3f')} "
            f"| {_value(row, 'insertion', '.3f')} |{blank}"
        )
    centre = summary.get("centre") or {}
    lines.append(f"| {CENTRE} | | {_value(centre, 'deletion', '.3f')} | {_value(centre, 'insertion', '.3f')} |{blank}")
    return lines


def _pair(row, pattern):
    return f"{_value(row, pattern.format('deletion'), '.0%')} / {_value(row, pattern.format('insertion'), '.0%')}"


def _beats_random(row):
    """Whether a table row's map does better than every random map on most paintings, for both curves (an
    older metrics.json has only the random map at the view's own resolution)."""
    shares = [row.get(f"{curve}_beats_{name}") for curve in CURVES for name in BASELINE_NAMES if name != "centre"]
    numbers = [share for share in shares if isinstance(share, (int, float))]
    return isinstance(shares[0], (int, float)) and all(share > 0.5 for share in numbers)


def _value(row, key, spec):
    value = row.get(key)
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"


def plot_curves(measurement, pixels, summary, path, labels=None, count=4):
    """A few paintings (`pixels`: those given to measure()), each with the most faithful map over it and its
    deletion and insertion curves beside those of the random map at its resolution, the coarsest random map
    and the centre blob. `labels` name the explained classes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from artnet.explain.overlay import render_overlay

    best = summary["most_faithful"]
    views = measurement.views
    sides = dict.fromkeys((views.side_of(best["layer"]), min(COARSE_RANDOM_SIDES)))
    compared = [
        (views.keys.index((best["method"], best["layer"])), f"{best['method']} · {best['depth']}", "-"),
        *((views.keys.index((RANDOM, side)), f"{RANDOM} {side} × {side}", "--") for side in sides),
        (views.keys.index((CENTRE, None)), CENTRE, ":"),
    ]
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
            for column, label, style in compared:
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
