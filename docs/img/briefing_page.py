"""The first two pages of a pack's printable briefing as images for the README.

    make demo                                     # writes out/demo
    .venv/bin/python docs/img/briefing_page.py out/demo

Renders pages 1 (the cover) and 2 (the top places) of ``briefing.pdf`` with pypdfium2 (no poppler, no
browser) and writes ``docs/img/briefing_page1.png`` and ``briefing_page2.png`` (A4 at 100 dots per inch).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pypdfium2 as pdfium

HERE = Path(__file__).resolve().parent


def main(pack: Path, dpi: float = 100.0) -> list[Path]:
    pdf = pdfium.PdfDocument(str(pack / "briefing.pdf"))
    written = []
    try:
        for k in (1, 2):
            out = HERE / f"briefing_page{k}.png"
            pdf[k - 1].render(scale=dpi / 72.0).to_pil().save(out, optimize=True)
            written.append(out)
    finally:
        pdf.close()
    return written


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
