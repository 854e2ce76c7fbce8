"""One ward map file per ward, whatever the ward codes look like; the pages link to each."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hotspots.errors import InputError
from hotspots.render.filenames import ward_file_stem, ward_map_files, ward_map_href

REPO = Path(__file__).resolve().parents[1]
LONG = "W" + "x/" * 99 + "end"  # 200 characters
CODES = ["A/B", "A?B", "a b", "A_B", LONG, "CON", "ab", "AB", "E05013628", "a.b", "A-B", "", "ÄB"]


def test_every_code_gets_its_own_file_even_where_case_is_ignored(tmp_path):
    files = ward_map_files(CODES)
    assert len(files) == len(CODES)
    names = [h.removeprefix("wards/") for h in files.values()]
    assert len({n.lower() for n in names}) == len(CODES)  # distinct on Windows / macOS too
    for n in names:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+\.html", n) and len(n) <= 80, n
        (tmp_path / n).write_text("x")  # a valid file name here
    assert len(list(tmp_path.iterdir())) == len(CODES)


def test_usual_codes_keep_their_name_and_the_rule_is_stable():
    assert ward_map_href("E05013628") == "wards/E05013628.html"
    assert ward_file_stem("A_B") == "A_B"  # already a safe name: kept
    assert ward_file_stem("A/B").startswith("A_B.") and ward_file_stem("A?B").startswith("A_B.")
    assert ward_file_stem("A/B") != ward_file_stem("A?B") != ward_file_stem("A_B")
    assert ward_file_stem("CON") != "CON"  # Windows refuses CON.html
    assert ward_file_stem(LONG) == ward_file_stem(LONG) and len(ward_file_stem(LONG)) == 48 + 1 + 12
    assert ward_file_stem("ab") != ward_file_stem("AB").lower()


def test_a_clash_is_refused_with_both_codes_named(monkeypatch):
    import hotspots.render.filenames as fn

    monkeypatch.setattr(fn, "_HASH_CHARS", 0)  # force two folded codes onto one name
    with pytest.raises(InputError, match="'A/B' and 'A\\?B'"):
        fn.ward_map_files(["A/B", "A?B"])


@pytest.fixture(scope="module")
def recoded_pack(tmp_path_factory, demo_config_path):
    """The demo borough with some ward codes replaced by awkward ones, written as a pack (no optional stages)."""
    root = tmp_path_factory.mktemp("wardcodes")
    data = root / "data"
    shutil.copytree(REPO / "data" / "boundaries", data / "boundaries")
    shutil.copytree(REPO / "data" / "patrol", data / "patrol")  # the demo config reads its patrol pings
    shutil.copytree(REPO / "data" / "incidents", data / "incidents")
    wards = json.loads((data / "boundaries" / "wards.geojson").read_text())
    new = ["A/B", "A?B", "a b", "A_B", LONG]
    mapping = {}
    for f, code in zip(wards["features"], new, strict=False):
        mapping[f["properties"]["ward_code"]] = code
        f["properties"]["ward_code"] = code
    (data / "boundaries" / "wards.geojson").write_text(json.dumps(wards))
    pop = pd.read_csv(data / "boundaries" / "ward_population.csv", dtype=str)
    pop["ward_code"] = pop["ward_code"].replace(mapping)
    pop.to_csv(data / "boundaries" / "ward_population.csv", index=False)
    for f in ("crime_types.toml", "harm_schemes.toml", "playbook.toml"):
        shutil.copy(REPO / "config" / f, root / f)
    body = (REPO / "config" / "demo.toml").read_text().replace('data_dir = ".."', 'data_dir = "."')
    (root / "recoded.toml").write_text(body)
    from conftest import fast_config

    from hotspots import pipeline

    res = pipeline.analyse(fast_config(root / "recoded.toml"), "2025-11-14", stages=())
    wards = res.area.wards
    return pipeline.write_pack(res, root / "fim-2025-11-14"), dict(
        zip(wards["ward_code"], wards["ward_name"], strict=True)
    )


def test_pack_writes_one_map_per_ward_and_links_each(recoded_pack):
    pack, names = recoded_pack
    codes = list(names)
    files = sorted(p.name for p in (pack / "wards").glob("*.html"))
    assert len(files) == len(codes) == 20
    expect = ward_map_files(codes)
    assert sorted(h.removeprefix("wards/") for h in expect.values()) == files
    index = (pack / "index.html").read_text()
    for code, href in expect.items():
        assert f'href="{href}"' in index, code
        assert html.escape(names[code]) in (pack / href).read_text(), code  # its own ward, not another's
