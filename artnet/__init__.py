"""ArtNet: classify a painting into an art movement and show why.

The packages, in the one direction they may depend on each other (each package's docstring says more):

- basics at the top (`styles`, `errors`, `files`, `progress`, `threads`): may be imported by everything, import nothing of ArtNet's
  but each other;
- `data`: images, the views of a painting, the training paintings and their split;
- `model`: backbones, the network, the model folder and its calibration;
- `explain`: CAM methods, overlays, faithfulness, the closest paintings;
- `serve`: the Classifier, the Gradio page, the batch classification;
- `train`: the training run, from options to the written model folder;
- `hub`: pull, push, the model card, the Space;
- `cli`: the `python -m artnet.cli.…` commands: argument parsing and `main` only; nothing imports them.

tests/test_architecture.py holds these rules.
"""
