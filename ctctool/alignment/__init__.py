"""Forced alignment: the Viterbi path (``viterbi``), spans of tokens, words and lines (``spans``),
frames to seconds (``timing``), transcript preparation (``transcript``) and the whole job from
audio or emissions to an ``AlignedTranscript`` (``pipeline``). Importing this package loads nothing heavy.
"""
