"""Work items, seeds, settings and progress: the parts of the appendix that need no model."""

from __future__ import annotations

import io

import pytest

from lucid2.recipes.appendix import (AppendixError, Progress, Settings, Task, WorkItem,
                                     format_duration, item_seed, pending_tasks, plan_items)
from lucid2.recipes.appendix.plan import check_layer_names


def test_batches_are_fixed_by_channel_index():
    items = plan_items({"a": 10, "b": 3}, channels_per_batch=4, seed=0)
    assert [(i.layer, i.channels) for i in items] == [
        ("a", (0, 1, 2, 3)), ("a", (4, 5, 6, 7)), ("a", (8, 9)), ("b", (0, 1, 2))]


def test_item_seed_depends_only_on_seed_layer_and_first_channel():
    items = plan_items({"a": 10, "b": 10}, channels_per_batch=5, seed=3)
    seeds = [i.seed for i in items]
    assert len(set(seeds)) == len(seeds)
    assert seeds[0] == item_seed(3, "a", 0) == plan_items({"a": 5}, 5, 3)[0].seed
    assert item_seed(3, "a", 0) != item_seed(4, "a", 0)
    # A fixed value: stable across processes and Python versions (a hash, not hash()).
    assert item_seed(0, "conv2d0", 0) == item_seed(0, "conv2d0", 0)
    assert 0 <= item_seed(0, "conv2d0", 0) < 2 ** 31
    assert item_seed(0, "conv2d0", 0) == 1211769125


def test_pending_tasks_rerender_an_interrupted_batch_whole():
    items = plan_items({"a": 8}, channels_per_batch=4, seed=0)
    tasks = pending_tasks(items, {"a": {0, 1, 2, 3, 4}}, None)
    assert [(t.item.channels, t.render, t.example_channels) for t in tasks] == [
        ((4, 5, 6, 7), True, ())]
    assert pending_tasks(items, {"a": set(range(8))}, None) == []


def test_pending_tasks_with_examples_missing_only():
    items = plan_items({"a": 4}, channels_per_batch=4, seed=0)
    tasks = pending_tasks(items, {"a": {0, 1, 2, 3}}, {"a": {1}})
    assert len(tasks) == 1 and not tasks[0].render
    assert tasks[0].example_channels == (0, 2, 3)


def test_task_round_trips_through_dicts():
    task = Task(WorkItem("mixed4a", (8, 9), 42), render=True, example_channels=(9,))
    assert Task.from_dict(task.to_dict()) == task


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 0}, "steps"), ({"size": -1}, "size"), ({"channels_per_batch": 0},
                                                      "channels_per_batch"),
    ({"seed": -1}, "seed"), ({"learning_rate": 0.0}, "learning_rate"),
    ({"param": "cppn"}, "param"), ({"transforms": "all"}, "transforms"),
    ({"steps": True}, "steps"), ({"preset": "quick"}, r"preset must be one of \('lucid', "
                                                     r"'fast'\)")])
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(AppendixError, match=message):
        Settings(**kwargs)


def test_settings_round_trip_and_reject_unknown_keys():
    settings = Settings(steps=3, size=40)
    assert Settings.from_dict(settings.to_dict()) == settings
    with pytest.raises(AppendixError, match="Unknown settings"):
        Settings.from_dict({**settings.to_dict(), "zoom": 2})


def test_settings_default_to_the_fast_preset_and_resolve_its_numbers():
    fast, lucid = Settings(), Settings(preset="lucid")
    assert (fast.preset, fast.steps, fast.learning_rate) == ("fast", 128, 0.1)
    assert (lucid.preset, lucid.steps, lucid.learning_rate) == ("lucid", 512, 0.05)
    given = Settings(preset="fast", steps=200, learning_rate=0.07)
    assert (given.steps, given.learning_rate) == (200, 0.07)
    # The manifest records the preset and the resolved numbers.
    assert fast.to_dict()["preset"] == "fast" and fast.to_dict()["steps"] == 128
    # Settings recorded before presets existed are Lucid's recipe.
    legacy = {key: value for key, value in lucid.to_dict().items() if key != "preset"}
    assert Settings.from_dict(legacy) == lucid


def test_layer_names_are_checked_and_deduplicated():
    assert check_layer_names(["a", " b", "a"]) == ("a", "b")
    with pytest.raises(AppendixError, match="at least one"):
        check_layer_names([])
    with pytest.raises(AppendixError, match="non-empty"):
        check_layer_names(["a", ""])


def test_progress_reports_rate_and_eta():
    now = [100.0]
    stream = io.StringIO()
    progress = Progress(total=100, stream=stream, clock=lambda: now[0])
    assert "ETA unknown" in progress.line()
    now[0] += 60.0
    line = progress.advance(25, "mixed4a 0-24")
    assert progress.eta_seconds() == pytest.approx(180.0)
    assert progress.channels_per_hour() == pytest.approx(1500.0)
    assert "25/100 channels (25.0%)" in line and "ETA 0:03:00" in line and "1,500 channels/h" \
        in line and "mixed4a 0-24" in line
    assert stream.getvalue().strip() == line
    now[0] += 180.0
    progress.advance(75)
    assert progress.eta_seconds() == 0.0


def test_format_duration():
    assert format_duration(0) == "0:00:00"
    assert format_duration(3661.4) == "1:01:01"
    assert format_duration(2 * 86400 + 5) == "2d 0:00:05"
