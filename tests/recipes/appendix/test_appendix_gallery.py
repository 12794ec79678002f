"""The HTML gallery: static, relative, lazy; checked in headless Chromium when it is installed."""

from __future__ import annotations

import html.parser
import json
import pathlib
import urllib.parse

import numpy as np
import pytest
from appendix_testlib import check_page, find_chromium, screenshot
from PIL import Image

from lucid2.misc.io import png_bytes
from lucid2.recipes.appendix import LocalStore, build_gallery
from lucid2.recipes.appendix import store as store_lib

BIG_LAYER, BIG_CHANNELS = "mixed9z", 300
SMALL_LAYER, SMALL_CHANNELS = "conv7", 10
MISSING = (2, 5, 6)
THUMB = 16
EXAMPLE_CHANNELS = (0, 1, 3)
# A screenshot counts as showing renders when this share of pixels is strongly colored.
COLORFUL_SHARE = 0.01
COLORFUL_SPREAD = 40


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self.links: list[str] = []
        self.scripts = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts += data


def _parse(path: pathlib.Path) -> _Parser:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _png(rng, size) -> bytes:
    return png_bytes(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def synthetic_gallery(tmp_path_factory) -> pathlib.Path:
    """A gallery of random images: one long layer (lazy loading matters), one with gaps."""
    root = tmp_path_factory.mktemp("gallery")
    store = LocalStore(root)
    rng = np.random.default_rng(0)
    layers = {BIG_LAYER: BIG_CHANNELS, SMALL_LAYER: SMALL_CHANNELS}
    rendered = {BIG_LAYER: set(range(BIG_CHANNELS)),
                SMALL_LAYER: set(range(SMALL_CHANNELS)) - set(MISSING)}
    for layer, channels in rendered.items():
        for channel in channels:
            png, record = store_lib.render_paths(layer, channel)
            store_lib.write_with_record(store, png, _png(rng, THUMB), record,
                                        {"layer": layer, "channel": channel,
                                         "activation": float(channel) / 3})
    for channel in EXAMPLE_CHANNELS:
        png, record = store_lib.example_paths(SMALL_LAYER, channel)
        store_lib.write_with_record(store, png, _png(rng, 3 * THUMB), record,
                                    {"layer": SMALL_LAYER, "channel": channel})
    manifest = store_lib.build_manifest(
        {"size": THUMB, "steps": 4, "seed": 0, "channels_per_batch": 8, "param": "fft",
         "transforms": "standard"},
        {"name": "TestNet", "weights": "none", "fingerprint": "0" * 64, "spec": "test"},
        layers, rendered, store_lib.example_channels(store, layers), "photos/*.jpg")
    store_lib.write_manifest(store, manifest)
    assert build_gallery(store) == [f"{BIG_LAYER}.html", f"{SMALL_LAYER}.html", "index.html"]
    return root


def _local_target(root: pathlib.Path, page: pathlib.Path, url: str) -> pathlib.Path:
    parts = urllib.parse.urlsplit(url)
    assert not parts.scheme and not parts.netloc and not url.startswith("/"), url
    return (page.parent / urllib.parse.unquote(parts.path)).resolve()


def test_pages_link_relatively_to_existing_files(synthetic_gallery):
    root = synthetic_gallery
    for name in ("index.html", f"{BIG_LAYER}.html", f"{SMALL_LAYER}.html"):
        page = root / name
        parsed = _parse(page)
        assert parsed.images, name
        for image in parsed.images:
            assert image["loading"] == "lazy"
            assert _local_target(root, page, image["src"]).is_file()
        for link in parsed.links:
            assert _local_target(root, page, link.split("#")[0]).is_file(), link
        assert "fetch(" not in parsed.scripts and "XMLHttpRequest" not in parsed.scripts


def test_layer_page_shows_every_channel_and_its_examples(synthetic_gallery):
    page = synthetic_gallery / f"{SMALL_LAYER}.html"
    text = page.read_text(encoding="utf-8")
    parsed = _parse(page)
    assert len(parsed.images) == SMALL_CHANNELS - len(MISSING)
    assert text.count("not rendered") == len(MISSING)
    for channel in EXAMPLE_CHANNELS:
        assert f'data-examples="examples/{SMALL_LAYER}/{channel:04d}.png"' in text
    assert text.count("data-examples=") == len(EXAMPLE_CHANNELS)
    assert 'data-activation="0.3333"' in text  # channel 1's activation, 1/3
    index = (synthetic_gallery / "index.html").read_text(encoding="utf-8")
    assert f'href="{SMALL_LAYER}.html"' in index and "7 of 10 channels rendered" in index


def test_gallery_needs_a_manifest(tmp_path):
    with pytest.raises(ValueError, match="no manifest.json"):
        build_gallery(LocalStore(tmp_path))


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    return path


def _colorful_share(path: pathlib.Path) -> float:
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    spread = pixels.max(axis=-1) - pixels.min(axis=-1)
    return float(np.mean(spread > COLORFUL_SPREAD))


@pytest.mark.slow
def test_browser_loads_every_lazy_image_and_opens_the_viewer(synthetic_gallery, chromium):
    result = check_page(chromium, synthetic_gallery / f"{BIG_LAYER}.html")
    assert result["count"] == BIG_CHANNELS == result["lazy"]
    assert result["loaded"] == BIG_CHANNELS, result["broken"]
    viewer = result["viewer"]
    assert not viewer["hidden"] and viewer["hash"] == "#c0"
    # The viewer covers the window (top, left, and width and height up to a scrollbar).
    assert viewer["rect"][:2] == [0, 0] and all(-20 <= d <= 0 for d in viewer["rect"][2:])
    assert viewer["images"] == viewer["loaded"] == 1
    assert viewer["widths"][0] > THUMB * 4  # enlarged
    assert f"{BIG_LAYER} channel 0" in viewer["text"]


@pytest.mark.slow
def test_browser_viewer_shows_dataset_examples_beside_the_render(synthetic_gallery, chromium):
    result = check_page(chromium, synthetic_gallery / f"{SMALL_LAYER}.html")
    assert result["loaded"] == result["count"] == SMALL_CHANNELS - len(MISSING)
    viewer = result["viewer"]
    assert viewer["images"] == viewer["loaded"] == 2
    assert "Top dataset examples" in viewer["text"]
    index = check_page(chromium, synthetic_gallery / "index.html")
    assert index["loaded"] == index["count"] > 0


@pytest.mark.slow
def test_browser_screenshots_are_not_blank(synthetic_gallery, chromium, tmp_path):
    for name in ("index.html", f"{BIG_LAYER}.html"):
        shot = screenshot(chromium, synthetic_gallery / name, tmp_path / f"{name}.png")
        with Image.open(shot) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
        assert pixels.shape[0] > 100 and pixels.var() > 0
        assert _colorful_share(shot) > COLORFUL_SHARE, name


@pytest.mark.slow
def test_real_weights_with_dataset_examples(shared_data, tmp_path):
    """conv2d0 on the real weights with a few photos: renders, examples, a working page."""
    from lucid2.modelzoo import ModelSpec
    from lucid2.recipes.appendix import Request, Settings, run

    output = tmp_path / "real"
    request = Request(str(output), settings=Settings(steps=8, size=32, channels_per_batch=32),
                      model=ModelSpec("inceptionv1", str(shared_data / "inception5h"), None,
                                      "RGB"),
                      layers=("conv2d0",), dataset=str(shared_data / "imagenet-samples" /
                                                       "n01[5-6]*.JPEG"), num_examples=3)
    manifest = run(request, stream=None)
    assert manifest["complete"] and manifest["layers"]["conv2d0"]["examples"] == 64
    record = json.loads((output / "examples" / "conv2d0" / "0005.json").read_text())
    assert record["count"] == 3 and len(record["top"]) == 3
    scores = [e["activation"] for e in record["top"]]
    assert scores == sorted(scores, reverse=True)
    with Image.open(output / "examples" / "conv2d0" / "0005.png") as grid:
        assert grid.width > grid.height  # one row of patches
    page = (output / "conv2d0.html").read_text(encoding="utf-8")
    assert page.count('data-examples="examples/conv2d0/') == 64
    browser = find_chromium()
    if browser is not None:  # the page itself is checked above without a browser too
        result = check_page(browser, output / "conv2d0.html")
        assert result["loaded"] == result["count"] == 64
        assert result["viewer"]["loaded"] == 2
