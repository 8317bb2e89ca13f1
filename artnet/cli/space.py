"""Publish the ArtNet demo as a Gradio Space that serves one model at a fixed commit:

python -m artnet.cli.space --space USER/NAME --model USER/REPO[@REVISION] [--private]
"""

import argparse
import sys

from artnet.errors import UserError
from artnet.hub.space import publish


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m artnet.cli.space", description="Publish the ArtNet demo as a Gradio Space."
    )
    parser.add_argument("--space", required=True, metavar="USER/NAME", help="the Space repo to create or update")
    parser.add_argument("--model", required=True, metavar="USER/REPO[@REVISION]", help="the model repo the demo serves")
    parser.add_argument("--private", action="store_true", help="create the Space private")
    options = parser.parse_args(argv)
    try:
        url, pinned, model_private = publish(options.space, options.model, private=options.private)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"The Space serves {pinned}: {url}")
    if model_private:
        print(f"{pinned.split('@')[0]} is private: add a secret HF_TOKEN (a read token) in the Space's settings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
