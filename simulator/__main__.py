"""``python -m simulator`` runs the ``critmin`` command line."""

from .cli import main

if __name__ == "__main__":
    main()
