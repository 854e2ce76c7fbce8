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
    assert (
        cli.main(["run", "--config", str(demo_config_path), "--date", "2025-11-14", "--out", str(out), "--quiet"]) == 0
    )
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
    assert "ingest" in man["steps"] and "timings_s" not in man  # durations vary run to run: not in the pack
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


# --------------------------------------------------------------------------- one CLI package
def _subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_every_subcommand_shares_the_same_options():
    from hotspots.cli import options

    subs = _subparsers()
    assert set(subs) == {
        "ingest",
        "run",
        "demo-data",
        "nearrepeat",
        "trends",
        "concentration",
        "dosage",
        "experiment",
        "evaluate",
        "cctv",
        "backtest",
        "london-data",
        "run-boroughs",
    }
    without_config = {"demo-data", "london-data"}
    for name, p in subs.items():
        helps = {opt: a.help for a in p._actions for opt in a.option_strings}
        expected = {"--out": options.OUT_HELP, "--quiet": options.QUIET_HELP}
        if name not in without_config:
            expected.update({"--config": options.CONFIG_HELP, "--data-dir": options.DATA_DIR_HELP})
        for opt, text in expected.items():
            assert helps.get(opt) == text, (name, opt)
        if name in without_config:
            assert "--config" not in helps and "--data-dir" not in helps, name


def test_ingest_writes_under_out_by_default(demo_config_path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["ingest", "--config", str(demo_config_path), "--quiet"]) == 0
    for f in ("quarantine.csv", "ingest_summary.json"):
        assert (tmp_path / "out" / "ingest" / f).is_file(), f
    other = tmp_path / "elsewhere"
    assert cli.main(["ingest", "--config", str(demo_config_path), "--out", str(other), "--quiet"]) == 0
    summary = json.loads((other / "ingest_summary.json").read_text())
    assert summary["rows_read"] == summary["accepted"] + summary["quarantined"]


def test_a_broken_subcommand_module_is_an_error_not_a_missing_command(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "hotspots.cli.trends", None)  # importing it now fails
    rc = cli.main(["--help"])
    err = capsys.readouterr().err
    assert rc != 0
    assert "'trends' command could not be loaded" in err and "hotspots.cli.trends" in err


def test_help_does_not_import_the_numerical_libraries():
    code = (
        "import sys\nfrom hotspots.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'geopandas', 'shapely', 'numba', 'scipy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_command_keeps_its_exit_status_and_messages(tmp_path):
    (tmp_path / "bad.toml").write_text("[project]\nbogus = 1\n")
    out = subprocess.run(
        [sys.executable, "-m", "hotspots.cli", "ingest", "--config", str(tmp_path / "bad.toml")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("error:") and "bogus" in out.stderr and "Traceback" not in out.stderr


def test_exit_without_teardown_runs_exit_handlers_and_flushes_but_skips_the_clean_up(tmp_path):
    code = (
        "import atexit, sys\n"
        "from hotspots.cli import exit_without_teardown\n"
        "class Left:\n"
        "    def __del__(self):\n"
        "        print('freed at teardown')\n"
        "kept = Left()\n"
        f"atexit.register(lambda: open({str(tmp_path / 'handler.txt')!r}, 'w').write('ran'))\n"
        "sys.stdout.write('x' * 200000)\n"
        "sys.stderr.write('to stderr')\n"
        "exit_without_teardown(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 3
    assert out.stdout == "x" * 200000  # piped, so block-buffered: flushed in full; no teardown output
    assert out.stderr == "to stderr"
    assert (tmp_path / "handler.txt").read_text() == "ran"
