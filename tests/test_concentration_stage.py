"""The concentration stage, the ``hotspots concentration`` command, the concentration page and the chronic/acute
label of tasking items, on the demo borough.

Figures are checked against the Gini written out by hand (the mean absolute difference over all pairs of
places) on counts made here from the incidents and the grid, not through the library's tables.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, fast_config, write_config

DATE = "2025-11-14"


@pytest.fixture(scope="module")
def conc_res():
    if not (REPO / "data" / "incidents" / "incidents.csv").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    from hotspots import pipeline

    return pipeline.analyse(fast_config(), DATE, stages=("surfaces", "concentration"))


def _pairwise_gini(v: np.ndarray) -> float:
    """Gini as the mean absolute difference over all ordered pairs, over twice the mean (brute force)."""
    v = np.asarray(v, dtype=float)
    n = v.size
    return float(np.abs(v[:, None] - v[None, :]).sum() / (2.0 * n * n * v.mean()))


def test_concentration_settings_are_checked_when_loaded(tmp_path):
    from hotspots.config import load_config
    from hotspots.errors import ConfigError

    base = '[project]\nname = "x"\n[study_area]\nwards = "w.geojson"\n[[incidents]]\npath = "i.csv"\n'
    (tmp_path / "w.geojson").write_text("{}")
    (tmp_path / "i.csv").write_text("a\n")
    for body, words in (
        ('[concentration]\nplaces = "streets"\n', "[concentration] places"),
        ('[concentration]\nperiod = "month"\n', "[concentration] period"),
        ("[concentration]\nfragile_below = 1.5\n", "[concentration] fragile_below"),
        ('[concentration]\nharm_schemes = ["cambridge"]\n', "harm_schemes ['cambridge']"),
    ):
        p = write_config(tmp_path, base + body)
        with pytest.raises(ConfigError) as e:
            load_config(p)
        assert words in str(e.value)


def test_yearly_figures_match_a_hand_computed_gini(conc_res):
    conc = conc_res.concentration
    assert conc is not None and conc.places.kind == "grid cells"  # minute data: auto takes grid cells
    assert conc.period == "half-year" and "places" in conc.choices and "period" in conc.choices
    yearly = conc.yearly()
    assert list(yearly["period"]) == ["2023 H1", "2023 H2", "2024 H1", "2024 H2", "2025 H1"]
    grid = conc_res.grid
    inc = conc_res.incidents
    mid = inc["start"] + (inc["end"] - inc["start"]) / 2
    r, c = grid.cell_index(inc["x"].to_numpy(float), inc["y"].to_numpy(float))
    site = np.full(grid.shape, -1)
    rows, cols = np.nonzero(grid.mask)
    site[rows, cols] = np.arange(rows.size)
    where = np.where(r >= 0, site[np.maximum(r, 0), np.maximum(c, 0)], -1)
    for k, (year, half) in enumerate([(2023, 1), (2023, 2), (2024, 1), (2024, 2), (2025, 1)]):
        sel = (mid.dt.year.to_numpy() == year) & (((mid.dt.month.to_numpy() - 1) // 6 + 1) == half) & (where >= 0)
        counts = np.bincount(where[sel], minlength=rows.size)
        g = _pairwise_gini(counts)
        n_ev, n = counts.sum(), counts.size
        assert yearly["n_events"][k] == n_ev
        assert yearly["gini"][k] == pytest.approx(g, abs=1e-9)
        assert yearly["generalised_gini"][k] == pytest.approx(1 - max(1, n / n_ev) * (1 - g), abs=1e-9)
        top = np.sort(counts)[::-1]
        assert yearly["top5pct_share"][k] == pytest.approx(top[: int(0.05 * n)].sum() / n_ev, abs=2 / n_ev)


def test_trajectories_use_the_run_seed_and_robustness_the_surfaces_radius(conc_res):
    conc = conc_res.concentration
    assert conc.trajectories is not None and conc.trajectories.seed == conc_res.cfg.project.seed
    assert set(conc.robustness) == {t for t, a in conc_res.surfaces.areas.items() if len(a.frame)}
    for t, rob in conc.robustness.items():
        assert rob.radius_m == pytest.approx(conc_res.surfaces.kde[t].radius_m)
        # the reference areas are the surfaces' own hotspot areas
        assert len(rob.areas) == len(conc_res.surfaces.areas[t].frame)


def test_town_centres_are_chronic_on_the_tasking_list(conc_res):
    """The planted night-time economy is busy in every half-year: each town centre's item is chronic."""
    tl = conc_res.tasking
    truth = json.loads((REPO / "data" / "incidents" / "planted_truth.json").read_text())
    import shapely

    for tc in truth["town_centres"]:
        near = tl.items[tl.items.geometry.distance(shapely.Point(tc["x"], tc["y"])) <= 100]
        assert len(near) == 1, tc["name"]
        assert near["stability_label"].iat[0] == "chronic" and near["stability"].iat[0].startswith("chronic")
        assert near["robustness"].iat[0].startswith("robust")
    assert {"stability", "robustness"} <= set(tl.column_keys)
    assert "stability" in tl.to_frame().columns


def test_playbook_chooses_by_chronic_or_acute():
    from hotspots.config import read_playbook_file
    from hotspots.config.sections import Rule
    from hotspots.errors import ConfigError
    from hotspots.tasking.playbook import Playbook

    book = Playbook(read_playbook_file(REPO / "config" / "playbook.toml"))
    chronic = book.choose("hotspot", "burglary_residential", "unknown", "chronic")
    acute = book.choose("hotspot", "burglary_residential", "unknown", "acute")
    plain = book.choose("hotspot", "burglary_residential", "unknown", "none")
    assert "Problem-solving plan with partners" in chronic.tactic and "peak" not in chronic.tactic.lower()
    assert "cocooning" in acute.tactic and acute is not chronic
    assert plain.tactic.startswith("Target-hardening")
    assert "Problem-solving plan" in book.choose("hotspot", "drugs", "night", "chronic").tactic
    assert book.choose("hotspot", "drugs", "night", "").tactic.startswith("Visible patrol")
    with pytest.raises(ConfigError, match="stability"):
        Rule(tactic="x", stability="sometimes").validate("pb.toml")


def test_concentration_page_is_escaped_and_byte_identical(conc_res, tmp_path):
    from hotspots.render.concentration import render_concentration

    cfg = conc_res.cfg.override("project", name="<script>alert(1)</script> Borough")
    res = dataclasses.replace(conc_res, inputs=dataclasses.replace(conc_res.inputs, cfg=cfg))
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    render_concentration(res, a)
    render_concentration(res, b)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert {"concentration.html", "concentration_lorenz.png", "concentration_trajectories.png"} <= set(files)
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    page = (a / "concentration.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Borough" in page
    assert "generalised Gini" in page and "2025 H1" in page
    assert "burglary_residential" not in page  # crime types in plain words


def test_concentration_command_prints_the_figures(tmp_path, capsys):
    from hotspots.cli import main

    out = tmp_path / "conc"
    cfg = REPO / "config" / "demo.toml"
    assert main(["concentration", "--config", str(cfg), "--out", str(out), "--quiet", "--places", "snap_points"]) == 0
    text = capsys.readouterr().out
    assert "Concentration written to" in text
    table = pd.read_csv(out / "concentration.csv")
    assert set(table["grouping"]) == {"all", "crime_type"}
    assert (out / "concentration.html").exists() and (out / "concentration.json").exists()
    meta = json.loads((out / "concentration.json").read_text())
    assert meta["place_rule"] == "as set in [concentration] places" and "snap points" in meta["places"]
    text = Path(cfg).read_text()
    assert '\nplaces = "auto"' in text
    bad = write_config(tmp_path, text.replace('\nplaces = "auto"', '\nplaces = "streets"'))
    assert main(["concentration", "--config", str(bad), "--out", str(tmp_path / "bad")]) == 2
    assert "[concentration] places" in capsys.readouterr().err
