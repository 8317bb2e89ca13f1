"""The commands `python -m artnet.cli.classify`, `.faithfulness`, `.hub` and `.space`: argument parsing and
`main`, nothing else; the work is the library's. `options` holds what several commands share (`--model SPEC`
and loading the model it names).

May import: anything. Nothing imports it but app.py and train.py.
"""
