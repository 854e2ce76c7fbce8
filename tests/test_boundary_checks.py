"""The library checks its inputs at the boundary: points in EPSG:4326 with a British National Grid grid
give a clear error (never an all-zero surface), and automatic choices are announced and recorded."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.errors import InputError
from hotspots.geo.grid import Grid

BNG = "EPSG:27700"
AREA = shapely.box(530000, 180000, 534000, 184000)


def _incidents(crs: str = BNG, n: int = 60, seed: int = 3) -> gpd.GeoDataFrame:
    """Minute-precision burglaries in the 4 km square (metres), or the same points in longitude/latitude."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(530200, 533800, n)
    y = rng.uniform(180200, 183800, n)
    start = pd.Timestamp("2024-01-01", tz="Europe/London") + pd.to_timedelta(np.sort(rng.uniform(0, 360, n)), unit="D")
    g = gpd.GeoDataFrame(
        {
            "incident_id": [f"B{i}" for i in range(n)],
            "crime_type": "burglary_residential",
            "offence": "Burglary - residential",
            "start": start,
            "end": start + pd.Timedelta(hours=2),
            "time_precision": "minute",
            "x": x,
            "y": y,
            "location_text": "On or near High Street",
            "ward_code": "W1",
            "lsoa_code": "",
            "harm": 1.0,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=BNG,
    )
    if crs != BNG:
        g = g.to_crs(crs)
        g["x"], g["y"] = g.geometry.x, g.geometry.y
    return g


@pytest.fixture(scope="module")
def grid() -> Grid:
    return Grid.from_boundary(AREA, 200, crs=BNG)


def _says_reproject(exc: pytest.ExceptionInfo) -> None:
    msg = str(exc.value)
    assert "EPSG:4326" in msg and "EPSG:27700" in msg and "to_crs" in msg


def test_kde_refuses_lonlat_points_on_a_metre_grid(grid):
    from hotspots.analysis import kde

    with pytest.raises(InputError) as exc:
        kde(_incidents("EPSG:4326"), grid)
    _says_reproject(exc)
    assert np.nanmax(kde(_incidents(), grid).surface) > 0  # the same points in metres work


def test_gistar_refuses_lonlat_points(grid):
    from hotspots.analysis import gistar

    with pytest.raises(InputError) as exc:
        gistar(_incidents("EPSG:4326"), grid)
    _says_reproject(exc)


def test_hotspot_areas_refuse_lonlat_points(grid):
    from hotspots.analysis import hotspot_areas

    hot = np.zeros(grid.shape, bool)
    hot[5, 5] = True
    with pytest.raises(InputError) as exc:
        hotspot_areas(_incidents("EPSG:4326"), grid, hot)
    _says_reproject(exc)


def test_knox_refuses_a_geographic_geodataframe():
    from hotspots.analysis import knox, knox_test

    with pytest.raises(InputError, match="EPSG:4326"):
        knox(_incidents("EPSG:4326"), permutations=19)
    # plain arrays carry no CRS: they are taken to be metres, as documented
    inc = _incidents()
    assert knox_test(
        inc["x"].to_numpy(), inc["y"].to_numpy(), np.arange(len(inc), dtype=float), permutations=19
    ).n_events == len(inc)


def test_emerging_hotspots_refuse_lonlat_points(grid):
    from hotspots.analysis import emerging_hotspots

    with pytest.raises(InputError) as exc:
        emerging_hotspots(_incidents("EPSG:4326"), grid, "2025-01-01")
    _says_reproject(exc)


def test_coverage_refuses_lonlat_points(grid):
    from hotspots.coverage.cameras import CameraInventory, make_cameras
    from hotspots.coverage.report import coverage_report
    from hotspots.geo.study_area import StudyArea

    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1"], "ward_name": ["One"], "population": [1000.0], "households": [400.0]},
        geometry=[AREA],
        crs=BNG,
    )
    area = StudyArea(name="square", boundary=AREA, wards=wards, crs=BNG)
    inventory = CameraInventory(make_cameras([531000.0], [181000.0], range_m=80, fov_deg=360))
    with pytest.raises(InputError) as exc:
        coverage_report(_incidents("EPSG:4326"), area, grid, inventory)
    _says_reproject(exc)


def test_missing_crs_and_empty_input_are_named():
    from hotspots.analysis import emerging_hotspots, kde

    g = Grid.from_boundary(AREA, 200)
    no_crs = _incidents().set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="has no CRS"):
        kde(no_crs, g)
    with pytest.raises(InputError, match="empty"):
        emerging_hotspots(_incidents().iloc[:0], g, "2025-01-01")


def test_automatic_choices_are_announced_and_recorded():
    from hotspots.analysis import kde
    from hotspots.announce import reporting_to

    heard: list[str] = []
    with reporting_to(heard.append):
        res = kde(_incidents(), boundary=AREA)
    # the grid's cell size and the radius were left to the engine: both said so, and the result keeps them
    assert set(res.choices) == {"cell_size_m", "radius_m"}
    assert heard == [res.choices["cell_size_m"], res.choices["radius_m"]]
    assert f"{res.radius_m:.0f} m" in res.choices["radius_m"] and "Silverman" in res.choices["radius_m"]
    assert f"{res.grid.cell_size:g} m" in res.choices["cell_size_m"]
    with reporting_to(heard.append):
        given = kde(_incidents(), Grid.from_boundary(AREA, 200), radius_m=300)
    assert dict(given.choices) == {} and len(heard) == 2  # nothing chosen, nothing announced
