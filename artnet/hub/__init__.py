"""The Hugging Face Hub: naming and reaching a repo (`repos`), pulling a model folder (`pull`), pushing one
(`push`) with its model card (`card`), and publishing the Space (`space`).

May import: the basics, `data`, `model` (the model folder contract) and `explain` (the faithfulness table of
the card).
"""
