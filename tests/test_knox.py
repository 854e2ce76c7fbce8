"""Banded Knox test: brute-force reference, NRC reference runs, pointpats, refusals."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from hotspots.analysis.knox import knox_for_incidents, knox_test
from hotspots.errors import PrecisionError

NRV = "nearrepeat_validation"


# ----------------------------------------------------------------- references
def brute_force_table(x, y, t, sbw, S, tbw, T, metric="euclidean", convention="closed", tol=0.0):
    """Observed (S+2, T+1) table by looping over every pair (pure numpy)."""
    n = len(x)
    i, j = np.triu_indices(n, 1)
    dx, dy = x[i] - x[j], y[i] - y[j]
    d = np.hypot(dx, dy) if metric == "euclidean" else np.abs(dx) + np.abs(dy)
    dt = np.abs(t[i] - t[j])
    out = np.zeros((S + 2, T + 1), dtype=np.int64)
    for a in range(len(d)):
        if d[a] <= tol:
            s = 0
        else:
            s = S + 1
            for k in range(1, S + 1):
                if (convention == "closed" and d[a] <= k * sbw) or (convention == "nrc" and d[a] < k * sbw):
                    s = k
                    break
        c = T
        for k in range(T):
            if (convention == "closed" and dt[a] <= (k + 1) * tbw) or (convention == "nrc" and dt[a] < (k + 1) * tbw):
                c = k
                break
        out[s, c] += 1
    return out


def random_events(n, seed, whole_days=True, dup=10):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1500, n)
    y = rng.uniform(0, 1500, n)
    # some repeats at identical points and some points exactly on band edges
    x[:dup] = x[dup : 2 * dup]
    y[:dup] = y[dup : 2 * dup]
    x[2 * dup] = x[3 * dup] + 100.0
    y[2 * dup] = y[3 * dup]
    t = rng.integers(0, 120, n).astype(float) if whole_days else rng.uniform(0, 120, n)
    t[4 * dup] = t[5 * dup] + 7.0
    return x, y, t


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize("convention", ["closed", "nrc"])
@pytest.mark.parametrize("whole_days", [True, False])
def test_observed_matches_brute_force(metric, convention, whole_days):
    x, y, t = random_events(300, 1, whole_days)
    r = knox_test(
        x,
        y,
        t,
        spatial_bandwidth_m=100,
        n_spatial_bands=4,
        temporal_bandwidth_days=7,
        n_temporal_bands=3,
        metric=metric,
        convention=convention,
        permutations=9,
        seed=3,
    )
    ref = brute_force_table(x, y, t, 100, 4, 7, 3, metric, convention)
    np.testing.assert_array_equal(r.observed, ref)
    assert r.observed.sum() == 300 * 299 // 2


def test_permutation_expectation_matches_analytic_and_invariants():
    # Under random permutation of times, E[count in (s, k)] = N_s * T_k / N_pairs exactly.
    x, y, t = random_events(250, 2)
    r = knox_test(
        x,
        y,
        t,
        spatial_bandwidth_m=150,
        n_spatial_bands=3,
        temporal_bandwidth_days=10,
        n_temporal_bands=3,
        permutations=2000,
        seed=11,
        keep_sims=True,
    )
    npairs = 250 * 249 // 2
    # every permutation preserves the row totals (space fixed) and column totals (times multiset)
    np.testing.assert_array_equal(r.sims.sum(axis=2), np.broadcast_to(r.observed.sum(axis=1), r.sims.shape[:2]))
    np.testing.assert_array_equal(
        r.sims.sum(axis=1), np.broadcast_to(r.observed.sum(axis=0), (r.sims.shape[0], r.sims.shape[2]))
    )
    analytic = np.outer(r.observed.sum(axis=1), r.observed.sum(axis=0)) / npairs
    se = r.sims.std(axis=0) / np.sqrt(r.permutations) + 1e-9
    assert np.all(np.abs(r.expected_mean - analytic) <= 5 * se + 1e-6)
    # pseudo p-values follow the (1 + #>=) / (n + 1) rule
    ge = (r.sims >= r.observed[None]).sum(axis=0)
    np.testing.assert_allclose(r.p_value, (1 + ge) / 2001)


def test_seeded_and_deterministic():
    x, y, t = random_events(200, 4)
    a = knox_test(x, y, t, permutations=49, seed=5)
    b = knox_test(x, y, t, permutations=49, seed=5)
    c = knox_test(x, y, t, permutations=49, seed=6)
    np.testing.assert_array_equal(a.p_value, b.p_value)
    np.testing.assert_array_equal(a.expected_mean, b.expected_mean)
    assert not np.array_equal(a.expected_mean, c.expected_mean)


def test_planted_near_repeats_detected_and_summary():
    rng = np.random.default_rng(7)
    n0 = 600
    x = rng.uniform(0, 5000, n0)
    y = rng.uniform(0, 5000, n0)
    t = rng.integers(0, 365, n0).astype(float)
    # each of 200 seeds gets a follower within 150 m and 1-10 days
    k = 200
    ang = rng.uniform(0, 2 * np.pi, k)
    rad = rng.uniform(10, 150, k)
    x = np.concatenate([x, x[:k] + rad * np.cos(ang)])
    y = np.concatenate([y, y[:k] + rad * np.sin(ang)])
    t = np.concatenate([t, t[:k] + rng.integers(1, 11, k)])
    r = knox_test(
        x,
        y,
        t,
        spatial_bandwidth_m=200,
        n_spatial_bands=3,
        temporal_bandwidth_days=14,
        n_temporal_bands=3,
        permutations=199,
        seed=1,
    )
    assert r.p_value[1, 0] <= 0.01 and r.ratio[1, 0] > 2
    assert r.extent() == (200.0, 14.0)
    s = r.summary()
    assert "Within 0-200 m, burglary is over-represented for up to 14 days" in s
    assert "% more than expected" in s
    # far (400-600 m) and late (more than 42 days) close-pair cells are not significant; the
    # "More than 600 m" x "More than 42 days" corner is the complement of the excess and may be
    assert not r.significant()[3, :].any() and not r.significant()[:4, 3].any()


def test_html_escapes_and_csv(tmp_path):
    x, y, t = random_events(120, 8)
    r = knox_test(x, y, t, permutations=19, crime_label="<script>alert(1)</script>")
    from hotspots.render.nearrepeat import knox_page, write_knox_page

    h = knox_page(r)
    assert write_knox_page(r, tmp_path / "k.html").read_text(encoding="utf-8") == h
    assert "<script>alert" not in h and "&lt;script&gt;" in h
    df = pd.read_csv(r.to_csv(tmp_path / "k.csv"))
    assert len(df) == (5 + 2) * (4 + 1)
    assert df["observed"].sum() == 120 * 119 // 2
    assert r.to_frame("ratio").shape == (7, 5)


# ----------------------------------------------------------------- NRC reference runs
def _nrc_block(path, title):
    """Parse an (S+2) x (T+1) block from an NRC verbose CSV."""
    lines = path.read_text(encoding="latin-1").splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[k + 3 :]:
        cells = next(csv.reader(io.StringIO(line)))
        if not cells or not cells[0].strip().isdigit():
            break
        vals = [c for c in cells[2:] if c.strip() != ""]
        rows.append([float(v) for v in vals])
    return np.array(rows)


def _nrc_cell_stats(path):
    """Mean expected of each cell, from the 'Row r Column c' blocks."""
    lines = path.read_text(encoding="latin-1").splitlines()
    means = {}
    cur = None
    for line in lines:
        if line.startswith("Row ") and "Column" in line:
            parts = line.replace(",", " ").split()
            cur = (int(parts[1]) - 1, int(parts[3]) - 1)
        elif cur is not None and line.startswith("Mean,"):
            means[cur] = float(line.split(",")[1])
    return means


def _days(dates):
    return ((pd.to_datetime(dates) - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(float)


def test_nrc_month1_observed_exact_and_ratios(shared_data):
    d = shared_data / NRV
    ev = pd.read_csv(d / "chicago_res_burglary_2016_month1_epsg26971.csv")
    verbose = d / "nrc_output_chicago_res_burglary_2016_month1_NRverbose.csv"
    r = knox_test(
        ev.x.values,
        ev.y.values,
        _days(ev.date),
        spatial_bandwidth_m=100,
        n_spatial_bands=3,
        temporal_bandwidth_days=7,
        n_temporal_bands=3,
        metric="manhattan",
        convention="nrc",
        permutations=999,
        seed=1,
        keep_sims=True,
    )
    obs = _nrc_block(verbose, "Observed frequencies distribution")
    np.testing.assert_array_equal(r.observed, obs.astype(np.int64))
    assert list(r.spatial_labels) == ["Same location", "1 to 100", "101 to 200", "201 to 300", "More than 300"]
    assert list(r.temporal_labels) == ["0 to 7", "8 to 14", "15 to 21", "More than 21"]
    # NRC's mean expected (19 permutations) agrees with ours within Monte Carlo error
    means = _nrc_cell_stats(verbose)
    sd = r.sims.std(axis=0)
    for (i, j), m in means.items():
        assert abs(m - r.expected_mean[i, j]) <= 4.5 * sd[i, j] / np.sqrt(19) + 0.5, (i, j, m, r.expected_mean[i, j])
    ref = pd.read_csv(d / "nrc_reference_results.csv")
    ref = ref[ref.run == "chicago_res_burglary_2016_month1"]
    tab = r.to_frame("ratio")
    for _, row in ref.iterrows():
        i = list(r.spatial_labels).index(row.spatial_band.replace(" meters", ""))
        j = list(r.temporal_labels).index(row.temporal_band.replace(" days", ""))
        ours = tab.iloc[i, j]
        exp_se = sd[i, j] / np.sqrt(19)
        ratio_se = r.observed[i, j] * exp_se / max(r.expected_mean[i, j], 1e-9) ** 2
        assert abs(ours - row.obs_over_mean_expected) <= 4.5 * ratio_se + 0.02


def test_nrc_2016_observed(shared_data):
    d = shared_data / NRV
    ch = pd.read_csv(d / "chicago_res_burglary_2014_2017_epsg26971.csv")
    ch = ch[ch.date.str.startswith("2016")]
    verbose = d / "nrc_output_chicago_burglary_2016_NRverbose.csv"
    r = knox_test(
        ch.x.values,
        ch.y.values,
        _days(ch.date),
        spatial_bandwidth_m=100,
        n_spatial_bands=3,
        temporal_bandwidth_days=2,
        n_temporal_bands=2,
        metric="euclidean",
        convention="nrc",
        permutations=999,
        seed=1,
        keep_sims=True,
    )
    obs = _nrc_block(verbose, "Observed frequencies distribution").astype(np.int64)
    # ratios agree with the NRC's summary (its expectations come from 19 permutations)
    ref = pd.read_csv(d / "nrc_reference_results.csv")
    ref = ref[ref.run == "chicago_burglary_2016"]
    sd = r.sims.std(axis=0)
    for _, row in ref.iterrows():
        i = list(r.spatial_labels).index(row.spatial_band.replace(" meters", ""))
        j = list(r.temporal_labels).index(row.temporal_band.replace(" days", ""))
        se = r.observed[i, j] * (sd[i, j] / np.sqrt(19)) / max(r.expected_mean[i, j], 1e-9) ** 2
        assert abs(r.ratio[i, j] - row.obs_over_mean_expected) <= 4.5 * se + 0.011, (
            row.spatial_band,
            row.temporal_band,
        )
    # the day bands (0-2, 3-4 days) and the same-location row match exactly
    np.testing.assert_array_equal(r.observed[:, :2], obs[:, :2])
    np.testing.assert_array_equal(r.observed[0], obs[0])
    assert r.observed.sum() == obs.sum()
    # The shared file rounds coordinates to 1 cm (the NRC read full precision), so a pair
    # may only move across a band edge if its distance lies within 1.5 cm of that edge.
    from hotspots.analysis.knox import close_pairs

    t = _days(ch.date)
    i, j, dist = close_pairs(ch.x.values, ch.y.values, 301)
    late = np.abs(t[i] - t[j]) >= 4
    near_edge = [int((np.abs(dist[late] - e) <= 0.015).sum()) for e in (100, 200, 300)]
    diff = r.observed[1:, 2] - obs[1:, 2]
    # a row changes by at most the pairs near its two edges
    assert abs(diff[0]) <= near_edge[0]
    assert abs(diff[1]) <= near_edge[0] + near_edge[1]
    assert abs(diff[2]) <= near_edge[1] + near_edge[2]
    assert abs(diff[3]) <= near_edge[2]


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_nrc_2014_summary_ratios(shared_data, metric):
    d = shared_data / NRV
    ch = pd.read_csv(d / "chicago_res_burglary_2014_2017_epsg26971.csv")
    ch = ch[ch.date.str.startswith("2014")]
    assert len(ch) == 12334
    r = knox_test(
        ch.x.values,
        ch.y.values,
        _days(ch.date),
        spatial_bandwidth_m=200,
        n_spatial_bands=1,
        temporal_bandwidth_days=7,
        n_temporal_bands=1,
        metric=metric,
        convention="nrc",
        permutations=99,
        seed=2,
        keep_sims=True,
    )
    ref = pd.read_csv(d / "nrc_reference_results.csv")
    ref = ref[ref.run == "chicago_burglary_2014"]
    tab = r.to_frame("ratio")
    sd = r.sims.std(axis=0)
    for _, row in ref.iterrows():
        i = list(r.spatial_labels).index(row.spatial_band.replace(" meters", ""))
        j = list(r.temporal_labels).index(row.temporal_band.replace(" days", ""))
        ours = tab.iloc[i, j]
        se = r.observed[i, j] * (sd[i, j] / np.sqrt(99)) / max(r.expected_mean[i, j], 1e-9) ** 2
        # NRC's ratio is itself a 99-permutation estimate; both carry Monte Carlo error
        assert abs(ours - row.obs_over_mean_expected) <= 4 * np.sqrt(2) * se + 0.011, (row.spatial_band, ours)
        if row.p_value <= 0.01:
            assert r.p_value[i, j] <= 0.02


# ----------------------------------------------------------------- pointpats
def test_single_threshold_matches_pointpats(shared_data):
    from pointpats.spacetime import Knox

    ch = pd.read_csv(shared_data / NRV / "chicago_res_burglary_2014_2017_epsg26971.csv")
    ch = ch[ch.date.str.startswith("2014-0")].iloc[:2500]
    t = _days(ch.date)
    xy = ch[["x", "y"]].to_numpy()
    pp = Knox(xy, t.reshape(-1, 1), delta=200, tau=14, permutations=0)
    r = knox_test(
        xy[:, 0],
        xy[:, 1],
        t,
        spatial_bandwidth_m=200,
        n_spatial_bands=1,
        temporal_bandwidth_days=14,
        n_temporal_bands=1,
        permutations=499,
        seed=0,
    )
    nst = r.observed[0, 0] + r.observed[1, 0]
    assert nst == pp.nst
    # pointpats' analytic expectation NS * NT / pairs vs our permutation mean
    assert abs((r.expected_mean[0, 0] + r.expected_mean[1, 0]) - pp.expected[0, 0]) < 0.05 * pp.expected[0, 0] + 2


# ----------------------------------------------------------------- incidents and refusals
def _incidents(precision, n=50, seed=0):
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    x = rng.uniform(530000, 535000, n)
    y = rng.uniform(190000, 195000, n)
    start = pd.Timestamp("2024-01-01", tz="Europe/London") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    end = start + pd.Timedelta(hours=23, minutes=59)
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"I{i}" for i in range(n)],
            "crime_type": "burglary_residential",
            "offence": "Burglary - residential",
            "start": start,
            "end": end,
            "time_precision": precision,
            "x": x,
            "y": y,
            "location_text": "On or near High Street",
            "ward_code": "E05000001",
            "lsoa_code": "E01000001",
            "harm": 1.0,
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )


def test_month_precision_refused():
    inc = _incidents("month")
    with pytest.raises(PrecisionError) as ei:
        knox_for_incidents(inc, permutations=19)
    msg = str(ei.value)
    assert "month" in msg and "force's own" in msg and "months=True" in msg
    # month bands work on the same data
    r = knox_for_incidents(inc, months=True, spatial_bandwidth_m=500, n_spatial_bands=2, permutations=19)
    m = (inc["start"].dt.year * 12 + inc["start"].dt.month - 1).to_numpy(float)
    np.testing.assert_array_equal(r.observed, brute_force_table(inc.x.to_numpy(), inc.y.to_numpy(), m, 500, 2, 1, 3))
    assert r.temporal_labels[0] == "0-1 months"


def test_knox_for_incidents_uses_local_days():
    inc = _incidents("day")
    r = knox_for_incidents(inc, permutations=19)
    t = ((inc["start"].dt.tz_localize(None) - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy()
    ref = brute_force_table(inc.x.to_numpy(), inc.y.to_numpy(), np.floor(t), 100, 5, 7, 4)
    np.testing.assert_array_equal(r.observed, ref)
