"""Same inputs and seed give a byte-identical pack: every file, every byte, with exactly two declared
exceptions, the ``generated_at`` field of manifest.json and the generated time shown on index.html."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import DEMO_DATE, build_demo_pack, fast_config

#: The only parts of a pack allowed to differ between two runs of the same inputs.
GENERATED_AT = re.compile(rb'\n  "generated_at": "[^"\n]*",\n')
GENERATED_TIME = re.compile(rb"Generated \d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def normalised(rel: str, data: bytes) -> bytes:
    """``data`` with the declared run-specific parts blanked."""
    if rel == "manifest.json":
        assert len(GENERATED_AT.findall(data)) == 1, "manifest.json must hold exactly one generated_at field"
        return GENERATED_AT.sub(b'\n  "generated_at": "",\n', data)
    if rel == "index.html":
        assert len(GENERATED_TIME.findall(data)) == 1, "index.html shows the generated time once"
        return GENERATED_TIME.sub(b"Generated -", data)
    return data


def differences(a: Path, b: Path) -> list[str]:
    """Files present in one pack only, and files whose bytes differ beyond the declared exceptions."""
    fa = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    out = [f"only in the first: {f}" for f in sorted(fa - fb)] + [f"only in the second: {f}" for f in sorted(fb - fa)]
    for rel in sorted(fa & fb):
        x, y = (a / rel).read_bytes(), (b / rel).read_bytes()
        if x != y and normalised(rel, x) != normalised(rel, y):
            out.append(f"differs: {rel}")
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from hotspots import pipeline

    first = build_demo_pack(tmp_path_factory)
    second = tmp_path_factory.mktemp("rerun") / f"fim-{DEMO_DATE}"
    pipeline.run(fast_config(), fim_date=DEMO_DATE, out_dir=second, quiet=True)
    return first, second


@pytest.mark.slow
def test_rerun_gives_the_same_bytes(two_runs):
    first, second = two_runs
    assert differences(first, second) == []
    kinds = {p.suffix for p in first.rglob("*") if p.is_file()}
    assert {".csv", ".html", ".gpkg", ".tif", ".json", ".pdf"} <= kinds  # every kind of file was compared
    man = json.loads((first / "manifest.json").read_text())
    assert "generated_at" in man and "timings_s" not in man


def test_the_comparison_notices_any_other_change(two_runs, tmp_path):
    first, _ = two_runs
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    assert differences(first, copy) == []
    m = (copy / "manifest.json").read_bytes()
    (copy / "manifest.json").write_bytes(GENERATED_AT.sub(b'\n  "generated_at": "1999-01-01T00:00:00",\n', m))
    idx = (copy / "index.html").read_bytes()
    (copy / "index.html").write_bytes(GENERATED_TIME.sub(b"Generated 1999-01-01 00:00", idx))
    assert differences(first, copy) == []  # the two declared exceptions
    (copy / "index.html").write_bytes(idx.replace(b"</body>", b"<!-- x --></body>"))
    g = (copy / "layers.gpkg").read_bytes()
    (copy / "layers.gpkg").write_bytes(g[:-1] + bytes([g[-1] ^ 1]))
    (copy / "gis" / "extra.tif").write_bytes(b"x")
    ward = sorted((copy / "wards").glob("*.html"))[0]
    ward.write_bytes(ward.read_bytes().replace(b"</body>", b"<!-- x --></body>"))  # map pages are compared whole
    assert differences(first, copy) == [
        "only in the second: gis/extra.tif",
        "differs: index.html",
        "differs: layers.gpkg",
        f"differs: wards/{ward.name}",
    ]


def test_geopackage_timestamps_come_from_the_meeting_date(two_runs):
    import sqlite3

    first, _ = two_runs
    with sqlite3.connect(first / "layers.gpkg") as con:
        stamps = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
    assert stamps == {"2025-11-14T00:00:00.000Z"}


@pytest.mark.slow
def test_the_forecast_cache_leaves_the_pack_unchanged(two_runs, tmp_path, monkeypatch, fits):
    """The pack is byte-identical whether the forecast's fits came from the cache beside the packs or
    were all computed, and with the cache switched off ([output] cache = false)."""
    from hotspots import pipeline

    _, cold = two_runs  # built with an empty cache, which it filled
    kept = cold.parent / ".hotspots-cache"
    assert any(kept.rglob("*.npy"))
    warm = tmp_path / "warm" / f"fim-{DEMO_DATE}"
    shutil.copytree(kept, warm.parent / ".hotspots-cache")
    fits["n"] = 0
    monkeypatch.setenv("HOTSPOTS_WORKERS", "1")  # the forecast in this process, where its fits are counted
    pipeline.run(fast_config(), fim_date=DEMO_DATE, out_dir=warm, quiet=True)
    assert fits["n"] == 0  # every backtest fit and the meeting's forecast came from the cache
    assert differences(cold, warm) == []
    off = tmp_path / "off" / f"fim-{DEMO_DATE}"
    pipeline.run(fast_config().override("output", cache=False), fim_date=DEMO_DATE, out_dir=off, quiet=True)
    assert not (off.parent / ".hotspots-cache").exists()
    assert differences(cold, off) == []
