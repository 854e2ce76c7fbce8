"""Backtest plots (PNG, matplotlib Agg): hit rate against area share, and hit rate by origin."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from .harness import CURVE_SHARES
from .metrics import share_key


def _plt():
    matplotlib.use("Agg")

    return plt


def plot_capture_curves(result, path, title: str = "") -> Path:
    """Mean hit rate (share of next-horizon incidents in the flagged cells) against the share of the
    area flagged, one line per method, with +-1 standard error bands over origins."""
    plt = _plt()

    cols = [f"{s:g}" for s in CURVE_SHARES]
    x = np.array(CURVE_SHARES) * 100
    fig, ax = plt.subplots(figsize=(7, 4.8), dpi=110)
    for name in result.methods:
        c = result.curves[result.curves["method"] == name][cols]
        mean = c.mean().to_numpy()
        se = (c.std(ddof=1) / np.sqrt(c.count())).to_numpy()
        (line,) = ax.plot(x, mean * 100, label=name, lw=1.6)
        ax.fill_between(x, (mean - se) * 100, (mean + se) * 100, color=line.get_color(), alpha=0.15, lw=0)
    for s in result.shares:
        ax.axvline(s * 100, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("share of the area flagged (%)")
    ax.set_ylabel("incidents of the next horizon captured (%)")
    ax.set_title(title or f"Hit rate vs area ({len(result.origins)} origins, horizon {result.horizon.label})")
    ax.set_xlim(0, x.max())
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_hit_rate_by_origin(result, path, share: float = 0.05, title: str = "") -> Path:
    """Hit rate at ``share`` of the area for every origin, one line per method."""
    plt = _plt()

    col = f"hit_rate_{share_key(share)}"
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    for name in result.methods:
        d = result.scores[result.scores["method"] == name].sort_values("origin")
        ax.plot(d["origin"].dt.tz_localize(None), d[col] * 100, marker="o", ms=3, lw=1.2, label=name)
    ax.set_xlabel("forecast origin")
    ax.set_ylabel(f"hit rate at {share * 100:g}% of the area (%)")
    ax.set_title(title or f"Hit rate by origin at {share * 100:g}% of the area (horizon {result.horizon.label})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
