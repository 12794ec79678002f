"""Damaged files: found by their records' checksums, named, rendered again; ``--verify``; faults."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import sys

import keras
import pytest
from appendix_testlib import (LAYER, cli_args, parse_app_flags, subprocess_env, temporaries,
                              tree)

from lucid2.modelzoo import ModelSpec, from_keras
from lucid2.recipes import appendix
from lucid2.recipes.appendix import Request, Settings
from lucid2.recipes.appendix import store as store_lib

RANDOM = ModelSpec("inceptionv1", None, None, "RGB")
RUN_TIMEOUT = 300
# Prints whether the app imported TensorFlow, whatever its exit status.
NO_TENSORFLOW_CHECK = (
    "import atexit, runpy, sys; "
    "atexit.register(lambda: print('tensorflow imported:', 'tensorflow' in sys.modules)); "
    "sys.argv = ['lucid2.appendix', *sys.argv[1:]]; "
    "runpy.run_module('lucid2.appendix', run_name='__main__')")


def _request(output, settings) -> Request:
    return Request(str(output), settings=settings, model=RANDOM, layers=(LAYER,))


def _rewrite_record(path, **changes) -> None:
    """Changes fields of a record, written back as the store writes it (valid, canonical)."""
    record = json.loads(path.read_text())
    record.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del record[key]
    path.write_bytes(store_lib.json_bytes(record))


def _damage(output) -> None:
    """Truncates channel 5, puts channel 9's PNG in place of 6, changes a number in 40's record
    and strips 50's record of its checksums (as a record lucid2 did not write)."""
    folder = output / "renders" / LAYER
    png = folder / "0005.png"
    png.write_bytes(png.read_bytes()[:100])
    (folder / "0006.png").write_bytes((folder / "0009.png").read_bytes())
    record = json.loads((folder / "0040.json").read_text())
    _rewrite_record(folder / "0040.json", activation=record["activation"] + 1.0)
    _rewrite_record(folder / "0050.json", png_sha256=None, record_sha256=None)


def test_damaged_renders_are_found_named_and_rendered_again(reference_run, random_model,
                                                            small_settings, tmp_path):
    output = tmp_path / "damaged"
    shutil.copytree(reference_run, output)
    _damage(output)
    messages = io.StringIO()
    manifest = appendix.run(_request(output, small_settings), model=random_model,
                            stream=messages, notices=messages)
    log = messages.getvalue()
    assert "4 damaged file(s) found and removed" in log
    lines = {line for line in log.splitlines() if " channel " in line and "damaged" in line}
    expected = {5: "0005.png truncated (100 of", 6: "0006.png holds the PNG of channel 9",
                40: "0040.json corrupted (its fields do not match its own checksum)",
                50: "0050.json has no png_sha256"}
    for channel, reason in expected.items():
        assert any(f"{LAYER} channel {channel}: render damaged" in line and reason in line
                   and "rendering it again" in line for line in lines), (channel, log)
    assert len(lines) == len(expected)
    # Batches 0-23 (5, 6) and 24-47 (40) and 48-63 (50) again: the very same files as before.
    assert "64 channels in 3 batch(es) left to do" in log
    assert manifest["complete"]
    assert tree(output, "") == tree(reference_run, "")
    assert appendix.verify_output(str(output)).ok


def test_a_rerun_checks_records_byte_for_byte(reference_run, random_model, small_settings,
                                              tmp_path):
    """A record whose fields are intact but whose spacing changed is written again too."""
    output = tmp_path / "respaced"
    shutil.copytree(reference_run, output)
    record = output / "renders" / LAYER / "0030.json"
    record.write_text(record.read_text().replace("\n ", "\n\t", 1))
    job = appendix.prepare(_request(output, small_settings), model=random_model,
                           log=lambda m: None)
    assert [t.item.first_channel for t in job.tasks] == [24]
    appendix.run(_request(output, small_settings), model=random_model, stream=None)
    assert tree(output, "") == tree(reference_run, "")


def _main(*args: str):
    from lucid2 import appendix as appendix_app

    values, rest = parse_app_flags(*args)
    return appendix_app.main(rest, values)


def test_verify_flag_reports_every_damaged_or_missing_file(reference_run, tmp_path, capsys,
                                                           monkeypatch):
    def no_model(spec):
        raise AssertionError("--verify must not load the model")

    monkeypatch.setattr("lucid2.recipes.appendix.job.load_model", no_model)
    monkeypatch.setattr("lucid2.recipes.appendix.worker.load_model", no_model)
    output = tmp_path / "gallery"
    shutil.copytree(reference_run, output)
    _main("--verify", f"--output_dir={output}")
    assert "intact (64 channels in 1 layer(s)" in capsys.readouterr().out

    _damage(output)
    folder = output / "renders" / LAYER
    (folder / "0007.json").unlink()           # a PNG without its record
    (folder / "0008.png").unlink()            # a record without its PNG
    (folder / "0011.png").unlink()
    (folder / "0011.json").unlink()           # neither
    index = output / "index.html"
    index.write_text(index.read_text().replace("conv2d0", "conv2d1", 1))
    (output / f"{LAYER}.html").unlink()
    before = tree(output, "")
    with pytest.raises(SystemExit) as failed:
        _main("--verify", f"--output_dir={output}")
    assert str(failed.value.code).startswith("lucid2.appendix: error: 9 problem(s) in ")
    out = capsys.readouterr().out
    expected = [f"damaged {folder / '0005.png'}: truncated (100 of",
                f"damaged {folder / '0006.png'}: holds the PNG of channel 9",
                f"damaged {folder / '0040.json'}: corrupted",
                f"damaged {folder / '0050.json'}: has no png_sha256",
                f"incomplete {folder / '0007.json'}: missing",
                f"damaged {folder / '0008.png'}: missing, though its record exists",
                f"missing {folder / '0011.png'}: missing, and its record too",
                f"damaged {index}: differs from what the manifest and the records give",
                f"missing {output / (LAYER + '.html')}: gallery page missing"]
    for line in expected:
        assert line in out, (line, out)
    assert tree(output, "") == before  # nothing written


def test_verify_flag_exit_status_without_tensorflow(reference_run, tmp_path):
    output = tmp_path / "gallery"
    shutil.copytree(reference_run, output)
    command = [sys.executable, "-c", NO_TENSORFLOW_CHECK, "--verify", f"--output_dir={output}"]
    result = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True,
                            timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tensorflow imported: False" in result.stdout
    (output / "renders" / LAYER / "0003.png").write_bytes(b"not a PNG")
    result = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True,
                            timeout=RUN_TIMEOUT)
    assert result.returncode == 1
    assert "0003.png: corrupted" in result.stdout
    assert "tensorflow imported: False" in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("lucid2.appendix: error: 1 problem")


def test_verify_finds_a_manifest_that_does_not_match_the_files(reference_run, random_model,
                                                               small_settings, tmp_path):
    output = tmp_path / "gallery"
    shutil.copytree(reference_run, output)
    manifest = json.loads((output / "manifest.json").read_text())
    manifest["layers"][LAYER]["missing"] = [3]
    (output / "manifest.json").write_bytes(store_lib.json_bytes(manifest, sort_keys=False))
    report = appendix.verify_output(str(output))
    # The index shows what the manifest says: it no longer matches either.
    assert [(p.path, p.kind) for p in report.problems] == [("manifest.json", "damaged"),
                                                           ("index.html", "damaged")]
    assert "does not match the files (layer conv2d0: " in report.problems[0].reason
    appendix.run(_request(output, small_settings), model=random_model, stream=None)
    assert tree(output, "") == tree(reference_run, "")


def test_verify_of_a_directory_without_an_appendix(tmp_path):
    report = appendix.verify_output(str(tmp_path))
    assert not report.ok and report.problems[0].path == "manifest.json"
    (tmp_path / "manifest.json").write_text("{truncated")
    report = appendix.verify_output(str(tmp_path))
    assert [p.kind for p in report.problems] == ["damaged"]
    assert "not valid JSON" in report.problems[0].reason


# ------------------------------------------------------------------ fault injection
FAULT_LAYERS = {"conv_a": 4, "conv_b": 3}
FAULT_SETTINGS = Settings(steps=3, size=24, channels_per_batch=4, seed=3)
FAULT_SPEC = ModelSpec("tiny_faults.keras", None, (0.0, 1.0), "RGB")
FAULT_ROUNDS = 5
FAULT_SEED = 20240611
MAX_FAULTS_PER_ROUND = 4
FAULTS = ("corrupt", "truncate", "swap")


@pytest.fixture(scope="module")
def tiny_model():
    """Two small random convolutions: renders of a few milliseconds."""
    inputs = keras.Input((None, None, 3))
    x = inputs
    for index, (name, channels) in enumerate(FAULT_LAYERS.items()):
        x = keras.layers.Conv2D(
            channels, 3, strides=2, padding="same", activation="relu", name=name,
            kernel_initializer=keras.initializers.RandomNormal(seed=index),
            bias_initializer=keras.initializers.RandomNormal(seed=10 + index))(x)
    outputs = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return from_keras(keras.Model(inputs, outputs, name="tiny_faults"), value_range=(0, 1))


def _fault_run(output, model) -> dict:
    request = Request(str(output), settings=FAULT_SETTINGS, model=FAULT_SPEC,
                      layers=tuple(FAULT_LAYERS))
    return appendix.run(request, model=model, stream=None)


def _finished_files(output) -> list:
    """What a fault may hit: renders, records and gallery pages (a damaged manifest is refused
    rather than repaired: it holds the run's settings)."""
    return sorted([*output.glob("renders/*/*"), *output.glob("*.html")])


def _inject(rng: random.Random, output) -> list[str]:
    """A few random faults; returns what was done, for the failure messages."""
    files = _finished_files(output)
    done = []
    for _ in range(rng.randint(1, MAX_FAULTS_PER_ROUND)):
        fault = rng.choice(FAULTS)
        path = rng.choice(files)
        data = bytearray(path.read_bytes())
        if fault == "corrupt":
            position = rng.randrange(len(data))
            data[position] ^= rng.randint(1, 255)
            path.write_bytes(bytes(data))
        elif fault == "truncate":
            path.write_bytes(bytes(data[:rng.randrange(len(data))]))
        else:
            kin = [p for p in files if p.suffix == path.suffix and p != path]
            other = rng.choice(kin)
            other_data = other.read_bytes()
            other.write_bytes(bytes(data))
            path.write_bytes(other_data)
        done.append(f"{fault} {path.relative_to(output)}"
                    + (f" {other.relative_to(output)}" if fault == "swap" else ""))
    return done


def test_fault_injection_reruns_give_the_uninterrupted_gallery(tiny_model, tmp_path):
    """Rounds of random corruption, truncation and swaps of finished files, each followed by a
    rerun: every rerun ends with the same bytes as the uninterrupted run."""
    reference = tmp_path / "reference"
    assert _fault_run(reference, tiny_model)["complete"]
    expected = tree(reference, "")
    assert {path.split("/")[0] for path in expected} >= {"renders", "manifest.json",
                                                        "index.html", "conv_a.html"}
    output = tmp_path / "faults"
    shutil.copytree(reference, output)
    rng = random.Random(FAULT_SEED)
    for round_ in range(FAULT_ROUNDS):
        faults = _inject(rng, output)
        assert not appendix.verify_output(str(output)).ok, faults
        manifest = _fault_run(output, tiny_model)
        assert manifest["complete"], faults
        assert tree(output, "") == expected, (round_, faults)
        assert temporaries(output) == []
        assert appendix.verify_output(str(output)).ok, faults


@pytest.mark.slow
def test_cli_rerun_after_damage_names_the_channels(reference_run, tmp_path):
    """The command line: a rerun after damage says which channels and why, and repairs them."""
    output = tmp_path / "damaged"
    shutil.copytree(reference_run, output)
    _damage(output)
    result = subprocess.run(cli_args(output), env=subprocess_env(), capture_output=True,
                            text=True, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    # A repair is a notice the user must see even with --quiet (standard error); the
    # progress (the closing "complete.") is on standard output.
    assert "channel 6: render damaged" in result.stderr and "complete." in result.stdout
    assert "render damaged" not in result.stdout
    assert tree(output, "") == tree(reference_run, "")
