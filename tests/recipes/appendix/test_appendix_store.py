"""The appendix's files: atomic writes (also under SIGKILL), listings, the manifest checks."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from appendix_testlib import subprocess_env, temporaries

from lucid2.recipes.appendix import AppendixError, LocalStore, open_store, read_manifest
from lucid2.recipes.appendix import store as store_lib

BACKENDS = ["local", "beam"]


def _store(tmp_path, backend):
    if backend == "beam":
        pytest.importorskip("apache_beam")
    return open_store(str(tmp_path / "out"), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_write_read_list_delete(tmp_path, backend):
    store = _store(tmp_path, backend)
    store.write_bytes("renders/x/0001.png", b"abc")
    store.write_bytes("renders/x/0001.png", b"abcd")  # replaced whole
    store.write_json("renders/x/0001.json", {"b": 1, "a": [1, 2]})
    assert store.read_bytes("renders/x/0001.png") == b"abcd"
    assert store.read_json("renders/x/0001.json") == {"a": [1, 2], "b": 1}
    record_size = len(store.read_bytes("renders/x/0001.json"))
    assert store.list_dir("renders/x") == {"0001.png": 4, "0001.json": record_size}
    assert store.list_dir("renders/missing") == {}
    assert store.exists("renders/x/0001.png") and not store.exists("renders/x/0002.png")
    store.delete(["renders/x/0001.png"])
    assert not store.exists("renders/x/0001.png")
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_write_leaves_nothing(tmp_path, backend, monkeypatch):
    store = _store(tmp_path, backend)
    store.write_bytes("a.json", b"old")

    class Boom(Exception):
        pass

    if backend == "local":
        def bad_replace(src, dst):
            raise Boom()
        monkeypatch.setattr(os, "replace", bad_replace)
    else:
        from apache_beam.io.filesystems import FileSystems

        def bad_rename(sources, destinations):
            raise Boom()
        monkeypatch.setattr(FileSystems, "rename", bad_rename)
    with pytest.raises(Boom):
        store.write_bytes("a.json", b"new")
    assert store.read_bytes("a.json") == b"old"
    assert temporaries(tmp_path) == []


def test_remove_temporaries_only_touches_ours(tmp_path):
    store = LocalStore(tmp_path)
    (tmp_path / "renders" / "x").mkdir(parents=True)
    stale = tmp_path / "renders" / "x" / ".0001.png.0123456789abcdef.tmp"
    stale.write_bytes(b"partial")
    keep = tmp_path / "renders" / "x" / "notes.tmp"
    keep.write_bytes(b"user file")
    removed = store.remove_temporaries(store_lib.work_directories(["x"]))
    assert removed == ["renders/x/.0001.png.0123456789abcdef.tmp"]
    assert not stale.exists() and keep.exists()


WRITER = textwrap.dedent("""
    import hashlib, os, sys
    from lucid2.recipes.appendix import LocalStore
    store = LocalStore(sys.argv[1])
    i = 0
    while True:
        payload = os.urandom(1 << 20)
        store.write_bytes(f"f/{i % 50:04d}.bin", payload + hashlib.sha256(payload).digest())
        if i == 0:
            print("started", flush=True)
        i += 1
""")


def test_sigkill_during_writes_leaves_only_complete_files(tmp_path):
    """A writer killed at a random moment: every file under a final name is whole."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = tmp_path / "out"
    process = subprocess.Popen([sys.executable, str(script), str(root)], env=subprocess_env(),
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "started"
    time.sleep(0.7)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    finals = [p for p in (root / "f").iterdir() if not p.name.startswith(".")]
    assert finals
    for path in finals:
        data = path.read_bytes()
        assert hashlib.sha256(data[:-32]).digest() == data[-32:], path
    store = LocalStore(root)
    store.remove_temporaries(["f"])
    assert temporaries(root) == []


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(AppendixError, match="Cannot write to the output directory"):
        LocalStore(blocker / "out").ensure_writable()


def test_url_without_beam_is_explained(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_beam(name, *args, **kwargs):
        if name == "apache_beam" or name.startswith("apache_beam."):
            raise ImportError("No module named 'apache_beam'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_beam)
    with pytest.raises(AppendixError, match=r"pip install 'lucid2-tf\[beam\]'"):
        open_store("gs://bucket/appendix")


def test_layer_dir_is_safe_and_distinct():
    assert store_lib.layer_dir("mixed4a") == "mixed4a"
    odd = store_lib.layer_dir("block/conv 1")
    assert "/" not in odd and " " not in odd and odd != store_lib.layer_dir("block_conv_1")
    assert store_lib.render_paths("mixed4a", 7) == ("renders/mixed4a/0007.png",
                                                    "renders/mixed4a/0007.json")


def test_done_means_record_and_png(tmp_path):
    store = LocalStore(tmp_path)
    store_lib.write_with_record(store, "renders/x/0000.png", b"png0", "renders/x/0000.json",
                                {"channel": 0})
    store.write_bytes("renders/x/0001.png", b"png without record")
    store.write_json("renders/x/0002.json", {"channel": 2})  # record without PNG
    assert store_lib.rendered_channels(store, ["x"]) == {"x": {0}}
    record = store.read_json("renders/x/0000.json")
    assert record["png_sha256"] == hashlib.sha256(b"png0").hexdigest()
    assert record["png_bytes"] == 4 and record["png"] == "0000.png"
    assert record["record_sha256"] == store_lib.record_digest(record)
    assert store.read_bytes("renders/x/0000.json") == store_lib.json_bytes(record)


def _manifest(size=32, **settings):
    return store_lib.build_manifest({"size": size, "steps": 4, **settings}, {"fingerprint": "f" * 64,
                                                                 "name": "M", "spec": "m",
                                                                 "weights": "none"},
                                    {"x": 3}, {"x": {0, 2}})


def test_manifest_lists_what_is_missing(tmp_path):
    manifest = _manifest()
    assert manifest["layers"]["x"]["missing"] == [1]
    assert manifest["layers"]["x"]["rendered"] == 2 and not manifest["complete"]
    store = LocalStore(tmp_path)
    store.write_json(store_lib.MANIFEST, manifest)
    assert read_manifest(store) == json.loads(json.dumps(manifest))


def test_manifest_of_other_settings_is_refused(tmp_path):
    store = LocalStore(tmp_path)
    manifest = _manifest(size=32, preset="fast")
    store_lib.check_settings(manifest, {"size": 32, "steps": 4, "preset": "fast"}, store)
    with pytest.raises(AppendixError, match="size: 32 there, 48 now"):
        store_lib.check_settings(manifest, {"size": 48, "steps": 4, "preset": "fast"}, store)
    with pytest.raises(AppendixError, match=r"preset: 'fast' there, 'lucid' now.*"
                       r"same settings \(e\.g\. --preset=fast\)"):
        store_lib.check_settings(manifest, {"size": 32, "steps": 4, "preset": "lucid"}, store)
    with pytest.raises(AppendixError, match="another model"):
        store_lib.check_model(manifest, {"fingerprint": "0" * 64}, store)


def test_a_manifest_from_before_presets_is_lucid_s_recipe(tmp_path):
    store = LocalStore(tmp_path)
    legacy = _manifest(size=32)
    assert "preset" not in legacy["settings"]
    store_lib.check_settings(legacy, {"size": 32, "steps": 4, "preset": "lucid"}, store)
    with pytest.raises(AppendixError, match=r"--preset=lucid"):
        store_lib.check_settings(legacy, {"size": 32, "steps": 4, "preset": "fast"}, store)


def test_foreign_manifest_is_refused(tmp_path):
    store = LocalStore(tmp_path)
    store.write_bytes(store_lib.MANIFEST, b"{not json")
    with pytest.raises(AppendixError, match="not valid JSON"):
        read_manifest(store)
    store.write_json(store_lib.MANIFEST, {"tool": "something else"})
    with pytest.raises(AppendixError, match="not written by lucid2.appendix"):
        read_manifest(store)
