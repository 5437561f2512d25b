"""``python -m reseau_poles.cli``: the command line, as the console script runs it."""

from . import main

main()
