"""Word n-gram language models: the model (``ngram``), ARPA files (``arpa``), KenLM binaries
(``kenlm_binary``, ``kenlm_model``), Kneser-Ney estimation (``estimate``), the flat tables the
beam-search kernel reads (``tables``) and ``--lm`` resolution (``loading``).
Importing this package loads nothing heavy.
"""
