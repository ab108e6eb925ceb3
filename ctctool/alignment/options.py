"""The alignment defaults, in one place (no heavy imports: the command line reads them for ``--help``)."""

#: Lines whose confidence is below this are flagged (they may not match the audio).
MIN_CONFIDENCE = 0.2
