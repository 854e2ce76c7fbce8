"""``python -m hotspots.cli``: the ``hotspots`` command."""

from . import console_main

console_main()
