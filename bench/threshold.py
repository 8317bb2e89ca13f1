"""Where the "none of these" threshold could lie: for each share of validation paintings kept in scope, the
threshold and the shares of validation out-of-scope images it flags, far and near, on one model folder.

    python bench/threshold.py MODEL_FOLDER [--data ../shared/paintings] [--out-of-scope ../shared/out_of_scope]

The validation paintings are scored as train.py fits the threshold on them, as files and as photographed
(the view `photographed`); only validation images are used, so nothing here sees a test image or a
painting from elsewhere. The split is the default one, which train.py draws from the same seed.
"""

import argparse
import os
import tempfile

from timing import SHARED, add_shared_data_options, print_table, setup_environment

setup_environment()

import numpy as np  # noqa: E402

from artnet.data.images import to_array  # noqa: E402
from artnet.data.views import VIEWS  # noqa: E402
from artnet.data.way_in import look  # noqa: E402
from artnet.model.scope import threshold_keeping  # noqa: E402
from artnet.serve.classifier import Classifier  # noqa: E402
from artnet.train.options import TrainingOptions  # noqa: E402
from artnet.train.setup import prepare_run  # noqa: E402

KEPT_SHARES = (0.95, 0.96, 0.97, 0.98, 0.99)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model folder written by train.py with out-of-scope images")
    add_shared_data_options(parser)
    parser.add_argument("--out-of-scope", default=os.path.join(SHARED, "out_of_scope"))
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    with tempfile.TemporaryDirectory() as scratch:
        state = prepare_run(
            arguments.data,
            os.path.join(scratch, "model"),
            TrainingOptions(backbone_weights=None),
            out_of_scope=arguments.out_of_scope,
        ).state
    classifier = Classifier.from_folder(arguments.model)
    way_in, side = classifier.way_in, classifier.image_size

    def scores(model_inputs):
        return np.array(
            [
                answer.scope_score
                for start in range(0, len(model_inputs), 32)
                for answer in classifier.answer_batch(model_inputs[start : start + 32])
            ]
        )

    copies = [look(painting.path, way_in, whole=True).model_copy for painting in state.split["validation"]]
    as_files = scores([to_array(VIEWS["whole"](copy, side)) for copy in copies])
    photographed = scores([to_array(VIEWS["photographed"](copy, side)) for copy in copies])
    images = state.out_of_scope["validation"]
    others = scores([look(image.path, way_in, whole=True).model_input(side) for image in images])
    kinds = np.array([image.kind for image in images])
    rows = []
    for kept in KEPT_SHARES:
        threshold = threshold_keeping(np.concatenate([as_files, photographed]), kept)
        rows.append(
            [
                f"{kept:.0%}",
                f"{threshold:.2f}",
                f"{np.mean(as_files >= threshold):.1%}",
                f"{np.mean(photographed >= threshold):.1%}",
                f"{np.mean(others[kinds == 'far'] < threshold):.1%}",
                f"{np.mean(others[kinds == 'near'] < threshold):.1%}",
            ]
        )
    print(
        f"\n{len(copies)} validation paintings, {int((kinds == 'far').sum())} far and "
        f"{int((kinds == 'near').sum())} near out-of-scope validation images; {arguments.model}\n"
    )
    print_table(
        [
            "kept (files and photographed)",
            "threshold",
            "files kept",
            "photographed kept",
            "far flagged",
            "near flagged",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
