"""Harm spots against count spots: planted places where harm and count rankings disagree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from hotspots.analysis.harm import harm_weights
from hotspots.analysis.harm_spots import harm_spots
from hotspots.analysis.places import grid_places, snap_point_places
from hotspots.errors import InputError
from hotspots.geo.grid import Grid


def _incidents(cells, grid, weights):
    """cells: list of (row, col, crime_type, n) -> incidents at those cell centres with harm."""
    xc, yc = grid.centres()
    recs = [(xc[r, c], yc[r, c], t) for r, c, t, n in cells for _ in range(n)]
    df = pd.DataFrame(recs, columns=["x", "y", "crime_type"])
    df["harm"] = df["crime_type"].map(weights).astype(float)
    return df


def test_three_robberies_outweigh_forty_thefts():
    w = harm_weights("ons_css")  # robbery 746, other_theft 33
    grid = Grid.from_boundary(box(0, 0, 1000, 1000), 100)  # 100 cells of 1 ha
    cells = [
        (0, 0, "other_theft", 40),  # count spot, harm 1,320
        (5, 5, "robbery", 3),
        (5, 5, "other_theft", 1),  # harm spot, 4 incidents, harm 2,271
        (9, 9, "violence", 5),  # both lists when top = 2? harm 3,546.5, 5 incidents
        (2, 7, "shoplifting", 6),
    ]  # 6 incidents, harm 78
    inc = _incidents(cells, grid, w)
    hs = harm_spots(inc, grid_places(grid), top=2, harm_scheme="ons_css")
    # harm ranking: violence cell (3546.5), robbery cell (2271), thefts (1320), shoplifting (78)
    # count ranking: thefts (40), shoplifting (6), violence (5), robbery cell (4)
    top_h = hs.harm_spots
    assert list(top_h.incidents) == [5, 4] and top_h.harm.iloc[1] == pytest.approx(3 * 746 + 33)
    assert list(hs.count_spots.incidents) == [40, 6]
    assert hs.overlap == 0
    d = hs.differences.set_index("list")
    harm_only = hs.differences[hs.differences.list == "harm spot only"]
    assert len(harm_only) == 2 and len(d.loc["count spot only"]) == 2
    rob = harm_only[harm_only.incidents == 4].iloc[0]
    assert rob.reason.startswith("3 incidents of robbery (of 4 in all) give 99% of its harm (2,271)")
    assert "the 6 incidents, mostly shoplifting" in rob.reason  # paired with the second count spot
    theft = hs.differences[hs.differences.incidents == 40].iloc[0]
    assert "40 incidents, mostly other theft (40), weigh only 1,320" in theft.reason
    assert "ranks 1 by count but 3 by harm" in theft.reason
    total = 40 * 33 + 3 * 746 + 33 + 5 * 709.3 + 6 * 13
    assert hs.top_harm_share == pytest.approx((5 * 709.3 + 3 * 746 + 33) / total)
    assert hs.top_area_share == pytest.approx(2 / 100) and hs.top_place_share == pytest.approx(0.02)
    assert hs.top_count_share == pytest.approx(46 / 55)
    assert "top 2 harm spots on 2.0% of the area hold" in hs.headline()


def test_ties_break_deterministically_and_points_have_no_area():
    w = {"robbery": 746.0, "other_theft": 33.0}
    inc = pd.DataFrame(
        {
            "x": [0, 0, 10, 20, 20],
            "y": [0, 0, 10, 20, 20],
            "crime_type": ["robbery", "robbery", "other_theft", "other_theft", "other_theft"],
        }
    )
    inc["harm"] = inc["crime_type"].map(w)
    places = snap_point_places(inc.x, inc.y)
    a = harm_spots(inc, places, top=1)
    b = harm_spots(inc.iloc[::-1].reset_index(drop=True), places, top=1)
    pd.testing.assert_frame_equal(a.places, b.places)
    assert a.top_area_share is None and "of the places" in a.headline()
    with pytest.raises(InputError, match="top"):
        harm_spots(inc, places, top=0)
    with pytest.raises(InputError, match="harm"):
        harm_spots(inc.drop(columns="harm"), places)


def test_harm_spot_shares_equal_brute_force_on_random_data():
    rng = np.random.default_rng(3)
    grid = Grid.from_boundary(box(0, 0, 2000, 2000), 100)
    types = np.array(["robbery", "other_theft", "violence", "shoplifting"])
    w = harm_weights("cambridge_chi")
    n = 3000
    inc = pd.DataFrame(
        {
            "x": rng.gamma(2, 300, n).clip(0, 1999),
            "y": rng.uniform(0, 2000, n),
            "crime_type": types[rng.integers(0, 4, n)],
        }
    )
    inc["harm"] = inc["crime_type"].map(w).astype(float)
    hs = harm_spots(inc, grid_places(grid), top=20)
    cell = (np.floor((2000 - inc.y) / 100) * 20 + np.floor(inc.x / 100)).astype(int)
    per = inc.groupby(cell).agg(h=("harm", "sum"), c=("harm", "size"))
    by_h = per.sort_values(["h", "c"], ascending=False, kind="stable")
    assert hs.top_harm_share == pytest.approx(by_h.h.iloc[:20].sum() / inc.harm.sum())
    assert set(hs.harm_spots.place_id) == set(by_h.index[:20])
    by_c = per.sort_values(["c", "h"], ascending=False, kind="stable")
    assert set(hs.count_spots.place_id) == set(by_c.index[:20])
    assert len(hs.differences) == 2 * (20 - hs.overlap)
