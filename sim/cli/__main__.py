"""``python -m sim.cli``: the ``drill`` command."""

from sim.cli import main

main()
