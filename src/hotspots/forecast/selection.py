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
    """

    metric: str = "hit_rate"
    share: float = 0.05
    window: int = 12
    shrink: float = 0.0
    default: str = ""
    margin: float = 0.0
    min_origins: int = 1

    def __post_init__(self):
        if self.metric not in METRICS:
            raise InputError(f"selection metric must be one of {list(METRICS)}, got {self.metric!r}.")
        if not 0 < self.share <= 1:
            raise InputError(f"selection share must be in (0, 1], got {self.share}.")
        if self.window < 0 or not 0 <= self.shrink <= 1 or self.margin < 0 or self.min_origins < 1:
            raise InputError("selection rule: window >= 0 origins, shrink in [0, 1], margin >= 0, "
                             "min_origins >= 1.")

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
        return out

    def scores_for(self, past: pd.DataFrame, candidates) -> pd.Series:
        """Per-candidate selection score from ``past`` (rows of completed origins: ``origin``, ``method``
        and the rule's column); candidates without scores get -inf."""
        wide = past.pivot_table(index="origin", columns="method", values=self.column, aggfunc="mean")
        wide = wide.sort_index().reindex(columns=list(candidates))
        recent = wide.iloc[-self.window:] if self.window else wide
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
        return best


#: The rule the pipeline uses (chosen by :func:`compare_rules` on Barnet 2019-03 ... 2022-02 and
#: Chicago 2016, before either evaluation window; see docs/forecasting.md).
DEFAULT_RULE = SelectionRule()


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
        return (f"Chosen as the pack chooses, origin by origin with only what was known before each, the "
                f"forecast's top {k}% of cells held {self.achieved:.1%} of the next horizon's incidents on average "
                f"over the last {n} origins (trailing counts {self.baseline_mean:.1%}; the best any map could have "
                f"done {self.ceiling_mean:.1%}).")


def completed_before(origins, origin, horizon) -> list:
    """The origins whose horizon had ended by ``origin`` (their scores were known then)."""
    origin = pd.Timestamp(origin)
    return [o for o in origins if horizon.end(pd.Timestamp(o)) <= origin]


def track_record(scores: pd.DataFrame, horizon, rule: SelectionRule = DEFAULT_RULE, candidates=None,
                 origins=None, baseline: str = "naive_12m") -> TrackRecord:
    """Replay the selection procedure over ``origins`` (default: every origin in ``scores``).

    ``scores``: per-(origin, method) scores (:attr:`BacktestResult.scores`) over the evaluation
    origins *and* the origins before them that the choices may use; ``horizon``: the backtest's
    :class:`~.harness.Horizon` (an origin's scores are usable once its horizon has ended);
    ``candidates``: the methods the procedure chooses among (default: every method but none
    missing). The record's hit rate is the rule's metric at the rule's share when the metric is
    ``hit_rate``, otherwise still the hit rate at that share (what the pack quotes).
    """
    scores = scores.copy()
    scores["origin"] = scores["origin"].map(pd.Timestamp)
    all_origins = sorted(scores["origin"].unique())
    origins = all_origins if origins is None else [pd.Timestamp(o) for o in origins]
    candidates = tuple(candidates) if candidates is not None else tuple(scores["method"].unique())
    missing = [m for m in (*candidates, baseline) if m not in set(scores["method"])]
    if missing:
        raise InputError(f"track_record: no scores for {missing}; backtest them first.")
    k = metrics.share_key(rule.share)
    hit = scores.pivot_table(index="origin", columns="method", values=f"hit_rate_{k}", aggfunc="mean")
    ceiling = scores.groupby("origin")[f"ceiling_{k}"].first()
    best_single = str(hit.loc[origins, list(candidates)].mean().idxmax())
    rows = []
    for o in origins:
        done = completed_before(all_origins, o, horizon)
        past = scores[scores["origin"].isin(done)]
        chosen = rule.choose(past, candidates)
        rows.append({"origin": o, "chosen": chosen, "completed": len(done), "hit_rate": float(hit.loc[o, chosen]),
                     "baseline": float(hit.loc[o, baseline]), "ceiling": float(ceiling.loc[o]),
                     "best_single": best_single, "best_single_hit_rate": float(hit.loc[o, best_single])})
    return TrackRecord(pd.DataFrame(rows), rule, baseline, candidates, best_single)


def compare_rules(runs, rules) -> pd.DataFrame:
    """The record of each rule on each run. ``runs``: list of ``(name, scores, horizon, origins,
    candidates)``. Returns one row per (rule, run) with the achieved mean, the baseline's, the
    relative gain and the best single method's mean, plus a ``mean_gain`` per rule over the runs."""
    rows = []
    for i, rule in enumerate(rules):
        for name, scores, horizon, origins, candidates in runs:
            rec = track_record(scores, horizon, rule, candidates, origins)
            rows.append({"rule": i, "label": rule.label(), "run": name, "achieved": rec.achieved,
                         "baseline": rec.baseline_mean, "gain": rec.relative_gain,
                         "best_single": rec.best_single, "best_single_mean": rec.best_single_mean})
    out = pd.DataFrame(rows)
    out["mean_gain"] = out.groupby("rule")["gain"].transform("mean")
    return out
