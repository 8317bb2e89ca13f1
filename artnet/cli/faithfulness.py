"""How faithful are a model's maps? Deletion and insertion curves of every CAM method at every depth, against
random maps (at the depth's own resolution and coarser) and a centre blob, on many paintings (train.py
measures a small sample):

    python -m artnet.cli.faithfulness --model SPEC --data DIR [--split test|all] [--paintings N] [--steps S]

Prints the table that the model card shows, and the most faithful view; --json and --plot keep them.
"""

import argparse
import json
import os
import sys

from artnet.cli.options import add_model_option, checked_model
from artnet.data.paintings import find_paintings, split_paintings
from artnet.data.way_in import WayIn
from artnet.errors import OneLineErrorParser, UserError
from artnet.explain.faithfulness import DEFAULT_STEPS, measure, model_inputs, stratified_sample
from artnet.explain.faithfulness_report import plot_curves, summarise, table_lines
from artnet.model.folder import read_metrics


def parse_arguments(argv=None):
    parser = OneLineErrorParser(
        prog="python -m artnet.cli.faithfulness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_option(parser)
    parser.add_argument("--data", required=True, metavar="DIR", help="the paintings, one folder per movement")
    parser.add_argument(
        "--split",
        choices=("test", "all"),
        default="test",
        help="the test split that the model folder's training made of DIR, or every painting (default: test)",
    )
    parser.add_argument(
        "--paintings",
        type=int,
        default=None,
        metavar="N",
        help="a stratified sample of N paintings (default: all of the split)",
    )
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="steps of each curve (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="for the sample and the random maps (default: %(default)s)")
    parser.add_argument("--json", metavar="OUT", help="also write the summary here")
    parser.add_argument("--plot", metavar="OUT.png", help="also draw a few paintings' curves here")
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        paintings, model, config = _load(arguments)
        from tqdm import tqdm

        layers = [layer["name"] for layer in config["gradcam_layers"]]
        pixels, paintings, unreadable = model_inputs(paintings, WayIn.from_config(config))
        with tqdm(total=len(pixels), unit="painting", file=sys.stderr) as bar:
            measurement = measure(
                model,
                layers,
                pixels,
                temperature=float(config.get("temperature", 1.0)),
                steps=arguments.steps,
                seed=arguments.seed,
                names=[os.path.basename(p.path) for p in paintings],
                progress=bar.update,
            )
    except UserError as error:
        print(f"python -m artnet.cli.faithfulness: {error}", file=sys.stderr)
        return 2
    if not measurement.paintings:
        print(
            "python -m artnet.cli.faithfulness: none of the paintings has anything to explain (all maps are zero).",
            file=sys.stderr,
        )
        return 1
    summary = summarise(measurement, {layer["name"]: layer["depth"] for layer in config["gradcam_layers"]})
    summary["unreadable"] = unreadable
    print("\n".join(table_lines(summary)))
    best = summary["most_faithful"]
    row = summary["methods"][best["method"]][best["layer"]]
    print(
        f"\n{summary['paintings']} paintings ({summary['left_out_without_maps']} left out without maps, "
        f"{unreadable} unreadable), {summary['steps']} steps, {summary['seconds']:.0f} s. "
        f"Most faithful: {best['method']} at the {best['depth']} depth, {summary['choice_rule']}. Against each "
        f"baseline its deletion does better on at least {row['deletion_worst']:.0%} of the paintings and its "
        f"insertion on {row['insertion_worst']:.0%}."
    )
    if arguments.json:
        with open(arguments.json, "w", encoding="utf-8") as file:
            json.dump(summary, file, indent=2)
    if arguments.plot:
        plot_curves(measurement, pixels, summary, arguments.plot, config["labels"])
    return 0


def _load(arguments):
    """The paintings to measure, and the model with its config."""
    if arguments.steps < 2:
        raise UserError(f"--steps must be at least 2, not {arguments.steps}.")
    if arguments.paintings is not None and arguments.paintings < 1:
        raise UserError(f"--paintings must be at least 1, not {arguments.paintings}.")
    source = checked_model(arguments.model)
    paintings = find_paintings(arguments.data).paintings
    if arguments.split == "test":
        training = (read_metrics(source.folder) or {}).get("training") or {}
        if not {"seed", "validation_fraction", "test_fraction"} <= set(training):
            raise UserError("The model folder's metrics.json does not say how its data was split; use --split all.")
        paintings = split_paintings(
            paintings, training["validation_fraction"], training["test_fraction"], training["seed"]
        )[2]
    if arguments.paintings is not None:
        paintings = stratified_sample(paintings, arguments.paintings, arguments.seed)
    # Imported once the model and the data are known to be there: TensorFlow takes seconds and logs to stderr.
    from artnet.model.network import load_folder

    model, config = load_folder(source.folder)
    return paintings, model, config


if __name__ == "__main__":
    sys.exit(main())
