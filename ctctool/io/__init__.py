"""File formats: arrays, text, audio and writers. Never imports typer or rich."""
