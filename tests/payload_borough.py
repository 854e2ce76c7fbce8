"""A hostile demo borough: template, script and link payloads in every string field that reaches a page.

Reusable by any test of the pages (maps, index, tasking list, public tier)::

    from payload_borough import PAYLOAD, build_payload_pack, marker_files

    pack, root = build_payload_pack(tmp_path_factory.mktemp("payload"))
    assert marker_files(root) == []          # nothing was evaluated while the pack was written

The fields: ward names and codes (ward polygons and the population table), incident location texts, camera
ids and descriptions, town-centre names, road names, the project name and the playbook's tactic, dosage
and owner texts. Each carries :data:`PAYLOAD` (ward codes a shorter one, so they stay usable as file names)
after a plain base text. :data:`PAYLOAD` holds a Jinja expression (``{{7*7}}``: a page showing 49 evaluated
it), a Jinja statement, a script-closing tag, an image with an ``onerror`` handler, a ``javascript:`` URL and
a Jinja expression that would create a marker file in the borough's folder if it were ever evaluated.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEMO_DATE = "2025-11-14"

#: The file the marker payload creates if a template ever evaluates it.
MARKER = "PAYLOAD-RAN"


def payload(root: Path) -> str:
    """The payload for a borough built in ``root`` (its marker expression names ``root``)."""
    marker = (root / MARKER).as_posix()
    return (
        "{{7*7}} {% if true %}IF-RAN{% endif %} </script><script>alert(1)</script> "
        "<img src=x onerror=alert(1)> javascript:alert(1) "
        "{{ cycler.__init__.__globals__.os.system('touch " + marker + "') }}"
    )


#: What the shorter ward-code payload adds to each code.
CODE_PAYLOAD = "<img src=x onerror=alert(2)>{{7*7}}"

#: The parts of the payload whose literal text a page must show (none may be evaluated or dropped).
LITERALS = ("{{7*7}}", "{% if true %}IF-RAN{% endif %}", "<img src=x onerror=alert(1)>", "javascript:alert(1)")


def marker_files(root: Path) -> list[Path]:
    """Marker files the payload created anywhere under ``root`` (empty when nothing was evaluated)."""
    return sorted(root.rglob(MARKER))


def _toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def build_payload_borough(root: Path) -> Path:
    """Write the hostile borough (a year of the demo incidents) into ``root``; returns its config file."""
    src = REPO / "data"
    if not (src / "incidents" / "incidents.csv").exists():
        import pytest

        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    p = payload(root)
    data = root / "data"
    (data / "incidents").mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / "boundaries", data / "boundaries", dirs_exist_ok=True)
    shutil.copytree(src / "patrol", data / "patrol")  # the demo config reads its patrol pings
    b = data / "boundaries"

    codes = {}
    wards = json.loads((b / "wards.geojson").read_text())
    for f in wards["features"]:
        old = f["properties"]["ward_code"]
        codes[old] = f"{old}{CODE_PAYLOAD}"
        f["properties"]["ward_code"] = codes[old]
        f["properties"]["ward_name"] = f"{f['properties']['ward_name']} {p}"
    (b / "wards.geojson").write_text(json.dumps(wards))
    pop = pd.read_csv(b / "ward_population.csv", dtype={"ward_code": str})
    pop["ward_code"] = pop["ward_code"].map(codes)
    pop["ward_name"] = pop["ward_name"] + " " + p
    pop.to_csv(b / "ward_population.csv", index=False)

    for name in ("town_centres.geojson", "roads.geojson"):
        g = json.loads((b / name).read_text())
        for f in g["features"]:
            if f["properties"].get("name"):
                f["properties"]["name"] = f"{f['properties']['name']} {p}"
        (b / name).write_text(json.dumps(g))

    cams = pd.read_csv(b / "cameras.csv")
    cams["camera_id"] = cams["camera_id"].astype(str) + " " + p
    cams["description"] = cams["description"].astype(str) + " " + p
    cams.to_csv(b / "cameras.csv", index=False)

    inc = pd.read_csv(src / "incidents" / "incidents.csv")
    inc = inc[pd.to_datetime(inc["committed_from"]) >= "2024-10-01"].reset_index(drop=True)
    inc.loc[inc.index % 3 == 0, "location"] = inc.loc[inc.index % 3 == 0, "location"] + " " + p
    inc.to_csv(data / "incidents" / "incidents.csv", index=False)

    for f in ("crime_types.toml", "harm_schemes.toml"):
        shutil.copy(REPO / "config" / f, root / f)
    book = (REPO / "config" / "playbook.toml").read_text()
    book = re.sub(
        r'^(tactic|dosage) = "(.*)"$',
        lambda m: f"{m.group(1)} = {_toml_string(m.group(2) + ' ' + p)}",
        book,
        flags=re.M,
    )
    book = re.sub(
        r'^owner = "(.*)"$',
        lambda m: f"owner = {_toml_string(m.group(1) + ' <img src=x onerror=alert(3)>')}",
        book,
        flags=re.M,
    )
    (root / "playbook.toml").write_text(book)
    body = (REPO / "config" / "demo.toml").read_text().replace('data_dir = ".."', 'data_dir = "."')
    body = re.sub(r'^name = "Demo borough"$', f"name = {_toml_string('Demo borough ' + p)}", body, flags=re.M)
    cfg = root / "payload.toml"
    cfg.write_text(body)
    return cfg


def build_payload_pack(root: Path) -> tuple[Path, Path]:
    """Build the hostile borough in ``root`` and its FIM pack (light settings); returns (pack folder, root)."""
    from conftest import fast_config

    from hotspots import pipeline

    cfg = build_payload_borough(root)
    pack = pipeline.run(fast_config(cfg), fim_date=DEMO_DATE, out_dir=root / "pack", quiet=True)
    return pack, root
