"""Options every ``hotspots`` subcommand shares, worded the same everywhere, and the helpers behind them.

``--config``, ``--data-dir``, ``--out`` and ``--quiet``: a subcommand without a
config (``demo-data``, ``london-data``) takes only ``--out`` and ``--quiet``.
Every subcommand writes under ``--out``; the default is ``out/<subcommand>``,
except ``run``, whose pack goes to ``[output] folder/fim-DATE`` as documented.
This module stays light: ``hotspots --help`` must not import the numerical libraries.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for annotations only; loaded inside the commands
    from ..config import Config

CONFIG_HELP = "the run's TOML settings file, e.g. config/demo.toml"
DATA_DIR_HELP = (
    "folder that relative input paths in the config start from (overrides [project] data_dir and $HOTSPOTS_DATA_DIR)"
)
OUT_HELP = "folder to write into (default: out/<command>; for run, [output] folder/fim-DATE, one folder per meeting)"
QUIET_HELP = "print nothing but errors and the result"

#: Default output folder of a subcommand (``run`` has its own: ``[output] folder/fim-DATE``).
OUT_ROOT = "out"


def default_out(command: str) -> Path:
    """``out/<command>`` below the current folder."""
    return Path(OUT_ROOT) / command


def add_config_option(p: argparse.ArgumentParser | Any, required: bool = True, nargs: str | None = None) -> None:
    """``--config`` (on a parser or a mutually exclusive group)."""
    kw: dict[str, Any] = {"metavar": "FILE", "help": CONFIG_HELP}
    if nargs:
        kw["nargs"] = nargs
    p.add_argument("--config", "-c", required=required, **kw)


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)


def add_out_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", "-o", metavar="DIR", help=OUT_HELP)
    p.add_argument("--quiet", "-q", action="store_true", help=QUIET_HELP)


def add_common(p: argparse.ArgumentParser, *, config: bool = True) -> None:
    """``--config`` (required) and ``--data-dir`` when the command reads a config; ``--out`` and ``--quiet``."""
    if config:
        add_config_option(p)
        add_data_dir(p)
    add_out_quiet(p)


def out_dir(args: argparse.Namespace) -> Path:
    """The folder a subcommand writes into: ``--out``, else ``out/<subcommand>``."""
    return Path(args.out) if args.out else default_out(args.command)


def meeting_date(value: str) -> str:
    """argparse type of ``--date``: a real ``YYYY-MM-DD`` date no more than a year ahead, checked
    before anything is read (see :func:`hotspots.model.parse_meeting_date`)."""
    return calendar_date("--date", "the meeting date")(value)


def calendar_date(option: str, noun: str = "the date") -> Callable[[str], str]:
    """argparse type of a date option such as ``--start``: a real ``YYYY-MM-DD`` date from 1900 up to a
    year ahead (see :func:`hotspots.model.parse_calendar_date`), as ``YYYY-MM-DD``; a mistyped date
    stops the command before anything is read, naming ``option`` and asking for ``noun``."""

    def parse(value: str) -> str:
        from ..errors import InputError
        from ..model import parse_calendar_date

        try:
            return parse_calendar_date(value, option, noun=noun).isoformat()
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_date(p: argparse.ArgumentParser, help: str) -> None:
    """``--date YYYY-MM-DD`` (checked when the command line is read)."""
    p.add_argument("--date", metavar="YYYY-MM-DD", type=meeting_date, help=help)


def writable_out(args: argparse.Namespace, default: Path | None = None, what: str = "--out") -> Path:
    """The folder a subcommand writes into (``--out``, else ``default``, else ``out/<subcommand>``),
    checked to be writable before any work starts (:func:`hotspots.writable.check_writable`)."""
    from ..writable import check_writable

    if args.out:
        return check_writable(args.out, "--out")
    return check_writable(default if default is not None else default_out(args.command), what)


def load(args: argparse.Namespace) -> Config:
    """The validated config of ``--config`` (every section checked before anything runs)."""
    from ..config import load_config

    return load_config(args.config, data_dir=args.data_dir)


def override(cfg: Config, section: str, options: str, **changes: Any) -> Config:
    """``cfg.override(section, **changes)`` for values given on the command line (``options``, e.g.
    ``"--cell-size"``): checked like the config file (a finite number, in range), and a value it
    refuses is refused naming the option."""
    from ..errors import ConfigError

    try:
        return cfg.override(section, **changes)
    except ConfigError as exc:
        raise ConfigError(f"{options} (given on the command line): {exc}") from None


def say(args: argparse.Namespace, *parts: object) -> None:
    """Print unless ``--quiet``."""
    if not args.quiet:
        print(*parts)


def reporter(args: argparse.Namespace) -> Any:
    """The terminal progress reporter (silent with ``--quiet``)."""
    from ..progress import Reporter

    return Reporter(quiet=args.quiet)
