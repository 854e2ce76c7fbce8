"""The walkthrough notebook is saved with its outputs, and its Knox figure is the pack's.

``make test`` runs the notebook itself (``--nbmake``); these tests read the saved copy, which is what a user opens
first on GitHub or in Jupyter without running anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO_DATE, REPO

NOTEBOOK = REPO / "notebooks" / "walkthrough.ipynb"


def _cells() -> list[dict]:
    return [c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


def _text(cell: dict) -> str:
    """The printed text of a code cell (its stdout)."""
    return "".join("".join(o["text"]) for o in cell["outputs"] if o.get("output_type") == "stream")


def _knox_cell() -> dict:
    hits = [c for c in _cells() if "near_repeat_knox(" in "".join(c["source"])]
    assert len(hits) == 1, "the walkthrough runs the near-repeat Knox test in one cell"
    return hits[0]


def test_saved_with_outputs_small_and_free_of_local_paths():
    cells = _cells()
    assert all(c["execution_count"] is not None and c["outputs"] for c in cells), "every code cell has its output"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "saved from one run, top to bottom"
    pictures = [c for c in cells if any("image/png" in o.get("data", {}) for o in c["outputs"])]
    sources = ["".join(c["source"]) for c in pictures]
    assert any("kde.surface" in s for s in sources) and any("gi.to_array" in s for s in sources)
    raw = NOTEBOOK.read_text(encoding="utf-8")
    assert NOTEBOOK.stat().st_size < 400_000
    for local in (str(Path.home()), str(REPO), "/tmp/"):
        assert local not in raw, f"the saved notebook shows a path of the machine it ran on: {local}"
    assert "ran in" not in raw  # no timings: the same run saves the same bytes
    assert not any(c["metadata"].get("execution") for c in cells), "no execution timestamps"


def test_knox_cell_uses_the_config_settings():
    src = "".join(_knox_cell()["source"])
    assert "cfg.nearrepeat" in src and "cfg.project.seed" in src
    for literal in ("bandwidth", "n_spatial_bands", "n_temporal_bands", "permutations="):
        assert literal not in src, f"the notebook sets {literal} itself instead of using [nearrepeat]"


@pytest.mark.usefixtures("demo_config_path")
def test_knox_figure_equals_the_pack():
    """The Knox table the notebook shows is the one the pack's near-repeat stage computes (same extent)."""
    from hotspots import pipeline
    from hotspots.config import load_config

    cfg = load_config(REPO / "config" / "demo.toml")
    nr = pipeline.analyse(cfg, DEMO_DATE, stages=("nearrepeat",)).nearrepeat
    assert nr is not None and nr.knox is not None
    shown = _text(_knox_cell())
    assert nr.knox.summary(alpha=cfg.nearrepeat.alpha).strip() == shown.strip()
    # the near-repeat extent the pack's alert zones use is the one the notebook's table reports
    core = next(ln for ln in shown.splitlines() if ln.startswith("Core of the pattern"))
    assert f"about {nr.radius_m:g} m and {nr.duration_days:g} days" in core
