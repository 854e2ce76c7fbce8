"""Before/after evaluation of a place-based intervention (CCTV installation, patrol operation).

Areas (the incidents' projected CRS, metres)
--------------------------
* **target** ``T``: the intervention's polygon (or a camera viewshed, or a
  circle given as x, y, radius);
* **displacement buffer** ``D``: the ring from the target's edge out to
  ``buffer_m`` metres (default 200 m);
* **control** ``C``: a polygon supplied by the user, or by default the rest of
  the study area beyond the buffer; optionally a separate control for the
  buffer (``Cd``); without one the same control serves both.

Periods
-------
*after* = ``[start, end)`` (``end`` defaults to the end of the data), *before*
= the same length immediately before ``start`` (or ``before_days``). Incidents
are placed by the midpoint of their time window; with month-precision data
give month-aligned dates.

Statistics
----------
**Weighted Displacement Difference** (Wheeler & Ratcliffe 2018, *A simple
weighted displacement difference test to evaluate place based crime
interventions*, Crime Science 7:11): with ``ΔX = X_after - X_before``,

    WDD = ΔT - ΔCt + ΔD - ΔCd

negative = fewer crimes than the controls imply (a benefit, net of
displacement). Counts are divided by their period's length weight (before /
after in units of the after period) and by the area weight of each area
(``control_weight = "area"``: a control's weight is its area over the area of
the zone it controls for, so its change is scaled to that zone's size; this
is the default when the control is the rest of the study area). Under
independent Poisson counts the variance of this linear combination is

    Var(WDD) = Σ_area Σ_period count / (time_weight² · area_weight²),

which for four distinct areas and unit weights is the published
``T0 + T1 + Ct0 + Ct1 + D0 + D1 + Cd0 + Cd1``. When one control serves both
zones its counts enter with the combined coefficient (``1/w_Ct + 1/w_Cd``),
squared in the variance. ``z = WDD / sqrt(Var)``, two-sided normal p-value.

**Before/after ratio** of each area: the rate ratio after/before and the exact
conditional binomial test of two Poisson counts with exposures the period
lengths (``scipy.stats.binomtest``); and the relative effect versus the
control, ``(T_a/T_b) / (C_a/C_b)`` with a log-normal 95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from scipy.special import ndtr

from .._csvsafe import write_csv
from ..config.sections import EvaluateConfig  # noqa: F401  (the [evaluate] settings, re-exported beside their analysis)
from ..crs import DEFAULT_CRS
from ..errors import InputError
from ..geo.checks import require_points, require_same_crs
from ..model import days_since_epoch as _days
from ..model import local_midnight, resolve_timezone
from .binomial import binomtest_two_sided


# --------------------------------------------------------------------------- WDD
def wdd_test(
    treated,
    control,
    disp_treated=(0, 0),
    disp_control=(0, 0),
    time_weights=(1.0, 1.0),
    area_weights=(1.0, 1.0, 1.0, 1.0),
    same_control: bool = False,
) -> dict[str, float]:
    """Weighted Displacement Difference test (Wheeler & Ratcliffe 2018).

    Each count argument is ``(before, after)``. ``time_weights`` = (before,
    after) period lengths in any common unit; ``area_weights`` = (control,
    treated, displacement control, displacement treated), the counts being
    divided by them. ``same_control`` means ``disp_control`` is the same area
    (and counts) as ``control``, so its variance is counted once with the
    combined coefficient. Returns ``est_local`` (ΔT - ΔCt), ``est_displace``
    (ΔD - ΔCd), ``wdd``, ``se``, ``z``, ``p`` (two-sided) and the 95% interval.
    """
    tb, ta = (float(v) for v in treated)
    cb, ca = (float(v) for v in control)
    db, da = (float(v) for v in disp_treated)
    dcb, dca = (float(v) for v in disp_control)
    wb, wa = (float(v) for v in time_weights)
    awc, awt, awdc, awdt = (float(v) for v in area_weights)
    # coefficient of each (count, period) in WDD: +after, -before for T and D; opposite for controls
    terms = [(tb, -1 / (wb * awt)), (ta, 1 / (wa * awt)), (db, -1 / (wb * awdt)), (da, 1 / (wa * awdt))]
    if same_control:
        k = 1 / awc + 1 / awdc
        terms += [(cb, k / wb), (ca, -k / wa)]
    else:
        terms += [(cb, 1 / (wb * awc)), (ca, -1 / (wa * awc)), (dcb, 1 / (wb * awdc)), (dca, -1 / (wa * awdc))]
    est_local = ta / (wa * awt) - tb / (wb * awt) - (ca / (wa * awc) - cb / (wb * awc))
    dc_b, dc_a = (cb, ca) if same_control else (dcb, dca)
    est_disp = da / (wa * awdt) - db / (wb * awdt) - (dc_a / (wa * awdc) - dc_b / (wb * awdc))
    wdd = est_local + est_disp
    var = float(sum(c * k * k for c, k in terms))
    se = float(np.sqrt(var))
    z = wdd / se if se > 0 else 0.0
    p = float(2 * ndtr(-abs(z)))
    return {
        "est_local": est_local,
        "est_displace": est_disp,
        "wdd": wdd,
        "var": var,
        "se": se,
        "z": z,
        "p": p,
        "ci_low": wdd - 1.959963984540054 * se,
        "ci_high": wdd + 1.959963984540054 * se,
    }


def rate_ratio_test(before: float, after: float, e_before: float, e_after: float) -> dict[str, float]:
    """After/before rate ratio and the exact conditional binomial test (two-sided)."""
    n = int(round(before + after))
    rr = (after / e_after) / (before / e_before) if before > 0 else (np.inf if after > 0 else np.nan)
    p = binomtest_two_sided(round(after), n, e_after / (e_after + e_before))[()] if n > 0 else np.nan
    return {"rate_ratio": rr, "p": float(p)}


# --------------------------------------------------------------------------- areas
def circle_target(x: float, y: float, radius_m: float):
    return shapely.Point(x, y).buffer(radius_m, quad_segs=32)


def parse_target(spec: str, crs: str = DEFAULT_CRS):
    """A target from ``"x,y,radius"`` (metres in ``crs``, the working CRS) or a polygon file path (any CRS
    known to the file, reprojected to ``crs``; GeoJSON assumed EPSG:4326 when it says nothing)."""
    parts = spec.split(",")
    if len(parts) == 3:
        try:
            x, y, r = (float(v) for v in parts)
        except ValueError:
            pass
        else:
            if r <= 0:
                raise InputError(f"target {spec!r}: the radius must be > 0 metres.")
            return circle_target(x, y, r)
    return read_polygon(spec, "target", crs)


def read_polygon(path, what: str, crs: str = DEFAULT_CRS):
    """The union of a polygon file's features in ``crs`` (files without a CRS: GeoJSON is EPSG:4326,
    anything else ``crs``)."""
    p = Path(path)
    if not p.exists():
        raise InputError(
            f"{what} file {p} does not exist; give a polygon file (GeoJSON/GeoPackage) or "
            "x,y,radius in metres (in the working CRS)."
        )
    g = gpd.read_file(p)
    if g.empty:
        raise InputError(f"{what} file {p} has no features.")
    if g.crs is None:
        g = g.set_crs("EPSG:4326" if p.suffix.lower() in (".geojson", ".json") else crs)
    geom = g.to_crs(crs).geometry.union_all()
    if geom.area <= 0:
        raise InputError(f"{what} file {p} has no polygon area; give polygons, not points or lines.")
    return geom


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Counts before/after per area, WDD and ratio tests of one intervention."""

    table: pd.DataFrame  # area, before, after, rate ratio, p
    wdd: dict[str, float]
    relative_effect: dict[str, float]
    before: tuple[pd.Timestamp, pd.Timestamp]
    after: tuple[pd.Timestamp, pd.Timestamp]
    areas: gpd.GeoDataFrame  # target / buffer / control, in the incidents' CRS
    series: pd.DataFrame  # counts per area per month (or period) for the plot
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """The area table plus one row per WDD statistic (long format for CSV)."""
        t = self.table.copy()
        w = pd.DataFrame(
            [{"area": f"WDD {k}", "value": v} for k, v in self.wdd.items()]
            + [{"area": f"relative effect {k}", "value": v} for k, v in self.relative_effect.items()]
        )
        return pd.concat([t, w], ignore_index=True)

    def summary(self) -> str:
        w = self.wdd
        verdict = "fewer" if w["wdd"] < 0 else "more"
        sig = "significant" if w["p"] < 0.05 else "not significant"
        return (
            f"WDD = {w['wdd']:.1f} (SE {w['se']:.1f}, z = {w['z']:.2f}, p = {w['p']:.3g}): {abs(w['wdd']):.1f} "
            f"{verdict} crimes than the control implies after allowing for displacement ({sig} at 5%)."
        )

    def plot(self, path) -> Path:
        """Small PNG: counts per month in target, buffer and control (scaled) with the start marked."""
        import matplotlib.pyplot as plt  # imported when a chart is drawn

        matplotlib.use("Agg")

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [2, 1]})
        ax = axes[0]
        for col in self.series.columns:
            ax.plot(self.series.index.to_timestamp(), self.series[col], marker=".", label=col)
        ax.axvline(self.after[0].tz_localize(None), color="k", ls="--", lw=1)
        ax.set_ylabel("incidents per month")
        ax.tick_params(axis="x", labelsize=7, rotation=30)
        ax.legend(fontsize=7)
        ax.set_title("Monthly counts (start dashed)", fontsize=9)
        ax2 = axes[1]
        t = self.table.set_index("area")
        xs = np.arange(len(t))
        ax2.bar(xs - 0.2, t["before"], 0.4, label="before")
        ax2.bar(xs + 0.2, t["after"], 0.4, label="after")
        ax2.set_xticks(xs, t.index, fontsize=7)
        ax2.set_yscale("log")
        ax2.legend(fontsize=7)
        ax2.set_title(f"WDD {self.wdd['wdd']:.1f}, p = {self.wdd['p']:.2g}", fontsize=9)
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    def write(self, out_dir) -> dict[str, Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "table": out / "evaluation.csv",
            "plot": out / "evaluation.png",
            "areas": out / "evaluation_areas.gpkg",
        }
        write_csv(self.to_frame(), paths["table"])
        self.plot(paths["plot"])
        self.areas.to_file(paths["areas"], layer="areas", driver="GPKG")
        return paths


def _periods(
    incidents: pd.DataFrame, start, end, before_days: int, tz: str
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp, float, float, list[str]]:
    """(start, end, before start, before days, after days, notes) of an evaluation: local midnights in
    ``tz``; the after period is cut to the end of the data and the before period is as long unless
    ``before_days`` says otherwise."""
    s = local_midnight(start, tz)
    data_end = pd.Timestamp(incidents["end"].max()).tz_convert(tz).normalize() + pd.Timedelta(days=1)
    e = local_midnight(end, tz) if end is not None else data_end
    if e <= s:
        raise InputError(f"evaluation end {e.date()} is not after the start {s.date()}; give --end after --start.")
    notes = []
    if e > data_end:
        notes.append(f"after period cut to the end of the data ({data_end.date()})")
        e = data_end
    if e <= s:
        raise InputError(
            f"the data end on {(data_end - pd.Timedelta(days=1)).date()}, before the evaluation starts "
            f"({s.date()}): there is no after period to measure yet; give incidents recorded since then."
        )
    after_days = (e.tz_localize(None) - s.tz_localize(None)).total_seconds() / 86400.0  # calendar days
    bd = before_days or after_days
    b0 = (s.tz_localize(None) - pd.Timedelta(days=bd)).tz_localize(tz)
    data_start = pd.Timestamp(incidents["start"].min()).tz_convert(tz)
    if b0 < data_start.normalize():
        notes.append(
            f"before period starts {b0.date()}, before the data ({data_start.date()}); counts there are incomplete"
        )
    return s, e, b0, bd, after_days, notes


def evaluate_intervention(
    incidents: gpd.GeoDataFrame,
    target,
    start,
    end=None,
    *,
    boundary=None,
    buffer_m: float = 200.0,
    control=None,
    displacement_control=None,
    before_days: int = 0,
    control_weight: str = "auto",
    crime_types=(),
    timezone: str | None = None,
) -> EvaluationResult:
    """Evaluate an intervention in ``target`` (shapely polygon in the incidents' CRS, metres) from ``start``.

    ``boundary`` (the study area) is needed when no ``control`` polygon is given.
    Dates are calendar days in ``timezone`` (default Europe/London). See the module docstring for
    areas, periods and statistics.
    """
    require_points(incidents, "evaluate_intervention: incidents", ("x", "y", "start", "end", "crime_type"))
    require_same_crs(("evaluate_intervention: incidents", incidents))
    tz = resolve_timezone(timezone)
    inc = incidents
    if crime_types:
        inc = inc[inc["crime_type"].isin(list(crime_types))]
    s, e, b0, bd, after_days, notes = _periods(incidents, start, end, before_days, tz)
    zone = target.buffer(buffer_m) if buffer_m > 0 else target
    disp = zone.difference(target)
    default_control = control is None
    if default_control:
        if boundary is None:
            raise InputError("No control area: give a control polygon or the study-area boundary.")
        control = boundary.difference(zone)
    if control.area <= 0:
        raise InputError("The control area is empty; give a control polygon or a smaller buffer.")
    same = displacement_control is None
    dcontrol = control if same else displacement_control
    cw = control_weight if control_weight != "auto" else ("area" if default_control else "none")
    if cw == "area":
        aw = (control.area / target.area, 1.0, dcontrol.area / disp.area if disp.area > 0 else 1.0, 1.0)
    else:
        aw = (1.0, 1.0, 1.0, 1.0)
    x = inc["x"].to_numpy(float)
    y = inc["y"].to_numpy(float)
    pts = shapely.points(x, y)
    t = (_days(inc["start"]) + _days(inc["end"])) / 2.0
    tb0, ts0, te0 = _days([b0])[0], _days([s])[0], _days([e])[0]
    in_b = (t >= tb0) & (t < ts0)
    in_a = (t >= ts0) & (t < te0)
    geoms = {"target": target, "buffer": disp, "control": control}
    if not same:
        geoms["buffer control"] = dcontrol
    counts = {}
    for name, g in geoms.items():
        shapely.prepare(g)
        m = shapely.covers(g, pts)
        counts[name] = (int((m & in_b).sum()), int((m & in_a).sum()), m)
    tw = (bd / after_days, 1.0)
    w = wdd_test(
        counts["target"][:2],
        counts["control"][:2],
        counts["buffer"][:2],
        counts["buffer control"][:2] if not same else counts["control"][:2],
        time_weights=tw,
        area_weights=aw,
        same_control=same,
    )
    rows = []
    for name, (nb, na, _m) in counts.items():
        rr = rate_ratio_test(nb, na, bd, after_days)
        rows.append(
            {
                "area": name,
                "area_km2": geoms[name].area / 1e6,
                "before": nb,
                "after": na,
                "rate_ratio": rr["rate_ratio"],
                "p": rr["p"],
            }
        )
    table = pd.DataFrame(rows)
    tb, ta = counts["target"][:2]
    cb, ca = counts["control"][:2]
    if min(tb, ta, cb, ca) > 0:
        rel = (ta / tb) / (ca / cb)
        se = float(np.sqrt(1 / ta + 1 / tb + 1 / ca + 1 / cb))
        relative = {"ratio": rel, "ci_low": rel * np.exp(-1.96 * se), "ci_high": rel * np.exp(1.96 * se)}
    else:
        relative = {"ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    notes.append(
        f"before {b0.date()}..{(s - pd.Timedelta(days=1)).date()} ({bd:g} days), after {s.date()}.."
        f"{(e - pd.Timedelta(days=1)).date()} ({after_days:g} days); buffer {buffer_m:g} m; control "
        f"{'rest of study area beyond the buffer' if default_control else 'user polygon'} "
        f"(weight: {cw})"
    )
    # monthly series for the plot
    mid = pd.to_datetime(t * 86400e9, utc=True).tz_convert(tz).tz_localize(None)
    per = pd.PeriodIndex(mid, freq="M")
    lo = pd.Period(b0.tz_localize(None), "M")
    hi = pd.Period((e - pd.Timedelta(days=1)).tz_localize(None), "M")
    months = pd.period_range(lo, hi, freq="M")
    ser = {}
    for name, (_nb, _na, m) in counts.items():
        c = pd.Series(1, index=per[m]).groupby(level=0).sum().reindex(months, fill_value=0).astype(float)
        if name in ("control", "buffer control") and cw == "area":
            c = c / (aw[0] if name == "control" else aw[2])
            name = f"{name} (area-scaled)"
        ser[name] = c
    series = pd.DataFrame(ser, index=months)
    areas = gpd.GeoDataFrame({"area": list(geoms)}, geometry=list(geoms.values()), crs=incidents.crs)
    return EvaluationResult(
        table=table,
        wdd=w,
        relative_effect=relative,
        before=(b0, s),
        after=(s, e),
        areas=areas,
        series=series,
        notes=tuple(notes),
    )
