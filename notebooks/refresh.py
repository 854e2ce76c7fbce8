"""Run ``walkthrough.ipynb`` top to bottom with this Python's kernel and save it with its outputs (``make notebook``).

The saved copy is the same bytes for the same code and data: the outputs of one cell are merged per stream
(the kernel may split them differently from run to run) and the per-cell execution times are dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent / "walkthrough.ipynb"


def _merge_streams(outputs: list) -> list:
    """Consecutive stream outputs of one stream (stdout, stderr) as one output."""
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if out.output_type == "stream" and last is not None and last.output_type == "stream" and last.name == out.name:
            last.text += out.text
        else:
            merged.append(out)
    return merged


def refresh(path: Path = NOTEBOOK) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    nbformat.write(nb, path)


if __name__ == "__main__":
    refresh(Path(sys.argv[1]) if len(sys.argv) > 1 else NOTEBOOK)
