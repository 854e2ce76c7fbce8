"""``public/index.html`` and the public maps' text: every figure from the one public aggregation
(:mod:`hotspots.render.public`: one grid, one period, one threshold, secondary suppression; no incident
points, no location strings), with the title, period, data source and Open Government Licence credit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...config.sections import PublicConfig, RenderConfig
from ...coverage.result import CoverageResult
from ...stages.results import RunResults
from ..public import PublicTier, public_tier_for
from ..public_maps import OGL_CREDIT, PublicMapText, public_map
from .common import env


def render_public(res: RunResults, out: Path, pcfg: PublicConfig, tier: PublicTier | None = None) -> PublicTier:
    """``public/index.html``, ``public/map.html`` and (when the CCTV stage ran)
    ``public/cctv_consultation.html``: every figure from the one public aggregation
    (:func:`hotspots.render.public.public_tier`), nothing else. Returns the tier (for the manifest)."""
    pub = out / "public"
    pub.mkdir(parents=True, exist_ok=True)
    tier = tier if tier is not None else public_tier_for(res.inputs)
    cells = tier.cells
    rc = res.cfg.render
    text = _public_text(res, tier, f"{res.cfg.project.name}: recorded crime")
    public_map(
        cells,
        cells["incidents"].to_numpy(),
        res.area.boundary,
        text,
        rc,
        wards=res.area.wards,
    ).save(pub / "map.html")
    if res.coverage is not None:
        _cctv_public_map(res, res.coverage, tier, pub, rc)
    rows = [{"crime_type": r.label, "n": f"{r.count:,}" if r.count is not None else "not shown"} for r in tier.totals]
    names = {"cctv_consultation.html": "CCTV consultation map"}
    extra = [
        {"name": names.get(p.name, p.stem), "href": p.name}
        for p in sorted(pub.glob("*.html"))
        if p.name not in ("index.html", "map.html")
    ]
    ctx = {
        "project": res.cfg.project.name,
        "period": tier.period.label,
        "cell": f"{tier.cell_size_m:g}",
        "min_count": tier.min_count,
        "rows": rows,
        "notes": list(tier.notes),
        "extra": extra,
        "credits": text.credits,
    }
    (pub / "index.html").write_text(env().get_template("public_index.html").render(**ctx), encoding="utf-8")
    return tier


def _public_text(res: RunResults, tier: PublicTier, title: str, extra: tuple[str, ...] = ()) -> PublicMapText:
    """Title, the public tier's period and squares, data credit and the protection of small counts, for a public
    map."""
    cell_m, min_count = tier.cell_size_m, tier.min_count
    police_uk = any(src.format == "police_uk" for src in res.cfg.incidents)
    source = "Crime data: police.uk. " if police_uk else "Crime data: recorded crime. "
    return PublicMapText(
        title=title,
        subtitle=f"Recorded crime {tier.period.label}, counted on {cell_m:g} m squares",
        credits=source + OGL_CREDIT,
        about=(
            f"Crimes are counted on squares of {cell_m:g} m; squares with fewer than {min_count} crimes are not "
            "shown, and no individual crime location, street or address is published.",
            *extra,
        ),
    )


def _cctv_public_map(res: RunResults, cov: CoverageResult, tier: PublicTier, pub: Path, rc: RenderConfig) -> Path:
    """``public/cctv_consultation.html``: the CCTV public-consultation map (the public tier's squares, the
    proposed sites by rank only), offline like every other map."""
    cells = tier.cells
    pcfg = res.cfg.public
    text = dataclasses.replace(
        _public_text(
            res,
            tier,
            f"{res.cfg.project.name}: proposed CCTV sites",
            ("The numbered squares are proposed sites for new cameras, in order of priority.",),
        ),
        respond_text=pcfg.consultation_text,
        respond_url=pcfg.consultation_url,
    )
    page = public_map(
        cells, cells["incidents"].to_numpy(), res.area.boundary, text, rc, res.area.wards, cov.proposed_sites
    )
    return page.save(pub / "cctv_consultation.html")
