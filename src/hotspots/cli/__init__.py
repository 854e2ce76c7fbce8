"""The ``hotspots`` command: one module per subcommand, shared options in :mod:`.options`.

Each subcommand module defines ``NAME``, ``add_parser(subparsers)`` and
``main(args) -> int``, and imports the engine only inside ``main``, so
``hotspots --help`` is quick. A subcommand module that cannot be imported is an
error naming it, never a command that silently disappears. Errors the engine
raises on purpose (:class:`~hotspots.errors.HotspotsError`) are printed
without a traceback and the command exits with status 2.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
from types import ModuleType

from .. import __version__
from ..errors import HotspotsError

DESCRIPTION = """\
hotspots turns crime records and ward boundaries into the products a community-safety
partnership works from: hotspot maps, a ranked tasking list for the Fortnightly
Intelligence Meeting (FIM), near-repeat burglary alerts and CCTV/ANPR siting.

Typical use:
  hotspots ingest --config config/demo.toml          check the input files and report
  hotspots run --config config/demo.toml --date 2025-11-14
                                                     build the FIM pack for that meeting
  hotspots demo-data --out data                      rebuild the synthetic demo borough

Every command takes --help. Settings live in a TOML config file (see config/demo.toml).
Every command writes under --out (default out/<command>; the FIM pack of `run` goes to
[output] folder/fim-DATE unless --out says otherwise).
"""

#: Subcommand modules, in the order ``hotspots --help`` lists them.
SUBCOMMANDS = (
    "ingest",
    "run",
    "demo_data",
    "nearrepeat",
    "trends",
    "concentration",
    "dosage",
    "experiment",
    "evaluate",
    "cctv",
    "backtest",
    "london_data",
    "run_boroughs",
)


class CommandLoadError(HotspotsError):
    """A subcommand's module could not be imported (a broken installation)."""

    exit_code = 1


def load_subcommand(module: str) -> ModuleType:
    """Import ``hotspots.cli.<module>``; a failure is a :class:`CommandLoadError` naming it."""
    name = f"{__name__}.{module}"
    try:
        return importlib.import_module(name)
    except Exception as exc:  # any failure to import is a broken installation, reported by name
        raise CommandLoadError(
            f"the '{module.replace('_', '-')}' command could not be loaded ({name}: "
            f"{type(exc).__name__}: {exc}); reinstall hotspots (pip install -e .) or report "
            "this error."
        ) from exc


def build_parser() -> argparse.ArgumentParser:
    """The ``hotspots`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="hotspots", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"hotspots {__version__}")
    parser.set_defaults(func=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        mod = load_subcommand(module)
        p = mod.add_parser(sub)
        p.set_defaults(func=mod.main, command=mod.NAME)
    return parser


def _run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand with the engine's automatic choices shown on the terminal (unless --quiet)."""
    from ..announce import reporting_to
    from ..progress import Reporter

    with reporting_to(Reporter(quiet=args.quiet).chose):
        return int(args.func(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run the ``hotspots`` command; returns the exit status."""
    try:
        parser = build_parser()
    except CommandLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    args = parser.parse_args(argv)
    if args.func is None:
        parser.print_help()
        return 0
    try:
        return _run(args)
    except HotspotsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def console_main() -> None:
    """The ``hotspots`` command's entry point (and ``python -m hotspots.cli``): :func:`main`, then
    :func:`exit_without_teardown` with its status."""
    exit_without_teardown(main())


def exit_without_teardown(code: int) -> None:
    """End this process with status ``code``: run the exit handlers, flush the output, skip the clean-up.

    A pack leaves several hundred thousand Python objects behind. At a normal exit the interpreter
    collects and frees them one by one, garbage collection included, about a second after Barnet's
    pack has been written, although the process is ending anyway. Here the exit handlers registered
    with :mod:`atexit` still run (logging, temporary folders, a Dask cluster's shutdown) and standard
    output and error are flushed; only that clean-up is skipped (the operating system releases the
    memory at once). Not for use inside a process that goes on (tests call :func:`main`).
    """
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe (``| head``) or a closed stream
                stream.flush()
        os._exit(code)
