"""What each step of the way in does for paintings as visitors bring them, side by side on trained model folders.

    python bench/way_in.py MODEL_FOLDER [MODEL_FOLDER ...] [--data ../shared/paintings]
                           [--elsewhere ../shared/elsewhere] [--out-of-scope ../shared/out_of_scope]

Each model folder is served three ways: as the app served uploads before the way in (decoded and squared, no
JPEG, no painting looked for); shrunk and saved as JPEG as the training copies were; and the whole way in (the
painting found in a photo, then the same). Each is measured as train.py measures a model (artnet.train.visitors):
paintings from elsewhere (top-1 and the share kept in scope), photos of test paintings and of paintings from
elsewhere on a wall (against the same paintings as files), and photos of out-of-scope test images (the share
flagged "none of these"). The test split is the default one, which train.py draws from the same seed.
"""

import argparse
import os
import tempfile

from timing import SHARED, add_shared_data_options, print_table, setup_environment

setup_environment()

from artnet.data.paintings import find_paintings  # noqa: E402
from artnet.data.way_in import TRAINING_COPY_QUALITY, WayIn  # noqa: E402
from artnet.model.network import load_folder  # noqa: E402
from artnet.train.options import TrainingOptions  # noqa: E402
from artnet.train.setup import prepare_run  # noqa: E402
from artnet.train.visitors import visitor_metrics  # noqa: E402


def ways_in(side):
    return {
        "as uploaded (before the way in)": WayIn(side, jpeg_quality=None, find_painting=False),
        "shrunk and saved as JPEG": WayIn(side, jpeg_quality=TRAINING_COPY_QUALITY, find_painting=False),
        "the way in (painting found, then JPEG)": WayIn(side),
    }


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="model folders written by train.py")
    add_shared_data_options(parser)
    parser.add_argument("--elsewhere", default=os.path.join(SHARED, "elsewhere"))
    parser.add_argument("--out-of-scope", default=os.path.join(SHARED, "out_of_scope"))
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    options = TrainingOptions(backbone_weights=None)
    with tempfile.TemporaryDirectory() as scratch:
        state = prepare_run(
            arguments.data, os.path.join(scratch, "model"), options, out_of_scope=arguments.out_of_scope
        ).state
    elsewhere = find_paintings(arguments.elsewhere).paintings
    rows = []
    for folder in arguments.models:
        model, config = load_folder(folder)
        for name, way_in in ways_in(int(config["image_size"])).items():
            found = visitor_metrics(
                model, config, way_in, elsewhere, state.split["test"], state.out_of_scope["test"], options.seed
            )
            away, photos, others = found["elsewhere"], found["photos"], found["photos_out_of_scope"]
            rows.append(
                [
                    f"{os.path.basename(os.path.normpath(folder))}: {name}",
                    f"{away['top1']:.1%}",
                    f"{away['kept']:.1%}",
                    " ".join(f"{m[:4]} {v['kept']:.0%}" for m, v in away["per_movement"].items()),
                    f"{photos['top1']:.1%} / {photos['as_files']['top1']:.1%}",
                    f"{photos['kept']:.1%} / {photos['as_files']['kept']:.1%}",
                    f"{photos['cropped']:.0%}",
                    f"{others['flagged']:.1%}",
                ]
            )
    print(
        f"\n{len(elsewhere)} paintings from elsewhere; {photos['paintings']} photos of paintings on a wall "
        f"({photos['from_test']} of test paintings); {others['images']} photos of out-of-scope test images.\n"
    )
    print_table(
        [
            "model: way in",
            "elsewhere top-1",
            "elsewhere kept",
            "kept per movement",
            "photos top-1 / as files",
            "photos kept / as files",
            "photos cropped",
            "out-of-scope photos flagged",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
