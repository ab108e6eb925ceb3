"""Acoustic models: audio (samples,) -> log-probs (T, C).

Import the modules themselves (``ctctool.models.loading``, ``.windowed``, ``.hf``) or
use the names ``ctctool`` exports; importing this package loads nothing heavy.
"""
