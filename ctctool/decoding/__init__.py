"""Decoding CTC log-probs into text: greedy and prefix beam search (``beam``), hotwords, word timings
(``words``), the defaults in one place (``options``) and the one entry point ``decode`` (``decoder``).
Importing this package loads nothing heavy.
"""
