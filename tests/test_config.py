"""Config validation: unknown keys, wrong types, missing files and impossible values
are errors that name the key and the file."""

from __future__ import annotations

import re

import pytest
from conftest import write_config

from hotspots.config import SECTIONS, load_config
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
    with pytest.raises(ConfigError, match=r"'project\.seed' must be a whole number"):
        load_config(write_config(folder, BASE.replace("[project]", '[project]\nseed = "x"')))


def test_missing_file_names_key(folder):
    with pytest.raises(ConfigError, match=r"study_area.wards 'nope.geojson'"):
        load_config(write_config(folder, BASE.replace("wards.geojson", "nope.geojson")))
    with pytest.raises(ConfigError, match=r"incidents\[0\].path"):
        load_config(write_config(folder, BASE.replace("inc.csv", "missing.csv")))


def test_impossible_values(folder):
    with pytest.raises(ConfigError, match="boundary_tolerance_m must be >= 0"):
        load_config(
            write_config(
                folder, BASE.replace('wards = "wards.geojson"', 'wards = "wards.geojson"\nboundary_tolerance_m = -5')
            )
        )
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
    with pytest.raises(ConfigError, match=r"'density\.radius'"):
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


# --------------------------------------------------------------------------- checked before anything runs
def _demo_with(repo, tmp_path, extra: str):
    """The demo config (data paths made absolute) with ``extra`` TOML appended."""
    text = (repo / "config" / "demo.toml").read_text().replace('data_dir = ".."', f'data_dir = "{repo}"')
    return write_config(tmp_path, text + "\n" + extra, name="demo_variant.toml")


@pytest.mark.parametrize(
    "extra, key",
    [
        ("[gistar]\npermutatoins = 99\n", "gistar.permutatoins"),
        ("[density]\nradius_m = -5\n", "radius_m"),
    ],
)
@pytest.mark.parametrize("command", ["ingest", "run"])
def test_bad_stage_section_stops_every_command_before_analysis(
    repo, tmp_path, monkeypatch, capsys, demo_config_path, extra, key, command
):
    from hotspots import cli
    from hotspots.stages import inputs

    def no_analysis(*args, **kwargs):
        raise AssertionError("the study area was read although the config is wrong")

    monkeypatch.setattr(inputs, "read_study_area", no_analysis)
    cfg = _demo_with(repo, tmp_path, extra)
    out = tmp_path / "pack"
    rc = cli.main([command, "--config", str(cfg), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error:") and key in err and "Traceback" not in err
    assert not out.exists()


def test_timezone_and_crs_are_checked_at_load(folder):
    for bad, key in (
        ('timezone = "Europe/Londn"', "[project] timezone"),
        ('crs = "EPSG:4326"', "[project] crs"),
        ('crs = "EPSG:999999"', "[project] crs"),
    ):
        with pytest.raises(ConfigError, match=re.escape(key)):
            load_config(write_config(folder, BASE.replace("[project]", f"[project]\n{bad}")))
    cfg = load_config(write_config(folder, BASE.replace("[project]", '[project]\ntimezone = "America/New_York"')))
    assert cfg.timezone == "America/New_York" and cfg.crs == "EPSG:27700"


def test_feet_crs_becomes_the_same_projection_in_metres(folder):
    """EPSG:2263 (New York, US survey feet) is accepted; the engine works in the same projection with metre axes."""
    from pyproj import CRS, Transformer

    cfg = load_config(write_config(folder, BASE.replace("[project]", '[project]\ncrs = "EPSG:2263"')))
    work = CRS.from_user_input(cfg.crs)
    assert work.is_projected and all(a.unit_name == "metre" for a in work.axis_info)
    feet = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True).transform(-73.98, 40.75)
    metres = Transformer.from_crs("EPSG:4326", work, always_xy=True).transform(-73.98, 40.75)
    us_survey_foot = 1200 / 3937  # metres, by definition
    assert metres == pytest.approx((feet[0] * us_survey_foot, feet[1] * us_survey_foot), abs=1e-6)


def test_every_path_key_is_checked_at_load(folder):
    with pytest.raises(ConfigError, match=r"cameras.inventory 'nope.csv'"):
        load_config(write_config(folder, BASE + '\n[cameras]\ninventory = "nope.csv"\n'))
    with pytest.raises(ConfigError, match=r"siting.candidates"):
        load_config(write_config(folder, BASE + '\n[siting]\ncandidates = "sites.csv"\n'))
    with pytest.raises(ConfigError, match=r"\[playbook\] file 'pb.toml' not found"):
        load_config(write_config(folder, BASE + '\n[playbook]\nfile = "pb.toml"\n'))


def test_sections_nothing_reads_are_refused(folder):
    with pytest.raises(ConfigError, match=r"unknown section\(s\) \['backtest'\]"):
        load_config(write_config(folder, BASE + "\n[backtest]\norigins = 3\n"))


def test_override_is_typed_and_checked(folder):
    cfg = load_config(write_config(folder, BASE))
    assert cfg.override("siting", k=5).siting.k == 5 and cfg.siting.k == 10  # a copy; the original is unchanged
    assert cfg.override("coverage", crime_types=["robbery"]).coverage.crime_types == ("robbery",)
    with pytest.raises(ConfigError, match=r"\[siting\] k must be >= 1"):
        cfg.override("siting", k=0)
    with pytest.raises(ConfigError, match=r"siting.kk"):
        cfg.override("siting", kk=3)
    with pytest.raises(ConfigError, match="must be a whole number"):
        cfg.override("siting", k="three")


def _wrong_value(tp) -> str:
    """A TOML value of the wrong type for a field annotated ``tp``."""
    import types
    import typing

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
        origin = typing.get_origin(tp)
    if tp is str:
        return "12345"
    if tp in (int, float, bool) or origin in (tuple, dict) or hasattr(tp, "__dataclass_fields__"):
        return '"not of this type"' if tp is not bool else "3"
    raise AssertionError(f"no wrong value for {tp}")


def _with_key(section: str, key: str, value: str) -> str:
    """BASE with ``key = value`` in ``[section]`` (replacing the key when BASE sets it)."""
    if f"[{section}]" not in BASE:
        return BASE + f"\n[{section}]\n{key} = {value}\n"
    lines = [ln for ln in BASE.splitlines() if not ln.startswith(f"{key} =")]
    at = lines.index(f"[{section}]")
    return "\n".join([*lines[: at + 1], f"{key} = {value}", *lines[at + 1 :]]) + "\n"


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_key_of_every_section_is_checked_at_load(folder, section):
    """A value of the wrong type under any key of any section, or a key no section has, stops loading
    with a ConfigError naming the key: every command stops before any analysis (exit status 2)."""
    import dataclasses
    import typing

    cls = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        body = _with_key(section, f.name, _wrong_value(hints[f.name]))
        with pytest.raises(ConfigError, match=re.escape(f"{section}.{f.name}")):
            load_config(write_config(folder, body))
    with pytest.raises(ConfigError, match=re.escape(f"{section}.no_such_key")):
        load_config(write_config(folder, _with_key(section, "no_such_key", "1")))


def test_every_key_of_an_incident_source_is_checked_at_load(folder):
    import dataclasses
    import typing

    from hotspots.config import ColumnMap, IncidentSource

    for cls, where in ((IncidentSource, "[[incidents]]"), (ColumnMap, "[incidents.columns]")):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            line = f"{f.name} = {_wrong_value(hints[f.name])}"
            base = "\n".join(ln for ln in BASE.splitlines() if not ln.startswith(f"{f.name} ="))
            body = base + (f"\n{line}\n" if where == "[[incidents]]" else f"\n[incidents.columns]\n{line}\n")
            with pytest.raises(ConfigError, match=re.escape(f".{f.name}")):
                load_config(write_config(folder, body))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(folder, value):
    with pytest.raises(ConfigError, match=r"'density\.radius_m' must be a finite number"):
        load_config(write_config(folder, BASE + f"\n[density]\nradius_m = {value}\n"))
