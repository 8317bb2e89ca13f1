"""app.py with Gradio batching on /classify, for bench/load.py: the same app, with a /classify_batched that gathers the
requests waiting in the queue into one network pass (`batch=True`, up to --max-batch-size at a time).

The app itself does not batch: in a Gradio batch one bad upload fails every request batched with it, and
bench/load.py measures what batching would gain.

    python bench/batched_app.py --model FOLDER [--host H] [--port P] [--max-batch-size 16]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gradio as gr  # noqa: E402

from artnet.model.folder import ModelSource  # noqa: E402
from artnet.serve import handlers, ui  # noqa: E402
from artnet.serve.classifier import Classifier, share_cpu_cores  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a model folder")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--max-batch-size", type=int, default=16)
    options = parser.parse_args()

    share_cpu_cores(ui.MODEL_CONCURRENCY)
    classifier = Classifier.from_folder(options.model)
    demo = ui.build_demo(classifier, ModelSource(options.model))

    def classify_batch(paintings):
        return [classifier.classify_many([handlers.painting_path(painting) for painting in paintings])]

    with demo:
        painting = gr.Image(type="filepath", visible=False)
        bars = gr.Label(visible=False)
        gr.on(
            [],
            classify_batch,
            inputs=[painting],
            outputs=[bars],
            preprocess=False,
            batch=True,
            max_batch_size=options.max_batch_size,
            concurrency_id=ui.MODEL_GROUP,
            api_name="classify_batched",
        )
    ui.serve(demo, host=options.host, port=options.port)


if __name__ == "__main__":
    main()
