"""benchmarks/render_quality.py: its flag checks, its summaries, and a short run on real weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
from absl import app, flags
from program_testlib import load_benchmark

from lucid2.misc.io import load_image


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("render_quality")


def _flags(module, *args):
    values = flags.FlagValues()
    module.define_flags(values)
    values(["render_quality", *args])
    return values


@pytest.mark.parametrize("args, message", [
    (["--presets=lucid,quick"], r"Unknown presets \['quick'\]; the presets are: lucid, fast"),
    (["--reference_preset=slow"], r"Unknown presets \['slow'\]"),
    (["--steps=128,zero"], "--steps must be positive integers"),
    (["--steps=0,128"], "--steps must be positive integers"),
    (["--photos=/nonexistent/photos"], "is not a folder"),
    (["--layers="], "--layers must name at least one layer"),
])
def test_bad_flags_are_refused_before_the_model_loads(bench, args, message, tmp_path):
    with pytest.raises(app.UsageError, match=message):
        bench.main(["render_quality"], _flags(bench, *args))


def test_a_step_cap_below_the_steps_is_refused(bench, monkeypatch):
    monkeypatch.setenv("LUCID2_MAX_STEPS", "64")
    with pytest.raises(app.UsageError, match="LUCID2_MAX_STEPS=64 caps renders below the 512"):
        bench.main(["render_quality"], _flags(bench, "--steps=32,64"))


def test_a_folder_without_photos_is_refused(bench, tmp_path):
    (tmp_path / "notes.txt").write_text("no photos here")
    with pytest.raises(app.UsageError, match="holds no .jpg/.jpeg/.png files"):
        bench.main(["render_quality"], _flags(bench, f"--photos={tmp_path}"))


def test_summarize_gives_the_median_the_quartiles_and_the_ratios(bench):
    entry = {"multiples": [1.0, 2.0, 3.0, 4.0, 5.0], "hf": [0.1, 0.2, 0.3, 0.4, 0.5],
             "seconds": 7.0}
    reference = {"multiples": [2.0, 2.0, 6.0, 8.0, 10.0], "hf": [0.2] * 5}
    row = bench.summarize(entry, reference)
    assert row["median"] == 3.0 and (row["q1"], row["q3"]) == (2.0, 4.0)
    assert row["vs_ref"] == pytest.approx(0.5)  # 3 / 6
    assert row["paired_vs_ref"] == pytest.approx(0.5)  # median of 0.5, 1, 0.5, 0.5, 0.5
    assert row["hf"] == pytest.approx(0.3) and row["hf_vs_ref"] == pytest.approx(0.1)
    assert row["seconds"] == 7.0


def test_steps_to_reach_is_the_fewest_steps_on_each_layer_and_on_all(bench):
    rows = {64: {"a": {"vs_ref": 0.90}, "b": {"vs_ref": 0.97}},
            128: {"a": {"vs_ref": 0.96}, "b": {"vs_ref": 0.94}},  # b dips: not monotone
            256: {"a": {"vs_ref": 0.99}, "b": {"vs_ref": 0.99}}}
    assert bench.steps_to_reach(rows, ["a", "b"], 0.95) == {"a": 128, "b": 64, "all": 128}
    assert bench.steps_to_reach(rows, ["a", "b"], 0.995) == {"a": None, "b": None, "all": None}


def test_channels_are_drawn_per_layer_from_the_seed(bench, inception):
    first = bench.draw_channels(inception, ["mixed3b", "mixed5b"], 4, 0)
    assert first == bench.draw_channels(inception, ["mixed3b", "mixed5b"], 4, 0)
    assert first != bench.draw_channels(inception, ["mixed3b", "mixed5b"], 4, 1)
    assert all(len(set(c)) == 4 and c == sorted(c) for c in first.values())
    assert max(first["mixed3b"]) < 480 and max(first["mixed5b"]) < 1024
    with pytest.raises(app.UsageError, match="Layer mixed3b has 480 channels"):
        bench.draw_channels(inception, ["mixed3b"], 500, 0)


@pytest.mark.slow
def test_a_short_run_prints_the_table_and_saves_the_grids(bench, shared_data, tmp_path,
                                                          capsys):
    out_dir, json_out = tmp_path / "grids", tmp_path / "quality.json"
    values = _flags(bench, f"--weights={shared_data / 'inception5h'}",
                    f"--photos={shared_data / 'imagenet-samples'}", "--layers=mixed4a",
                    "--channels_per_layer=2", "--steps=2,4", "--reference_steps=4",
                    "--size=64", "--save_steps=4", f"--output_dir={out_dir}",
                    f"--json_out={json_out}")
    bench.main(["render_quality"], values)
    out = capsys.readouterr().out
    assert "as a multiple of the best of 50 photos" in out
    assert "Steps to reach 95% of lucid@4's median activation" in out
    lines = [line.split() for line in out.splitlines()]
    table = [line for line in lines if line[:1] in (["lucid"], ["fast"]) and "|" in line]
    assert [(line[0], line[1]) for line in table[:4]] == [
        ("lucid", "2"), ("lucid", "4"), ("fast", "2"), ("fast", "4")]
    results = json.loads(json_out.read_text())
    reference = results["presets"]["lucid"]["rows"]["4"]["mixed4a"]
    assert reference["vs_ref"] == pytest.approx(1.0) and reference["hf_vs_ref"] == 0.0
    assert results["presets"]["fast"]["settings"]["beta_1"] == 0.0
    legend = json.loads((out_dir / "grids.json").read_text())
    assert legend["rows"] == ["lucid@4", "fast@4"]
    grid = load_image(out_dir / "mixed4a.png")
    assert grid.shape == (2 * 64 + 2, 2 * 64 + 2, 3)  # 2 rows (presets) x 2 channels
    assert load_image(out_dir / "side_by_side.png").shape == (2 * 64 + 2, 64, 3)
    assert np.ptp(grid) > 0.1
