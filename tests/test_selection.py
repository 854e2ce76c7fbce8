"""The selection procedure's own record: chosen only from what was known, quoted as achieved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import InputError
from hotspots.forecast.harness import Horizon, make_origins
from hotspots.forecast.selection import SelectionRule, compare_rules, completed_before, track_record

TZ = "Europe/London"


def _scores(origins, table: dict[str, list[float]], ceiling=None) -> pd.DataFrame:
    rows = []
    for i, o in enumerate(origins):
        for m, vals in table.items():
            rows.append(
                {"origin": o, "method": m, "hit_rate_5": vals[i], "ceiling_5": 1.0 if ceiling is None else ceiling[i]}
            )
    return pd.DataFrame(rows)


def test_choices_by_hand_use_only_completed_origins():
    hz = Horizon(days=0, months=1)
    origins = make_origins("2023-01-01", "2023-06-01", hz, TZ)
    sc = _scores(
        origins,
        {"naive_12m": [0.375] * 6, "a": [0.5, 0.25, 0.25, 0.5, 0.5, 0.5], "b": [0.25, 0.5, 0.5, 0.25, 0.25, 0.25]},
    )
    rule = SelectionRule(window=2, min_origins=1)
    rec = track_record(sc, hz, rule, candidates=("naive_12m", "a", "b"))
    t = rec.table
    # Jan: nothing completed -> the first candidate; Feb: Jan only -> a; Mar: Jan, Feb -> all three .375 -> tie ->
    # the first candidate; Apr: Feb, Mar -> b; May: Mar, Apr -> tie again; Jun: Apr, May -> a
    assert list(t["chosen"]) == ["naive_12m", "a", "naive_12m", "b", "naive_12m", "a"]
    assert list(t["completed"]) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(t["hit_rate"], [0.375, 0.25, 0.375, 0.25, 0.375, 0.5])
    assert rec.achieved == pytest.approx(np.mean([0.375, 0.25, 0.375, 0.25, 0.375, 0.5]))
    assert rec.baseline_mean == pytest.approx(0.375)
    assert rec.best_single == "a"  # the best mean in hindsight (0.417)
    # a default is kept unless beaten by more than the margin (here a and b lead by 0.125 at most)
    rec = track_record(sc, hz, SelectionRule(window=2, default="naive_12m", margin=0.13), ("a", "b", "naive_12m"))
    assert list(rec.table["chosen"]) == ["naive_12m"] * 6
    rec = track_record(sc, hz, SelectionRule(window=2, default="naive_12m", margin=0.12), ("a", "b", "naive_12m"))
    assert list(rec.table["chosen"]) == ["naive_12m", "a", "naive_12m", "b", "naive_12m", "a"]


def test_future_scores_cannot_change_a_choice():
    hz = Horizon(14)
    origins = make_origins("2023-01-02", "2023-06-30", hz, TZ)
    rng = np.random.default_rng(0)
    table = {m: list(rng.uniform(0.2, 0.4, len(origins))) for m in ("naive_12m", "a", "b", "c")}
    sc = _scores(origins, table)
    base = track_record(sc, hz, SelectionRule(window=4)).table
    for cut in (3, 7, 11):
        changed = sc.copy()
        later = changed["origin"] >= origins[cut]
        changed.loc[later, "hit_rate_5"] = rng.uniform(0, 1, int(later.sum()))
        got = track_record(changed, hz, SelectionRule(window=4)).table
        # every choice up to and including origin `cut` was made before its scores existed
        assert list(got["chosen"][: cut + 1]) == list(base["chosen"][: cut + 1])
    # a fortnightly origin's horizon ends exactly at the next origin: it is completed then
    assert completed_before(origins, origins[3], hz) == origins[:3]


def test_quoted_figure_equals_the_record_recomputed_by_a_separate_loop():
    hz = Horizon(days=0, months=1)
    origins = make_origins("2020-01-01", "2023-12-01", hz, TZ)
    rng = np.random.default_rng(4)
    methods = ("naive_12m", "learned", "blend", "longrun_counts")
    drift = {m: rng.normal(0, 0.01, len(origins)).cumsum() for m in methods}
    table = {m: list(0.35 + 0.02 * i + drift[m] + rng.normal(0, 0.03, len(origins))) for i, m in enumerate(methods)}
    ceiling = list(rng.uniform(0.9, 1.0, len(origins)))
    sc = _scores(origins, table, ceiling)
    evaluate = origins[24:]
    for rule in (
        SelectionRule(window=6),
        SelectionRule(window=0),
        SelectionRule(window=3, shrink=0.5),
        SelectionRule(window=12, default="blend", margin=0.01),
    ):
        rec = track_record(sc, hz, rule, candidates=methods, origins=evaluate)
        # independent recomputation: plain loops over the per-origin scores
        hits = []
        for o in evaluate:
            done = [p for p in origins if p + pd.DateOffset(months=1) <= o]
            recent = done[-rule.window :] if rule.window else done
            best, best_score = None, -np.inf
            means = {}
            for m in methods:
                w = np.mean([table[m][origins.index(p)] for p in recent])
                lr = np.mean([table[m][origins.index(p)] for p in done])
                means[m] = (1 - rule.shrink) * w + rule.shrink * lr
                if means[m] > best_score:
                    best, best_score = m, means[m]
            if rule.default and means[best] - means[rule.default] <= rule.margin:
                best = rule.default
            hits.append(table[best][origins.index(o)])
        assert rec.achieved == pytest.approx(float(np.mean(hits)), abs=1e-12)
        assert rec.ceiling_mean == pytest.approx(float(np.mean(ceiling[24:])))
        assert rec.baseline_mean == pytest.approx(float(np.mean(table["naive_12m"][24:])))
        assert "held" in rec.describe()
    frame = rec.to_frame()
    assert list(frame.columns[:6]) == ["origin", "chosen", "completed", "hit_rate", "baseline", "ceiling"]
    assert frame["origin"].iloc[0] == "2022-01-01"


def test_compare_rules_and_bad_rules():
    hz = Horizon(days=0, months=1)
    origins = make_origins("2021-01-01", "2022-12-01", hz, TZ)
    rng = np.random.default_rng(1)
    sc = _scores(origins, {m: list(rng.uniform(0.3, 0.4, len(origins))) for m in ("naive_12m", "a", "b")})
    out = compare_rules(
        [("x", sc, hz, origins[12:], ("naive_12m", "a", "b"), None)], [SelectionRule(window=3), SelectionRule(window=0)]
    )
    assert len(out) == 2 and set(out["label"]) == {"window 3", "window all"}
    with pytest.raises(InputError, match="selection metric"):
        SelectionRule(metric="accuracy")
    with pytest.raises(InputError, match="no scores"):
        track_record(sc, hz, SelectionRule(), candidates=("a", "missing"))


def test_a_blend_chosen_by_the_record_is_scored_as_the_blend_method_scores():
    import shapely

    from hotspots.forecast.harness import EventTable, backtest
    from hotspots.forecast.methods import Blend, NaiveCounts
    from hotspots.forecast.selection import blend_members, blend_scorer
    from hotspots.geo.grid import Grid

    rng = np.random.default_rng(2)
    n = 3000
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    hot = rng.random(n) < 0.3
    x[hot], y[hot] = rng.uniform(200, 400, hot.sum()), rng.uniform(500, 800, hot.sum())
    ev = EventTable.from_dates(x, y, pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"))
    grid = Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)
    hz = Horizon(14)
    origins = make_origins("2023-01-02", "2023-05-31", hz, TZ)
    a, b = NaiveCounts(91.0), NaiveCounts(365.0)
    res = backtest(
        ev,
        grid,
        {"naive_12m": NaiveCounts(365.25), "a": a, "b": b, "blend_ab": Blend(methods=(a, b), weights=(0.5, 0.5))},
        origins,
        hz,
        keep_surfaces=True,
    )
    score = blend_scorer(res, 0.05)
    sc = res.scores.set_index(["origin", "method"])
    for o in origins:
        assert score(o, ("a", "b")) == pytest.approx(sc.loc[(o, "blend_ab"), "hit_rate_5"], abs=1e-12)
    rule = SelectionRule(window=3, blend_top=2, blend_within=1.0)  # always blend the best two
    rec = track_record(
        res.scores[res.scores["method"] != "blend_ab"], hz, rule, candidates=("a", "b"), score_blend=score
    )
    chosen = rec.table["chosen"].iloc[-1]
    assert set(blend_members(chosen)) == {"a", "b"} and chosen.startswith("blend(")
    assert rec.table["hit_rate"].iloc[-1] == pytest.approx(sc.loc[(origins[-1], "blend_ab"), "hit_rate_5"])
    with pytest.raises(InputError, match="score_blend"):
        track_record(res.scores, hz, rule, candidates=("a", "b"))


def test_select_for_a_meeting_uses_completed_origins_and_quotes_the_record():
    import shapely

    from hotspots.forecast.harness import EventTable, backtest
    from hotspots.forecast.methods import Blend, NaiveCounts
    from hotspots.forecast.selection import method_for, origins_needed, select_for
    from hotspots.geo.grid import Grid

    rng = np.random.default_rng(5)
    n = 3000
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    ev = EventTable.from_dates(x, y, pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"))
    grid = Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)
    hz = Horizon(14)
    rule = SelectionRule(window=4)
    assert origins_needed(rule, 6) == 10
    origins = make_origins("2023-01-02", "2023-05-22", hz, TZ)[-10:]
    meeting = origins[-1] + pd.Timedelta(days=14)
    res = backtest(
        ev, grid, {"naive_12m": NaiveCounts(365.25), "a": NaiveCounts(91.0), "b": NaiveCounts(730.0)}, origins, hz
    )
    sel = select_for(res, meeting, rule, record_origins=6)
    assert sel.completed == 10 and len(sel.record.table) == 6
    wide = res.scores.pivot(index="origin", columns="method", values="hit_rate_5")
    assert sel.method == wide.iloc[-4:].mean().idxmax()
    assert sel.quoted == pytest.approx(sel.record.table["hit_rate"].mean())
    assert isinstance(method_for("blend(naive_3m,naive_12m)"), Blend)
    assert method_for("naive_12m").window_days == pytest.approx(365.25)


def test_an_origin_without_incidents_stays_in_the_record_without_a_score():
    hz = Horizon(14)
    origins = make_origins("2025-09-05", "2025-11-28", hz, TZ)  # across the end of summer time
    assert all(o.hour == 0 for o in origins)
    assert completed_before(origins, origins[5], hz) == origins[:5]
    table = {"naive_12m": [0.3] * len(origins), "a": [0.4] * len(origins)}
    sc = _scores(origins, table)
    sc.loc[sc["origin"] == origins[4], "hit_rate_5"] = np.nan  # no incident in that fortnight
    rec = track_record(sc, hz, SelectionRule(window=3), ("naive_12m", "a"), origins[2:])
    assert len(rec.table) == len(origins) - 2 and np.isnan(rec.table["hit_rate"].iloc[2])
    assert rec.achieved == pytest.approx(0.4)
