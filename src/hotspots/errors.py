"""One exception family for the whole engine.

Every message names the file, row, column or key at fault and says how to fix
it. The CLI prints these without a traceback and exits non-zero.
"""

from __future__ import annotations


class HotspotsError(Exception):
    """Base class of every error the engine raises on purpose."""

    exit_code = 2


class ConfigError(HotspotsError):
    """A configuration file or parameter is wrong (unknown key, bad type, impossible value)."""


class InputError(HotspotsError):
    """An input file is unusable as a whole (missing, empty, wrong columns, wrong CRS...)."""


class OutputError(HotspotsError):
    """The output folder cannot take the products (its parent is a file, it is read-only, the disk is full)."""


class PrecisionError(HotspotsError):
    """An analysis needs finer time than the data has (e.g. day bands on month-precision data)."""


class LookAheadError(HotspotsError):
    """A forecast method was handed, or read, data at or after its forecast origin."""
