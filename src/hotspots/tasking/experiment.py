"""Stage ``experiment``: a randomised patrol schedule for this list's places, and the evaluation of the last one.

With ``[experiment] kind`` set, the places of this list get a seeded random design from the meeting date for
``[experiment] days`` days (``seed`` 0 = ``[project] seed``):

* ``crossover``: every place has patrol days and no-patrol days, drawn in blocks of ``block_days`` days with
  ``share`` of each block's days on patrol (the Southend harm-spot trial's design; each place is its own control);
* ``allocation``: ``share`` of the places are patrolled on every day of the period, the others get no extra patrol.

Each place belongs to the Safer Neighbourhood Team of its ward (the tasking list's ward), so each team gets a page
of its places and days. The schedule and its design record (the places' polygons included) go into the pack's
``experiment/`` folder (:meth:`~hotspots.stages.experiment_result.ExperimentPlan.write`).

At the next meeting the previous pack's design is read back. When its period has ended by this meeting, it is
evaluated on this run's incidents (harm from ``[harm]``): patrol days (places) against no-patrol days (places),
on harm and on counts, with confidence intervals (:func:`~hotspots.analysis.experiments.evaluate_crossover`,
:func:`~hotspots.analysis.experiments.evaluate_allocation`); with the patrol positions of the ``dosage`` stage, the
minutes actually delivered on patrol and no-patrol days are set beside it. While it is still running it is carried
forward unchanged (no new draw), so the teams keep the same schedule and the meeting after its end evaluates it.

Nothing to do (no ``[experiment] kind`` and no earlier schedule) is "not run" with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..analysis.experiments import (
    NO_PATROL,
    PATROL,
    TREATMENT,
    Allocation,
    Schedule,
    allocate_places,
    crossover_schedule,
    evaluate_allocation,
    evaluate_crossover,
)
from ..analysis.harm import with_harm
from ..config import Config
from ..config.sections import ExperimentConfig
from ..errors import InputError
from ..geo.study_area import read_vector
from ..stages.dosage_result import DosageResult
from ..stages.experiment_result import (
    DESIGN_FILE,
    EXPERIMENT_DIR,
    SCHEDULE_FILE,
    ExperimentEvaluation,
    ExperimentPlan,
    PatrolExperiment,
)
from ..stages.registry import REFUSALS, Stage
from ..stages.results import RunResults
from .previous import pack_date, read_previous_items

__all__ = [
    "NOTHING_TO_DO",
    "STAGE",
    "draw_plan",
    "evaluate_plan",
    "places_from_file",
    "places_from_pack",
    "read_plan",
]

#: Reason recorded when there is no experiment to draw or evaluate.
NOTHING_TO_DO = "no patrol experiment set ([experiment] kind) and none running from the last meeting"

#: Team of a place without a ward.
NO_WARD = ("no-ward", "Places outside any ward")

#: Decimal places of the polygons' coordinates in the design record (metres: millimetres).
_WKT_DIGITS = 3


def _team_name(ward_name: str) -> str:
    return f"{ward_name} Safer Neighbourhood Team"


def draw_plan(
    items: gpd.GeoDataFrame,
    meeting: pd.Timestamp,
    settings: ExperimentConfig,
    *,
    seed: int,
    timezone: str,
) -> ExperimentPlan:
    """A randomised schedule for ``items`` (the list's places: ``item_id``, optional ``place_name``,
    ``ward_code``, ``ward_name``, polygons in a CRS in metres) from the local date of ``meeting`` for
    ``settings.days`` days (see the module docstring). Same items, date, settings and seed: same schedule."""
    if settings.kind not in ("allocation", "crossover"):
        raise InputError(f"[experiment] kind {settings.kind!r}: choose 'allocation' or 'crossover'.")
    if not len(items):
        raise InputError("the list has no places, so there is nothing to randomise")
    ids = items["item_id"].astype(str).tolist()
    if len(set(ids)) != len(ids):
        raise InputError("the list repeats a place id, so its places cannot be randomised one by one")
    codes, names = _teams(items)
    day0 = pd.Timestamp(meeting)
    day0 = (day0.tz_convert(timezone).tz_localize(None) if day0.tzinfo else day0).normalize()
    if settings.kind == "crossover":
        if settings.days < 2 or settings.block_days < 2:
            raise InputError(
                f"[experiment] a crossover needs days >= 2 and block_days >= 2 (got {settings.days} and "
                f"{settings.block_days}); each place needs patrol days and no-patrol days."
            )
        sched = crossover_schedule(
            ids,
            day0,
            settings.days,
            seed=seed,
            patrol_share=settings.share,
            block_days=settings.block_days,
            timezone=timezone,
        )
        table = sched.table
        design = sched.design
    else:
        if len(ids) < 2:
            raise InputError("[experiment] an allocation needs at least 2 places (one patrolled, one not)")
        alloc = allocate_places(ids, seed=seed, treatment_share=settings.share)
        arm = dict(zip(alloc.table["place_id"], alloc.table["arm"], strict=True))
        dates = pd.date_range(day0, periods=settings.days, freq="D")
        order = sorted(ids)
        table = pd.DataFrame(
            {
                "place_id": np.repeat(order, len(dates)),
                "date": np.tile(dates, len(order)),
                "weekday": np.tile(dates.day_name(), len(order)),
                "block": 1,
                "arm": [PATROL if arm[p] == TREATMENT else NO_PATROL for p in order for _ in dates],
            }
        )
        design = f"{alloc.design}; each treated place patrolled every day for {settings.days} days from {day0:%Y-%m-%d}"
    places = _place_names(items)
    table = table.assign(
        place=table["place_id"].map(places),
        team_code=table["place_id"].map(codes),
        team=table["place_id"].map(names),
    )
    wkt = {
        str(i): shapely.to_wkt(g, rounding_precision=_WKT_DIGITS, trim=True)
        for i, g in zip(ids, items.geometry, strict=True)
    }
    return ExperimentPlan(
        kind=settings.kind,
        seed=seed,
        share=settings.share,
        block_days=settings.block_days,
        days=settings.days,
        start=day0,
        design=design,
        schedule=table.reset_index(drop=True),
        places=wkt,
        crs=str(items.crs),
        drawn_at=f"{day0:%Y-%m-%d}",
        timezone=timezone,
    )


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _teams(items: gpd.GeoDataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Place id -> team code (its ward's code) and -> team name (its ward's Safer Neighbourhood Team)."""
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    n = len(items)
    ward_codes = items["ward_code"] if "ward_code" in items.columns else pd.Series([""] * n)
    ward_names = items["ward_name"] if "ward_name" in items.columns else pd.Series([""] * n)
    for pid, code, name in zip(items["item_id"].astype(str), ward_codes, ward_names, strict=True):
        c, w = _text(code), _text(name)
        if not c:
            codes[pid], names[pid] = NO_WARD
        else:
            codes[pid], names[pid] = c, _team_name(w or c)
    return codes, names


def _place_names(items: gpd.GeoDataFrame) -> dict[str, str]:
    if "place_name" not in items.columns:
        return {str(i): "" for i in items["item_id"]}
    return {str(i): _text(n) for i, n in zip(items["item_id"], items["place_name"], strict=True)}


# --------------------------------------------------------------------------- places to randomise
def places_from_pack(pack: str | Path, crs: str) -> tuple[gpd.GeoDataFrame, pd.Timestamp | None]:
    """The ranked places of a FIM pack's list (its ``layers.gpkg``, layer ``tasking_items``: ``item_id``,
    ``place_name``, ``ward_code``, ``ward_name``, polygons reprojected to ``crs``) and its meeting date (None when
    the pack does not record one). Closed items are left out. An :class:`InputError` names the pack and the fix."""
    folder = Path(pack)
    if not folder.is_dir():
        raise InputError(f"{pack}: not a folder; give the folder of a FIM pack written by `hotspots run`.")
    items = read_previous_items(folder, crs)
    if "status" in items.columns:
        items = items[items["status"].astype(str) != "closed"]
    if "item_id" not in items.columns or not len(items):
        raise InputError(f"{folder / 'layers.gpkg'}: the list has no places to randomise; give a pack with a list.")
    items = items.assign(item_id=items["item_id"].astype(str)).reset_index(drop=True)
    return items, pack_date(folder)


def places_from_file(
    path: str | Path,
    wards: gpd.GeoDataFrame,
    crs: str,
    *,
    id_column: str = "item_id",
    name_column: str = "",
) -> gpd.GeoDataFrame:
    """Places to randomise from a vector file (GeoPackage, GeoJSON, shapefile) of polygons: ``id_column`` (one
    distinct id per place) and, when given, ``name_column``; each place belongs to the ward (``wards``:
    ``ward_code``, ``ward_name``, in ``crs``) holding most of its area, and so to that ward's Safer Neighbourhood
    Team. Polygons reprojected to ``crs`` (metres). Every refusal names the file, the column or the row."""
    f = Path(path)
    g = read_vector(f, "places", crs=crs)
    if id_column not in g.columns:
        cols = [str(c) for c in g.columns if c != g.geometry.name]
        raise InputError(f"{f}: no column {id_column!r} of place ids (columns: {cols}); name it with --id-column.")
    if name_column and name_column not in g.columns:
        raise InputError(f"{f}: no column {name_column!r} of place names; check --name-column.")
    ids = g[id_column].map(_text).str.strip()
    for k, (pid, geom) in enumerate(zip(ids, g.geometry, strict=True)):
        if not pid:
            raise InputError(f"{f}: feature {k + 1} has no {id_column!r}; give every place an id.")
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "no geometry" if geom is None or geom.is_empty else f"a {geom.geom_type}"
            raise InputError(
                f"{f}: place {pid!r} (feature {k + 1}) has {kind}; a place must be a polygon (draw its area, or "
                "buffer a point by the patrol's reach)."
            )
    dup = sorted(ids[ids.duplicated()].unique())
    if dup:
        raise InputError(f"{f}: place id(s) {dup[:5]} appear more than once in {id_column!r}; give each place one id.")
    out = gpd.GeoDataFrame(
        {"item_id": ids.to_numpy(), "place_name": g[name_column].map(_text) if name_column else ""},
        geometry=g.geometry.to_numpy(),
        crs=g.crs,
    )
    ov = gpd.overlay(
        out[["item_id", "geometry"]],
        wards[["ward_code", "ward_name", "geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    ov = ov.assign(a=ov.geometry.area).sort_values(["item_id", "a", "ward_code"], ascending=[True, False, True])
    best = ov.drop_duplicates("item_id").set_index("item_id")
    return out.assign(
        ward_code=out["item_id"].map(best["ward_code"]).fillna(""),
        ward_name=out["item_id"].map(best["ward_name"]).fillna(""),
    )


# --------------------------------------------------------------------------- reading a pack's design back
def read_plan(pack: str | Path) -> ExperimentPlan | None:
    """The experiment ``pack`` handed out (its ``experiment/design.json`` and ``schedule.csv``); None when it
    had none. A damaged record is an :class:`InputError` naming the file."""
    folder = Path(pack) / EXPERIMENT_DIR
    rec_file, sched_file = folder / DESIGN_FILE, folder / SCHEDULE_FILE
    if not rec_file.exists():
        return None
    try:
        rec = json.loads(rec_file.read_text(encoding="utf-8"))
        start = pd.Timestamp(rec["start"])
        days, kind = int(rec["days"]), str(rec["kind"])
        places = {str(k): str(v) for k, v in rec["places"].items()}
        sched = pd.read_csv(sched_file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (OSError, ValueError, KeyError, TypeError, pd.errors.ParserError) as exc:
        raise InputError(
            f"{rec_file} or {sched_file.name} cannot be read ({exc}); the experiment of the pack {pack} cannot be "
            "evaluated. Restore the pack's experiment folder or remove it (design.json) to skip the evaluation."
        ) from None
    need = ("place_id", "date", "block", "arm")
    missing = [c for c in need if c not in sched.columns]
    if missing or kind not in ("allocation", "crossover"):
        raise InputError(
            f"{sched_file}: missing column(s) {missing} or unknown kind {kind!r} in {DESIGN_FILE}; "
            "restore the pack's experiment folder as written by `hotspots run`."
        )
    unknown = sorted(set(sched["place_id"]) - set(places))
    if unknown:
        raise InputError(f"{sched_file}: place(s) {unknown[:5]} are not in {DESIGN_FILE}; restore both files.")
    bad = sorted(set(sched["arm"]) - {PATROL, NO_PATROL})
    if bad:
        raise InputError(f"{sched_file}: column 'arm' holds {bad[:3]}; only {PATROL!r} and {NO_PATROL!r} are allowed.")
    table = sched.assign(date=pd.to_datetime(sched["date"], format="%Y-%m-%d"), block=sched["block"].astype(int))
    return ExperimentPlan(
        kind=kind,
        seed=int(rec.get("seed", 0)),
        share=float(rec.get("share", 0.5)),
        block_days=int(rec.get("block_days", 7)),
        days=days,
        start=start,
        design=str(rec.get("design", "")),
        schedule=table,
        places=places,
        crs=str(rec.get("crs", "")),
        drawn_at=str(rec.get("drawn_at", "")),
        timezone=str(rec.get("timezone", "")),
    )


def _plan_places(plan: ExperimentPlan, crs: str) -> gpd.GeoDataFrame:
    ids = sorted(plan.places)
    geoms = shapely.from_wkt([plan.places[i] for i in ids])
    return gpd.GeoDataFrame({"item_id": ids}, geometry=geoms, crs=plan.crs or crs).to_crs(crs)


# --------------------------------------------------------------------------- evaluation
def evaluate_plan(
    plan: ExperimentPlan,
    incidents: gpd.GeoDataFrame,
    crs: str,
    *,
    seed: int = 0,
    permutations: int = 999,
    dosage: DosageResult | None = None,
    pack: str = "",
) -> ExperimentEvaluation:
    """Evaluate ``plan`` on ``incidents`` (canonical, with ``harm``, in ``crs``, covering the plan's days;
    see the module docstring). ``dosage``: the patrol delivered, for the minutes on patrol and no-patrol days."""
    places = _plan_places(plan, crs)
    tab = plan.schedule
    notes: list[str] = []
    if plan.kind == "crossover":
        sched = Schedule(
            table=tab[["place_id", "date", "weekday", "block", "arm"]].reset_index(drop=True),
            start=plan.start,
            days=plan.days,
            seed=plan.seed,
            patrol_share=plan.share,
            block_days=plan.block_days,
            timezone=plan.timezone,
            design=plan.design,
        )
        result = evaluate_crossover(sched, incidents, places, permutations=permutations, seed=seed)
    else:
        arms = tab.groupby("place_id", sort=True)["arm"].first()
        alloc = Allocation(
            table=pd.DataFrame(
                {
                    "place_id": arms.index,
                    "stratum": "all",
                    "arm": np.where(arms.to_numpy() == PATROL, TREATMENT, "control"),
                }
            ),
            seed=plan.seed,
            treatment_share=plan.share,
            design=plan.design,
        )
        result = evaluate_allocation(
            alloc,
            incidents,
            places,
            plan.start,
            plan.end,
            permutations=permutations,
            seed=seed,
            timezone=plan.timezone,
        )
    patrol = _delivered_by_arm(plan, dosage, notes) if dosage is not None else None
    return ExperimentEvaluation(plan=plan, result=result, pack=pack, patrol=patrol, notes=tuple(notes))


def _delivered_by_arm(plan: ExperimentPlan, dosage: DosageResult, notes: list[str]) -> pd.DataFrame | None:
    """Minutes of patrol per place and day on patrol and no-patrol days, over the days both cover."""
    d0 = dosage.period[0].tz_convert(plan.timezone).tz_localize(None).normalize()
    d1 = dosage.period[1].tz_convert(plan.timezone).tz_localize(None).normalize()
    tab = plan.schedule
    both = tab[(tab["date"] >= d0) & (tab["date"] < d1)]
    measured = set(dosage.compliance.table["place_id"].astype(str)) | set(dosage.visits.daily["place_id"].astype(str))
    both = both[both["place_id"].isin(measured)]
    if not len(both):
        notes.append(
            "the patrol positions do not cover the experiment's places and days, so whether the patrol days "
            "got the patrol is not known"
        )
        return None
    daily = dosage.visits.daily
    minutes = daily.set_index(["place_id", "day"])["minutes"] if len(daily) else pd.Series(dtype=float)
    key = pd.MultiIndex.from_arrays([both["place_id"], both["date"]])
    got = minutes.reindex(key).fillna(0.0).to_numpy(float)
    frame = pd.DataFrame({"arm": both["arm"].to_numpy(), "minutes": got})
    out = (
        frame.groupby("arm", sort=False)
        .agg(place_days=("minutes", "size"), minutes_per_day=("minutes", "mean"), days_with_visit=("minutes", _any))
        .reindex([PATROL, NO_PATROL])
        .dropna(how="all")
        .reset_index()
    )
    covered = both["date"].nunique()
    if covered < plan.days:
        notes.append(
            f"the patrol positions cover {covered} of the experiment's {plan.days} days "
            f"({d0:%Y-%m-%d} to {d1 - pd.Timedelta(days=1):%Y-%m-%d}); the minutes on patrol and no-patrol days are "
            "for those days only"
        )
    return out


def _any(s: pd.Series) -> int:
    return int((s > 0).sum())


# --------------------------------------------------------------------------- the stage
def _seed(cfg: Config) -> int:
    return cfg.experiment.seed or cfg.project.seed


def run(res: RunResults) -> PatrolExperiment:
    cfg = res.cfg
    tl = res.tasking
    if tl is None:
        raise InputError("no tasking list, so there are no places for an experiment")
    notes: list[str] = []
    meeting = res.fim_date.tz_convert(cfg.timezone).tz_localize(None).normalize()
    earlier = read_plan(tl.previous) if tl.previous else None
    plan: ExperimentPlan | None = None
    carried = ""
    evaluation = None
    if earlier is not None and earlier.end > meeting:
        plan, carried = earlier, tl.previous
        notes.append(
            f"the patrol experiment drawn for the meeting of {earlier.drawn_at} runs until "
            f"{earlier.last_day:%Y-%m-%d}; "
            "its schedule is handed out again unchanged (no new draw), and the first meeting after it ends "
            "evaluates it"
        )
    elif earlier is not None:
        inc = with_harm(res.incidents, cfg.harm.scheme, cfg.harm_schemes)
        try:
            evaluation = evaluate_plan(earlier, inc, cfg.crs, seed=_seed(cfg), dosage=res.dosage, pack=tl.previous)
        except REFUSALS as exc:
            notes.append(f"the patrol experiment of the meeting of {earlier.drawn_at} could not be evaluated: {exc}")
    if plan is None and cfg.experiment.kind:
        plan = draw_plan(tl.items, res.fim_date, cfg.experiment, seed=_seed(cfg), timezone=cfg.timezone)
    if plan is None and evaluation is None:
        raise InputError("; ".join(notes) if notes else NOTHING_TO_DO)
    return PatrolExperiment(plan=plan, evaluation=evaluation, carried_from=carried, notes=tuple(notes))


STAGE: Stage[PatrolExperiment] = Stage(
    name="experiment",
    title="patrol experiment",
    sections=("experiment", "project", "harm"),
    depends_on=("tasking",),
    run=run,
)
