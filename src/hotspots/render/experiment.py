"""The patrol experiment's pages: one page per Safer Neighbourhood Team (``experiment/<ward>.html``), and the
evaluation of an ended experiment as plain values for the patrol page (``dosage.html``).

A team page lists the team's places and, day by day, which of them to patrol: plain words, printable on A4,
readable on a phone, no script. File names follow :mod:`hotspots.render.filenames` (the ward code's rule, in
the ``experiment/`` folder). Every string from the data (place and team names) reaches the page as a value of
the constant autoescaped template ``templates/experiment_team.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.experiments import PATROL, EffectEstimate
from ..stages.experiment_result import EXPERIMENT_DIR, ExperimentEvaluation, ExperimentPlan
from ..stages.results import RunResults
from .filenames import ward_map_files
from .report import env

__all__ = [
    "EVALUATION_PAGE",
    "evaluation_context",
    "render_experiment",
    "team_page_context",
    "write_evaluation_page",
    "write_team_pages",
]

#: The page of ``hotspots experiment --evaluate`` (in a pack the evaluation is on ``dosage.html``).
EVALUATION_PAGE = "experiment.html"


def _design_words(plan: ExperimentPlan) -> str:
    if plan.kind == "crossover":
        return (
            f"Each place has patrol days and days without extra patrol. In every block of {plan.block_days} days about "
            f"{100 * plan.share:.0f}% of the days are patrol days, chosen at random (seed {plan.seed}), so every "
            "place is compared with itself."
        )
    return (
        f"About {100 * plan.share:.0f}% of the places, chosen at random (seed {plan.seed}), are patrolled every day; "
        "the others get no extra patrol, so the patrolled places are compared with the others."
    )


def team_page_context(plan: ExperimentPlan, code: str, project: str) -> dict[str, Any]:
    """Everything one team's page shows (plain values only)."""
    t = plan.for_team(code)
    teams = plan.teams()
    places = t[["place_id", "place"]].drop_duplicates().sort_values("place_id", kind="stable")
    patrol = t[t["arm"] == PATROL]
    days = []
    for date, g in t.groupby("date", sort=True):
        on = g[g["arm"] == PATROL]["place_id"].tolist()
        off = g[g["arm"] != PATROL]["place_id"].tolist()
        days.append(
            {
                "date": f"{date:%d %b}",
                "weekday": f"{date:%A}",
                "patrol": on,
                "not": off,
            }
        )
    per_place = []
    for r in places.itertuples(index=False):
        mine = patrol[patrol["place_id"] == r.place_id]
        per_place.append(
            {
                "id": str(r.place_id),
                "place": str(r.place) if isinstance(r.place, str) else "",
                "patrol_days": len(mine),
                "days": plan.days,
            }
        )
    return {
        "project": project,
        "team": teams.get(str(code), str(code)),
        "start": f"{plan.start:%A %d %B %Y}",
        "end": f"{plan.last_day:%A %d %B %Y}",
        "drawn_at": plan.drawn_at,
        "design_words": _design_words(plan),
        "allocation": plan.kind == "allocation",
        "places": per_place,
        "days": days,
    }


def write_team_pages(plan: ExperimentPlan, out: Path, project: str) -> dict[str, Path]:
    """One page per team into ``out/experiment/`` (file name by the ward code's rule); returns code -> path."""
    teams = plan.teams()
    files = ward_map_files(teams, folder=EXPERIMENT_DIR)
    template = env().get_template("experiment_team.html")
    paths = {}
    for code in teams:
        page = Path(out) / files[code]
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(template.render(**team_page_context(plan, code, project)), encoding="utf-8")
        paths[code] = page
    return paths


def render_experiment(res: RunResults, out: Path) -> dict[str, Path]:
    """The team pages of the schedule this pack hands out (none when there is no schedule)."""
    e = res.experiment
    if e is None or e.plan is None:
        return {}
    return write_team_pages(e.plan, Path(out), res.cfg.project.name)


# --------------------------------------------------------------------------- evaluation on dosage.html
def _fmt(v: float, fmt: str = "{:+,.2f}") -> str:
    return fmt.format(v) if v is not None and np.isfinite(v) else "not known"


def _effect_row(e: EffectEstimate, per: str) -> dict[str, str]:
    what = "Harm" if e.outcome == "harm" else "Crimes"
    if not np.isfinite(e.ci_low):
        verdict = "too little data to tell"
    elif e.ci_high < 0:
        verdict = "lower with patrol (the whole interval is below zero)"
    elif e.ci_low > 0:
        verdict = "higher with patrol (the whole interval is above zero)"
    else:
        verdict = "no clear difference (the interval includes zero)"
    return {
        "what": what,
        "per": per,
        "patrol": _fmt(e.treated_mean, "{:,.2f}"),
        "no_patrol": _fmt(e.control_mean, "{:,.2f}"),
        "difference": _fmt(e.estimate),
        "interval": f"{_fmt(e.ci_low)} to {_fmt(e.ci_high)}",
        "relative": _fmt(100 * e.relative, "{:+.0f}%"),
        "p": _fmt(e.p_randomisation, "{:.3f}"),
        "verdict": verdict,
    }


def evaluation_context(ev: ExperimentEvaluation) -> dict[str, Any]:
    """The ended experiment's figures for ``dosage.html`` (plain values only)."""
    plan = ev.plan
    crossover = plan.kind == "crossover"
    per = "per place per day" if crossover else "change per place per day (during minus before)"
    rows = [_effect_row(e, per) for e in (ev.result.harm, ev.result.count)]
    places = []
    pp = ev.result.per_place
    names = plan.schedule.drop_duplicates("place_id").set_index("place_id")["place"]
    for r in pp.to_dict("records"):
        name = names.get(str(r["place_id"]), "")
        name = name if isinstance(name, str) else ""
        if crossover:
            places.append(
                {
                    "id": str(r["place_id"]),
                    "place": name,
                    "arm": f"{int(r.get('patrol_days', 0) or 0)} patrol / {int(r.get('no_patrol_days', 0) or 0)} other",
                    "a": _fmt(r.get("harm_patrol_days", np.nan), "{:,.2f}"),
                    "b": _fmt(r.get("harm_no_patrol_days", np.nan), "{:,.2f}"),
                    "c": _fmt(r.get("count_patrol_days", np.nan), "{:,.2f}"),
                    "d": _fmt(r.get("count_no_patrol_days", np.nan), "{:,.2f}"),
                }
            )
        else:
            places.append(
                {
                    "id": str(r["place_id"]),
                    "place": name,
                    "arm": "patrolled" if r["arm"] == "treatment" else "not patrolled",
                    "a": _fmt(r["harm_before"], "{:,.2f}"),
                    "b": _fmt(r["harm_during"], "{:,.2f}"),
                    "c": _fmt(r["count_before"], "{:,.2f}"),
                    "d": _fmt(r["count_during"], "{:,.2f}"),
                }
            )
    patrol = []
    if ev.patrol is not None:
        for r in ev.patrol.itertuples(index=False):
            patrol.append(
                {
                    "arm": "patrol days" if r.arm == PATROL else "days without extra patrol",
                    "place_days": int(r.place_days),
                    "minutes": _fmt(float(r.minutes_per_day), "{:,.1f}"),
                    "visited": int(r.days_with_visit),
                }
            )
    return {
        "kind": plan.kind,
        "crossover": crossover,
        "start": f"{plan.start:%Y-%m-%d}",
        "end": f"{plan.last_day:%Y-%m-%d}",
        "drawn_at": plan.drawn_at,
        "places_n": int(plan.schedule["place_id"].nunique()),
        "design_words": _design_words(plan),
        "design": plan.design,
        "confidence": f"{100 * (1 - ev.result.harm.alpha):g}%",
        "rows": rows,
        "places": places,
        "patrol": patrol,
        "notes": list(ev.notes) + list(ev.result.notes),
        "method": ev.result.harm.method,
    }


def write_evaluation_page(ev: ExperimentEvaluation, out: Path, project: str) -> Path:
    """The evaluation of an ended experiment on a page of its own (``out/experiment.html``), for
    ``hotspots experiment --evaluate``: the same tables as on a pack's ``dosage.html``."""
    page = Path(out) / EVALUATION_PAGE
    ctx = {"project": project, "experiment": evaluation_context(ev), "standalone": True}
    page.write_text(env().get_template("experiment_evaluation.html").render(**ctx), encoding="utf-8")
    return page
