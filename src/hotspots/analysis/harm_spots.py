"""Harm spots against count spots: where ranking by harm and by count disagree.

What it answers: *which places would a count-based list miss, and which does it
over-rate, once crimes are weighed by their harm?* A place with three robberies
can hold more harm than a place with forty thefts; the first is a **harm spot**
that a count list leaves out, the second a **count spot** that harm does not
support.

Method: every place (zeros included) gets its incident count and its harm
(summed weights of a harm scheme, see :mod:`hotspots.analysis.harm`). Places are
ranked by harm (ties: more incidents first, then place order) and by count
(ties: more harm first, then place order). The top ``top`` places of each
ranking are the harm spots and the count spots. The result lists the places in
one list but not the other, each with a reason in plain words, and the share of
all harm the harm spots hold, the share of places they are and, for places with
an area (grid cells, polygons), the share of the area they cover. Basford et al.
(2021) report 20 harm spots on 2.6% of Southend-on-Sea's area holding 41% of its
harm (Cambridge Journal of Evidence-Based Policing 5: 1-20,
doi:10.1007/s41887-021-00058-x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import InputError
from ..vocabulary import crime_type_label
from .concentration import incident_weights
from .places import Places


def _type_words(t: str) -> str:
    """A canonical crime type in plain words (for reasons shown to people)."""
    return crime_type_label(t, sentence=True)


@dataclass(frozen=True, eq=False)
class HarmSpots:
    """Harm spots, count spots and where they differ.

    ``places`` one row per place with at least one incident: ``place_id, x, y,
    area_m2, incidents, harm, harm_rank, count_rank, main_type`` (the crime type
    holding most of the place's harm), ``main_type_incidents, main_type_harm``,
    ``harm_spot``/``count_spot`` flags; ``differences`` the places in one top list
    but not the other with ``list`` ("harm spot only" / "count spot only") and
    ``reason``; ``top_harm_share`` share of all harm in the harm spots,
    ``top_count_share`` share of all incidents in the count spots,
    ``top_place_share`` harm spots / all places, ``top_area_share`` their share
    of the area of all places (None when places have no area);
    ``overlap`` places in both lists.
    """

    places: pd.DataFrame
    differences: pd.DataFrame
    top: int
    n_places: int
    total_harm: float
    total_incidents: int
    top_harm_share: float
    top_count_share: float
    top_place_share: float
    top_area_share: float | None
    overlap: int
    harm_scheme: str
    place_description: str
    n_unplaced: int

    @property
    def harm_spots(self) -> pd.DataFrame:
        return self.places[self.places["harm_spot"]].sort_values("harm_rank").reset_index(drop=True)

    @property
    def count_spots(self) -> pd.DataFrame:
        return self.places[self.places["count_spot"]].sort_values("count_rank").reset_index(drop=True)

    def headline(self) -> str:
        """One sentence for a briefing."""
        area = (
            f" on {self.top_area_share:.1%} of the area"
            if self.top_area_share is not None
            else f" ({self.top_place_share:.1%} of the places)"
        )
        scheme = f" (harm scheme {self.harm_scheme})" if self.harm_scheme else ""
        return (
            f"The top {self.top} harm spots{area} hold {self.top_harm_share:.0%} of all harm{scheme}; "
            f"{self.top - self.overlap} of them are not among the top {self.top} places by count."
        )


def harm_spots(
    incidents: pd.DataFrame,
    places: Places,
    top: int = 20,
    weights: str | npt.ArrayLike = "harm",
    harm_scheme: str = "",
) -> HarmSpots:
    """Compare the top ``top`` places by harm with the top ``top`` by count.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents contract (x, y in EPSG:27700, crime_type, and harm in ``weights``).
    places : Places
        All places (:mod:`hotspots.analysis.places`); shares are of all of them.
    top : int
        Length of each list (default 20, as Basford et al. 2021).
    weights : column name or array
        Harm per incident (default the ``harm`` column); ``harm_scheme`` names it.
    """
    if not (isinstance(top, (int, np.integer)) and top >= 1):
        raise InputError(f"top must be a whole number >= 1, got {top!r}.")
    for col in ("x", "y", "crime_type"):
        if col not in incidents.columns:
            raise InputError(f"incidents need a {col!r} column; columns: {list(incidents.columns)}.")
    w = incident_weights(incidents, weights)
    where = places.locate(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float))
    ok = where >= 0
    idx, wt = where[ok], w[ok]
    types = incidents["crime_type"].astype(str).to_numpy()[ok]
    n = places.n
    counts = np.bincount(idx, minlength=n)
    harm = np.bincount(idx, weights=wt, minlength=n)
    total_harm, total_inc = float(harm.sum()), int(counts.sum())
    if total_inc == 0:
        raise InputError("no incident falls at any of the places; check the places cover the incidents.")
    order = np.arange(n)
    harm_order = np.lexsort((order, -counts, -harm))
    count_order = np.lexsort((order, -harm, -counts))
    harm_rank = np.empty(n, dtype=np.int64)
    harm_rank[harm_order] = np.arange(1, n + 1)
    count_rank = np.empty(n, dtype=np.int64)
    count_rank[count_order] = np.arange(1, n + 1)
    k = min(int(top), n)
    is_harm = harm_rank <= k
    is_count = count_rank <= k

    by = pd.DataFrame({"place": idx, "type": types, "harm": wt}).groupby(["place", "type"], sort=True)
    per_type = by["harm"].agg(["size", "sum"]).reset_index()
    # main type of each place: most harm, then most incidents, then name
    per_type = per_type.sort_values(["place", "sum", "size", "type"], ascending=[True, False, False, True])
    main = per_type.drop_duplicates("place").set_index("place")
    # most frequent type of each place (for count spots)
    freq = per_type.sort_values(["place", "size", "sum", "type"], ascending=[True, False, False, True])
    freq = freq.drop_duplicates("place").set_index("place")

    has = np.nonzero(counts > 0)[0]
    frame = pd.DataFrame(
        {
            "place_id": places.ids[has],
            "x": places.x[has],
            "y": places.y[has],
            "area_m2": places.area_m2[has] if places.area_m2 is not None else np.nan,
            "incidents": counts[has],
            "harm": harm[has],
            "harm_rank": harm_rank[has],
            "count_rank": count_rank[has],
            "main_type": main.loc[has, "type"].to_numpy(),
            "main_type_incidents": main.loc[has, "size"].to_numpy(),
            "main_type_harm": main.loc[has, "sum"].to_numpy(),
            "harm_spot": is_harm[has],
            "count_spot": is_count[has],
        }
    )
    frame = frame.sort_values("harm_rank").reset_index(drop=True)

    harm_only = [i for i in harm_order[:k] if not is_count[i]]
    count_only = [i for i in count_order[:k] if not is_harm[i]]
    rows = []
    for j, i in enumerate(harm_only):
        mt, mn, mh = main.loc[i, "type"], int(main.loc[i, "size"]), float(main.loc[i, "sum"])
        reason = (
            f"{mn} incident{'s' if mn != 1 else ''} of {_type_words(mt)} (of {counts[i]} in all) give "
            f"{mh / harm[i]:.0%} of its harm ({harm[i]:,.0f}); it ranks {harm_rank[i]} by harm but "
            f"{count_rank[i]} by count"
        )
        if j < len(count_only):
            o = count_only[j]
            reason += (
                f". Its harm is more than that of the {counts[o]} incidents, mostly "
                f"{_type_words(freq.loc[o, 'type'])}, at place {places.ids[o]} ({harm[o]:,.0f}), "
                f"which a count list would take instead"
            )
        rows.append(
            {
                "place_id": places.ids[i],
                "list": "harm spot only",
                "harm_rank": harm_rank[i],
                "count_rank": count_rank[i],
                "incidents": int(counts[i]),
                "harm": float(harm[i]),
                "reason": reason,
            }
        )
    for i in count_only:
        ft, fn = freq.loc[i, "type"], int(freq.loc[i, "size"])
        rows.append(
            {
                "place_id": places.ids[i],
                "list": "count spot only",
                "harm_rank": harm_rank[i],
                "count_rank": count_rank[i],
                "incidents": int(counts[i]),
                "harm": float(harm[i]),
                "reason": (
                    f"{counts[i]} incidents, mostly {_type_words(ft)} ({fn}), weigh only "
                    f"{harm[i]:,.0f} in harm; it ranks {count_rank[i]} by count but "
                    f"{harm_rank[i]} by harm"
                ),
            }
        )
    diffs = pd.DataFrame(rows, columns=["place_id", "list", "harm_rank", "count_rank", "incidents", "harm", "reason"])
    top_idx = harm_order[:k]
    area_share = None
    if places.area_m2 is not None and places.area_m2.sum() > 0:
        area_share = float(places.area_m2[top_idx].sum() / places.area_m2.sum())
    return HarmSpots(
        places=frame,
        differences=diffs,
        top=k,
        n_places=n,
        total_harm=total_harm,
        total_incidents=total_inc,
        top_harm_share=float(harm[top_idx].sum() / total_harm) if total_harm > 0 else float("nan"),
        top_count_share=float(counts[count_order[:k]].sum() / total_inc),
        top_place_share=k / n,
        top_area_share=area_share,
        overlap=int((is_harm & is_count).sum()),
        harm_scheme=harm_scheme,
        place_description=places.description,
        n_unplaced=int((~ok).sum()),
    )
