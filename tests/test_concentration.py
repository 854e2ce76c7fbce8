"""Crime concentration: Lorenz curve and Gini against brute force, the sparse-data
(generalised) Gini against hand-computed cases, the power-few figures, the tidy
table by group and year, places of every kind, and the real Barnet burglary data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from hotspots.analysis.concentration import (
    concentration,
    concentration_table,
    concentration_trend,
    generalised_gini,
    gini,
    lorenz_curve,
)
from hotspots.analysis.periods import period_bins
from hotspots.analysis.places import grid_places, polygon_places, segment_places, snap_point_places
from hotspots.errors import InputError
from hotspots.geo.grid import Grid

TZ = "Europe/London"


# --------------------------------------------------------------------------- brute-force references
def brute_gini(v) -> float:
    """Mean absolute difference over all ordered pairs / (2 * mean)."""
    v = np.asarray(v, float)
    n = v.size
    return sum(abs(a - b) for a in v for b in v) / (2.0 * n * n * v.mean())


def brute_lorenz(v):
    """Share held by the top k places, k = 0..n, by explicit sorting and summing."""
    vals = sorted((float(a) for a in v), reverse=True)
    tot, run, out = sum(vals), 0.0, [0.0]
    for a in vals:
        run += a
        out.append(run / tot)
    return out


def area_under(xs, ys) -> float:
    return float(sum((xs[i + 1] - xs[i]) * (ys[i + 1] + ys[i]) / 2 for i in range(len(xs) - 1)))


def brute_generalised_gini(v) -> float:
    """Area between the curve and the line of maximal equality over the area above that line,
    both integrated numerically on a fine common x grid (no closed form used)."""
    v = np.asarray(v, float)
    n, N = v.size, int(v.sum())
    y = brute_lorenz(v)
    xs = np.linspace(0, 1, 200001)
    curve = np.interp(xs, np.arange(n + 1) / n, y)
    xe = min(1.0, N / n)
    line = np.minimum(xs / xe, 1.0)
    between = np.trapezoid(curve - line, xs)
    above = np.trapezoid(1.0 - line, xs)
    return float(between / above)


def brute_places_for(v, share) -> float:
    """Walk down the places (highest first) until the running share reaches ``share``."""
    vals = sorted((float(a) for a in v), reverse=True)
    tot, run = sum(vals), 0.0
    for k, a in enumerate(vals):
        if run + a >= share * tot - 1e-12:
            return (k + (share * tot - run) / a) / len(vals)
        run += a
    return 1.0


def sparse_counts(rng, n, lam):
    """Counts like micro places: mostly 0 and 1, a few high."""
    base = rng.poisson(lam, n)
    hot = rng.choice(n, max(1, n // 50), replace=False)
    base[hot] += rng.poisson(8, hot.size)
    return base


# --------------------------------------------------------------------------- statistics
@pytest.mark.parametrize("seed,n,lam", [(1, 40, 0.3), (2, 200, 0.05), (3, 120, 2.0), (4, 7, 5.0)])
def test_gini_and_lorenz_equal_brute_force(seed, n, lam):
    v = sparse_counts(np.random.default_rng(seed), n, lam)
    assert gini(v) == pytest.approx(brute_gini(v), abs=1e-12)
    c = lorenz_curve(v)
    np.testing.assert_allclose(c.value_share, brute_lorenz(v), atol=1e-12)
    np.testing.assert_allclose(c.place_share, np.arange(n + 1) / n)
    # the Gini is also 2 x the area between the curve (highest first) and the diagonal
    assert gini(v) == pytest.approx(2 * area_under(c.place_share, c.value_share) - 1, abs=1e-12)


@pytest.mark.parametrize("seed,n,lam", [(5, 300, 0.02), (6, 80, 0.2), (7, 60, 1.5)])
def test_generalised_gini_equals_area_definition(seed, n, lam):
    v = sparse_counts(np.random.default_rng(seed), n, lam)
    assert generalised_gini(v) == pytest.approx(brute_generalised_gini(v), abs=2e-5)


def test_generalised_gini_hand_computed_cases():
    # 10 places, 3 + 1 + 1 crimes. Highest first the curve passes (0.1, .6), (0.2, .8), (0.3, 1);
    # area under it .03 + .07 + .09 + .7 = .89, so G = 2 * .89 - 1 = .78. With N = 5 < n = 10 the
    # line of maximal equality runs to (0.5, 1): area under it .25 + .5 = .75, area above it .25,
    # area between curve and line .89 - .75 = .14, so G' = .14 / .25 = .56.
    assert gini([3, 1, 1] + [0] * 7) == pytest.approx(0.78)
    assert generalised_gini([3, 1, 1] + [0] * 7) == pytest.approx(0.56)
    # The lorenzgini package's documented examples (Bernasco & Steenbeek's R package):
    # 5 + 2 + 1 crimes on 10 places: G = .80, G' = .75; 10 + 8 + 2 crimes (N >= n): G' = G = .78.
    assert gini([5, 2, 1] + [0] * 7) == pytest.approx(0.80)
    assert generalised_gini([5, 2, 1] + [0] * 7) == pytest.approx(0.75)
    assert generalised_gini([10, 8, 2] + [0] * 7) == pytest.approx(gini([10, 8, 2] + [0] * 7)) == pytest.approx(0.78)
    # One crime in each of 5 of 10 places is as equal as 5 crimes can be: G = .5 but G' = 0.
    assert gini([1] * 5 + [0] * 5) == pytest.approx(0.5)
    assert generalised_gini([1] * 5 + [0] * 5) == pytest.approx(0.0)
    # ... and the same pattern with more empty places: the plain Gini rises, G' does not.
    assert gini([1] * 5 + [0] * 95) == pytest.approx(0.95)
    assert generalised_gini([1] * 5 + [0] * 95) == pytest.approx(0.0)
    # all crime in one place: G = 1 - 1/n, G' = 1 - 1/N
    assert gini([4] + [0] * 9) == pytest.approx(0.9)
    assert generalised_gini([4] + [0] * 9) == pytest.approx(0.75)


def test_power_few_hand_computed_and_brute_force():
    c = concentration([3, 1, 1] + [0] * 7)
    # the top place holds 60%: 25% of crime needs 25/60 of it = 0.04167 of the places;
    # 80% needs exactly the top two places (0.2); the top 1% of places is a tenth of the top one.
    assert c.places_for_share[25] == pytest.approx(0.25 / 0.6 / 10)
    assert c.places_for_share[50] == pytest.approx(0.5 / 0.6 / 10)
    assert c.places_for_share[80] == pytest.approx(0.2)
    assert c.share_in_top[1] == pytest.approx(0.06)
    assert c.share_in_top[5] == pytest.approx(0.30)
    assert (c.n_places, c.n_events, c.n_places_with_events, c.sparse) == (10, 5, 3, True)
    for seed in range(3):
        v = sparse_counts(np.random.default_rng(seed + 20), 500, 0.1)
        c = concentration(v)
        for p in (25, 50, 80):
            assert c.places_for_share[p] == pytest.approx(brute_places_for(v, p / 100), abs=1e-12)
        y = brute_lorenz(v)
        for q in (1, 5):  # 500 places: the top 5 and the top 25 are whole places
            assert c.share_in_top[q] == pytest.approx(y[int(500 * q / 100)], abs=1e-12)


def test_bad_values_are_refused_with_a_reason():
    with pytest.raises(InputError, match=">= 0"):
        gini([1, -1, 2])
    with pytest.raises(InputError, match="NaN"):
        concentration([1, np.nan])
    with pytest.raises(InputError, match="n_events"):
        generalised_gini([0.5, 2.25, 0.0])
    with pytest.raises(InputError, match="at least one place"):
        concentration([])
    c = concentration([0, 0, 0])
    assert np.isnan(c.gini) and c.n_events == 0


def test_harm_generalised_gini_counts_incidents_that_carry_harm():
    harm = np.array([746.0 * 2, 13.0, 0, 0, 0, 0])  # 2 robberies in one place, one shoplifting in another
    c = concentration(harm, n_events=3, what="harm")
    assert c.gini == pytest.approx(brute_gini(harm))
    assert c.generalised_gini == pytest.approx(1 - 6 / 3 * (1 - brute_gini(harm)))


# --------------------------------------------------------------------------- places
def test_places_of_every_kind_locate_incidents():
    grid = Grid.from_boundary(box(0, 0, 300, 200), 100)
    gp = grid_places(grid)
    assert gp.n == 6 and gp.area_m2.sum() == pytest.approx(60000)
    np.testing.assert_array_equal(gp.locate([50, 250, 999], [150, 50, 50]), [0, 5, -1])

    sp = snap_point_places([10, 10, 20, 10.04], [5, 5, 7, 5.02])
    assert sp.n == 2  # (10, 5) and (10.04, 5.02) round to one point at 0.1 m
    np.testing.assert_array_equal(sp.locate([10, 20, 50], [5, 7, 50]), [0, 1, -1])

    import geopandas as gpd

    polys = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=27700)
    pp = polygon_places(polys, "code")
    # a point on the shared edge goes to the first polygon; one outside to none
    np.testing.assert_array_equal(pp.locate([50, 100, 150, 500], [50, 50, 50, 50]), [0, 0, 1, -1])
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 50), (100, 50)])], crs=27700)
    seg = segment_places(lines, max_distance_m=10)
    np.testing.assert_array_equal(seg.locate([50, 50, 50], [3, 45, 25]), [0, 1, -1])
    with pytest.raises(InputError, match="to_crs"):
        polygon_places(polys.to_crs(4326))
    with pytest.raises(InputError, match="LineString"):
        segment_places(polys)


def test_snap_points_that_look_unsnapped_get_a_note():
    rng = np.random.default_rng(0)
    sp = snap_point_places(rng.uniform(0, 1000, 200), rng.uniform(0, 1000, 200))
    assert sp.notes and "exact locations" in sp.notes[0]


# --------------------------------------------------------------------------- periods and the table
def _incidents(rows):
    """rows: (x, y, crime_type, month 'YYYY-MM', harm) -> month-precision incidents like police.uk."""
    df = pd.DataFrame(rows, columns=["x", "y", "crime_type", "month", "harm"])
    start = pd.to_datetime(df["month"] + "-01").dt.tz_localize(TZ)
    df["start"] = start
    df["end"] = start + pd.offsets.MonthEnd(1) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    return df.drop(columns="month")


def test_period_bins_keep_whole_periods_only():
    inc = _incidents([(0, 0, "robbery", m, 1.0) for m in ("2015-12", "2016-01", "2016-07", "2017-12", "2018-02")])
    b = period_bins(inc, "year")
    assert b.labels == ("2016", "2017") and b.n_set_aside == 2
    np.testing.assert_array_equal(b.index, [-1, 0, 0, 1, -1])
    h = period_bins(inc, "half-year")
    assert h.labels[0] == "2016 H1" and h.labels[-1] == "2017 H2" and len(h.labels) == 4
    assert period_bins(inc, "year", complete_only=False).labels == ("2015", "2016", "2017", "2018")


def test_concentration_table_rows_equal_direct_computation():
    # 6 cells of 100 m in two wards: West holds column 0, East columns 1-2
    grid = Grid.from_boundary(box(0, 0, 300, 200), 100)
    places = grid_places(grid)
    import geopandas as gpd

    wards = gpd.GeoDataFrame(
        {"ward_code": ["W", "E"], "ward_name": ["West", "East"]},
        geometry=[box(0, 0, 100, 200), box(100, 0, 300, 200)],
        crs=27700,
    )
    rows = (
        [(50, 150, "robbery", "2016-01", 746.0)] * 3
        + [(250, 50, "other_theft", "2016-05", 33.0)] * 8
        + [(150, 50, "other_theft", "2016-06", 33.0)]
        + [(50, 50, "robbery", "2017-01", 746.0)]
        + [(250, 150, "other_theft", "2017-12", 33.0)] * 2
        + [(5000, 5000, "robbery", "2017-02", 746.0)]
    )
    inc = _incidents(rows)
    df = concentration_table(inc, places, period="year", wards=wards, harm_scheme="ons_css")
    assert df.attrs["n_unplaced"] == 1 and df.attrs["n_set_aside"] == 0
    r = df[(df.grouping == "all") & (df.period == "2016")].iloc[0]
    # cell order is row-major from the top: (0,0) top-left ... (1,2) bottom-right
    counts_2016 = np.array([3, 0, 0, 0, 1, 8])
    harm_2016 = counts_2016 * np.array([746, 0, 0, 0, 33, 33])
    ref = concentration(counts_2016)
    assert (r.n_places, r.n_events, r.n_places_with_events) == (6, 12, 3)
    assert r.gini == pytest.approx(ref.gini) and r.generalised_gini == pytest.approx(ref.generalised_gini)
    assert r.places_for_50pct == pytest.approx(ref.places_for_share[50])
    assert r.harm == pytest.approx(harm_2016.sum())
    assert r.harm_gini == pytest.approx(brute_gini(harm_2016))
    assert r.harm_top5pct_share == pytest.approx(concentration(harm_2016, n_events=12).share_in_top[5])
    r17 = df[(df.grouping == "all") & (df.period == "2017")].iloc[0]
    assert (r17.n_events, r17.n_unplaced) == (3, 1)
    rob = df[(df.grouping == "crime_type") & (df.group == "robbery") & (df.period == "2016")].iloc[0]
    assert (rob.n_places, rob.n_events, rob.gini) == (6, 3, pytest.approx(gini([3, 0, 0, 0, 0, 0])))
    west = df[(df.grouping == "ward") & (df.group == "W") & (df.period == "2016")].iloc[0]
    assert (west.n_places, west.n_events) == (2, 3)  # the two cells of column 0
    east = df[(df.grouping == "ward") & (df.group == "E") & (df.period == "2016")].iloc[0]
    assert (east.n_places, east.n_events) == (4, 9)
    assert east.gini == pytest.approx(gini([0, 0, 1, 8]))
    # every accepted incident is accounted for: per period, placed + unplaced
    allrows = df[df.grouping == "all"]
    assert int(allrows.n_events.sum() + allrows.n_unplaced.sum()) == len(inc)
    with pytest.raises(InputError, match="wards"):
        concentration_table(inc, places, groupings=("ward",))
    with pytest.raises(InputError, match="grouping"):
        concentration_table(inc, places, groupings=("street",))


# --------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_barnet_burglary_on_snap_points_year_by_year(shared_data, tmp_path):
    from conftest import REPO

    import hotspots

    cfg = hotspots.load_config(REPO / "config" / "barnet_burglary.toml", data_dir=str(shared_data))
    area = hotspots.load_study_area(cfg)
    inc = hotspots.load_incidents(cfg, area, now=pd.Timestamp("2026-01-01", tz=TZ)).incidents
    places = snap_point_places(inc["x"], inc["y"])
    df = concentration_table(inc, places, groupings=("all",), period="year")
    assert list(df.period) == [str(y) for y in range(2011, 2024)]  # Dec 2010 and Jan-Feb 2024 are partial
    assert int(df.n_events.sum()) + df.attrs["n_set_aside"] == len(inc) and df.attrs["n_unplaced"] == 0
    years = inc["start"].dt.tz_convert(TZ).dt.year
    for _, r in df.iterrows():
        assert r.n_events == int((years == int(r.period)).sum())
    # fewer burglaries than snap points every year: the generalised Gini is below the plain one
    assert (df.n_events < df.n_places).all() and (df.generalised_gini < df.gini).all()
    # check one year against brute force on its own counts
    v, _ = places.totals(inc.loc[years == 2016, "x"], inc.loc[years == 2016, "y"])
    r = df[df.period == "2016"].iloc[0]
    assert r.gini == pytest.approx(gini(v)) and r.generalised_gini == pytest.approx(brute_generalised_gini(v), abs=1e-4)
    assert 0.6 < r.generalised_gini < r.gini < 0.9
    # burglary halved over 2011-2023: the plain Gini rises with the sparser data, the generalised one
    # does not (Bernasco & Steenbeek's point)
    assert concentration_trend(df, "gini").direction.iloc[0] == "rising"
    assert concentration_trend(df, "generalised_gini").direction.iloc[0] == "falling"
    # the README's worked example shows these figures, as `hotspots concentration` prints them
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"snap points ({len(places.x):,} distinct locations over 2010-2024)" in readme
    for _, r in df.iterrows():
        row = (
            f"| {r.period} | {int(r.n_places_with_events):,} | {int(r.n_events):,} | {r.gini:.3f} | "
            f"{r.generalised_gini:.3f} | {100 * r.places_for_50pct:.1f}% | {100 * r.places_for_80pct:.1f}% | "
            f"{100 * r.top1pct_share:.1f}% | {100 * r.top5pct_share:.1f}% |"
        )
        assert row in readme, row


def test_concentration_trend_reads_the_direction():
    periods = [str(y) for y in range(2011, 2019)]
    table = pd.DataFrame(
        {
            "grouping": ["crime_type"] * 16,
            "group": ["robbery"] * 8 + ["drugs"] * 8,
            "period": periods * 2,
            "generalised_gini": [
                *[0.50, 0.52, 0.51, 0.55, 0.58, 0.57, 0.60, 0.63],
                *[0.60, 0.55, 0.61, 0.56, 0.60, 0.57, 0.59, 0.58],
            ],
        }
    )
    tr = concentration_trend(table).set_index("group")
    assert tr.loc["robbery", "direction"] == "rising" and tr.loc["drugs", "direction"] == "no clear trend"
    # Kendall's tau by hand: of the 28 pairs of years, 26 rise and 2 fall -> tau = 24/28
    assert tr.loc["robbery", "tau"] == pytest.approx(24 / 28)
    assert (tr.loc["robbery", "first"], tr.loc["robbery", "last"]) == (0.50, 0.63)
    # Theil-Sen: the median of the 28 pairwise slopes
    v = table.generalised_gini.to_numpy()[:8]
    slopes = [(v[j] - v[i]) / (j - i) for i in range(8) for j in range(i + 1, 8)]
    assert tr.loc["robbery", "slope"] == pytest.approx(np.median(slopes))
    with pytest.raises(InputError, match="column"):
        concentration_trend(table, measure="theil")
