"""The `hotspots` command: runs the demo end to end, fails cleanly, never half-writes a pack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hotspots import cli, pipeline
from hotspots.config import load_config


def test_help_is_plain_and_lists_commands():
    out = subprocess.run([sys.executable, "-m", "hotspots.cli", "--help"], capture_output=True, text=True, check=True)
    text = " ".join(out.stdout.split())
    for word in ("ingest", "run", "demo-data", "Fortnightly Intelligence Meeting"):
        assert word in text


def test_run_demo_writes_pack(tmp_path, demo_config_path, capsys):
    out = tmp_path / "pack"
    assert cli.main(["run", "--config", str(demo_config_path), "--date", "2025-11-14", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert str(out / "index.html") in printed
    for f in ("index.html", "tasking.csv", "manifest.json"):
        assert (out / f).is_file(), f
    man = json.loads((out / "manifest.json").read_text())
    assert man["fim_date"] == "2025-11-14"
    assert man["rows"]["reconciles"] is True
    assert man["rows"]["rows_read"] == man["rows"]["accepted"] + man["rows"]["quarantined"]
    assert all(len(i["sha256"]) == 64 for i in man["inputs"])
    assert man["random_seed"] == load_config(demo_config_path).project.seed
    assert "ingest" in man["timings_s"]
    # only incidents wholly before the FIM date are analysed
    import pandas as pd

    raw = pd.read_csv(demo_config_path.parent.parent / "data" / "incidents" / "incidents.csv")
    assert man["incidents_before_fim_date"] == int((pd.to_datetime(raw["committed_to"]) < "2025-11-14").sum())


def test_failed_run_leaves_previous_pack_untouched(tmp_path, demo_config_path, monkeypatch):
    from hotspots.progress import Reporter

    out = tmp_path / "pack"
    from conftest import fast_config

    res = pipeline.analyse(fast_config(demo_config_path), "2025-11-14", stages=("surfaces", "nearrepeat"))
    pipeline.write_pack(res, out, Reporter(quiet=True))
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(*a, **k):
        raise RuntimeError("failed while finishing the pack")

    # fail at the very end, after every product has been written to the temporary folder
    monkeypatch.setattr(pipeline, "manifest", boom)
    with pytest.raises(RuntimeError, match="finishing the pack"):
        pipeline.write_pack(res, out, Reporter(quiet=True))
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]  # no partial folders left behind


def test_input_error_prints_message_without_traceback(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("[project]\nbogus = 1\n")
    assert cli.main(["ingest", "--config", str(tmp_path / "bad.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "bogus" in err and "Traceback" not in err


def test_ingest_command_reports_counts(demo_config_path, capsys):
    assert cli.main(["ingest", "--config", str(demo_config_path)]) == 0
    out = capsys.readouterr().out
    assert "accepted" in out and "quarantined" in out
