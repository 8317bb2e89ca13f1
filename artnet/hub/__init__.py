"""The Hugging Face Hub: pulling and pushing model folders (`repo`), the model card (`card`), and publishing
the Space (`space`).

May import: the basics, `model` (the model folder contract) and `explain` (the faithfulness table of the card).
"""
