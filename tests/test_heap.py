"""Garbage collection during a run (hotspots.heap): objects frozen inside, everything handed back after."""

from __future__ import annotations

import gc
import weakref

import pytest

from hotspots import heap, pipeline
from hotspots.config import load_config


@pytest.fixture(autouse=True)
def _clean_collector():
    gc.unfreeze()
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_settled_heap_freezes_inside_and_hands_everything_back():
    before = gc.get_threshold()
    with heap.settled_heap():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == heap.RUN_THRESHOLDS
        n = gc.get_freeze_count()
        made = [[i] for i in range(1000)]  # 1,001 new tracked objects
        heap.settle()
        assert gc.get_freeze_count() >= n + len(made)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_settled_heap_hands_back_after_an_error_and_nested_blocks_leave_it_to_the_outer():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), heap.settled_heap():
        with heap.settled_heap():
            pass
        assert gc.get_freeze_count() > 0  # the inner block left the outer's frozen objects alone
        raise RuntimeError("stage failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_objects_frozen_by_someone_else_are_never_unfrozen():
    gc.freeze()
    theirs = gc.get_freeze_count()
    with heap.settled_heap():
        [[i] for i in range(100)]
        heap.settle()
        assert gc.get_freeze_count() == theirs  # settle does nothing: the frozen set is not ours
    assert gc.get_freeze_count() == theirs


def test_settle_outside_a_run_does_nothing():
    heap.settle()
    assert gc.get_freeze_count() == 0


def test_a_pack_run_settles_its_heap_and_hands_it_back(demo_config_path, tmp_path, monkeypatch):
    seen = {}

    def analyse(*args, **kwargs):
        seen["frozen"] = gc.get_freeze_count()
        seen["thresholds"] = gc.get_threshold()
        raise RuntimeError("stop after the check")

    monkeypatch.setattr(pipeline, "analyse", analyse)
    before = gc.get_threshold()
    with pytest.raises(RuntimeError, match="stop after the check"):
        pipeline.run(load_config(demo_config_path), fim_date="2025-11-14", out_dir=tmp_path / "pack", quiet=True)
    assert seen["frozen"] > 0 and seen["thresholds"] == heap.RUN_THRESHOLDS
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_garbage_left_before_a_run_is_collected_not_frozen():
    class Node:
        pass

    gc.disable()  # no collection of its own between making the garbage and entering
    try:
        node = Node()
        node.me = node  # a reference cycle: only the collector frees it
        ref = weakref.ref(node)
        del node
        assert ref() is not None
        with heap.settled_heap():
            assert ref() is None
    finally:
        gc.enable()
