"""Command-line arguments shared by every ``hotspots`` subcommand that reads a run config."""

from __future__ import annotations

import argparse


def add_config_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    """``--config``, ``--data-dir`` and ``--quiet``, worded the same in every command."""
    p.add_argument("--config", "-c", required=required, metavar="FILE",
                   help="the run's TOML settings file, e.g. config/demo.toml")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder that relative input paths in the config start from "
                        "(overrides [project] data_dir and $HOTSPOTS_DATA_DIR)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors and the result")
