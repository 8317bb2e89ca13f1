"""ArtNet's Gradio app. `python app.py` serves the model in models/artnet (or ARTNET_MODEL); a Hugging Face
Space runs exactly that. `python app.py --help` lists the options."""

import argparse
import os
import sys

from artnet import ui
from artnet.errors import UserError
from artnet.hub import resolve_model
from artnet.model_folder import DEFAULT_MODEL_FOLDER, MODEL_VARIABLE, check_folder

def parse_options(argv=None):
    parser = argparse.ArgumentParser(description="Serve ArtNet's Gradio app.")
    parser.add_argument(
        "--model",
        default=os.environ.get(MODEL_VARIABLE) or None,
        metavar="SPEC",
        help=f"a model folder, or a Hub repo as user/repo[@revision] (default: ${MODEL_VARIABLE}, "
        f"else {DEFAULT_MODEL_FOLDER})",
    )
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    parser.add_argument("--host", help="address to listen on (default: $GRADIO_SERVER_NAME, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: $GRADIO_SERVER_PORT, else 7860)")
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_options(argv)
    try:
        source = resolve_model(options.model)
        check_folder(source.folder)
        # Imported only once there is a model to serve: TensorFlow takes seconds to import and logs to
        # stderr, which would bury the one-line answer to a missing or broken model.
        from artnet.classifier import Classifier, share_cpu_cores

        share_cpu_cores(ui.MODEL_CONCURRENCY)
        classifier = Classifier.from_folder(source.folder)
    except UserError as error:
        print(f"app.py: {error}", file=sys.stderr)
        return 2
    try:
        ui.serve(ui.build_demo(classifier, source), host=options.host, port=options.port, share=options.share,
                 model_folder=source.folder)
    except OSError as error:  # the port is taken, or the address is not this machine's
        print(f"app.py: cannot serve: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
