"""Config validation: unknown keys, wrong types, missing files and impossible values
are errors that name the key and the file."""

from __future__ import annotations

import pytest

from conftest import write_config
from hotspots.config import load_config
from hotspots.errors import ConfigError

BASE = """
[project]
data_dir = "."
[study_area]
wards = "wards.geojson"
[[incidents]]
path = "inc.csv"
format = "police_uk"
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "wards.geojson").write_text("{}")
    (tmp_path / "inc.csv").write_text("x\n")
    return tmp_path


def test_base_config_loads(folder):
    cfg = load_config(write_config(folder, BASE))
    assert cfg.project.seed == 42
    assert cfg.crime_type_map["violence and sexual offences"] == "violence"
    assert cfg.harm_weights()["robbery"] == 1.0


def test_unknown_key_names_key_and_file(folder):
    p = write_config(folder, BASE.replace("[project]", "[project]\nsede = 3"))
    with pytest.raises(ConfigError, match=r"'project.sede'") as e:
        load_config(p)
    assert str(p) in str(e.value)


def test_unknown_section(folder):
    with pytest.raises(ConfigError, match="unknown section"):
        load_config(write_config(folder, BASE + "\n[desnity]\nradius_m = 3\n"))


def test_wrong_type(folder):
    with pytest.raises(ConfigError, match="'project.seed' must be a whole number"):
        load_config(write_config(folder, BASE.replace("[project]", '[project]\nseed = "x"')))


def test_missing_file_names_key(folder):
    with pytest.raises(ConfigError, match=r"study_area.wards 'nope.geojson'"):
        load_config(write_config(folder, BASE.replace("wards.geojson", "nope.geojson")))
    with pytest.raises(ConfigError, match=r"incidents\[0\].path"):
        load_config(write_config(folder, BASE.replace("inc.csv", "missing.csv")))


def test_impossible_values(folder):
    with pytest.raises(ConfigError, match="boundary_tolerance_m must be >= 0"):
        load_config(write_config(folder, BASE.replace('wards = "wards.geojson"',
                                                      'wards = "wards.geojson"\nboundary_tolerance_m = -5')))
    with pytest.raises(ConfigError, match="cell_size_m must be >= 0"):
        load_config(write_config(folder, BASE + "\n[grid]\ncell_size_m = -1\n"))


def test_cell_size_larger_than_borough(folder):
    from shapely.geometry import box

    from hotspots.geo.grid import Grid

    with pytest.raises(ConfigError, match="larger than the study area"):
        Grid.from_boundary(box(0, 0, 1000, 500), cell_size_m=600)


def test_bad_crime_mapping_target(folder):
    with pytest.raises(ConfigError, match="not canonical"):
        load_config(write_config(folder, BASE + '\n[crime_types.map]\n"Burglary" = "burgling"\n'))


def test_unknown_harm_scheme(folder):
    with pytest.raises(ConfigError, match="scheme 'nope' is not defined"):
        load_config(write_config(folder, BASE + '\n[harm]\nscheme = "nope"\n'))


def test_stage_section_checked_by_its_dataclass(folder):
    cfg = load_config(write_config(folder, BASE + "\n[density]\nradius_m = 250\n"))
    assert cfg.density.radius_m == 250.0
    # a stage's section is checked when the config is loaded, not when the stage runs
    with pytest.raises(ConfigError, match="'density.radius'"):
        load_config(write_config(folder, BASE + "\n[density]\nradius = 250\n"))


def test_data_dir_override(folder, tmp_path_factory, monkeypatch):
    other = tmp_path_factory.mktemp("other")
    (other / "wards.geojson").write_text("{}")
    (other / "inc.csv").write_text("x\n")
    p = write_config(folder, BASE.replace('data_dir = "."', 'data_dir = "/nonexistent"'))
    with pytest.raises(ConfigError):
        load_config(p)
    assert load_config(p, data_dir=str(other)).data_dir == other.resolve()
    monkeypatch.setenv("HOTSPOTS_DATA_DIR", str(other))
    assert load_config(p).data_dir == other.resolve()


def test_shipped_configs_load(repo, shared_data):
    assert load_config(repo / "config" / "barnet.toml").study_area.wards.endswith("barnet_wards_2002_2022.geojson")
