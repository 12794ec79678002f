"""lucid2.misc.io: grids, save/load round trips, GIFs, show, atomic writes and errors."""

import errno
import os
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest
from PIL import Image

from lucid2.misc import io as lio


def _rgb(h=6, w=5, seed=0):
    return np.random.default_rng(seed).random((h, w, 3)).astype(np.float32)


def test_module_does_not_import_tensorflow():
    code = "import sys, lucid2.misc.io; print('tensorflow' in sys.modules)"
    root = str(pathlib.Path(__file__).resolve().parents[3])
    paths = [root, os.environ.get("PYTHONPATH")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=root, env=env)
    assert out.stdout.strip() == "False"


def test_image_grid_shape_and_values():
    batch = np.stack([np.full((3, 4, 3), v, np.float32) for v in (0.1, 0.2, 0.3, 0.4, 0.5)])
    grid = lio.image_grid(batch, ncols=2, padding=1, pad_value=1.0)
    assert grid.shape == (3 * 3 + 2, 2 * 4 + 1, 3) and grid.dtype == np.float32
    np.testing.assert_array_equal(grid[0:3, 0:4], batch[0])
    np.testing.assert_array_equal(grid[0:3, 5:9], batch[1])
    np.testing.assert_array_equal(grid[8:11, 0:4], batch[4])
    np.testing.assert_array_equal(grid[3], 1.0)  # gap row
    np.testing.assert_array_equal(grid[8:11, 5:9], 1.0)  # empty cell
    square = lio.image_grid(batch[:4], padding=0)
    assert square.shape == (6, 8, 3)
    np.testing.assert_array_equal(lio.image_grid(batch[:1]), batch[0])


def test_image_grid_uint8_pad_value():
    batch = np.zeros((2, 2, 2, 3), np.uint8)
    grid = lio.image_grid(batch, padding=1, pad_value=1.0)
    assert grid.dtype == np.uint8 and grid[0, 2, 0] == 255


@pytest.mark.parametrize("batch, kwargs, error", [
    (np.zeros((2, 2, 3)), {}, ValueError),
    (np.zeros((1, 2, 2, 2)), {}, ValueError),
    (np.zeros((0, 2, 2, 3)), {}, ValueError),
    (np.zeros((2, 2, 2, 3)), {"ncols": 0}, ValueError),
    (np.zeros((2, 2, 2, 3)), {"padding": -1}, ValueError),
    (np.zeros((2, 2, 2, 3)), {"pad_value": 2.0}, ValueError),
    (np.zeros((2, 2, 2, 3), np.int64), {}, TypeError),
])
def test_image_grid_errors(batch, kwargs, error):
    with pytest.raises(error):
        lio.image_grid(batch, **kwargs)


def test_png_round_trip_float_and_uint8(tmp_path):
    img = _rgb()
    path = lio.save_image(img, tmp_path / "a.png")
    loaded = lio.load_image(path)
    assert loaded.shape == (6, 5, 3) and loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, img, atol=0.5 / 255 + 1e-6)
    u8 = (img * 255).astype(np.uint8)
    lio.save_image(u8, tmp_path / "b.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "b.png")), u8)


def test_save_clips_floats_and_keeps_alpha(tmp_path):
    img = np.concatenate([np.full((2, 2, 3), 2.0), np.full((2, 2, 1), -1.0)], -1)
    lio.save_image(img.astype(np.float32), tmp_path / "c.png")
    saved = np.asarray(Image.open(tmp_path / "c.png"))
    assert saved.shape == (2, 2, 4)
    np.testing.assert_array_equal(saved[..., :3], 255)
    np.testing.assert_array_equal(saved[..., 3], 0)


def test_save_batch_as_grid_and_gray(tmp_path):
    lio.save_image(np.zeros((4, 3, 3, 3), np.float32), tmp_path / "grid.png")
    assert Image.open(tmp_path / "grid.png").size == (8, 8)
    lio.save_image(np.full((3, 4), 0.5, np.float32), tmp_path / "gray.png")
    gray = Image.open(tmp_path / "gray.png")
    assert gray.mode == "L" and gray.size == (4, 3)
    np.testing.assert_allclose(lio.load_image(tmp_path / "gray.png"), 128 / 255)


def test_jpeg_round_trip_is_close(tmp_path):
    img = np.full((16, 16, 3), [0.2, 0.5, 0.8], np.float32)
    lio.save_image(img, tmp_path / "d.JPG")
    np.testing.assert_allclose(lio.load_image(tmp_path / "d.JPG"), img, atol=0.03)


def test_load_image_converts_and_resizes(tmp_path):
    Image.fromarray(np.zeros((10, 20, 4), np.uint8)).save(tmp_path / "rgba.png")
    assert lio.load_image(tmp_path / "rgba.png").shape == (10, 20, 3)
    resized = lio.load_image(tmp_path / "rgba.png", size=(5, 8))
    assert resized.shape == (5, 8, 3)
    assert lio.load_image(tmp_path / "rgba.png", size=7).shape == (7, 7, 3)
    with pytest.raises(ValueError, match="size"):
        lio.load_image(tmp_path / "rgba.png", size=(0, 4))
    with pytest.raises(FileNotFoundError):
        lio.load_image(tmp_path / "missing.png")


@pytest.mark.parametrize("array, name, error", [
    (np.zeros((4, 4, 3)), "x.bmp", ValueError),
    (np.zeros((4, 4, 2)), "x.png", ValueError),
    (np.zeros((4,)), "x.png", ValueError),
    (np.zeros((4, 4, 3), np.int32), "x.png", TypeError),
    (np.full((4, 4, 3), np.nan), "x.png", ValueError),
    (np.zeros((4, 4, 4)), "x.jpg", ValueError),
])
def test_save_image_errors_leave_no_file(tmp_path, array, name, error):
    with pytest.raises(error):
        lio.save_image(array, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "e.png"
    lio.save_image(np.zeros((2, 2, 3)), target)
    before = target.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        lio.save_image(np.ones((2, 2, 3)), target)
    with pytest.raises(OSError, match="disk full"):
        lio.save_image(np.ones((2, 2, 3)), tmp_path / "new.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.png"]
    assert target.read_bytes() == before


@pytest.mark.parametrize("sync_directory", [False, True])
def test_atomic_write_syncs_the_file_and_on_request_its_folder(tmp_path, monkeypatch,
                                                                sync_directory):
    synced = []
    real_fsync = os.fsync

    def fsync(descriptor):
        synced.append(os.path.isdir(f"/proc/self/fd/{descriptor}")
                      if os.path.isdir("/proc/self/fd") else None)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    target = lio.atomic_write(tmp_path / "a.bin", lambda temp: pathlib.Path(temp).write_bytes(b"x"),
                              sync_directory=sync_directory)
    assert target.read_bytes() == b"x" and sorted(os.listdir(tmp_path)) == ["a.bin"]
    assert len(synced) == (2 if sync_directory else 1)  # the file, then (if asked) its folder
    if synced[0] is not None:
        assert synced == [False, True][:len(synced)]


def test_to_uint8_is_the_writers_quantization():
    values = np.array([[[-0.5, 0.0, 0.5], [0.999, 1.0, 2.0]]], np.float32)
    np.testing.assert_array_equal(lio.to_uint8(values), [[[0, 0, 128], [255, 255, 255]]])
    assert lio.to_uint8(np.zeros((1, 1, 3), np.uint8)).dtype == np.uint8
    with pytest.raises(ValueError, match="finite"):
        lio.to_uint8(np.full((1, 1, 3), np.nan, np.float32))


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        lio.save_image(np.zeros((2, 2, 3)), tmp_path / "nope" / "x.png")


def test_gif_frame_count_and_grids(tmp_path):
    frames = [np.full((4, 6, 3), i / 5, np.float32) for i in range(5)]
    lio.save_gif(frames, tmp_path / "a.gif", duration_ms=50)
    gif = Image.open(tmp_path / "a.gif")
    assert gif.n_frames == 5 and gif.size == (6, 4)
    assert gif.info["duration"] == 50
    batches = np.stack([np.full((2, 3, 3, 3), i / 3, np.float32) for i in range(3)])
    lio.save_gif(batches, tmp_path / "b.gif")
    gif = Image.open(tmp_path / "b.gif")
    assert gif.n_frames == 3 and gif.size == (8, 3)


@pytest.mark.parametrize("frames, name, kwargs, error", [
    ([], "a.gif", {}, ValueError),
    ([np.zeros((2, 2, 3))], "a.png", {}, ValueError),
    ([np.zeros((2, 2, 3)), np.zeros((3, 2, 3))], "a.gif", {}, ValueError),
    ([np.zeros((2, 2, 4))], "a.gif", {}, ValueError),
    ([np.zeros((2, 2, 3))], "a.gif", {"duration_ms": 0}, ValueError),
    (5, "a.gif", {}, TypeError),
])
def test_gif_errors(tmp_path, frames, name, kwargs, error):
    with pytest.raises(error):
        lio.save_gif(frames, tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_show_uses_ipython_display(monkeypatch):
    shown = []
    display_module = types.ModuleType("IPython.display")
    display_module.Image = lambda data, format: ("image", data, format)
    display_module.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    lio.show(np.zeros((2, 3, 4, 3), np.float32))
    (kind, data, fmt), = shown
    assert kind == "image" and fmt == "png"
    import io
    assert Image.open(io.BytesIO(data)).size == (10, 3)  # two 3x4 images side by side


def test_show_without_ipython_warns(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.warns(UserWarning, match="IPython"):
        assert lio.show(np.zeros((2, 2, 3))) is None
    with pytest.raises(ValueError):
        lio.show(np.zeros((2, 2, 5)))


# ------------------------------------------------------------------ disk space
@pytest.mark.parametrize("count, text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"),
                                         (27_800_000, "27.8 MB"), (3 * 10**15, "3.0 PB")])
def test_format_bytes_uses_decimal_units(count, text):
    assert lio.format_bytes(count) == text


def test_free_bytes_looks_at_the_nearest_existing_folder(tmp_path):
    free = lio.free_bytes(tmp_path / "not" / "yet" / "there.png")
    assert isinstance(free, int) and free == lio.free_bytes(tmp_path)


def test_is_disk_full_knows_no_space_and_quota():
    assert lio.is_disk_full(OSError(errno.ENOSPC, "full"))
    assert lio.is_disk_full(OSError(errno.EDQUOT, "quota"))
    assert not lio.is_disk_full(OSError(errno.EACCES, "denied"))
    assert not lio.is_disk_full(ValueError("no"))
