"""Shared fixtures. Test helpers live in oracles.py and helpers.py next to this file."""
