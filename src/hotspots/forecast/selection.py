"""Choosing the forecast method, and the honest record of that choice.

A backtest scores every candidate at every past origin. Quoting the chosen method's
mean over the same origins that chose it overstates it: the choice has seen the
answers (on Barnet a later year quoted 43.8% while choosing as the pack does
achieved 41.4%). This module replays the *selection procedure itself*: at each
origin it chooses with the scores of the origins whose horizon had ended before
it (nothing else was known then), and scores that choice on the origin's own
horizon. The mean of those scores is the procedure's out-of-sample record, the
figure a pack may quote.

* :class:`SelectionRule` - how a method is chosen from past scores: the mean of the
  last ``window`` completed origins, optionally shrunk towards the long-run mean
  (``shrink``), keeping a ``default`` method unless another beats it by more than
  ``margin``;
* :func:`track_record` - the procedure's record over a run of origins (one row per
  origin: chosen method, its hit rate, the baseline's, the ceiling), a
  :class:`TrackRecord`;
* :func:`compare_rules` - the records of several rules over the same scores, to
  choose the rule itself on data before the evaluation window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from . import metrics
from .methods import Blend, blend_surfaces, make_method

METRICS = ("hit_rate", "pai", "pei", "info_gain")


@dataclass(frozen=True)
class SelectionRule:
    """How the method is chosen from the scores of completed origins.

    ``metric`` at area ``share`` (``info_gain`` ignores the share) is averaged per method over
    the last ``window`` completed origins (0 = all of them); the result is shrunk towards the
    mean over all completed origins by ``shrink`` (0 = window only, 1 = long run only). The best
    method is chosen, except that ``default`` (when set and among the candidates) is kept unless
    the best beats it by more than ``margin`` (metric units, e.g. 0.005 = half a point of hit
    rate). With fewer than ``min_origins`` completed origins the ``default`` (else the first
    candidate) is used. Ties: the earlier candidate.

    Blending only what the record supports: with ``blend_top`` > 1, the methods (at most
    ``blend_top``) whose selection score is within ``blend_within`` of the best are blended with
    equal weights (:class:`~.methods.Blend`); the choice is then written
    ``blend(<a>,<b>)`` (:func:`blend_label`, :func:`blend_members`).
    """

    metric: str = "hit_rate"
    share: float = 0.05
    window: int = 12
    shrink: float = 0.0
    default: str = ""
    margin: float = 0.0
    min_origins: int = 1
    blend_top: int = 1
    blend_within: float = 0.0

    def __post_init__(self):
        if self.metric not in METRICS:
            raise InputError(f"selection metric must be one of {list(METRICS)}, got {self.metric!r}.")
        if not 0 < self.share <= 1:
            raise InputError(f"selection share must be in (0, 1], got {self.share}.")
        if (
            self.window < 0
            or not 0 <= self.shrink <= 1
            or self.margin < 0
            or self.min_origins < 1
            or self.blend_top < 1
            or self.blend_within < 0
        ):
            raise InputError(
                "selection rule: window >= 0 origins, shrink in [0, 1], margin >= 0, "
                "min_origins >= 1, blend_top >= 1, blend_within >= 0."
            )

    @property
    def column(self) -> str:
        return "info_gain" if self.metric == "info_gain" else f"{self.metric}_{metrics.share_key(self.share)}"

    def label(self) -> str:
        w = "all" if self.window == 0 else str(self.window)
        out = f"window {w}"
        if self.shrink:
            out += f", shrink {self.shrink:g}"
        if self.default:
            out += f", default {self.default} unless beaten by > {self.margin * 100:g} points"
        if self.blend_top > 1:
            out += f", blend up to {self.blend_top} within {self.blend_within * 100:g} points"
        return out

    def scores_for(self, past: pd.DataFrame, candidates) -> pd.Series:
        """Per-candidate selection score from ``past`` (rows of completed origins: ``origin``, ``method``
        and the rule's column); candidates without scores get -inf."""
        wide = past.pivot_table(index="origin", columns="method", values=self.column, aggfunc="mean")
        wide = wide.sort_index().reindex(columns=list(candidates))
        recent = wide.iloc[-self.window :] if self.window else wide
        score = recent.mean()
        if self.shrink:
            score = (1 - self.shrink) * score + self.shrink * wide.mean()
        return score.fillna(-np.inf)

    def choose(self, past: pd.DataFrame, candidates) -> str:
        """The method chosen from the completed origins' scores in ``past``."""
        candidates = list(candidates)
        n_done = past["origin"].nunique() if len(past) else 0
        fallback = self.default if self.default in candidates else candidates[0]
        if n_done < self.min_origins:
            return fallback
        score = self.scores_for(past, candidates)
        best = str(score.index[int(np.argmax(score.to_numpy()))])
        if self.default in candidates and score[best] - score[self.default] <= self.margin:
            return self.default
        if self.blend_top > 1:
            close = [m for m in candidates if np.isfinite(score[m]) and score[best] - score[m] <= self.blend_within]
            close = sorted(close, key=lambda m: (-score[m], candidates.index(m)))[: self.blend_top]
            if len(close) > 1:
                return blend_label(close)
        return best


def blend_label(members) -> str:
    """The name of an equal blend of ``members`` chosen by the record: ``blend(a,b)``."""
    return "blend(" + ",".join(members) + ")"


def blend_members(choice: str) -> tuple[str, ...]:
    """The methods behind a choice: one name, or the members of ``blend(a,b)``."""
    if choice.startswith("blend(") and choice.endswith(")"):
        return tuple(choice[len("blend(") : -1].split(","))
    return (choice,)


def blend_scorer(result, share: float = 0.05):
    """A function ``(origin, members) -> hit rate at share`` of the equal blend of ``members`` at
    ``origin``, from a :class:`~.harness.BacktestResult` run with ``keep_surfaces=True`` (the same
    blending as :class:`~.methods.Blend`, scored exactly as the backtest scores)."""
    if not result.surfaces:
        raise InputError("scoring blends needs the backtest's surfaces: run backtest(..., keep_surfaces=True).")
    key = f"hit_rate_{metrics.share_key(share)}"
    mask = np.ones(result.n_cells, dtype=bool)
    memo: dict = {}

    def score(origin, members) -> float:
        k = (pd.Timestamp(origin), tuple(members))
        if k not in memo:
            surf = blend_surfaces(
                [result.surfaces[(k[0], m)] for m in members], [1.0 / len(members)] * len(members), mask
            )
            memo[k] = float(result.score_surface(k[0], surf)[key])
        return memo[k]

    return score


#: The rule the pipeline uses: the mean of the last 24 completed origins shrunk halfway towards the
#: mean of all completed origins, blending (equal weights) the two best when they are within one
#: point of hit rate. Chosen by :func:`compare_rules` as the best mean relative gain over trailing
#: 12-month counts on Barnet 2019-03 ... 2022-02 and Chicago 2016 together, before either
#: evaluation window (``python benchmarks/bench_backtest.py rules``; docs/forecasting.md).
DEFAULT_RULE = SelectionRule(window=24, shrink=0.5, blend_top=2, blend_within=0.01)


@dataclass(frozen=True, eq=False)
class TrackRecord:
    """The selection procedure's own out-of-sample record.

    ``table``: one row per origin with ``origin``, ``chosen`` (the method the procedure chose
    with the origins completed before it), ``completed`` (how many), ``hit_rate`` (the chosen
    method's score on the origin's horizon, at ``share``), ``baseline`` (the ``baseline``
    method's), ``ceiling`` (the best any map could have done), ``best_single`` (the method with
    the best mean over these origins, in hindsight) and its hit rate. ``achieved`` is the mean
    of ``hit_rate``: the figure to quote.
    """

    table: pd.DataFrame
    rule: SelectionRule
    baseline: str
    candidates: tuple[str, ...]
    best_single: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def achieved(self) -> float:
        """Mean over origins of the chosen method's hit rate (at the rule's share): the quoted figure."""
        return float(self.table["hit_rate"].mean())

    @property
    def baseline_mean(self) -> float:
        return float(self.table["baseline"].mean())

    @property
    def ceiling_mean(self) -> float:
        return float(self.table["ceiling"].mean())

    @property
    def best_single_mean(self) -> float:
        return float(self.table["best_single_hit_rate"].mean())

    @property
    def relative_gain(self) -> float:
        """achieved / baseline - 1."""
        return self.achieved / self.baseline_mean - 1.0

    def to_frame(self) -> pd.DataFrame:
        """The per-origin table (origins as ``YYYY-MM-DD`` strings), ready to chart."""
        out = self.table.copy()
        out["origin"] = out["origin"].map(lambda t: f"{pd.Timestamp(t):%Y-%m-%d}")
        return out

    def describe(self) -> str:
        k = metrics.share_key(self.rule.share)
        n = len(self.table)
        return (
            f"Chosen as the pack chooses, origin by origin with only what was known before each, the "
            f"forecast's top {k}% of cells held {self.achieved:.1%} of the next horizon's incidents on average "
            f"over the last {n} origins (trailing counts {self.baseline_mean:.1%}; the best any map could have "
            f"done {self.ceiling_mean:.1%})."
        )


def completed_before(origins, origin, horizon) -> list:
    """The origins whose horizon had ended by ``origin`` (their scores were known then)."""
    origin = pd.Timestamp(origin)
    return [o for o in origins if horizon.end(pd.Timestamp(o)) <= origin]


def track_record(
    scores: pd.DataFrame,
    horizon,
    rule: SelectionRule = DEFAULT_RULE,
    candidates=None,
    origins=None,
    baseline: str = "naive_12m",
    score_blend=None,
) -> TrackRecord:
    """Replay the selection procedure over ``origins`` (default: every origin in ``scores``).

    ``scores``: per-(origin, method) scores (:attr:`BacktestResult.scores`) over the evaluation
    origins *and* the origins before them that the choices may use; ``horizon``: the backtest's
    :class:`~.harness.Horizon` (an origin's scores are usable once its horizon has ended);
    ``candidates``: the methods the procedure chooses among (default: every method but none
    missing). The record's hit rate is the rule's metric at the rule's share when the metric is
    ``hit_rate``, otherwise still the hit rate at that share (what the pack quotes).
    ``score_blend``: ``(origin, members) -> hit rate`` (:func:`blend_scorer`), needed when the rule
    may choose a blend.
    """
    if rule.blend_top > 1 and score_blend is None:
        raise InputError("a rule that may choose a blend needs score_blend (see blend_scorer).")
    scores = scores.copy()
    scores["origin"] = scores["origin"].map(pd.Timestamp)
    all_origins = sorted(scores["origin"].unique())
    origins = all_origins if origins is None else [pd.Timestamp(o) for o in origins]
    candidates = tuple(candidates) if candidates is not None else tuple(scores["method"].unique())
    missing = [m for m in (*candidates, baseline) if m not in set(scores["method"])]
    if missing:
        raise InputError(f"track_record: no scores for {missing}; backtest them first.")
    k = metrics.share_key(rule.share)
    # pivot, not pivot_table: an origin without incidents (NaN scores) must keep its row
    hit = scores.pivot(index="origin", columns="method", values=f"hit_rate_{k}")
    ceiling = scores.groupby("origin")[f"ceiling_{k}"].first()
    best_single = str(hit.loc[origins, list(candidates)].mean().idxmax())
    rows = []
    for o in origins:
        done = completed_before(all_origins, o, horizon)
        past = scores[scores["origin"].isin(done)]
        chosen = rule.choose(past, candidates)
        members = blend_members(chosen)
        got = float(hit.loc[o, chosen]) if len(members) == 1 else score_blend(o, members)
        rows.append(
            {
                "origin": o,
                "chosen": chosen,
                "completed": len(done),
                "hit_rate": got,
                "baseline": float(hit.loc[o, baseline]),
                "ceiling": float(ceiling.loc[o]),
                "best_single": best_single,
                "best_single_hit_rate": float(hit.loc[o, best_single]),
            }
        )
    return TrackRecord(pd.DataFrame(rows), rule, baseline, candidates, best_single)


def compare_rules(runs, rules) -> pd.DataFrame:
    """The record of each rule on each run. ``runs``: list of ``(name, scores, horizon, origins,
    candidates, score_blend)`` (``score_blend`` may be None when no rule blends). Returns one row
    per (rule, run) with the achieved mean, the baseline's, the relative gain and the best single
    method's mean, plus a ``mean_gain`` per rule over the runs."""
    rows = []
    for i, rule in enumerate(rules):
        for name, scores, horizon, origins, candidates, score_blend in runs:
            rec = track_record(scores, horizon, rule, candidates, origins, score_blend=score_blend)
            rows.append(
                {
                    "rule": i,
                    "label": rule.label(),
                    "run": name,
                    "achieved": rec.achieved,
                    "baseline": rec.baseline_mean,
                    "gain": rec.relative_gain,
                    "best_single": rec.best_single,
                    "best_single_mean": rec.best_single_mean,
                }
            )
    out = pd.DataFrame(rows)
    out["mean_gain"] = out.groupby("rule")["gain"].transform("mean")
    return out


@dataclass(frozen=True, eq=False)
class Selection:
    """The method chosen for the coming horizon and the procedure's record behind it.

    ``method``: one method name or ``blend(a,b)``; ``members``: its methods; ``record``: the
    :class:`TrackRecord` of the same procedure over the last origins (the figure to quote is
    ``record.achieved``); ``rule``; ``completed``: how many completed origins the choice used.
    """

    method: str
    members: tuple[str, ...]
    record: TrackRecord
    rule: SelectionRule
    completed: int

    @property
    def quoted(self) -> float:
        """The out-of-sample figure a pack may quote: the record's mean hit rate."""
        return self.record.achieved


def origins_needed(rule: SelectionRule, record_origins: int) -> int:
    """Backtest origins a :func:`select_for` needs so that every recorded choice had a full window:
    ``record_origins`` plus the rule's window (one more horizon of history each)."""
    return int(record_origins) + max(int(rule.window), 1)


def select_for(
    result,
    origin,
    rule: SelectionRule = DEFAULT_RULE,
    candidates=None,
    record_origins: int = 12,
    baseline: str = "naive_12m",
) -> Selection:
    """Choose the method for a forecast from ``origin`` (e.g. the FIM date) and its record.

    ``result``: a :class:`~.harness.BacktestResult` over origins before ``origin`` (with
    ``keep_surfaces=True`` when the rule may blend), at least :func:`origins_needed` of them.
    The choice uses every origin whose horizon has ended by ``origin``; the record replays the
    same rule over the last ``record_origins`` backtest origins.
    """
    candidates = tuple(candidates) if candidates is not None else tuple(m for m in result.methods)
    done = completed_before(result.origins, origin, result.horizon)
    past = result.scores[result.scores["origin"].isin(done)]
    choice = rule.choose(past, candidates)
    score_blend = blend_scorer(result, rule.share) if rule.blend_top > 1 else None
    record = track_record(
        result.scores, result.horizon, rule, candidates, result.origins[-int(record_origins) :], baseline, score_blend
    )
    return Selection(choice, blend_members(choice), record, rule, len(done))


def method_for(choice: str, seed: int = 0, precision: str = "day"):
    """The forecast method behind a choice: :func:`~.methods.make_method` of a name, or an equal
    :class:`~.methods.Blend` of the members of ``blend(a,b)``."""
    members = blend_members(choice)
    if len(members) == 1:
        return make_method(members[0], seed, precision)
    return Blend(
        methods=tuple(make_method(m, seed, precision) for m in members),
        weights=tuple(1.0 / len(members) for _ in members),
    )
