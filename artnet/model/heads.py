"""The heads that can sit on a backbone, by name; artnet.model.network builds them. No TensorFlow, so that
the training options are checked before it starts.

- style: each channel's mean and standard deviation at the backbone's style depths -> BatchNormalization ->
  Dropout(0.5) -> Dense ReLU -> Dropout(0.5) -> softmax;
- reference: the original ArtNet's GAP -> Dropout(0.5) -> BatchNormalization -> softmax.
"""

HEADS = ("style", "reference")
