"""[public] is the only place the public tier's grid, threshold and period are set."""

from __future__ import annotations

import pytest
from conftest import REPO, write_config

from hotspots.config import build_section, load_config
from hotspots.config.sections import PublicConfig
from hotspots.errors import ConfigError


def test_public_settings_are_checked():
    ok = build_section(PublicConfig, {"cell_size_m": 500, "min_count": 10, "period_months": 12}, "x.toml", "public")
    assert (ok.cell_size_m, ok.min_count, ok.period_months) == (500, 10, 12)
    with pytest.raises(ConfigError, match=r"period_months must be one of \[1, 2, 3, 4, 6, 12\]"):
        build_section(PublicConfig, {"period_months": 5}, "x.toml", "public")
    with pytest.raises(ConfigError, match="min_count must be at least 2"):
        build_section(PublicConfig, {"min_count": 1}, "x.toml", "public")
    with pytest.raises(ConfigError, match="cell_size_m must be at least 100"):
        build_section(PublicConfig, {"cell_size_m": 50}, "x.toml", "public")


@pytest.mark.parametrize(
    ("key", "replacement"), [("public_min_count", "[public] min_count"), ("public_cell_m", "[public] cell_size_m")]
)
def test_the_coverage_sections_own_public_settings_are_gone(tmp_path, key, replacement):
    body = (REPO / "config" / "demo.toml").read_text().replace('data_dir = ".."', f'data_dir = "{REPO}"')
    body = body.replace("[siting]", f"[coverage]\n{key} = 3\n\n[siting]")
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, body))
    msg = str(err.value)
    assert f"[coverage] {key} no longer exists" in msg and replacement in msg


def test_demo_config_documents_the_public_tier():
    cfg = load_config(REPO / "config" / "demo.toml")
    assert (cfg.public.cell_size_m, cfg.public.min_count, cfg.public.period_months) == (250, 5, 3)
