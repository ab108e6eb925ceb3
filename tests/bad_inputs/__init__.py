"""A generated corpus of bad or unusual inputs for every ``ctctool`` command (issue 12, "Bad input never hurts").

``cases.CASES`` lists the cases; ``tests/test_bad_inputs.py`` runs each one in-process;
``python -m tests.bad_inputs`` prints the corpus size per command and per issue class.
"""
