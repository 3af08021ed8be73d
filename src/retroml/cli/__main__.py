"""``python -m retroml.cli``: the same as the ``retroml`` command."""

from retroml.cli import main

main()
