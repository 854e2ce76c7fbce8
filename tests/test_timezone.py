"""[project] timezone is the one source of local days and hours: Knox, aoristic and the stages that call them.

Hand-computed case: 2024-01-01 03:30 UTC is Monday 1 January 03:30 in London (GMT) but Sunday
31 December 22:30 in New York (UTC-5); 2024-01-01 23:30 UTC is Monday 23:30 in London and Monday
18:30 in New York. So two burglaries at one house at those instants are 0 days apart in London and
1 day apart in New York.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, write_config

NY = "America/New_York"
LONDON = "Europe/London"
DAY_2024_01_01 = 19723.0  # days from 1970-01-01 to 2024-01-01


def _incidents(times_utc: list[str], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    start = pd.to_datetime(pd.Series(times_utc), utc=True)
    x, y = zip(*xy, strict=True)
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"B{i}" for i in range(len(xy))],
            "crime_type": "burglary_residential",
            "offence": "Burglary",
            "start": start,
            "end": start + pd.Timedelta(minutes=20),
            "time_precision": "minute",
            "x": x,
            "y": y,
            "location_text": "On or near Elm Road",
            "ward_code": "W1",
            "lsoa_code": "",
            "harm": 1.0,
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )


def test_knox_day_numbers_follow_the_time_zone():
    from hotspots.analysis.knox import incident_days, knox_for_incidents

    inc = _incidents(
        ["2024-01-01 03:30", "2024-01-01 23:30", "2024-03-01 12:00"],
        [(531000, 181000), (531000, 181000), (539000, 189000)],
    )
    assert incident_days(inc, LONDON)[:2].tolist() == [DAY_2024_01_01, DAY_2024_01_01]
    assert incident_days(inc, NY)[:2].tolist() == [DAY_2024_01_01 - 1, DAY_2024_01_01]
    kw = {
        "spatial_bandwidth_m": 100,
        "n_spatial_bands": 1,
        "temporal_bandwidth_days": 1,
        "n_temporal_bands": 2,
        "convention": "nrc",
        "permutations": 19,
    }
    # the pair at one house: "Same location" row; NRC bands: [0, 1) days, then [1, 2) days
    london = knox_for_incidents(inc, timezone=LONDON, **kw).observed
    new_york = knox_for_incidents(inc, timezone=NY, **kw).observed
    assert (london[0, 0], london[0, 1]) == (1, 0)
    assert (new_york[0, 0], new_york[0, 1]) == (0, 1)


def test_aoristic_hours_follow_the_time_zone():
    from hotspots.analysis.aoristic import aoristic_weights

    inc = _incidents(["2024-01-01 03:30"], [(531000, 181000)])
    col = {"London": 24 * 0 + 3, "New York": 24 * 6 + 22}  # Monday 03h / Sunday 22h (Monday = 0)
    assert aoristic_weights(inc["start"], inc["end"], LONDON)[0, col["London"]] == pytest.approx(1.0)
    assert aoristic_weights(inc["start"], inc["end"], NY)[0, col["New York"]] == pytest.approx(1.0)


@pytest.mark.parametrize("zone", [LONDON, NY])
def test_project_timezone_reaches_the_near_repeat_stage(tmp_path, zone):
    """The stage passes [project] timezone to Knox and aoristic: the recent burglaries' local dates and the
    hour-by-weekday profile move with the configured zone."""
    if not (REPO / "data" / "boundaries" / "wards.geojson").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    from hotspots.config import load_config
    from hotspots.geo.grid import Grid
    from hotspots.stages.nearrepeat import nearrepeat

    text = (REPO / "config" / "demo.toml").read_text().replace('data_dir = ".."', f'data_dir = "{REPO}"')
    text = text.replace('timezone = "Europe/London"', f'timezone = "{zone}"')
    cfg = load_config(write_config(tmp_path, text)).override("nearrepeat", permutations=19)
    assert cfg.timezone == zone
    # five burglaries at 03:30 UTC on consecutive days around one corner, the last on 2024-01-01
    days = pd.date_range("2023-12-28 03:30", periods=5, freq="D").strftime("%Y-%m-%d %H:%M").tolist()
    inc = _incidents(days, [(531000 + 10 * i, 181000) for i in range(5)])
    boundary = inc.geometry.union_all().buffer(1000)
    res = nearrepeat(cfg, inc, _area(boundary), Grid.from_boundary(boundary, 100), "2024-01-05")
    hour, weekday = (3, "Mon") if zone == LONDON else (22, "Sun")
    assert res.aoristic is not None and res.aoristic.loc[hour, weekday] == pytest.approx(1.0)
    assert res.aoristic.to_numpy().sum() == pytest.approx(5.0)
    assert res.local is not None
    local_dates = sorted(res.local["date"])
    expected_last = "2024-01-01" if zone == LONDON else "2023-12-31"
    assert local_dates[-1] == expected_last


def _area(boundary) -> StudyArea:  # noqa: F821
    """A study area without roads over ``boundary`` (the near-repeat stage reads only its roads)."""
    from hotspots.geo.study_area import StudyArea

    wards = gpd.GeoDataFrame({"ward_code": ["W1"], "ward_name": ["One"]}, geometry=[boundary], crs="EPSG:27700")
    return StudyArea(name="square", boundary=boundary, wards=wards)


def test_ingest_reads_naive_times_in_the_project_zone(tmp_path):
    """Times without an offset are local times of [project] timezone; explicit offsets are honoured."""
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_incidents, load_study_area

    if not (REPO / "data" / "boundaries" / "wards.geojson").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    demo = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv", nrows=1)
    for name, when in (("naive", "2024-01-01 03:30"), ("utc", "2024-01-01T03:30:00Z")):
        pd.DataFrame(
            {
                "ref": [name],
                "offence": demo["offence"],
                "easting": demo["easting"],
                "northing": demo["northing"],
                "committed_from": [when],
                "committed_to": [when],
                "location": "x",
            }
        ).to_csv(tmp_path / f"{name}.csv", index=False)
    text = (REPO / "config" / "demo.toml").read_text().replace('data_dir = ".."', f'data_dir = "{REPO}"')
    text = text.replace('timezone = "Europe/London"', f'timezone = "{NY}"')
    first = text.index("[[incidents]]")
    source = text[first : text.index("[crime_types]")]
    text = (
        text[:first]
        + source.replace('"data/incidents/incidents.csv"', f'"{tmp_path / "naive.csv"}"')
        + source.replace('"data/incidents/incidents.csv"', f'"{tmp_path / "utc.csv"}"')
        + text[text.index("[crime_types]") :]
    )
    cfg = load_config(write_config(tmp_path, text))
    inc = load_incidents(cfg, load_study_area(cfg)).incidents.set_index("incident_id")
    assert str(inc["start"].dt.tz) == NY
    assert inc.loc["s0:naive", "start"] == pd.Timestamp("2024-01-01 03:30", tz=NY)
    assert inc.loc["s1:utc", "start"] == pd.Timestamp("2023-12-31 22:30", tz=NY)
    assert np.isfinite(inc["x"]).all()
