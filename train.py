"""Fine-tune DenseNet-121 on paintings and write the model folder that app.py serves.

    python train.py --data DIR [--output models/artnet] [--push-to-hub USER/REPO]

DIR is Painter by Numbers as Kaggle ships it (all_data_info.csv or train_info.csv beside train/ and
test/), or one folder per movement or style (DIR/Cubism/*.jpg, DIR/Post_Impressionism/*.jpg, ...).
"""

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from artnet.errors import UserError  # noqa: E402
from artnet.model_folder import DEFAULT_MODEL_FOLDER  # noqa: E402
from artnet.training_setup import FREEZE_POLICIES, TrainingOptions, prepare_run  # noqa: E402

DEFAULTS = TrainingOptions()


class OneLineErrorParser(argparse.ArgumentParser):
    """Says what is wrong with the command line in one line, instead of argparse's usage block first."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def backbone_weights(value):
    """imagenet and none in any case (None: random weights); anything else is the path of a weights file."""
    return {"imagenet": "imagenet", "none": None}.get(value.lower(), value)


def parse_arguments(argv=None):
    parser = OneLineErrorParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the folder of paintings")
    parser.add_argument("--output", default=DEFAULT_MODEL_FOLDER, help="the model folder to write (default: %(default)s)")
    parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size, help="input side in pixels (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="(default: %(default)s)")
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS.learning_rate, help="Adam's initial rate (default: %(default)s)")
    parser.add_argument("--halve-learning-rate-every", type=int, default=DEFAULTS.halve_learning_rate_every,
                        metavar="EPOCHS", help="halve the learning rate every this many epochs (default: %(default)s)")
    parser.add_argument("--freeze", choices=FREEZE_POLICIES, default=DEFAULTS.freeze,
                        help="seed: the reference's last three convolutions, all BatchNormalization layers and the "
                             "head; conv5: dense block 5 and the head; all: train everything (default: %(default)s)")
    parser.add_argument("--backbone-weights", type=backbone_weights, default="imagenet", metavar="imagenet|none|PATH",
                        help="initial DenseNet-121 weights: downloaded ImageNet weights, random, or a notop .h5 file "
                             "(default: %(default)s)")
    parser.add_argument("--label-smoothing", type=float, default=DEFAULTS.label_smoothing, help="(default: %(default)s)")
    parser.add_argument("--class-weights", choices=("none", "balanced"), default=DEFAULTS.class_weights,
                        help="balanced weighs each movement inversely to its number of paintings (default: %(default)s)")
    parser.add_argument("--validation-fraction", type=float, default=DEFAULTS.validation_fraction, help="(default: %(default)s)")
    parser.add_argument("--test-fraction", type=float, default=DEFAULTS.test_fraction, help="(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="for the split, the shuffling and the initial weights (default: %(default)s)")
    parser.add_argument("--cache", choices=("auto", "memory", "disk", "none"), default=DEFAULTS.cache,
                        help="keep decoded training samples after the first epoch; auto: in memory up to 2 GB, else on "
                             "disk in the run folder (default: %(default)s)")
    parser.add_argument("--mixed-precision", action="store_true", help="float16 compute on a GPU")
    parser.add_argument("--run-eagerly", action="store_true", help="skip graph tracing: faster start for tiny runs, slower steps")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last finished epoch")
    parser.add_argument("--push-to-hub", metavar="USER/REPO", help="push the model folder to this Hub model repo when done")
    parser.add_argument("--private", action="store_true", help="create the Hub repo private")
    parser.add_argument("--tag", help="tag the pushed commit (e.g. v1)")
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    if (arguments.private or arguments.tag) and not arguments.push_to_hub:
        print("error: --private and --tag only apply with --push-to-hub USER/REPO.", file=sys.stderr)
        return 2
    # Every TrainingOptions field has an option of the same name.
    options = TrainingOptions(**{field.name: getattr(arguments, field.name) for field in dataclasses.fields(TrainingOptions)})
    try:
        if arguments.push_to_hub:
            from artnet import hub

            # First of all: a two-hour run must not end in an authentication error.
            hub.check_can_push(arguments.push_to_hub, tag=arguments.tag)
        prepared = prepare_run(arguments.data, arguments.output, options, resume=arguments.resume)
        # TensorFlow is imported only now: every check above answers at once and in one line.
        from artnet.training import train

        result = train(arguments.data, arguments.output, options, resume=arguments.resume, prepared=prepared)
        if arguments.push_to_hub:
            pushed = hub.push(result.output, arguments.push_to_hub, private=arguments.private, revision_tag=arguments.tag)
            print(f"Pushed to {pushed.repo_url} at commit {pushed.commit_id}. Serve it with: python app.py --model {pushed.spec}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted. Continue with the same command and --resume.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
