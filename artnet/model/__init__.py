"""The network and what travels with it: each backbone declared once (`backbones`), backbone + head with its
freeze policies (`network`), the model folder contract (`folder`), and the temperature-scaled softmax with
its fitting (`calibration`).

May import: the basics and `data`.
"""
