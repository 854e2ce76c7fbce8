"""Coverage of harm, gaps, MCLP / set covering against brute force, and the demo borough's planted truth."""

from __future__ import annotations

import dataclasses
import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from hotspots.coverage.cameras import make_cameras
from hotspots.coverage.coverage import CoverageConfig, cell_covered_fraction, compute_coverage
from hotspots.coverage.siting import (
    brute_force_mclp,
    generate_candidates,
    greedy_mclp,
    lp_bound,
    marginal_curve,
    plot_marginal_curve,
    set_cover,
    solve_mclp,
)
from hotspots.geo.grid import Grid


# ----------------------------------------------------------------------------- coverage
def test_coverage_by_type_hand_computed():
    cams = make_cameras([0.0, 1000.0], [0.0, 0.0], range_m=50, fov_deg=360)
    x = np.array([10.0, 60.0, 1000.0, 1049.0, 500.0])
    y = np.zeros(5)
    ct = np.array(["burglary", "burglary", "violence", "violence", "violence"], dtype=object)
    harm = np.array([2.0, 3.0, 5.0, 1.0, 4.0])
    square = shapely.box(-100, -100, 1100, 100)
    grid = Grid.from_boundary(square, 100)
    st = compute_coverage(cams, x, y, ct, harm, grid, grid.counts(x, y, harm))
    t = st.by_type.set_index("crime_type")
    assert st.incident_covered.tolist() == [True, False, True, True, False]
    assert t.loc["burglary", "incidents_covered"] == 1 and t.loc["burglary", "share_harm"] == pytest.approx(2 / 5)
    assert t.loc["violence", "share_incidents"] == pytest.approx(2 / 3)
    assert t.loc["violence", "harm_covered"] == 6 and t.loc["all", "share_harm"] == pytest.approx(8 / 15)


def test_cell_covered_fraction_half_and_full():
    square = shapely.box(0, 0, 400, 400)
    grid = Grid.from_boundary(square, 100)
    # camera at the centre of cell (row 1, col 1) looking east with a 180-degree view and a long range:
    # exactly the eastern half of that cell is seen
    cams = make_cameras([150.0], [250.0], range_m=1000, bearing_deg=90, fov_deg=180)
    f = cell_covered_fraction(grid, cams, subsample_m=5)
    assert f[1, 1] == pytest.approx(0.5, abs=0.03)
    assert f[1, 2] == pytest.approx(1.0) and f[1, 0] == 0.0
    dome = make_cameras([250.0], [150.0], range_m=1000, fov_deg=360)
    assert np.allclose(cell_covered_fraction(grid, dome, subsample_m=10)[grid.mask], 1.0)


def test_gap_places_ranked_by_uncovered_harm():
    """Three clusters: A (seen by a camera), B (unseen, big), C (unseen, small). Each hotspot area is a place
    of its own (they lie far apart); A is no gap; B and C carry their own incidents and harm, not a total."""
    from hotspots.coverage.gaps import gap_places

    rng = np.random.default_rng(0)
    pts = {"A": (250, 250, 60), "B": (750, 750, 40), "C": (750, 250, 15)}
    xs, ys, streets = [], [], []
    for k, (cx, cy, n) in pts.items():
        xs.append(cx + rng.uniform(-20, 20, n))
        ys.append(cy + rng.uniform(-20, 20, n))
        streets += [f"On or near {k} Street"] * (n - 5) + ["On or near Supermarket"] * 5
    x, y = np.concatenate(xs), np.concatenate(ys)
    harm = np.ones(len(x))
    cams = make_cameras([250.0], [250.0], range_m=60, fov_deg=360)
    from hotspots.coverage.uncertain import seen_probability

    seen = seen_probability(cams, x, y)
    areas = gpd.GeoDataFrame(
        {"area_id": list(pts), "source": ["burglary", "burglary", "robbery"]},
        geometry=[shapely.Point(v[0], v[1]).buffer(40) for v in pts.values()],
        crs=27700,
    )
    wards = np.where(x < 500, "W1", "W2")
    g = gap_places(
        areas,
        x,
        y,
        np.array(["burglary"] * len(x), object),
        harm,
        seen,
        location_text=streets,
        ward_code=wards,
        ward_names={"W1": "West", "W2": "East"},
        merge_distance_m=100,
    )
    assert g["area_ids"].tolist() == ["B", "C"]  # A is covered, so not a gap
    assert g["harm_uncovered"].tolist() == [40.0, 15.0] and g["incidents"].tolist() == [40, 15]
    assert g["name"].tolist() == ["B Street", "C Street"]  # the street, never the kind of place
    assert g["ward_name"].tolist() == ["East", "East"] and g["label"].iat[0] == "B Street (East)"
    assert g["sources"].tolist() == ["Burglary hotspot area", "Robbery hotspot area"]
    assert g["crime_types"].iat[0] == "Burglary 40"
    assert g["harm_uncovered"].is_monotonic_decreasing and g["rank"].tolist() == [1, 2]


def test_overlapping_hotspot_areas_of_several_crime_types_are_one_gap_place():
    """The bug this fixes: one street corner, a hotspot area for six crime types, listed six times with the
    borough's total. Now it is one place with its own harm."""
    from hotspots.coverage.gaps import gap_places

    rng = np.random.default_rng(3)
    corner = np.c_[rng.normal(500, 8, 300), rng.normal(500, 8, 300)]
    other = np.c_[rng.uniform(0, 3000, 400), rng.uniform(0, 3000, 400)]
    xy = np.vstack([corner, other])
    types = ["robbery", "bicycle_theft", "public_order", "drugs", "other_crime", "anti_social_behaviour"]
    ct = np.array([types[i % 6] for i in range(len(xy))], object)
    areas = gpd.GeoDataFrame(
        {"area_id": [f"{t}-1" for t in types], "source": types},
        geometry=[shapely.box(450 + 5 * i, 450, 550 + 5 * i, 550) for i in range(6)],
        crs=27700,
    )
    texts = ["On or near High Street"] * 200 + ["On or near Station Road"] * 100 + ["On or near Far Lane"] * 400
    g = gap_places(areas, xy[:, 0], xy[:, 1], ct, np.ones(len(xy)), np.zeros(len(xy)), location_text=texts)
    assert len(g) == 1 and g["name"].iat[0] == "High Street / Station Road"
    inside = shapely.contains_xy(g.geometry.iat[0], xy[:, 0], xy[:, 1])
    assert g["incidents"].iat[0] == inside.sum() < len(xy)  # its own incidents, not the total
    assert g["harm"].iat[0] == inside.sum()
    assert len(g["area_ids"].iat[0].split("; ")) == 6


# ----------------------------------------------------------------------------- MCLP
def _instance(seed, nd=30, nc=9, p=0.18, nfixed=2):
    rng = np.random.default_rng(seed)
    A = sp.csr_matrix((rng.random((nd, nc)) < p).astype(np.int8))
    F = sp.csr_matrix((rng.random((nd, nfixed)) < 0.1).astype(np.int8))
    w = rng.integers(1, 20, nd).astype(float)
    return A, F, w


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["highs", "spopt", "pulp"])
def test_mclp_equals_bruteforce(seed, method):
    A, F, w = _instance(seed)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    for k in (1, 3):
        best, _ = brute_force_mclp(A, w, k, fixed)
        sol = solve_mclp(A, w, k, fixed_A=F, method=method, time_limit_s=20)
        assert sol.status == "optimal"
        assert sol.covered == pytest.approx(best)
        assert len(sol.chosen) == k and len(set(sol.chosen.tolist())) == k
        # reported coverage is what the chosen sites really cover
        cov = fixed | (np.asarray(A[:, sol.chosen].sum(axis=1)).ravel() > 0)
        assert w[cov].sum() == pytest.approx(sol.covered)
        assert sol.fixed_covered == pytest.approx(w[fixed].sum())
        assert sol.gains.sum() == pytest.approx(sol.covered - sol.fixed_covered)


def test_bruteforce_reference_itself():
    # 3 demand points, 3 sites, by hand: site 0 covers {0,1}, site 1 covers {1}, site 2 covers {2}
    A = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]], np.int8))
    w = np.array([5.0, 1.0, 4.0])
    assert brute_force_mclp(A, w, 1) == (6.0, (0,))
    assert brute_force_mclp(A, w, 2) == (10.0, (0, 2))


@pytest.mark.parametrize("seed", range(4))
def test_greedy_and_lp_bound_bracket_the_optimum(seed):
    A, F, w = _instance(seed + 10, nd=40, nc=10)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    k = 3
    best, _ = brute_force_mclp(A, w, k, fixed)
    _ch, gains = greedy_mclp(A, w, k, fixed)
    g = w[fixed].sum() + gains.sum()
    bound = lp_bound(A, w, k, fixed)
    assert g <= best + 1e-9 <= bound + 1e-6
    assert g >= (1 - 1 / np.e) * best - 1e-9  # the greedy guarantee
    sol = solve_mclp(A, w, k, fixed=fixed, method="greedy")  # greedy + interchange, with the LP bound
    assert g - 1e-9 <= sol.covered <= best + 1e-9 and sol.bound == pytest.approx(bound)
    assert sol.gap == pytest.approx((bound - sol.covered) / bound)
    cov = fixed | (np.asarray(A[:, sol.chosen].sum(axis=1)).ravel() > 0)
    assert w[cov].sum() == pytest.approx(sol.covered)


def test_interchange_reaches_optimum_where_greedy_does_not():
    # greedy takes the big middle site first; the optimum with k = 2 is the two side sites
    A = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 1]], np.int8))
    w = np.array([3.0, 3.0, 3.0, 3.0, 2.0, 2.0])
    ch, gains = greedy_mclp(A, w, 2)
    assert ch[0] == 0 and gains.sum() == 14.0
    assert brute_force_mclp(A, w, 2)[0] == 16.0
    from hotspots.coverage.siting import greedy_interchange

    better, bg = greedy_interchange(A, w, 2)
    assert sorted(better.tolist()) == [1, 2] and bg.sum() == 16.0


@pytest.mark.parametrize("method", ["highs", "spopt"])
def test_marginal_curve_matches_bruteforce(tmp_path, method):
    A, F, w = _instance(21, nd=30, nc=8)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    c = marginal_curve(A, w, 3, fixed, F, method=method)
    assert c["new_cameras"].tolist() == [0, 1, 2, 3]
    assert c["harm_covered"].iat[0] == pytest.approx(w[fixed].sum())
    for k in (1, 2, 3):
        assert c["harm_covered"].iat[k] == pytest.approx(brute_force_mclp(A, w, k, fixed)[0])
    assert (np.diff(c["harm_covered"]) >= -1e-9).all()
    assert c["marginal_gain"].iloc[1:].sum() == pytest.approx(c["harm_covered"].iat[-1] - c["harm_covered"].iat[0])
    png = plot_marginal_curve(c, tmp_path / "mg.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_marginal_curve_reuses_the_solution_for_k():
    """The curve's last point is the solution already found for k, not a second solve."""
    A, F, w = _instance(22, nd=30, nc=8)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    sol = solve_mclp(A, w, 3, fixed=fixed)
    marked = dataclasses.replace(sol, method="solved once")
    c = marginal_curve(A, w, 3, fixed, method="highs", solved=marked)
    assert c["method"].tolist()[1:] == ["MCLP (HiGHS)", "MCLP (HiGHS)", "solved once"]
    assert c["harm_covered"].iat[3] == pytest.approx(brute_force_mclp(A, w, 3, fixed)[0])


def test_greedy_marginal_curve_solved_in_threads_equals_one_thread(monkeypatch):
    """With the greedy solver the curve's solves for 1..k cameras run in threads; the table is the one a single
    thread gives, and with two cores allowed the solves run in a pool of two threads, not in the caller's."""
    import threading

    import hotspots.coverage.siting as siting

    A, F, w = _instance(23, nd=200, nc=30, p=0.08)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    monkeypatch.setenv("HOTSPOTS_WORKERS", "1")
    one = marginal_curve(A, w, 6, fixed, F, method="greedy")

    threads: set[int] = set()
    solve = siting.solve_mclp

    def recorded(*args, **kwargs):
        threads.add(threading.get_ident())
        return solve(*args, **kwargs)

    monkeypatch.setattr(siting, "solve_mclp", recorded)
    monkeypatch.setenv("HOTSPOTS_WORKERS", "2")
    two = marginal_curve(A, w, 6, fixed, F, method="greedy")
    pd.testing.assert_frame_equal(one, two)
    for k in range(1, 7):  # every point is the greedy answer with its LP bound
        assert one["harm_covered"].iat[k] <= brute_force_mclp(A, w, k, fixed)[0] + 1e-9 <= one["bound"].iat[k] + 1e-6
        assert one["bound"].iat[k] == pytest.approx(lp_bound(A, w, k, fixed))
    if siting.available_workers() >= 2:
        assert 1 <= len(threads) <= 2 and threading.get_ident() not in threads


@pytest.mark.parametrize("seed", range(5))
def test_cover_prices_bound_every_k_and_meet_the_lp_at_their_own(seed):
    """Any prices >= 0 of the demand rows bound the optimum at every k from above (brute force); the prices
    kept from the LP solved at k give that LP's optimum at k (scipy's milp of the relaxation, rows not merged)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from hotspots.coverage.milp import CoverPrices

    A, _F, w = _instance(seed + 30, nd=30, nc=8)
    nd, nc = A.shape

    def relaxation(k):  # the LP on the whole matrix, no rows merged: max w.y, y <= A x, sum x <= k, 0 <= x, y <= 1
        link = LinearConstraint(sp.hstack([-A.astype(float), sp.identity(nd)]), -np.inf, 0.0)
        budget = LinearConstraint(np.r_[np.ones(nc), np.zeros(nd)][None, :], -np.inf, k)
        res = milp(np.r_[np.zeros(nc), -w], constraints=[link, budget], bounds=Bounds(0, 1))
        return -res.fun

    prices = CoverPrices.of(A, w)
    rng = np.random.default_rng(seed)
    assert prices.bound(2) == np.inf  # nothing solved yet
    for k in (1, 2, 3, 4):
        best = brute_force_mclp(A, w, k)[0]
        for _ in range(25):
            p = rng.uniform(0.0, 1.5 * prices.wr.max(), len(prices.wr)) * (rng.random(len(prices.wr)) < 0.7)
            assert prices.bound_at(p, k) >= best - 1e-9
        lp, xs = prices.solve(k)
        assert xs is not None and lp == pytest.approx(relaxation(k), rel=1e-9)
        assert best <= lp + 1e-9
        assert prices.bound_at(prices.prices[-1], k) == pytest.approx(lp, rel=1e-9)
        assert prices.bound(k) == pytest.approx(lp, rel=1e-9)


def test_marginal_curve_tries_the_lp_prices_it_has_before_solving_another_lp(monkeypatch):
    """With HiGHS the curve's solves share the LP prices of one problem: fewer LPs than numbers of cameras, and
    the same table as solving each number of cameras on its own (each point proven optimal, brute force at 1-2)."""
    from hotspots.coverage import milp as M

    A, F, w = _instance(23, nd=300, nc=60, p=0.02)  # sparse, as real siting problems are
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    solved: list[int] = []
    real = M.CoverPrices.solve

    def counted(self, k, time_limit_s=60.0):
        solved.append(k)
        return real(self, k, time_limit_s)

    monkeypatch.setattr(M.CoverPrices, "solve", counted)
    curve = marginal_curve(A, w, 6, fixed, F, method="highs")
    assert solved and len(solved) < 6
    assert solved == sorted(solved)  # from one camera up
    for k in range(1, 7):
        alone = solve_mclp(A, w, k, fixed_A=F, method="highs")
        assert curve["harm_covered"].iat[k] == pytest.approx(alone.covered, rel=1e-12)
        assert curve["status"].iat[k] == alone.status == "optimal"
    for k in (1, 2):
        assert curve["harm_covered"].iat[k] == pytest.approx(brute_force_mclp(A, w, k, fixed)[0])
    with pytest.raises(ValueError, match="another siting problem"):
        solve_mclp(A, w, 2, fixed_A=F, prices=M.CoverPrices.of(A, w))  # prices without the existing cameras


def test_reduced_demand_is_an_equivalent_problem():
    """Rows covered by the same sites are merged (weights summed), empty rows and useless sites dropped;
    the optimum of the reduced problem equals the brute-force optimum of the original for every k."""
    from hotspots.coverage.milp import mclp, reduce_demand

    rng = np.random.default_rng(5)
    base = (rng.random((12, 7)) < 0.3).astype(np.int8)
    base[:, 6] = 0  # a site that covers nothing
    A = sp.csr_matrix(np.vstack([base, base, np.zeros((3, 7), np.int8)]))  # every row twice, then empty rows
    w = rng.integers(1, 9, A.shape[0]).astype(float)
    Ar, wr, cols = reduce_demand(A, w)
    useful = np.nonzero(base.any(axis=0))[0]
    assert cols.tolist() == useful.tolist()
    assert Ar.shape[0] == len({tuple(r) for r in base[:, useful] if r.any()}) <= 12
    covered_weight = w[: 2 * len(base)][np.tile(base.any(axis=1), 2)].sum()
    assert wr.sum() == pytest.approx(covered_weight)
    for k in (1, 2, 3, 4):
        ans = mclp(A, w, k)
        best, _ = brute_force_mclp(A, w, k)
        assert ans.optimal and ans.objective == pytest.approx(best)
        assert w[np.asarray(A[:, ans.chosen].sum(axis=1)).ravel() > 0].sum() == pytest.approx(best)


def test_highs_time_limit_falls_back_with_bound(monkeypatch):
    """When HiGHS stops at its time limit without an incumbent, the heuristic answer comes with the LP bound."""
    from scipy.optimize import OptimizeResult

    from hotspots.coverage import milp as M
    from hotspots.coverage.siting import greedy_interchange

    real = M.milp

    def limited(c, *, integrality=None, **kw):
        if integrality is not None and integrality.any():  # the integer model: no solution in time
            return OptimizeResult(status=1, x=None, fun=None, message="Time limit reached.")
        return real(c, integrality=integrality, **kw)

    A, F, w = _instance(2, nd=40, nc=10)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    _ch, g = greedy_interchange(A, w, 3, fixed)
    assert lp_bound(A, w, 3, fixed) > w[fixed].sum() + g.sum() + 1e-6  # the LP alone cannot settle this one
    monkeypatch.setattr(M, "milp", limited)
    best, _ = brute_force_mclp(A, w, 3, fixed)
    sol = solve_mclp(A, w, 3, fixed=fixed)
    assert "fallback" in sol.method and "not proven optimal" in sol.status
    assert any("Time limit" in n for n in sol.notes)
    assert sol.covered <= best + 1e-9 <= sol.bound + 1e-6
    assert sol.bound == pytest.approx(lp_bound(A, w, 3, fixed))


@pytest.mark.parametrize(("seed", "branch_and_bound"), [(2, True), (6, True), (0, False), (1, False)])
def test_lp_proof_and_branch_and_bound_both_reach_the_bruteforce_optimum(seed, branch_and_bound):
    """HiGHS first solves the LP relaxation: when the heuristic meets its bound (or the LP is integral) the
    answer is proven without branch and bound; otherwise the integer model is solved. Both must be exact."""
    A, F, w = _instance(seed, nd=40, nc=10)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    sol = solve_mclp(A, w, 3, fixed=fixed, method="highs")
    assert sol.status == "optimal" and sol.covered == pytest.approx(brute_force_mclp(A, w, 3, fixed)[0])
    assert bool(sol.notes) is not branch_and_bound  # the note says the LP bound proved it


@pytest.mark.parametrize("share", [0.3, 0.6, 0.9])
def test_set_cover_equals_bruteforce(share):
    A, F, w = _instance(7, nd=30, nc=9, p=0.25)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    sol = set_cover(A, w, share, fixed)
    target = share * w.sum()
    D = A.toarray().astype(bool)
    best = None
    for n in range(0, 10):
        if any(
            w[fixed | D[:, list(c)].any(axis=1)].sum() >= target - 1e-9 for c in itertools.combinations(range(9), n)
        ):
            best = n
            break
    if best is None:
        assert sol.n_new is None and sol.status == "unreachable"
    else:
        assert sol.n_new == best and sol.status in ("optimal",) and sol.covered >= target - 1e-9


def test_candidates_on_roads_near_focus():
    focus = shapely.box(0, 0, 100, 100)
    roads = gpd.GeoDataFrame(
        {"name": ["Main St", "Far Rd"], "road_class": ["a_road", "minor"]},
        geometry=[shapely.LineString([(-500, 50), (500, 50)]), shapely.LineString([(-500, 900), (500, 900)])],
        crs=27700,
    )
    c = generate_candidates(focus, roads, None, spacing_m=20, buffer_m=50)
    # Main St inside focus+50 m runs x = -50..150 -> 10 points every 20 m; Far Rd is out of reach
    road = c[c["source"] == "road"]
    assert len(road) == 10 and set(road["road_name"]) == {"Main St"}
    assert np.allclose(np.sort(road["x"]), np.arange(-40, 150, 20)) and np.allclose(road["y"], 50)
    # the lattice (every 40 m) fills only the parts of the zone more than 40 m from a road site
    lat_fill = c[c["source"] == "lattice"]
    d = np.hypot(
        lat_fill["x"].to_numpy()[:, None] - road["x"].to_numpy()[None],
        lat_fill["y"].to_numpy()[:, None] - road["y"].to_numpy()[None],
    ).min(axis=1)
    assert len(lat_fill) > 0 and (d > 40).all()
    zone = focus.buffer(50)
    gx, gy = np.meshgrid(np.arange(-45, 150, 5.0), np.arange(-45, 150, 5.0))
    inside = shapely.contains_xy(zone, gx.ravel(), gy.ravel())
    px, py = gx.ravel()[inside], gy.ravel()[inside]
    nearest = np.hypot(px[:, None] - c["x"].to_numpy()[None], py[:, None] - c["y"].to_numpy()[None]).min(axis=1)
    assert nearest.max() <= 40 * np.sqrt(2) + 1e-6  # no part of the zone is left without a nearby site
    lat = generate_candidates(focus, None, None, spacing_m=25, buffer_m=0)
    assert len(lat) == 16
    thin = generate_candidates(focus, None, None, spacing_m=5, buffer_m=0, max_candidates=50)
    assert 25 <= len(thin) <= 50
    # thinning keeps the zone served: every corner quarter keeps sites
    for qx in (0, 50):
        for qy in (0, 50):
            assert ((thin["x"] >= qx) & (thin["x"] < qx + 50) & (thin["y"] >= qy) & (thin["y"] < qy + 50)).any()


# ----------------------------------------------------------------------------- demo borough (planted truth)
@pytest.fixture(scope="module")
def demo(demo_config_path):
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_incidents, load_study_area

    cfg = load_config(demo_config_path)
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area, now=pd.Timestamp("2026-01-01", tz="Europe/London")).incidents
    truth = json.loads((demo_config_path.parents[1] / "data" / "incidents" / "planted_truth.json").read_text())
    return cfg, area, inc, truth


def test_demo_uncovered_planted_hotspot_gets_the_first_camera(demo):
    from hotspots.stages.coverage import coverage as run_coverage

    cfg, area, inc, truth = demo
    em = truth["emerging"]
    assert "emerging" in truth["uncovered_hotspots"]
    cfg2 = (
        cfg.override("coverage", period_start=em["start"], crime_types=["vehicle_crime"])
        .override("siting", k=3, curve="greedy")
        .override("anpr", k=2)
    )
    grid = Grid.from_boundary(area.boundary, 100)
    areas = gpd.GeoDataFrame(
        {"area_id": ["emerging", "stopping"]},
        geometry=[
            shapely.Point(truth[k]["x"], truth[k]["y"]).buffer(truth[k]["radius_m"]) for k in ("emerging", "stopping")
        ],
        crs=27700,
    )
    res = run_coverage(cfg2, inc, area, grid, None, areas)
    # no live camera sees any incident of the uncovered hotspot
    sel = (inc["crime_type"] == "vehicle_crime") & (inc["start"] >= pd.Timestamp(em["start"], tz="Europe/London"))
    sub = inc[sel]
    near = np.hypot(sub["x"] - em["x"], sub["y"] - em["y"]) <= em["radius_m"]
    top = res.gaps.iloc[0]  # the gap place made of the planted hotspot area, with its own incidents
    assert top["area_ids"] == "emerging" and top["covered_share"] == 0.0
    assert top["incidents"] == int(near.sum())
    # the first proposed camera sees the planted hotspot
    first = res.proposed_sites.iloc[0]
    cam = make_cameras([first["x"]], [first["y"]], range_m=first["range_m"], fov_deg=360)
    from hotspots.coverage.viewshed import covered_points

    seen = covered_points(cam, sub["x"][near], sub["y"][near]) > 0
    assert seen.sum() >= 10
    assert np.hypot(first["x"] - em["x"], first["y"] - em["y"]) <= em["radius_m"] + first["range_m"]
    assert res.mclp.status == "optimal"


def test_demo_stopping_hotspot_is_covered_by_the_named_camera(demo):
    from hotspots.coverage.cameras import read_inventory
    from hotspots.coverage.viewshed import covered_points

    cfg, _area, _inc, truth = demo
    st = truth["stopping"]
    inv = read_inventory(demo_config_path_cameras(cfg))
    live = inv.live()
    named = live[live["camera_id"].isin(st["covered_by_live_cameras"])]
    assert len(named) == len(st["covered_by_live_cameras"]) >= 1
    # the named camera sees the centre of the stopping hotspot; no live camera sees the emerging one's centre
    assert covered_points(named, [st["x"]], [st["y"]])[0] > 0
    em = truth["emerging"]
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ex = np.r_[em["x"], em["x"] + em["radius_m"] * np.cos(ang)]
    ey = np.r_[em["y"], em["y"] + em["radius_m"] * np.sin(ang)]
    assert (covered_points(live, ex, ey) == 0).all()


def demo_config_path_cameras(cfg):
    return cfg.path("data/boundaries/cameras.csv")


def test_time_limit_fallback_reports_bound_and_gap(monkeypatch):
    """When CBC returns no integer solution, the heuristic result comes with the LP bound and its gap."""
    import pulp

    from hotspots.coverage import _peer_solvers as peers

    class NoSolution(pulp.LpSolver):
        def actualSolve(self, lp):
            lp.assignStatus(pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound)
            return lp.status

    real = peers._cbc
    monkeypatch.setattr(peers, "_cbc", lambda t, msg=False, warm=False: NoSolution() if warm else real(t, msg, warm))
    A, F, w = _instance(31, nd=40, nc=10)
    fixed = np.asarray(F.sum(axis=1)).ravel() > 0
    best, _ = brute_force_mclp(A, w, 3, fixed)
    sol = solve_mclp(A, w, 3, fixed=fixed, method="pulp")
    assert "fallback" in sol.method and "not proven optimal" in sol.status
    assert sol.covered <= best + 1e-9 <= sol.bound + 1e-6
    assert sol.bound == pytest.approx(lp_bound(A, w, 3, fixed))
    assert sol.gap == pytest.approx((sol.bound - sol.covered) / sol.bound)


def test_mobile_deployments_priority_cover_and_separation():
    from hotspots.coverage.mobile import mobile_deployments

    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["nr1", "em1", "nr2", "nr3", "nr4"],
            "kind": ["near_repeat", "emerging", "near_repeat", "near_repeat", "near_repeat"],
            "priority": [5.0, 9.0, 3.0, 4.0, 1.0],
            "expires": [pd.Timestamp("2025-01-05"), None, None, None, None],
        },
        geometry=[
            shapely.Point(0, 0).buffer(200),
            shapely.Point(2000, 0).buffer(200),
            shapely.Point(4000, 0).buffer(200),
            shapely.Point(2100, 100).buffer(150),
            shapely.Point(6000, 0).buffer(200),
        ],
        crs=27700,
    )
    cams = make_cameras([4000.0], [0.0], range_m=80, fov_deg=360)  # sees zone nr2's centre
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(50, 20, 30), rng.normal(1950, 20, 30)]
    y = np.r_[rng.normal(-30, 20, 30), rng.normal(40, 20, 30)]
    h = rng.uniform(1, 3, 60)
    plan = mobile_deployments(zones, cams, n=3, start="2025-01-01", days=14, min_separation_m=300, x=x, y=y, harm=h)
    s = plan.spots
    assert s["zone_id"].tolist() == ["em1", "nr1", "nr4"]  # priority order, skipping covered / too-close zones
    inside = np.hypot(x - 2000, y) <= 200
    assert s.iloc[0]["x"] == pytest.approx(np.average(x[inside], weights=h[inside]), abs=0.05)
    assert s.iloc[1]["deploy_to"] == "2025-01-05" and s.iloc[0]["deploy_to"] == "2025-01-14"
    assert s.iloc[2]["basis"] == "centre of the zone"
    sk = plan.skipped.set_index("zone_id")
    assert "live camera" in sk.loc["nr2", "reason"] and "300 m" in sk.loc["nr3", "reason"]
    assert len(s) + len(plan.skipped) == len(zones)


def test_stage_sections_validate():
    from hotspots.config import build_section
    from hotspots.coverage.anpr import AnprConfig
    from hotspots.coverage.siting import SitingConfig
    from hotspots.errors import ConfigError

    with pytest.raises(ConfigError, match=r"siting\.kk"):
        build_section(SitingConfig, {"kk": 3}, "run.toml", "siting")
    with pytest.raises(ConfigError, match="solver"):
        build_section(SitingConfig, {"solver": "gurobi"}, "run.toml", "siting")
    with pytest.raises(ConfigError, match="gap_threshold"):
        build_section(CoverageConfig, {"gap_threshold": 0.0}, "run.toml", "coverage")
    with pytest.raises(ConfigError, match="period_start"):
        build_section(CoverageConfig, {"period_start": "last Tuesday"}, "run.toml", "coverage")
    with pytest.raises(ConfigError, match="cover_distance_m"):
        build_section(AnprConfig, {"cover_distance_m": 0.0}, "run.toml", "anpr")
    a = build_section(AnprConfig, {"class_weights": {"motorway": 10}}, "run.toml", "anpr")
    assert a.class_weights == {"motorway": 10.0}


def test_demo_first_camera_goes_to_uncovered_planted_hotspot_in_default_analysis(demo):
    """The board's default question: all crime types, the year before the FIM date,
    candidates around the engine's own hotspot areas. The planted hotspot that no
    camera covers must get the first new camera."""
    from hotspots.coverage.viewshed import covered_points
    from hotspots.stages.coverage import coverage as run_coverage
    from hotspots.stages.surfaces import surfaces as run_surfaces

    cfg, area, inc, truth = demo
    fim = pd.Timestamp("2025-11-14", tz="Europe/London")
    year = inc[(inc["end"] < fim) & (inc["start"] >= fim - pd.Timedelta(days=365))]
    grid = Grid.from_boundary(area.boundary, 100)
    surf = run_surfaces(cfg, year, area, grid)
    frames = [
        h.to_frame()[["geometry"]].assign(area_id=[f"{t}:{i}" for i in range(len(h.frame))])
        for t, h in surf.areas.items()
    ]
    areas = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=27700)
    res = run_coverage(cfg.override("siting", k=3, curve="greedy").override("anpr", k=2), year, area, grid, None, areas)
    em = truth["emerging"]
    first = res.proposed_sites.iloc[0]
    assert np.hypot(first["x"] - em["x"], first["y"] - em["y"]) <= em["radius_m"]
    sub = year[np.hypot(year["x"] - em["x"], year["y"] - em["y"]) <= em["radius_m"]]
    cam = make_cameras([first["x"]], [first["y"]], range_m=first["range_m"], fov_deg=360)
    assert (covered_points(cam, sub["x"], sub["y"]) > 0).sum() >= 0.5 * len(sub)


def test_siting_demand_cells_equal_the_full_grid():
    """The demand on small cells is built only where incidents are, with the cells, order and sums
    of the full ``Grid`` (the reference), including cells that only touch the boundary."""
    from hotspots.coverage.report import harm_on_cells

    rng = np.random.default_rng(1)
    boundary = shapely.Point(1000, 1000).buffer(700)
    x, y = rng.uniform(250, 1750, 5000), rng.uniform(250, 1750, 5000)
    h = rng.gamma(2, 3, 5000)
    g = Grid.from_boundary(boundary, 25)
    dh = np.where(g.mask, g.counts(x, y, h), 0.0)
    rr, cc = np.nonzero(g.mask & (dh > 0))
    xc, yc = g.centres()
    got_x, got_y, got_h = harm_on_cells(boundary, 25, x, y, h)
    assert np.array_equal(got_x, xc[rr, cc]) and np.array_equal(got_y, yc[rr, cc])
    assert np.array_equal(got_h, dh[rr, cc])
    assert len(got_h) < g.n_cells  # only the cells holding harm
