"""The planted trajectories and the planted patrol effect, recovered from the committed demo data in ``data/``.

* Trajectories (``planted_truth.json`` ``trajectories``): the classification the concentration stage runs (its
  settings, on the grid's cells, by half-year) gives each planted place's cell its planted chronic/acute label,
  and the stage's own result in the pack says the same.
* Patrol effect (``planted_truth.json`` ``patrol_effect``): a previous pack hands out a crossover design whose
  patrol days are the days of the planted visits (``planted_patrols.json``); this meeting's ``experiment`` stage
  reads it back and evaluates it on the demo incidents, and the planted effect has the right sign and lies in the
  engine's confidence interval; the ``dosage`` stage finds the patrol on the patrol days and none on the others.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import REPO, fast_config

DATE = "2025-11-14"
PREV_DATE = "2025-10-31"
TRUTH = REPO / "data" / "incidents" / "planted_truth.json"
PATROLS = REPO / "data" / "patrol" / "planted_patrols.json"


@pytest.fixture(scope="module")
def truth():
    if not TRUTH.exists() or "trajectories" not in json.loads(TRUTH.read_text()):
        pytest.skip("demo data missing or old: run `hotspots demo-data --out data`")
    return json.loads(TRUTH.read_text())


# --------------------------------------------------------------------------- trajectories
@pytest.fixture(scope="module")
def conc_res(truth):
    from hotspots import pipeline

    return pipeline.analyse(fast_config(), DATE, stages=("surfaces", "concentration"))


@pytest.fixture(scope="module")
def classified(conc_res):
    """The stage's classification run here from its settings, on every incident before the meeting."""
    from hotspots.analysis.places import grid_places
    from hotspots.analysis.trajectories import place_series, place_trajectories

    cfg = conc_res.cfg
    c = cfg.concentration
    series = place_series(conc_res.incidents, grid_places(conc_res.grid), period="half-year")
    return place_trajectories(
        series,
        seed=cfg.project.seed,
        high_share=c.high_share,
        min_high_count=c.min_high_count,
        recent_periods=c.recent_periods,
    )


def _cells(tr, places):
    pl = tr.series.places
    return pl.locate(np.array([p["x"] for p in places], float), np.array([p["y"] for p in places], float))


def test_each_planted_place_is_one_cell_with_its_planted_counts(truth, classified):
    tr = truth["trajectories"]
    assert classified.series.labels == tuple(tr["periods"])
    cells = _cells(classified, tr["places"])
    assert (cells >= 0).all() and len(set(cells)) == len(cells)
    for p, i in zip(tr["places"], cells, strict=True):
        planted = np.array(p["n_planted"])
        got = classified.series.counts[i]
        # the cell holds every planted incident; the few others are the borough's background crime
        assert (got >= planted).all(), (p["id"], got, planted)
        assert planted.sum() >= 0.8 * got.sum(), (p["id"], got, planted)


def test_planted_places_get_their_chronic_or_acute_label(truth, classified, conc_res):
    tr = truth["trajectories"]
    cells = _cells(classified, tr["places"])
    want = [p["stability"] for p in tr["places"]]
    assert {"chronic", "acute"} <= set(want)
    assert list(classified.labels[cells]) == want
    # the stage's own result (what the pack's place_trajectories.csv and the tasking list read) says the same
    stage = conc_res.concentration.trajectories
    assert stage is not None and stage.series.period == "half-year"
    frame = stage.to_frame().set_index("place_id")
    ids = stage.series.places.ids[_cells(stage, tr["places"])]
    assert list(frame.loc[ids, "stability"]) == want
    assert list(frame.loc[ids, "events"]) == list(classified.series.counts[cells].sum(axis=1))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "the k-means classes do not separate a handful of planted shapes from the 1,342 busy cells of the demo: "
        "k = 5 by Calinski-Harabasz gives two 'stable high' groups (by level) and three 'stable low' noise "
        "groups, so every planted rising, falling and flare-up place is named 'stable high' or 'stable low'"
    ),
)
def test_planted_places_get_their_trajectory_class(truth, classified, conc_res):
    tr = truth["trajectories"]
    want = [p["class"] for p in tr["places"]]
    assert list(classified.classes[_cells(classified, tr["places"])]) == want
    stage = conc_res.concentration.trajectories
    assert list(stage.classes[_cells(stage, tr["places"])]) == want


# --------------------------------------------------------------------------- patrol effect
@pytest.fixture(scope="module")
def patrols():
    if not PATROLS.exists():
        pytest.skip("demo patrols missing: run `hotspots demo-data --out data`")
    return json.loads(PATROLS.read_text())


@pytest.fixture(scope="module")
def experiment_pack(tmp_path_factory, truth, patrols):
    """The previous meeting's pack: its places are the patrolled places (60 m circles) and its crossover design's
    patrol days are the days of the planted visits, blocks of 7 days, written by the engine's own writer."""
    from hotspots.stages.experiment_result import ExperimentPlan

    pe = truth["patrol_effect"]
    pack = tmp_path_factory.mktemp("planted_effect") / f"fim-{PREV_DATE}"
    pack.mkdir()
    places = {p["id"]: p for p in patrols["places"]}
    ids = sorted(pe["places"])
    geoms = [shapely.Point(places[i]["x"], places[i]["y"]).buffer(places[i]["radius_m"]) for i in ids]
    items = gpd.GeoDataFrame(
        {"item_id": ids, "rank": range(1, len(ids) + 1), "dosage": "15 minutes, 3 times a week"},
        geometry=geoms,
        crs=patrols["crs"],
    )
    items.to_file(pack / "layers.gpkg", layer="tasking_items", driver="GPKG")
    (pack / "manifest.json").write_text(json.dumps({"fim_date": PREV_DATE}))
    dates = pd.date_range(pe["start"], periods=pe["days"], freq="D")
    visited = {(v["place_id"], v["start"][:10]) for v in patrols["visits"]}
    n = len(dates)
    schedule = pd.DataFrame(
        {
            "place_id": np.repeat(ids, n),
            "place": np.repeat([places[i]["name"] for i in ids], n),
            "team_code": "DM",
            "team": "Demo Safer Neighbourhood Team",
            "date": np.tile(dates, len(ids)),
            "weekday": np.tile(dates.day_name(), len(ids)),
            "block": np.tile(np.arange(n) // 7 + 1, len(ids)),
            "arm": ["patrol" if (i, f"{d:%Y-%m-%d}") in visited else "no patrol" for i in ids for d in dates],
        }
    )
    plan = ExperimentPlan(
        kind="crossover",
        seed=0,
        share=0.5,
        block_days=7,
        days=n,
        start=dates[0],
        design="the planted patrol days of the demo borough",
        schedule=schedule,
        places={i: shapely.to_wkt(g, rounding_precision=3) for i, g in zip(ids, geoms, strict=True)},
        crs=patrols["crs"],
        drawn_at=PREV_DATE,
        timezone=patrols["timezone"],
    )
    plan.write(pack / "experiment")
    return pack


@pytest.fixture(scope="module")
def evaluated(experiment_pack):
    from hotspots import pipeline

    res = pipeline.analyse(fast_config(), DATE, stages=("dosage", "experiment"), previous=experiment_pack)
    assert res.experiment is not None and res.experiment.evaluation is not None
    return res.experiment.evaluation


def test_planted_patrol_effect_has_its_sign_and_size_within_the_interval(truth, evaluated):
    pe = truth["patrol_effect"]
    planted = pe["effect_count_per_place_day"]
    assert planted < 0
    result = evaluated.result
    assert result.count.n_places == len(pe["places"]) and result.count.n_observations == len(pe["places"]) * 14
    # the demo's harm scheme counts every crime the same, so harm and count tell one story
    for est in (result.count, result.harm):
        assert est.estimate < 0, est.outcome
        assert est.ci_low <= planted <= est.ci_high, (est.outcome, est.ci_low, planted, est.ci_high)
    # the days and arms evaluated are the planted ones
    per_place = result.per_place.set_index("place_id")
    for q in pe["by_place"]:
        assert per_place.loc[q["id"], "patrol_days"] == q["patrol_days"]
        assert per_place.loc[q["id"], "no_patrol_days"] == q["no_patrol_days"]


def test_patrol_was_delivered_on_the_patrol_days_only(truth, patrols, evaluated):
    """The dosage stage's minutes from the pings, beside the evaluation: the planted minutes on patrol days
    (within 5%), nothing on the others."""
    arms = evaluated.patrol.set_index("arm")
    planted = sum(v["minutes"] for v in patrols["visits"])
    n_patrol_days = sum(q["patrol_days"] for q in truth["patrol_effect"]["by_place"])
    assert arms.loc["patrol", "place_days"] == n_patrol_days
    assert arms.loc["patrol", "minutes_per_day"] * n_patrol_days == pytest.approx(planted, rel=0.05)
    assert arms.loc["patrol", "days_with_visit"] == n_patrol_days
    assert arms.loc["no patrol", "minutes_per_day"] == 0 and arms.loc["no patrol", "days_with_visit"] == 0
