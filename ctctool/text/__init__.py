"""Text normalisation shared by alignment and training (``normalize``), and English number words (``numbers``)."""
