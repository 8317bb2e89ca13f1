"""The paintings as the network sees them: safe image loading and squaring (`images`), the views of a painting
that training and evaluation show (`views`), and the training data with its manifest and split (`paintings`).

May import: the basics. No TensorFlow.
"""
