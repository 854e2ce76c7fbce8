"""``hotspots demo-data``: write the deterministic synthetic demo borough (the repository's ``data/``).

``hotspots demo-data --out data`` rebuilds the bundled demo data byte for byte.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "demo-data"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="regenerate the synthetic demo borough (deterministic; --out data rebuilds the bundled data)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p, config=False)
    return p


def main(args: argparse.Namespace) -> int:
    from ..demo import generate_demo

    out = options.writable_out(args)
    generate_demo(out)
    print(f"Demo borough written to {out.resolve()}")
    return 0
