"""``python -m hpcpredict`` runs the command line."""

from .cli import main

main()
