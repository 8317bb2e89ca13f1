"""Training: the options (`options`), the prepared run (`setup`), the frozen trunk's cached features
(`features`), fitting the top (`fitting`), the run itself (`run`), evaluation and plots (`evaluation`),
the shortcut tests (`shortcuts`) and the written model folder (`writing`).

May import: everything but `serve` and `cli`.
"""
