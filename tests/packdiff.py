"""Compare two FIM packs table by table, raster by raster and layer by layer.

Used by tests (a pack built two ways must be the same) and from the command line
when a change must leave the products unchanged::

    python tests/packdiff.py OLD_PACK NEW_PACK [--atol 1e-9]

It compares what the pack's users act on, not the page markup:

* every CSV (``tasking.csv``, ``ward_table.csv``, ``quarantine.csv``, ...): same
  columns, same rows, numbers equal within ``atol`` (relative ``rtol``);
* every GeoTIFF under ``gis/``: same shape, transform, CRS and nodata, values
  equal within the tolerances (NaN where the other has NaN);
* every layer of ``layers.gpkg``: same columns and rows, geometries equal
  (normalised, within ``atol`` metres);
* the manifest's row counts, grid, stages run and not run, and layer sizes.

Files present in one pack only are reported. The exit status is 0 when the
packs agree and 1 otherwise; each difference is one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: manifest keys that describe the products (timings, paths and the clock are left out)
MANIFEST_KEYS = (
    "fim_date",
    "random_seed",
    "harm_scheme",
    "grid",
    "rows",
    "incidents_before_fim_date",
    "time_precision",
    "stages_run",
    "stages_not_run",
    "layers",
    "tasking",
    "headline",
)


def _frames_differ(a: pd.DataFrame, b: pd.DataFrame, what: str, atol: float, rtol: float) -> list[str]:
    out: list[str] = []
    if list(a.columns) != list(b.columns):
        only_a = [c for c in a.columns if c not in b.columns]
        only_b = [c for c in b.columns if c not in a.columns]
        out.append(
            f"{what}: columns differ (only in old: {only_a}; only in new: {only_b}; "
            f"order old={list(a.columns)} new={list(b.columns)})"
        )
        common = [c for c in a.columns if c in b.columns]
        a, b = a[common], b[common]
    if len(a) != len(b):
        out.append(f"{what}: {len(a)} rows in old, {len(b)} in new")
        return out
    for col in a.columns:
        x, y = a[col].reset_index(drop=True), b[col].reset_index(drop=True)
        if col == "geometry":
            continue
        xn = pd.to_numeric(x, errors="coerce")
        yn = pd.to_numeric(y, errors="coerce")
        numeric = xn.notna().sum() == x.notna().sum() and yn.notna().sum() == y.notna().sum() and x.notna().any()
        if numeric:
            xa, ya = xn.to_numpy(float), yn.to_numpy(float)
            ok = np.isclose(xa, ya, atol=atol, rtol=rtol, equal_nan=True)
        else:
            ok = (x.astype(str).fillna("") == y.astype(str).fillna("")).to_numpy()
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            out.append(
                f"{what}: column {col!r} differs in {int((~ok).sum())} row(s); first at row {i}: "
                f"old={x.iat[i]!r} new={y.iat[i]!r}"
            )
    return out


def compare_csv(a: Path, b: Path, what: str, atol: float, rtol: float) -> list[str]:
    fa = pd.read_csv(a, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    fb = pd.read_csv(b, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return _frames_differ(fa, fb, what, atol, rtol)


def compare_tif(a: Path, b: Path, what: str, atol: float, rtol: float) -> list[str]:
    import rasterio

    with rasterio.open(a) as ra, rasterio.open(b) as rb:
        out = []
        if ra.shape != rb.shape or ra.count != rb.count:
            return [f"{what}: shape {ra.count}x{ra.shape} in old, {rb.count}x{rb.shape} in new"]
        if not ra.transform.almost_equals(rb.transform):
            out.append(f"{what}: transform {tuple(ra.transform)[:6]} in old, {tuple(rb.transform)[:6]} in new")
        if ra.crs != rb.crs:
            out.append(f"{what}: CRS {ra.crs} in old, {rb.crs} in new")
        if ra.nodata != rb.nodata and not (np.isnan(ra.nodata or 0) and np.isnan(rb.nodata or 0)):
            out.append(f"{what}: nodata {ra.nodata} in old, {rb.nodata} in new")
        xa, xb = ra.read().astype(float), rb.read().astype(float)
        ok = np.isclose(xa, xb, atol=atol, rtol=rtol, equal_nan=True)
        if not ok.all():
            out.append(
                f"{what}: {int((~ok).sum())} of {ok.size} values differ (largest difference "
                f"{float(np.nanmax(np.abs(xa - xb))):.3g})"
            )
        return out


def compare_gpkg(a: Path, b: Path, what: str, atol: float, rtol: float) -> list[str]:
    import geopandas as gpd
    import pyogrio
    import shapely

    la = {str(n) for n, _ in pyogrio.list_layers(a)}
    lb = {str(n) for n, _ in pyogrio.list_layers(b)}
    out = []
    for n in sorted(la ^ lb):
        out.append(f"{what}: layer {n!r} only in {'old' if n in la else 'new'}")
    for n in sorted(la & lb):
        ga = gpd.read_file(a, layer=n)
        gb = gpd.read_file(b, layer=n)
        out += _frames_differ(ga, gb, f"{what}:{n}", atol, rtol)
        if len(ga) == len(gb) and "geometry" in ga and "geometry" in gb:
            if ga.crs != gb.crs:
                out.append(f"{what}:{n}: CRS {ga.crs} in old, {gb.crs} in new")
            na = shapely.normalize(np.asarray(ga.geometry.values))
            nb = shapely.normalize(np.asarray(gb.geometry.values))
            same = np.array(
                [
                    (p is None and q is None)
                    or (p is not None and q is not None and shapely.equals_exact(p, q, tolerance=max(atol, 1e-6)))
                    for p, q in zip(na, nb, strict=True)
                ],
                dtype=bool,
            )
            if not same.all():
                i = int(np.flatnonzero(~same)[0])
                out.append(f"{what}:{n}: {int((~same).sum())} geometries differ; first at row {i}")
    return out


def _portable(value):
    """Absolute file paths reduced to their last two parts, so packs built from two checkouts compare."""
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_portable(v) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        return "/".join(Path(value).parts[-2:])
    return value


def compare_manifest(a: Path, b: Path) -> list[str]:
    ma, mb = _portable(json.loads(a.read_text())), _portable(json.loads(b.read_text()))
    out = []
    for k in MANIFEST_KEYS:
        if ma.get(k) != mb.get(k):
            out.append(
                f"manifest.json: {k!r} differs: old={json.dumps(ma.get(k))[:300]} new={json.dumps(mb.get(k))[:300]}"
            )
    return out


def compare_packs(
    old: str | Path, new: str | Path, atol: float = 1e-9, rtol: float = 1e-9, skip: tuple[str, ...] = ()
) -> list[str]:
    """Every difference between the products of two packs, one line each (empty list: the same)."""
    old, new = Path(old), Path(new)
    fa = {p.relative_to(old).as_posix() for p in old.rglob("*") if p.is_file()}
    fb = {p.relative_to(new).as_posix() for p in new.rglob("*") if p.is_file()}
    out = []
    for f in sorted(fa ^ fb):
        if f.endswith((".csv", ".tif", ".gpkg")) and f not in skip:
            out.append(f"{f}: only in {'old' if f in fa else 'new'}")
    for f in sorted(fa & fb):
        if f in skip:
            continue
        if f.endswith(".csv"):
            out += compare_csv(old / f, new / f, f, atol, rtol)
        elif f.endswith(".tif"):
            out += compare_tif(old / f, new / f, f, atol, rtol)
        elif f.endswith(".gpkg"):
            out += compare_gpkg(old / f, new / f, f, atol, rtol)
        elif f == "manifest.json":
            out += compare_manifest(old / f, new / f)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance (values, metres)")
    ap.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance")
    ap.add_argument("--skip", nargs="*", default=[], help="pack-relative files to leave out")
    args = ap.parse_args(argv)
    diffs = compare_packs(args.old, args.new, args.atol, args.rtol, tuple(args.skip))
    for d in diffs:
        print(d)
    print(f"{len(diffs)} difference(s) between {args.old} and {args.new}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
