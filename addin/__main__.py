"""``python -m addin`` is the ``sidepane`` command."""

from addin.cli import main

main()
