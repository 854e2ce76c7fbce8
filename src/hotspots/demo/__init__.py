"""The deterministic synthetic demo borough behind ``data/`` (see :func:`generate_demo`)."""

from .generator import generate_demo
from .params import DemoParams, DemoTruth

__all__ = ["DemoParams", "DemoTruth", "generate_demo"]
