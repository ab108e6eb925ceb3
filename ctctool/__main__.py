"""``python -m ctctool`` runs the command-line interface."""

from ctctool.cli import main

if __name__ == "__main__":
    main()
