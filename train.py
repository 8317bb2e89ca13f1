"""Train ArtNet on paintings and write the model folder that app.py serves.

    python train.py --data DIR [--backbone mobilenet_0.75 --backbone-weights PATH] [--output models/artnet]

DIR is one folder per movement or style (DIR/Cubism/*.jpg, DIR/Post_Impressionism/*.jpg, ...), with an
optional manifest.csv that names each painting's collection, or Painter by Numbers as Kaggle ships it
(all_data_info.csv or train_info.csv beside train/ and test/).
"""

import argparse
import dataclasses
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from artnet.data.out_of_scope import DEFAULT_FOLDER_NAME as OUT_OF_SCOPE_FOLDER  # noqa: E402
from artnet.data.paintings import ELSEWHERE_FOLDER_NAME as ELSEWHERE_FOLDER  # noqa: E402
from artnet.data.paintings import folder_beside  # noqa: E402
from artnet.data.views import VIEWS  # noqa: E402
from artnet.errors import OneLineErrorParser, UserError  # noqa: E402
from artnet.hub.push import check_can_push, push  # noqa: E402
from artnet.model.backbones import BACKBONES  # noqa: E402
from artnet.model.folder import DEFAULT_MODEL_FOLDER  # noqa: E402
from artnet.model.heads import HEADS  # noqa: E402
from artnet.train.features import default_cache_root  # noqa: E402
from artnet.train.options import CLASS_WEIGHTS, COLLECTION_WEIGHTS, TrainingOptions  # noqa: E402
from artnet.train.setup import prepare_run  # noqa: E402

DEFAULTS = TrainingOptions()


def backbone_weights(value):
    """imagenet and none in any case (None: random weights); anything else is the path of a weights file."""
    return {"imagenet": "imagenet", "none": None}.get(value.lower(), value)


def view_list(value):
    return tuple(view.strip() for view in value.split(",") if view.strip())


def beside_data(value, data, name):
    """--out-of-scope and --elsewhere: a folder, none, or by default the folder `name` beside the data folder,
    where there is one."""
    if value is None:
        return folder_beside(data, name)
    return None if value.lower() == "none" else value


def parse_arguments(argv=None):
    parser = OneLineErrorParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--data", required=True, help="the folder of paintings")
    add("--output", default=DEFAULT_MODEL_FOLDER, help="the model folder to write (default: %(default)s)")
    add("--backbone", default=DEFAULTS.backbone, help=f"{' or '.join(BACKBONES)} (default: %(default)s)")
    add(
        "--backbone-weights",
        type=backbone_weights,
        default=DEFAULTS.backbone_weights,
        metavar="imagenet|none|PATH",
        help="initial backbone weights: ImageNet's (downloaded by Keras), random, or a notop weights file of the "
        "backbone (default: %(default)s)",
    )
    add(
        "--freeze",
        default=DEFAULTS.freeze,
        help="which backbone layers train: head (none), all, or a policy of the backbone: "
        + "; ".join(f"{b.name}: {', '.join(b.policy_names)}" for b in BACKBONES.values())
        + " (default: %(default)s)",
    )
    add(
        "--head",
        choices=HEADS,
        default=DEFAULTS.head,
        help="style: channel statistics of several depths -> Dense -> softmax; reference: the original ArtNet's "
        "GAP -> Dropout -> BatchNorm -> softmax (default: %(default)s)",
    )
    add(
        "--views",
        type=view_list,
        default=DEFAULTS.views,
        metavar="VIEW,...",
        help=f"the views of each training painting, of {', '.join(VIEWS)} (default: {','.join(DEFAULTS.views)})",
    )
    add("--image-size", type=int, default=DEFAULTS.image_size, help="input side in pixels (default: %(default)s)")
    add("--epochs", type=int, default=DEFAULTS.epochs, help="(default: %(default)s)")
    add("--batch-size", type=int, default=DEFAULTS.batch_size, help="(default: %(default)s)")
    add(
        "--learning-rate", type=float, default=DEFAULTS.learning_rate, help="Adam's initial rate (default: %(default)s)"
    )
    add(
        "--halve-learning-rate-every",
        type=int,
        default=DEFAULTS.halve_learning_rate_every,
        metavar="EPOCHS",
        help="halve the learning rate every this many epochs (default: %(default)s)",
    )
    add("--label-smoothing", type=float, default=DEFAULTS.label_smoothing, help="(default: %(default)s)")
    add(
        "--class-weights",
        choices=CLASS_WEIGHTS,
        default=DEFAULTS.class_weights,
        help="balanced weighs each movement inversely to its number of paintings (default: %(default)s)",
    )
    add(
        "--collection-weights",
        choices=COLLECTION_WEIGHTS,
        default=DEFAULTS.collection_weights,
        help="balanced weighs every collection of a movement alike, whatever its number of paintings (default: %(default)s)",
    )
    add(
        "--mix-collections",
        type=float,
        default=DEFAULTS.mix_collections,
        metavar="P",
        help="with probability P, mix a training sample's style statistics with those of a painting of the same movement "
        "from another collection (MixStyle; default: %(default)s)",
    )
    add(
        "--out-of-scope",
        metavar="DIR|none",
        help="images that are none of the movements (one folder per category), from which the model learns to answer "
        '"none of these" (default: the folder out_of_scope beside the data folder, where there is one)',
    )
    add(
        "--elsewhere",
        metavar="DIR|none",
        help="paintings of the movements from other sources, kept as their sources had them (one folder per movement), "
        "on which the model is measured as visitors bring paintings, and photographed on a wall; never trained on "
        f"(default: the folder {ELSEWHERE_FOLDER} beside the data folder, where there is one)",
    )
    add(
        "--coverage",
        type=float,
        default=DEFAULTS.coverage,
        help="the share of paintings whose prediction set holds their true movement (default: %(default)s)",
    )
    add("--validation-fraction", type=float, default=DEFAULTS.validation_fraction, help="(default: %(default)s)")
    add("--test-fraction", type=float, default=DEFAULTS.test_fraction, help="(default: %(default)s)")
    add(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        help="for the split, the shuffling and the initial weights (default: %(default)s)",
    )
    add(
        "--no-cross-collection",
        dest="cross_collection",
        action="store_false",
        help="skip the cross-collection test (it trains once more per fold of left-out collections)",
    )
    add(
        "--faithfulness-paintings",
        type=int,
        default=DEFAULTS.faithfulness_paintings,
        metavar="N",
        help="test paintings, stratified by movement, on which the maps' faithfulness is measured (default: %(default)s)",
    )
    add("--mixed-precision", action="store_true", help="float16 compute on a GPU")
    add("--run-eagerly", action="store_true", help="skip graph tracing: faster start for tiny runs, slower steps")
    add(
        "--feature-cache",
        default=default_cache_root(),
        metavar="DIR",
        help="where the backbone's features of each painting are kept for the next run (default: %(default)s)",
    )
    add("--dataset", help="what the data is, for the model card (default: from manifest.csv or the folder's name)")
    add("--resume", action="store_true", help="continue an interrupted run from its last finished epoch")
    add("--push-to-hub", metavar="USER/REPO", help="push the model folder to this Hub model repo when done")
    add("--private", action="store_true", help="create the Hub repo private")
    add("--tag", help="tag the pushed commit (e.g. v1)")
    return parser.parse_args(argv)


def report_progress():
    """The library's progress and results, as plain lines on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("artnet")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def main(argv=None):
    arguments = parse_arguments(argv)
    report_progress()
    if (arguments.private or arguments.tag) and not arguments.push_to_hub:
        print("error: --private and --tag only apply with --push-to-hub USER/REPO.", file=sys.stderr)
        return 2
    # Every TrainingOptions field has an option of the same name.
    options = TrainingOptions(
        **{field.name: getattr(arguments, field.name) for field in dataclasses.fields(TrainingOptions)}
    )
    try:
        if arguments.push_to_hub:
            # First of all: a long run must not end in an authentication error.
            check_can_push(arguments.push_to_hub, tag=arguments.tag)
        prepared = prepare_run(
            arguments.data,
            arguments.output,
            options,
            resume=arguments.resume,
            dataset=arguments.dataset,
            out_of_scope=beside_data(arguments.out_of_scope, arguments.data, OUT_OF_SCOPE_FOLDER),
            elsewhere=beside_data(arguments.elsewhere, arguments.data, ELSEWHERE_FOLDER),
        )
        # TensorFlow is imported only now: every check above answers at once and in one line.
        from artnet.train.run import train

        result = train(prepared, arguments.output, arguments.feature_cache)
        if arguments.push_to_hub:
            pushed = push(result.output, arguments.push_to_hub, private=arguments.private, revision_tag=arguments.tag)
            print(
                f"Pushed to {pushed.repo_url} at commit {pushed.commit_id}. Serve it with: python app.py --model {pushed.spec}"
            )
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted. Continue with the same command and --resume.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
