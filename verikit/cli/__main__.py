"""``python -m verikit.cli`` runs the command line (as the ``verikit`` script does)."""

from verikit.cli import main

main()
