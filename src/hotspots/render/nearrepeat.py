"""Pages of the near-repeat analysis: the Knox table page and the near-repeat summary page.

The statistics (:class:`~hotspots.analysis.knox.KnoxResult`,
:class:`~hotspots.analysis.nearrepeat.NearRepeatResult`) hold numbers and
tables; these functions turn them into self-contained HTML in which every
string is escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.knox import KnoxResult
from ..analysis.nearrepeat import NearRepeatResult

_KNOX_STYLE = (
    "<style>table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;"
    "padding:2px 6px;text-align:right}th{background:#eee}.sig{background:#f8c9c4}</style>"
)


def _knox_table(res: KnoxResult, title: str, arr: np.ndarray, fmt: str, sig: np.ndarray) -> list[str]:
    parts = [f"<h2>{html.escape(title)}</h2><table><tr><th>distance \\ time</th>"]
    parts += [f"<th>{html.escape(t)}</th>" for t in res.temporal_labels]
    parts.append("</tr>")
    for i, sl in enumerate(res.spatial_labels):
        parts.append(f"<tr><th>{html.escape(sl)}</th>")
        for j in range(len(res.temporal_labels)):
            v = arr[i, j]
            txt = (
                ""
                if (isinstance(v, float) and not np.isfinite(v))
                else fmt.format(int(v) if fmt == "{:d}" else float(v))
            )
            cls = " class='sig'" if sig[i, j] else ""
            parts.append(f"<td{cls}>{html.escape(txt)}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    return parts


def knox_page(res: KnoxResult) -> str:
    """An HTML page with the Knox summary and the observed / expected / ratio / p tables (every string escaped)."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Knox near-repeat test</title>",
        _KNOX_STYLE,
        "</head><body><h1>Knox near-repeat test</h1>",
    ]
    for line in res.summary().splitlines():
        parts.append(f"<p>{html.escape(line)}</p>")
    sig = res.significant()
    tables = [
        ("Observed over mean expected", res.ratio, "{:.2f}"),
        ("Pseudo p-values", res.p_value, "{:.3f}"),
        ("Observed frequencies", res.observed, "{:d}"),
        ("Mean expected frequencies", res.expected_mean, "{:.1f}"),
        ("Median expected frequencies", res.expected_median, "{:.1f}"),
    ]
    for title, arr, fmt in tables:
        parts += _knox_table(res, title, arr, fmt, sig)
    parts.append(
        "<p>Shaded cells: significantly more pairs than expected (p &lt;= 0.05). The &quot;More than&quot; "
        "distance row is the complement of the rows above (all pairs minus the close ones), so its "
        "p-values mirror theirs.</p></body></html>"
    )
    return "".join(parts)


def write_knox_page(res: KnoxResult, path: str | Path) -> Path:
    """Write :func:`knox_page` to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(knox_page(res), encoding="utf-8")
    return path


def nearrepeat_page(res: NearRepeatResult) -> str:
    """An HTML page with the near-repeat summary and the live alert zones (every string escaped)."""
    body = "".join(f"<p>{html.escape(s)}</p>" for s in res.summary().splitlines())
    zones = res.zones_table()
    ztab = pd.DataFrame(zones.drop(columns=["centroid_x", "centroid_y"])).to_html(index=False, escape=True)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Near-repeat burglary</title></head><body>"
        f"<h1>Near-repeat burglary</h1>{body}<h2>Alert zones</h2>{ztab}</body></html>"
    )


def write_nearrepeat_report(res: NearRepeatResult, out_dir: str | Path) -> list[Path]:
    """The near-repeat folder: the result's tables and rasters (:meth:`NearRepeatResult.write`) plus
    ``knox.html`` (when the Knox test ran) and ``nearrepeat.html``."""
    out = Path(out_dir)
    written = res.write(out)
    if res.knox is not None:
        written.append(write_knox_page(res.knox, out / "knox.html"))
    page = out / "nearrepeat.html"
    page.write_text(nearrepeat_page(res), encoding="utf-8")
    written.append(page)
    return written
