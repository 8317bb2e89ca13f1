"""ArtNet's Gradio app. `python app.py` serves the model in models/artnet (or ARTNET_MODEL); a Hugging Face
Space runs exactly that. `python app.py --help` lists the options."""

import argparse
import sys

from artnet.cli.options import add_model_option, load_classifier
from artnet.errors import UserError
from artnet.serve import ui


def parse_options(argv=None):
    parser = argparse.ArgumentParser(description="Serve ArtNet's Gradio app.")
    add_model_option(parser)
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    parser.add_argument("--host", help="address to listen on (default: $GRADIO_SERVER_NAME, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: $GRADIO_SERVER_PORT, else 7860)")
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_options(argv)
    try:
        # Warmed up once the page is served (ui.serve): what the page shows first needs only the pass that
        # explains its examples, which building the page traces.
        classifier, source = load_classifier(options.model, concurrent_passes=ui.MODEL_CONCURRENCY, warm_up=False)
    except UserError as error:
        print(f"app.py: {error}", file=sys.stderr)
        return 2
    try:
        ui.serve(
            ui.build_demo(classifier, source),
            host=options.host,
            port=options.port,
            share=options.share,
            model_folder=source.folder,
            warm_up=classifier.warm_up,
        )
    except OSError as error:  # the port is taken, or the address is not this machine's
        print(f"app.py: cannot serve: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
