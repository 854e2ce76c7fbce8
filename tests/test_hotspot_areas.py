"""Hotspot areas: merging hot cells, per-area summaries, time profiles, and the real-data stage run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis.hotspot_areas import HotspotsConfig, day_hour_profile, hotspot_areas, label_cells
from hotspots.errors import ConfigError, PrecisionError
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def make_incidents(x, y, types, locs, start, precision="minute", harm=None):
    import geopandas as gpd

    start = pd.to_datetime(pd.Series(start)).dt.tz_localize(TZ)
    df = pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(len(x))],
            "crime_type": types,
            "offence": types,
            "start": start,
            "end": start,
            "time_precision": precision,
            "x": np.asarray(x, float),
            "y": np.asarray(y, float),
            "location_text": locs,
            "ward_code": "W1",
            "lsoa_code": "",
            "harm": np.ones(len(x)) if harm is None else harm,
        }
    )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs=27700)


@pytest.fixture(scope="module")
def setup():
    import geopandas as gpd

    grid = Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)
    hot = np.zeros(grid.shape, dtype=bool)
    hot[1:3, 1:3] = True  # block A: 4 cells, rows 1-2, cols 1-2
    hot[3, 3] = True  # touches A diagonally -> same area (queen connectivity)
    hot[7:9, 6:9] = True  # block B: 6 cells
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"], "ward_name": ["West", "East"]},
        geometry=[shapely.box(0, 0, 500, 1000), shapely.box(500, 0, 1000, 1000)],
        crs=27700,
    )
    # incidents: 5 burglaries in A (cell centre 150, 850), 3 robberies in B (750, 150), 2 outside any area
    x = [150] * 5 + [750] * 3 + [450, 50]
    y = [850] * 5 + [150] * 3 + [450, 50]
    types = ["burglary"] * 5 + ["robbery"] * 3 + ["burglary", "violence"]
    locs = ["On or near High Street"] * 3 + ["On or near Mill Lane"] * 2 + ["On or near Station Road"] * 3 + ["x", "y"]
    start = ["2024-01-01 22:10"] * 4 + ["2024-01-02 09:00"] + ["2024-01-06 23:30"] * 3 + ["2024-01-03 12:00"] * 2
    return grid, hot, wards, x, y, types, locs, start


def test_labels_are_queen_connected():
    hot = np.zeros((5, 5), dtype=bool)
    hot[0, 0] = hot[1, 1] = hot[3, 3] = hot[3, 4] = True
    lab, n = label_cells(hot)
    assert n == 2 and lab[0, 0] == lab[1, 1] != lab[3, 3] == lab[3, 4]


def test_areas_summaries_and_ranking(setup):
    grid, hot, wards, x, y, types, locs, start = setup
    inc = make_incidents(x, y, types, locs, start)
    res = hotspot_areas(inc, grid, hot, wards=wards, harm_scheme="count", criterion="test")
    f = res.frame
    assert len(f) == 2 and f.crs.to_epsg() == 27700
    assert list(f["rank"]) == [1, 2]
    a, b = f.iloc[0], f.iloc[1]  # A has 5 incidents (harm 5), B 3
    assert a["n_cells"] == 5 and a["area_m2"] == pytest.approx(5 * 100 * 100)
    assert b["n_cells"] == 6 and b["area_m2"] == pytest.approx(6 * 100 * 100)
    assert a["incidents"] == 5 and a["harm"] == 5 and json.loads(a["counts_by_type"]) == {"burglary": 5}
    assert b["incidents"] == 3 and json.loads(b["counts_by_type"]) == {"robbery": 3}
    assert a["top_locations"] == "On or near High Street (3); On or near Mill Lane (2)"
    assert a["ward_codes"] == "W1" and b["ward_codes"] == "W2"
    assert set(f["harm_scheme"]) == {"count"}
    # profiles: A has 4 at Monday 22h and 1 Tuesday 09h; B 3 on Saturday 23h
    pa = res.profiles[int(a["area_id"])]
    assert pa.sum() == 5 and pa[0, 22] == 4 and pa[1, 9] == 1
    assert a["peak_day"] == "Mon" and a["peak_hour"] == 22 and b["peak_day"] == "Sat" and b["peak_hour"] == 23
    # cell labels agree with the polygons
    assert (res.labels > 0).sum() == 11
    # harm ranking: make robbery weigh more and B comes first
    inc2 = inc.assign(harm=np.where(inc["crime_type"] == "robbery", 10.0, 1.0))
    f2 = hotspot_areas(inc2, grid, hot, wards=wards, harm_scheme="heavy_robbery").frame
    assert json.loads(f2.iloc[0]["counts_by_type"]) == {"robbery": 3} and f2.iloc[0]["harm"] == 30


def test_month_precision_refuses_profiles(setup):
    grid, hot, _, x, y, types, locs, start = setup
    inc = make_incidents(x, y, types, locs, start, precision="month")
    res = hotspot_areas(inc, grid, hot)
    assert res.profiles == {} and "month precision" in res.profile_note
    assert len(res.frame) == 2 and "peak_hour" not in res.frame.columns
    with pytest.raises(PrecisionError, match="minute-precision"):
        hotspot_areas(inc, grid, hot, profile="always")


def test_min_cells_and_empty(setup):
    grid, hot, _, x, y, types, locs, start = setup
    inc = make_incidents(x, y, types, locs, start)
    f = hotspot_areas(inc, grid, hot, min_cells=6).frame
    assert len(f) == 1 and f.iloc[0]["n_cells"] == 6
    empty = hotspot_areas(inc, grid, np.zeros(grid.shape, dtype=bool))
    assert len(empty.frame) == 0


def test_day_hour_profile_hand_case():
    t = pd.Series(pd.to_datetime(["2024-03-04 00:05", "2024-03-10 23:59", "2024-03-10 23:00"]).tz_localize(TZ))
    p = day_hour_profile(t)
    assert p.shape == (7, 24) and p.sum() == 3 and p[0, 0] == 1 and p[6, 23] == 2


def test_kde_percentile_mask(setup):
    from hotspots.analysis.density import hotspot_kde

    grid = setup[0]
    rng = np.random.default_rng(4)
    pts = np.column_stack([rng.normal(300, 60, 200), rng.normal(700, 60, 200)])
    d = hotspot_kde(pts, grid=grid, radius_m=200)
    m = d.percentile_mask(90)
    vals = d.surface[grid.mask]
    assert m.sum() == (vals >= np.percentile(vals, 90)).sum()
    assert m[3, 3]  # the cell holding the peak (300, 700)


def test_config_validation():
    from hotspots.config import build_section

    assert (
        build_section(HotspotsConfig, {"method": "kde", "kde_percentile": 97.5}, "r.toml", "hotspots").method == "kde"
    )
    with pytest.raises(ConfigError, match="confidence"):
        build_section(HotspotsConfig, {"confidence": 80}, "r.toml", "hotspots")


@pytest.fixture(scope="module")
def barnet_run(shared_data, repo, tmp_path_factory):
    """The stage on the real 2016-01..2018-06 police.uk all-crime file (via the shipped Barnet config)."""
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_incidents, load_study_area
    from hotspots.stages.surfaces import surfaces as run_surfaces

    cfg = load_config(repo / "config" / "barnet.toml", data_dir=str(shared_data))
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area).incidents
    grid = area.grid(cfg.grid.cell_size_m)
    res = run_surfaces(cfg, inc, area, grid, crime_types=["burglary", "robbery", "violence"])
    out = tmp_path_factory.mktemp("surfaces")
    files = res.write(out)
    return res, grid, inc, out, files


def test_real_2016_2018_hotspots_written_and_reread(barnet_run):
    import geopandas as gpd
    import pyogrio
    import rasterio

    res, grid, inc, out, _ = barnet_run
    for t in ("burglary", "robbery", "violence"):
        assert len(res.areas[t].frame) > 0, f"no {t} hotspots"
        assert res.gistar[t].hot(95).sum() > 0
        assert "month precision" in res.areas[t].profile_note  # police.uk: no hour profiles
        with rasterio.open(out / f"kde_{t}.tif") as src:
            assert src.crs.to_epsg() == 27700
            assert src.bounds == pytest.approx(grid.bounds)
            assert (src.width, src.height) == (grid.ncols, grid.nrows)
            arr = src.read(1, masked=True)
            assert np.array_equal(arr.mask, ~grid.mask)
            # the surface integrates (approximately) to the incidents of that type
            total = float(arr.sum()) * grid.cell_area_m2 / 1e6
            n = int((inc["crime_type"] == t).sum())
            assert 0.85 * n < total <= 1.001 * n
    layers = dict(pyogrio.list_layers(out / "surfaces.gpkg"))
    for t in ("burglary", "robbery", "violence"):
        h = gpd.read_file(out / "surfaces.gpkg", layer=f"hotspots_{t}")
        assert h.crs.to_epsg() == 27700 and f"gistar_{t}" in layers
        xmin, ymin, xmax, ymax = h.total_bounds
        gx0, gy0, gx1, gy1 = grid.bounds
        assert gx0 <= xmin < xmax <= gx1 and gy0 <= ymin < ymax <= gy1
        assert list(h["rank"]) == list(range(1, len(h) + 1))
        assert (np.diff(h["harm"].to_numpy()) <= 0).all()
        # incidents counted inside each polygon equal the point-in-polygon count of that type
        pts = inc[inc["crime_type"] == t]
        top = h.iloc[0]
        inside = shapely.contains_xy(top.geometry, pts["x"].to_numpy(), pts["y"].to_numpy()).sum()
        assert abs(int(top["incidents"]) - int(inside)) <= 0.02 * top["incidents"] + 2  # points on cell edges
        assert set(h["harm_scheme"]) == {"count"}


def test_stage_reads_its_config_sections(demo_config_path):
    """[density], [gistar] and [hotspots] settings reach the results (demo borough, robbery)."""
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_incidents, load_study_area
    from hotspots.stages.surfaces import surfaces as run_surfaces

    cfg = (
        load_config(demo_config_path)
        .override("density", radius_m=300.0, harm=False)
        .override("gistar", permutations=99, seed=5)
        .override("hotspots", method="kde", kde_percentile=98.0)
    )
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area).incidents
    grid = area.grid(cfg.grid.cell_size_m)
    res = run_surfaces(cfg, inc, area, grid, crime_types=["robbery"])
    assert res.kde["robbery"].radius_m == 300 and res.kde["robbery"].radius_rule == "given"
    assert res.kde_harm == {}
    g = res.gistar["robbery"]
    assert g.permutations == 99 and g.seed == 5 and g.p_sim is not None
    a = res.areas["robbery"]
    assert a.method == "kde" and "98" in a.criterion
    # the KDE areas cover exactly the cells at or above the 98th percentile
    assert ((a.labels > 0) == res.kde["robbery"].percentile_mask(98)).all()
    assert res.settings["hotspots"]["method"] == "kde" and res.harm_scheme == cfg.harm.scheme
    assert a.profiles  # the demo data have minute precision
    r = res.rates["robbery"]
    assert r.denominator_kind == "population" and r.table["count"].sum() + r.unassigned == len(
        inc[inc.crime_type == "robbery"]
    )


def test_area_descriptions_equal_pandas_value_counts_with_ties_and_missing_locations():
    """Counts by type and top locations of every area, against pandas' own value_counts per area (the
    reference): most frequent first, ties in the order they first occur, missing and empty places left out."""
    rng = np.random.default_rng(7)
    grid = Grid.from_boundary(shapely.box(0, 0, 2000, 2000), 100)
    hot = rng.random(grid.shape) < 0.3
    n = 3000
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)
    types = rng.choice(["burglary", "robbery", "violence", "drugs", "shoplifting"], n)
    locs = pd.Series(rng.choice(["On or near A Road", "On or near B Street", "", "C Lane", "D Way"], n), dtype=object)
    locs[rng.random(n) < 0.1] = None
    inc = make_incidents(x, y, types, locs, ["2024-01-01 10:00"] * n, precision="month")
    res = hotspot_areas(inc, grid, hot, top_locations=3, profile="never")
    f = res.frame
    assert len(f) > 20
    r, c = grid.cell_index(x, y)
    area_of = np.where(r >= 0, res.labels[np.maximum(r, 0), np.maximum(c, 0)], 0)
    ties = 0
    for _, row in f.iterrows():
        sel = area_of == row["area_id"]
        vc = pd.Series(types[sel]).value_counts()
        ties += int(vc.duplicated().any())
        assert row["counts_by_type"] == json.dumps({str(t): int(v) for t, v in vc.items()})
        assert row["top_crime_type"] == vc.index[0]
        lv = pd.Series(locs[sel].to_numpy()).astype("string").dropna()
        lv = lv[lv.str.len() > 0].value_counts()
        assert row["top_locations"] == "; ".join(f"{s} ({v})" for s, v in lv.head(3).items())
        assert row["incidents"] == sel.sum()
    assert ties > 5  # the order of equal counts was tested


def test_touched_wards_equal_testing_every_ward():
    """The wards an area overlaps (bounding boxes first, then the exact test) equal testing the area
    against every ward: overlaps count, a shared edge or corner does not, and the wards' order is kept."""
    import geopandas as gpd

    from hotspots.analysis.hotspot_areas import _touched_wards

    rng = np.random.default_rng(3)
    wards = gpd.GeoDataFrame(
        {
            "ward_code": [f"W{i}{j}" for i in range(4) for j in range(4)][::-1],
            "ward_name": [f"Ward {i}-{j}" for i in range(4) for j in range(4)][::-1],
        },
        geometry=[shapely.box(i * 100, j * 100, (i + 1) * 100, (j + 1) * 100) for i in range(4) for j in range(4)][
            ::-1
        ],
    )
    shapes = [shapely.box(100, 100, 200, 200), shapely.box(200, 0, 300, 100), shapely.box(150, 50, 250, 350)]
    for _ in range(60):
        x, y = rng.integers(0, 40, 2) * 10
        w, h = rng.integers(1, 15, 2) * 10
        shapes.append(shapely.box(x, y, x + w, y + h))
    areas = gpd.GeoDataFrame(geometry=shapes)
    codes, names = _touched_wards(areas, wards)
    wg = np.asarray(wards.geometry.values)
    for g, c, n in zip(shapes, codes, names, strict=True):
        hit = shapely.intersects(wg, g) & ~shapely.touches(wg, g)
        assert c == ",".join(wards["ward_code"].to_numpy()[hit])
        assert n == ", ".join(wards["ward_name"].to_numpy()[hit])
    assert codes[0] == "W11"  # the ward itself; its eight neighbours only touch it
    assert codes[1] == "W20"
    assert _touched_wards(areas.iloc[:0], wards) == ([], [])
