"""lucid2.misc.io.load_image: every Pillow mode to RGB in [0, 1], or ImageLoadError naming the file.

Item 1: 16-bit, 32-bit and float images load to their values (not saturated to white).
Item 2: unreadable files (text, empty, truncated, decompression bombs) are refused by name.
Item 3: property tests: random modes, sizes and bytes load to finite float32 RGB in [0, 1]
of the right size, or are refused with ImageLoadError.
"""

import contextlib
import io
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from image_testlib import decompression_bomb_png, write_bad_images, write_gray_pngs
from PIL import Image

from lucid2.misc.io import (SUPPORTED_MODES, ImageLoadError, image_to_rgb, load_image,
                            read_image_header)
from lucid2.misc.io.loading import EIGHT_BIT_MODES, SIXTEEN_BIT_MODES

UINT16_MAX = 65535
INT32_MAX = 2 ** 31 - 1


def _assert_unit_rgb(rgb: np.ndarray, shape: tuple[int, int]) -> None:
    assert rgb.dtype == np.float32
    assert rgb.shape == shape + (3,)
    assert np.isfinite(rgb).all()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


# ------------------------------------------------ item 1: every mode, to its values
def test_16bit_png_loads_as_its_gray_values_not_white(tmp_path):
    values = np.arange(0, 60 * 1111, 1111, dtype=np.uint16).reshape(6, 10)
    Image.fromarray(values).save(tmp_path / "gray16.png")
    rgb = load_image(tmp_path / "gray16.png")
    _assert_unit_rgb(rgb, (6, 10))
    # The old loader clipped every value above 255 to white.
    np.testing.assert_allclose(rgb, np.repeat(values[..., None] / UINT16_MAX, 3, axis=-1),
                               atol=1e-7)
    assert rgb.min() == 0.0 and rgb[0, 1, 0] == pytest.approx(1111 / UINT16_MAX)


def test_16bit_photo_loads_like_its_8bit_copy(shared_data, tmp_path):
    gray8, gray16 = write_gray_pngs(shared_data / "inception5h" / "dog.jpg", tmp_path)
    np.testing.assert_array_equal(load_image(gray16), load_image(gray8))
    resized8, resized16 = load_image(gray8, size=224), load_image(gray16, size=224)
    _assert_unit_rgb(resized16, (224, 224))
    # 16-bit resizes in float; 8-bit rounds to 1/255 after resizing.
    np.testing.assert_allclose(resized16, resized8, atol=1 / 255)


def test_16bit_resize_keeps_16bit_precision(tmp_path):
    Image.fromarray(np.array([[1000, 1100]], np.uint16)).save(tmp_path / "ramp.png")
    row = load_image(tmp_path / "ramp.png", size=(1, 4))[0, :, 0]
    assert np.all(np.diff(row) >= 0) and row[0] < row[-1]
    assert row[0] * UINT16_MAX == pytest.approx(1000, abs=1)
    assert row[-1] * UINT16_MAX == pytest.approx(1100, abs=1)


def _pixels(mode):
    """A 2 x 3 image of ``mode`` with distinct pixels."""
    rgb = np.array([[[0, 0, 0], [255, 0, 0], [0, 200, 30]],
                    [[10, 20, 250], [128, 128, 128], [255, 255, 255]]], np.uint8)
    return Image.fromarray(rgb).convert(mode)


# (mode, format): 8-bit modes by the files that store them; the result must be Pillow's own
# conversion to RGB (alpha dropped, as load_image always did).
@pytest.mark.parametrize("mode,fmt", [
    ("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("PA", "TIFF"), ("RGB", "PNG"),
    ("RGBA", "PNG"), ("CMYK", "TIFF"), ("CMYK", "JPEG"), ("LAB", "TIFF"), ("RGB", "BMP"),
    ("L", "GIF"), ("RGB", "PPM"), ("YCbCr", None), ("HSV", None), ("RGBX", None),
])
def test_every_8bit_mode_loads_as_pillows_rgb(tmp_path, mode, fmt):
    image = _pixels(mode)
    if fmt is None:  # modes no file format stores: converted in memory
        rgb, expected_mode = image_to_rgb(image), mode
        expected = np.asarray(image.convert("RGB"), np.float32) / 255
    else:
        path = tmp_path / f"image.{fmt.lower()}"
        image.save(path, format=fmt)
        with Image.open(path) as pil:
            expected_mode = pil.mode
            expected = np.asarray(pil.convert("RGB"), np.float32) / 255
        rgb = load_image(path)
    assert expected_mode in EIGHT_BIT_MODES
    _assert_unit_rgb(rgb, (2, 3))
    np.testing.assert_array_equal(rgb, expected)


def test_alpha_is_dropped_not_composited(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = (200, 100, 50)  # fully transparent: alpha 0
    Image.fromarray(rgba).save(tmp_path / "clear.png")
    Image.fromarray(rgba[..., [0, 3]]).save(tmp_path / "clear_gray.png")  # LA
    np.testing.assert_array_equal(load_image(tmp_path / "clear.png")[0, 0],
                                  np.float32([200, 100, 50]) / 255)
    np.testing.assert_array_equal(load_image(tmp_path / "clear_gray.png")[0, 0],
                                  np.float32([200, 200, 200]) / 255)


@pytest.mark.parametrize("mode", SIXTEEN_BIT_MODES)
def test_every_16bit_mode_is_scaled_by_65535(tmp_path, mode):
    values = np.array([[0, 1, 257], [32768, 65534, UINT16_MAX]], np.uint16)
    byte_order = ">" if mode == "I;16B" else "<" if mode == "I;16L" else "="
    image = Image.frombytes(mode, (3, 2), values.astype(byte_order + "u2").tobytes())
    np.testing.assert_array_equal(np.asarray(image), values)
    expected = np.repeat((values / UINT16_MAX).astype(np.float32)[..., None], 3, axis=-1)
    np.testing.assert_allclose(image_to_rgb(image), expected, atol=1e-7)
    if mode in ("I;16", "I;16B"):  # the 16-bit modes TIFF files open as
        image.save(tmp_path / "image.tif")
        with Image.open(tmp_path / "image.tif") as pil:
            assert pil.mode in SIXTEEN_BIT_MODES
        np.testing.assert_allclose(load_image(tmp_path / "image.tif"), expected, atol=1e-7)


def test_pgm_of_any_maxval_loads_by_its_maxval(tmp_path):
    # Pillow widens a PGM's 0..maxval to 16 bits ('I'); maxval means white.
    header = b"P5\n3 1\n4095\n"
    (tmp_path / "deep.pgm").write_bytes(header + np.array([0, 2048, 4095], ">u2").tobytes())
    row = load_image(tmp_path / "deep.pgm")[0, :, 0]
    np.testing.assert_allclose(row, [0.0, 2048 / 4095, 1.0], atol=1e-4)


def test_32bit_int_images_follow_the_documented_depth_rule(tmp_path):
    # From a TIFF: the depth it states (32-bit signed here).
    values = np.array([[0, 70000, INT32_MAX]], np.int32)
    Image.fromarray(values).save(tmp_path / "int32.tif")
    row = load_image(tmp_path / "int32.tif")[0, :, 0]
    np.testing.assert_allclose(row, [0.0, 70000 / INT32_MAX, 1.0], rtol=1e-6)
    # Without a stated depth: 16-bit, so values above 65535 are refused.
    in_memory = Image.fromarray(np.array([[0, 1000, UINT16_MAX]], np.int32))
    np.testing.assert_allclose(image_to_rgb(in_memory)[0, :, 0],
                               [0.0, 1000 / UINT16_MAX, 1.0], atol=1e-7)
    for bad in (70000, -1):
        with pytest.raises(ImageLoadError, match=r"'I' values span .*outside 0\.\.65535"):
            image_to_rgb(Image.fromarray(np.array([[0, bad]], np.int32)), source="mem")
    Image.fromarray(np.array([[-5, 3]], np.int32)).save(tmp_path / "negative.tif")
    with pytest.raises(ImageLoadError, match="negative.tif.*outside 0"):
        load_image(tmp_path / "negative.tif")


def test_float_images_in_unit_range_load_others_are_refused(tmp_path):
    values = np.array([[0.0, 0.25, 1.0]], np.float32)
    Image.fromarray(values).save(tmp_path / "unit.tif")
    np.testing.assert_array_equal(load_image(tmp_path / "unit.tif")[0, :, 0], values[0])
    np.testing.assert_allclose(load_image(tmp_path / "unit.tif", size=(2, 6)).shape, (2, 6, 3))
    for name, bad in (("big", 255.0), ("negative", -0.5), ("nan", np.nan), ("inf", np.inf)):
        path = tmp_path / f"{name}.tif"
        Image.fromarray(np.array([[0.5, bad]], np.float32)).save(path)
        with pytest.raises(ImageLoadError, match=r"'F'.*\[0, 1\]") as caught:
            load_image(path)
        assert str(path) in str(caught.value) and caught.value.mode == "F"
    copy = pickle.loads(pickle.dumps(caught.value))  # e.g. from a worker process
    assert (copy.source, copy.reason, copy.mode) == (str(path), caught.value.reason, "F")


@pytest.mark.parametrize("mode", ["La", "RGBa"])
def test_unsupported_modes_are_refused_naming_the_mode_and_what_is_allowed(mode):
    with pytest.raises(ImageLoadError, match=f"'{mode}' is not supported") as caught:
        image_to_rgb(Image.new(mode, (2, 2)), source="picture.png")
    message = str(caught.value)
    assert "picture.png" in message and all(m in message for m in ("I;16", "RGBA", "F"))


# ------------------------------------------- item 2: unreadable files, refused by name
@pytest.mark.parametrize("kind,reason", [
    ("text", "not an image file Pillow can identify"),
    ("empty", "not an image file Pillow can identify"),
    ("truncated", "damaged or truncated"),
    ("bomb", "decompression bomb"),
])
def test_unreadable_images_are_refused_naming_the_file(tmp_path, kind, reason):
    path = write_bad_images(tmp_path)[kind]
    with pytest.raises(ImageLoadError, match=reason) as caught:
        load_image(path, size=224)
    assert caught.value.source == str(path) and repr(str(path)) in str(caught.value)
    if kind == "truncated":  # only decoding finds it; the header is fine
        assert read_image_header(path).format == "JPEG"
    else:
        with pytest.raises(ImageLoadError, match=reason):
            read_image_header(path)


def test_decompression_bomb_limit_is_pillows_setting(tmp_path, monkeypatch):
    path = decompression_bomb_png(tmp_path / "big.png", side=64)
    assert read_image_header(path).height == 64
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64 x 64 > 2 x 1000
    with pytest.raises(ImageLoadError, match="MAX_IMAGE_PIXELS"):
        load_image(path)


def test_file_system_errors_stay_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.png")
    with pytest.raises(IsADirectoryError):
        load_image(tmp_path)


# ------------------------------------------------------ item 3: property-based tests
MODES = SUPPORTED_MODES + ("La", "RGBa")  # the last two are refused
FORMATS = {"PNG": ".png", "TIFF": ".tif", "BMP": ".bmp", "GIF": ".gif", "JPEG": ".jpg",
           "WEBP": ".webp", "PPM": ".ppm"}
SIZES = st.one_of(st.none(), st.integers(1, 9), st.tuples(st.integers(1, 9), st.integers(1, 9)))
PROPERTY_SETTINGS = settings(max_examples=50, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
# Corrupted headers may claim huge images: keep the bomb limit small while fuzzing.
FUZZ_MAX_PIXELS = 2 ** 16


def _formats_storing(mode: str) -> tuple[str, ...]:
    """The formats Pillow writes (without deprecation) an image of ``mode`` to and reads back.

    (Pillow writes YCbCr TIFFs it cannot read, for one.)
    """
    found = []
    for fmt in FORMATS:
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                Image.new(mode, (3, 2)).save(buffer, format=fmt)
                buffer.seek(0)
                with Image.open(buffer) as pil:
                    pil.load()
            except Exception:  # noqa: BLE001 -- any failure means "not this format"
                continue
        found.append(fmt)
    return tuple(found)


WRITABLE = {mode: _formats_storing(mode) for mode in MODES}


def _expected_shape(image_shape, size):
    if size is None:
        return image_shape
    return (size, size) if isinstance(size, int) else size


def _in_range(mode: str, values: np.ndarray) -> bool:
    """Whether the documented rule accepts an in-memory image of these values."""
    if mode == "F":
        return bool(np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1)
    if mode == "I":
        return bool(values.min() >= 0 and values.max() <= UINT16_MAX)
    return mode in SUPPORTED_MODES


@contextlib.contextmanager
def _fuzzing():
    """A small decompression-bomb limit, and quiet about Pillow's warnings on damaged files."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = FUZZ_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@PROPERTY_SETTINGS
@given(mode=st.sampled_from(MODES), height=st.integers(1, 12), width=st.integers(1, 12),
       size=SIZES, data=st.data())
def test_property_random_modes_and_sizes_load_or_are_refused(folder, mode, height, width, size,
                                                             data):
    length = len(Image.new(mode, (width, height)).tobytes())
    raw = data.draw(st.binary(min_size=length, max_size=length), label="pixels")
    image = Image.frombytes(mode, (width, height), raw)
    if mode in ("P", "PA"):  # a full palette, so that every format can store the image
        image.putpalette(data.draw(st.binary(min_size=768, max_size=768), label="palette"))
    values = np.asarray(image)
    expected_shape = _expected_shape((height, width), size)
    target = data.draw(st.sampled_from(("memory",) + WRITABLE[mode]), label="target")
    if target == "memory":
        if not _in_range(mode, values):
            with pytest.raises(ImageLoadError, match="mem"):
                image_to_rgb(image, size, source="mem")
            return
        rgb = image_to_rgb(image, size, source="mem")
        _assert_unit_rgb(rgb, expected_shape)
        if mode in SIXTEEN_BIT_MODES and size is None:
            np.testing.assert_allclose(rgb[..., 1], values / UINT16_MAX, atol=1e-7)
        return
    path = folder / f"image{FORMATS[target]}"
    image.save(path, format=target)
    try:
        rgb = load_image(path, size)
    except ImageLoadError as error:
        # Only values the rules refuse (float out of [0, 1], ints out of range) may fail.
        assert mode in ("F", "I") and str(path) in str(error), error
        return
    _assert_unit_rgb(rgb, expected_shape)


def _encoded_samples() -> list[bytes]:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (8, 10, 3), dtype=np.uint8))
    samples = []
    for image in (rgb, rgb.convert("L"), rgb.convert("RGBA")):
        for fmt in FORMATS:
            buffer = io.BytesIO()
            try:
                image.save(buffer, format=fmt)
            except OSError:  # e.g. JPEG has no alpha
                continue
            samples.append(buffer.getvalue())
    gray16 = io.BytesIO()
    Image.fromarray(rng.integers(0, UINT16_MAX, (8, 10), dtype=np.uint16)).save(gray16, "PNG")
    return samples + [gray16.getvalue()]


ENCODED = _encoded_samples()


@st.composite
def _damaged_files(draw) -> bytes:
    """Random bytes, or a valid small image file truncated or with bytes overwritten."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=512))
    data = bytearray(draw(st.sampled_from(ENCODED)))
    if draw(st.booleans()):
        return bytes(data[:draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@PROPERTY_SETTINGS
@given(content=_damaged_files(), suffix=st.sampled_from(sorted(set(FORMATS.values()))),
       size=SIZES)
def test_property_random_bytes_load_or_are_refused(folder, content, suffix, size):
    path = folder / f"damaged{suffix}"
    path.write_bytes(content)
    with _fuzzing():
        try:
            rgb = load_image(path, size)
        except ImageLoadError as error:
            assert error.source == str(path) and error.reason
            return
    assert rgb.dtype == np.float32 and rgb.ndim == 3 and rgb.shape[-1] == 3
    if size is not None:
        assert rgb.shape[:2] == _expected_shape(None, size)
    assert np.isfinite(rgb).all() and rgb.min() >= 0.0 and rgb.max() <= 1.0
