"""Harm schemes (complete, sourced, ranking-changing) and ward rates with exact Poisson intervals,
including the real Barnet 2011 burglary ward ranking checked by an independent spatial join."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis.harm import harm_values, harm_weights, load_schemes, scheme_table, with_harm
from hotspots.analysis.rates import area_rates, assign_areas, garwood_interval, ward_rates
from hotspots.config import CANONICAL_CRIME_TYPES
from hotspots.errors import InputError


def test_every_scheme_is_complete_and_sourced():
    schemes = load_schemes()
    assert {"count", "ons_css", "cambridge_chi"} <= set(schemes)
    for name, s in schemes.items():
        assert set(s["weights"]) == set(CANONICAL_CRIME_TYPES), name
        assert s["source"].strip() and s["description"].strip(), name
        assert all(v >= 0 for v in s["weights"].values())
    assert set(schemes["count"]["weights"].values()) == {1.0}
    table = scheme_table(schemes)
    assert table.shape == (len(CANONICAL_CRIME_TYPES), len(schemes))


def test_ons_css_follows_the_reference_table(shared_data):
    """The ons_css weights are the stated choices from the ONS CSS reference table."""
    ref = pd.read_csv(shared_data / "reference" / "ons_css_weights_by_policeuk_category.csv").set_index(
        "police_uk_category"
    )
    w = harm_weights("ons_css")
    median = ref["median"].astype(float)
    for canon, cat in [
        ("burglary", "Burglary"),
        ("robbery", "Robbery"),
        ("violence", "Violence and sexual offences"),
        ("theft_from_person", "Theft from the person"),
        ("vehicle_crime", "Vehicle crime"),
        ("shoplifting", "Shoplifting"),
        ("other_theft", "Other theft"),
        ("criminal_damage_arson", "Criminal damage and arson"),
        ("drugs", "Drugs"),
        ("possession_of_weapons", "Possession of weapons"),
        ("public_order", "Public order"),
        ("other_crime", "Other crime"),
        ("bicycle_theft", "Bicycle theft"),
    ]:
        assert w[canon] == pytest.approx(median[cat]), canon
    burglary_weights = [float(v) for v in ref.loc["Burglary", "offence_weights"].split()]
    assert w["burglary_residential"] in burglary_weights and w["burglary_business"] == min(burglary_weights)


def test_harm_values_and_unknown_types():
    w = harm_weights("cambridge_chi")
    v = harm_values(["robbery", "shoplifting", "robbery"], w)
    assert v.tolist() == [w["robbery"], w["shoplifting"], w["robbery"]]
    with pytest.raises(InputError, match="no harm weight"):
        harm_values(["robbery", "jaywalking"], w)


def test_switching_scheme_changes_the_hotspot_ranking():
    """Area A: 10 shoplifting + 1 burglary; area B: 4 robberies. Counts put A first; both harm schemes put B first."""
    import geopandas as gpd

    from hotspots.analysis.hotspot_areas import hotspot_areas
    from hotspots.geo.grid import Grid

    grid = Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)
    hot = np.zeros(grid.shape, dtype=bool)
    hot[1, 1] = hot[8, 8] = True
    types = ["shoplifting"] * 10 + ["burglary"] + ["robbery"] * 4
    x = [150.0] * 11 + [850.0] * 4
    y = [850.0] * 11 + [150.0] * 4
    start = pd.Series(pd.Timestamp("2024-05-01 12:00", tz="Europe/London"), index=range(len(x)))
    inc = gpd.GeoDataFrame(
        {
            "crime_type": types,
            "x": x,
            "y": y,
            "start": start,
            "end": start,
            "time_precision": "minute",
            "location_text": "On or near A Road",
        },
        geometry=gpd.points_from_xy(x, y),
        crs=27700,
    )
    firsts = {}
    for scheme in ("count", "ons_css", "cambridge_chi"):
        h = with_harm(inc, scheme)
        assert h.attrs["harm_scheme"] == scheme
        f = hotspot_areas(h, grid, hot, harm_scheme=scheme).frame
        assert set(f["harm_scheme"]) == {scheme}
        firsts[scheme] = f.iloc[0]["top_crime_type"]
        w = harm_weights(scheme)
        assert f["harm"].sum() == pytest.approx(10 * w["shoplifting"] + w["burglary"] + 4 * w["robbery"])
    assert firsts == {"count": "shoplifting", "ons_css": "robbery", "cambridge_chi": "robbery"}


def test_garwood_interval_known_values():
    # classic exact Poisson 95% limits (e.g. Garwood 1936 / standard tables)
    lo, hi = garwood_interval(np.array([0, 1, 5, 10]))
    assert lo == pytest.approx([0.0, 0.0253, 1.6235, 4.7954], abs=1e-4)
    assert hi == pytest.approx([3.6889, 5.5716, 11.6683, 18.3904], abs=1e-4)


def test_area_rates_hand_case():
    import geopandas as gpd

    areas = gpd.GeoDataFrame(
        {"ward_code": ["A", "B"], "ward_name": ["Ay", "Bee"], "households": [1000.0, 4000.0]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
        crs=27700,
    )
    r = area_rates(pd.Series({"A": 10, "B": 10}), areas, period_years=2.0)
    t = r.table.set_index("code")
    assert t.loc["A", "rate"] == pytest.approx(10 / 1000 * 1000 / 2)
    assert t.loc["A", "rate_upper"] == pytest.approx(18.3904 / 1000 * 1000 / 2, abs=1e-3)
    assert r.table["code"].tolist() == ["A", "B"] and r.borough["rate"] == pytest.approx(20 / 5000 * 1000 / 2)
    assert t.loc["A", "ratio_to_borough"] == pytest.approx(2.5)
    # a point on the shared edge goes to the first polygon, one 3 m outside only with snap_m
    codes = assign_areas([10.0, 5.0, 23.0], [5.0, 5.0, 5.0], areas)
    assert codes.tolist() == ["A", "A", None]
    assert assign_areas([23.0], [5.0], areas, snap_m=5).tolist() == ["B"]


@pytest.fixture(scope="module")
def barnet_2011(shared_data):
    import geopandas as gpd

    wards = gpd.read_file(shared_data / "boundaries" / "barnet_wards_2002_2022.geojson").to_crs(27700)
    prof = pd.read_csv(shared_data / "population" / "barnet_ward_profiles_2015_wards_2002_2022.csv")
    hh = prof.set_index("New code")["Number of Household spaces - 2011"]
    wards["households"] = wards["ward_code"].map(hh).astype(float)
    d = pd.read_csv(
        shared_data / "crime" / "barnet_burglary_policeuk_2010-12_2024-02.csv.gz", usecols=["Month", "x_bng", "y_bng"]
    )
    d = d[d["Month"].str.startswith("2011-")]
    return wards, d


def _independent_counts(wards, d, snap_m):
    """Plain geopandas: points within wards, the rest to the nearest ward within snap_m."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(d["x_bng"], d["y_bng"]), crs=27700).reset_index(drop=True)
    j = gpd.sjoin(pts, wards[["ward_code", "geometry"]], predicate="within", how="left")
    j = j[~j.index.duplicated()]
    codes = j["ward_code"]
    if snap_m:
        left = pts[codes.isna().to_numpy()]
        n = gpd.sjoin_nearest(left, wards[["ward_code", "geometry"]], max_distance=snap_m, how="inner")
        n = n[~n.index.duplicated()]
        codes = codes.copy()
        codes.loc[n.index] = n["ward_code"]
    return codes.value_counts()


@pytest.mark.parametrize("snap_m", [0.0, 200.0])
def test_real_barnet_2011_ward_ranking(barnet_2011, snap_m):
    wards, d = barnet_2011
    assert len(d) == 4859  # the README's 2011 count
    xy = d[["x_bng", "y_bng"]].to_numpy(float)
    expected = _independent_counts(wards, d, snap_m)
    # by count: the top ward and its real margin over the second
    r = ward_rates(xy, wards, denominator="households", rank_by="count", snap_m=snap_m)
    t = r.table
    exp_sorted = expected.sort_values(ascending=False)
    names = wards.set_index("ward_code")["ward_name"]
    assert t.loc[0, "code"] == exp_sorted.index[0] and t.loc[0, "name"] == names[exp_sorted.index[0]]
    assert t.loc[0, "count"] - t.loc[1, "count"] == exp_sorted.iloc[0] - exp_sorted.iloc[1] > 0
    assert r.unassigned == len(d) - int(expected.sum())
    assert (t.set_index("code")["count"] == expected.reindex(t["code"]).fillna(0).astype(int).to_numpy()).all()
    # by rate per 1,000 households: top ward, its rate and the borough rate
    rr = ward_rates(xy, wards, denominator="households", rank_by="rate", snap_m=snap_m)
    exp_rate = expected.reindex(wards["ward_code"]).fillna(0).to_numpy() / wards["households"].to_numpy() * 1000
    exp_rate = pd.Series(exp_rate, index=wards["ward_code"]).sort_values(ascending=False)
    assert rr.table.loc[0, "code"] == exp_rate.index[0]
    assert rr.table.loc[0, "rate"] == pytest.approx(exp_rate.iloc[0], rel=1e-12)
    assert rr.table.loc[0, "rate"] - rr.table.loc[1, "rate"] == pytest.approx(exp_rate.iloc[0] - exp_rate.iloc[1])
    assert rr.borough["rate"] == pytest.approx(expected.sum() / wards["households"].sum() * 1000)
    lo, hi = rr.table.loc[0, ["rate_lower", "rate_upper"]]
    assert lo < rr.table.loc[0, "rate"] < hi


def test_real_lsoa_rates_per_1000_population(shared_data, barnet_2011):
    """LSOA (2011) rates per 1,000 residents (mid-2019) for 2019 burglary: counts equal an independent sjoin."""
    import geopandas as gpd

    lsoa = gpd.read_file(shared_data / "boundaries" / "barnet_lsoa_2011.geojson").to_crs(27700)
    pop = pd.read_csv(shared_data / "population" / "barnet_lsoa11_population_mid2019_mid2020.csv")
    pop = pop[pop["year"] == 2019].set_index("LSOA11CD")["Persons_All-Ages"]
    lsoa["population"] = lsoa["LSOA11CD"].map(pop).astype(float)
    d = pd.read_csv(
        shared_data / "crime" / "barnet_burglary_policeuk_2010-12_2024-02.csv.gz", usecols=["Month", "x_bng", "y_bng"]
    )
    d = d[d["Month"].str.startswith("2019-")]
    r = ward_rates(
        d[["x_bng", "y_bng"]].to_numpy(float),
        lsoa,
        denominator="population",
        code_field="LSOA11CD",
        name_field="LSOA11NM",
    )
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(d["x_bng"], d["y_bng"]), crs=27700)
    j = gpd.sjoin(pts, lsoa[["LSOA11CD", "geometry"]], predicate="within")
    exp = j[~j.index.duplicated()]["LSOA11CD"].value_counts()
    t = r.table.set_index("code")
    # gen20 LSOA polygons leave slivers; points on shared edges may differ from 'within' by a handful
    diff = (t["count"] - exp.reindex(t.index).fillna(0)).abs()
    assert diff.sum() <= 0.005 * len(d)
    top = r.table.iloc[0]
    assert top["rate"] == pytest.approx(top["count"] / lsoa.set_index("LSOA11CD").loc[top["code"], "population"] * 1000)
    assert r.denominator_kind == "population" and r.table["rate"].is_monotonic_decreasing


def test_garwood_interval_equals_scipy_chi2_bit_for_bit():
    """The interval is computed without importing scipy.stats; scipy.stats.chi2 is the reference."""
    from scipy.stats import chi2

    k = np.concatenate([np.arange(0, 3000.0), np.random.default_rng(3).uniform(0, 1e5, 20000), [0.5, 1e-9]])
    for confidence in (0.5, 0.9, 0.95, 0.99):
        a = 1 - confidence
        lo, hi = garwood_interval(k, confidence)
        ref_lo = np.where(k > 0, chi2.ppf(a / 2, 2 * np.maximum(k, 1e-300)) / 2, 0.0)
        assert np.array_equal(lo, ref_lo) and np.array_equal(hi, chi2.ppf(1 - a / 2, 2 * k + 2) / 2)
