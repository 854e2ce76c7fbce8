"""Garbage collection during a pack: the objects that will live to the end are not scanned again and again.

A pack holds a few hundred thousand Python objects that live for the whole run: the imported
modules, the incidents (one shapely point each), the loaded inputs and, once the analysis is done,
its results. Python's cyclic garbage collector scans all of them at each full collection, about
ten times in Barnet's pack, which came to about 1.5 s of CPU (0.15 s a collection) although none
of them is garbage. :func:`settled_heap` wraps a run; at each :func:`settle` inside it (after the
imports, the inputs, the analysis) the objects alive at that moment are moved out of the
collector's reach with :func:`gc.freeze` (reference counting still frees them as usual), and on
leaving they are handed back with :func:`gc.unfreeze`, so a process that goes on (a Dask worker
building the next borough's pack, a notebook) collects them again. A full collection on entry
keeps an earlier run's garbage out of the frozen objects, so a worker that builds one pack after
another does not carry it from pack to pack. Stages forked from the run inherit the frozen
objects, and their collections leave those pages alone too.

Inside, the youngest generation is also collected after 10,000 new objects instead of Python's
700 (:data:`RUN_THRESHOLDS`): a pack makes millions of short-lived objects, most freed at once by
reference counting, and scanning the survivors every 700 allocations cost about 0.3 s more. With
both, Barnet's pack spent about 0.35 s of CPU in the collector instead of 1.5 s, with the same peak
memory (measured with ``gc.callbacks`` in one process). The thresholds are restored on leaving.

Results do not depend on it: the collector only frees objects nothing can reach.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_owned = False  # whether an open settled_heap() froze the objects (it unfreezes them on leaving)

#: The collector's thresholds (youngest, middle, oldest generation) during a run.
RUN_THRESHOLDS = (10_000, 10, 10)


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """Within: the objects alive on entry (after a full collection) and at each :func:`settle` are out
    of garbage collection, and the collector runs with :data:`RUN_THRESHOLDS`; on leaving (an error
    included), every object frozen inside is collectable again and the thresholds are as before.
    Only the outermost block acts; when something else has already frozen objects
    (``gc.get_freeze_count() > 0`` on entry), nothing is frozen or unfrozen, so as never to
    unfreeze what it froze."""
    global _owned
    if _owned or gc.get_freeze_count():  # an enclosing block, or someone else, holds the frozen objects
        yield
        return
    thresholds = gc.get_threshold()
    _owned = True
    try:
        gc.collect()  # what is frozen is alive: no garbage of an earlier run is carried through this one
        gc.set_threshold(*RUN_THRESHOLDS)
        gc.freeze()
        yield
    finally:
        _owned = False
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def settle() -> None:
    """Keep every object alive now out of the garbage collector's scans until the enclosing
    :func:`settled_heap` ends (nothing outside one, or inside one that does not own the frozen set)."""
    if _owned:
        gc.freeze()
