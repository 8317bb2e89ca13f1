"""Serving a model folder: the `Classifier` (probabilities, explanation and closest paintings from one pass),
the Gradio page (`ui`) with its event handlers (`handlers`) and workarounds (`gradio_workarounds`), and
classifying a whole collection to a CSV (`batch`).

May import: the basics, `data`, `model` and `explain`; never `train`, `hub` or `cli`. The page (`ui`,
`handlers`, `gradio_workarounds`) knows Gradio and not TensorFlow; the rest knows TensorFlow and not Gradio.
"""
