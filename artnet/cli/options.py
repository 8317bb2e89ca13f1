"""What several commands share: the `--model SPEC` option and loading the model it names.

Loading answers a missing or broken model in one line before TensorFlow is imported: TensorFlow takes
seconds to import and logs to stderr, which would bury that line.
"""

import os

from artnet.hub.pull import resolve_model
from artnet.model.folder import DEFAULT_MODEL_FOLDER, MODEL_VARIABLE, ModelSource, check_folder


def add_model_option(parser):
    """`--model SPEC`: a model folder or a Hub repo, by default $ARTNET_MODEL, else the folder train.py writes."""
    parser.add_argument(
        "--model",
        default=os.environ.get(MODEL_VARIABLE) or None,
        metavar="SPEC",
        help=f"a model folder, or a Hub repo as user/repo[@revision] (default: ${MODEL_VARIABLE}, "
        f"else {DEFAULT_MODEL_FOLDER})",
    )


def checked_model(spec: str | None) -> ModelSource:
    """The model folder that `spec` names, pulled from the Hub if need be and checked. Raises UserError."""
    source = resolve_model(spec)
    check_folder(source.folder)
    return source


def load_classifier(spec: str | None, concurrent_passes: int | None = None, warm_up: bool = True):
    """(Classifier, ModelSource) for `spec`; with `concurrent_passes`, the CPU cores are shared out between
    that many passes first; without `warm_up`, its passes are traced when first used. Raises UserError."""
    source = checked_model(spec)
    from artnet.serve.classifier import Classifier, share_cpu_cores

    if concurrent_passes:
        share_cpu_cores(concurrent_passes)
    return Classifier.from_folder(source.folder, warm_up=warm_up), source
