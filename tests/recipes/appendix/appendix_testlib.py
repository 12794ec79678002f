"""Helpers of the appendix tests: the small run every test compares against, files, Chromium."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
# A small job: conv2d0's 64 channels, tiny renders, few steps. 24 per batch gives
# batches 0-23, 24-47 and a shorter 48-63.
LAYER = "conv2d0"
CHANNELS = 64
STEPS = 4
SIZE = 32
BATCH = 24
SEED = 7
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Flags for headless Chromium as root in a container, without network or GPU.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")
CHROMIUM_TIMEOUT = 120
VIRTUAL_TIME_BUDGET_MS = 60000


def cli_args(output_dir, *extra: str) -> list[str]:
    """The command line of the small job (random weights)."""
    return [sys.executable, "-m", "lucid2.appendix", f"--output_dir={output_dir}",
            f"--layers={LAYER}", f"--steps={STEPS}", f"--size={SIZE}",
            f"--channels_per_batch={BATCH}", f"--seed={SEED}", "--weights=none", *extra]


def parse_app_flags(*args: str):
    """``python -m lucid2.appendix ARGS`` parsed on fresh flags: (flag values, the rest)."""
    from absl import flags

    from lucid2 import appendix as appendix_app

    values = flags.FlagValues()
    appendix_app.define_flags(values)
    return values, appendix_app.parse_flags(["lucid2.appendix", *args], values)


def subprocess_env() -> dict[str, str]:
    """This environment for a child Python: the repository importable, no step cap, quiet TF."""
    env = dict(os.environ)
    env.pop("LUCID2_MAX_STEPS", None)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def tree(root, sub: str = "renders") -> dict[str, bytes]:
    """Every file under ``root/sub``: relative path -> bytes."""
    base = pathlib.Path(root) / sub
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file()}


def temporaries(root) -> list[str]:
    """Temporary files (``.NAME.RANDOM.tmp``) anywhere under ``root``."""
    return [str(p) for p in pathlib.Path(root).rglob("*") if re.match(r"^\..*\.tmp$", p.name)]


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(chromium: str, url: str, *args: str) -> subprocess.CompletedProcess:
    """Runs headless Chromium on ``url`` with a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="lucid2-chromium-") as profile:
        return subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False)


# Injected into a copy of a gallery page: scrolls to the bottom in steps (so that
# lazy images load), waits for every image, opens the viewer on the first
# thumbnail, and writes what it saw into the DOM for --dump-dom.
CHECK_SCRIPT = """<script>
window.addEventListener("load", async function () {
  var sleep = function (ms) { return new Promise(function (r) { setTimeout(r, ms); }); };
  var list = function (root) { return Array.prototype.slice.call(root.querySelectorAll("img")); };
  var done = function (imgs) { return imgs.every(function (i) { return i.complete; }); };
  var loaded = function (imgs) {
    return imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length; };
  var result = {loadedBeforeScroll: loaded(list(document))};
  var height = document.documentElement.scrollHeight;
  for (var y = 0; y <= height + window.innerHeight; y += window.innerHeight / 2) {
    window.scrollTo(0, y); await sleep(100);
  }
  for (var k = 0; k < 200 && !done(list(document)); k++) await sleep(100);
  var imgs = list(document);
  result.count = imgs.length;
  result.loaded = loaded(imgs);
  result.lazy = imgs.filter(function (i) { return i.loading === "lazy"; }).length;
  result.broken = imgs.filter(function (i) { return !(i.naturalWidth > 0); })
    .map(function (i) { return i.getAttribute("src"); }).slice(0, 5);
  var first = document.querySelector("a.unit");
  if (first) {
    first.click();
    await sleep(100);
    var viewer = document.getElementById("viewer");
    var shown = list(viewer);
    for (var k = 0; k < 200 && !done(shown); k++) await sleep(100);
    result.viewer = {hidden: viewer.hidden, images: shown.length, loaded: loaded(shown),
                     widths: shown.map(function (i) { return i.getBoundingClientRect().width; }),
                     text: viewer.textContent, hash: location.hash,
                     rect: [viewer.getBoundingClientRect().top,
                            viewer.getBoundingClientRect().left,
                            viewer.getBoundingClientRect().width - window.innerWidth,
                            viewer.getBoundingClientRect().height - window.innerHeight]};
  }
  var out = document.createElement("pre");
  out.id = "check-result";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


def check_page(chromium: str, page: pathlib.Path, window: str = "1000,700") -> dict:
    """Loads a copy of ``page`` (beside it, so relative links hold) with CHECK_SCRIPT."""
    copy = page.with_name(page.stem + ".check.html")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"),
                    encoding="utf-8")
    try:
        result = run_chromium(chromium, copy.as_uri(), f"--window-size={window}",
                              f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}", "--dump-dom")
    finally:
        copy.unlink()
    match = re.search(r'<pre id="check-result">(.*?)</pre>', result.stdout, re.S)
    assert match, f"no result in the page; chromium said: {result.stderr[-2000:]}"
    text = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&amp;", "&")
    return json.loads(text)


def screenshot(chromium: str, page: pathlib.Path, path: pathlib.Path,
               window: str = "1200,900") -> pathlib.Path:
    """A PNG screenshot of ``page`` after its images had time to load."""
    result = run_chromium(chromium, page.as_uri(), f"--window-size={window}",
                          f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS // 6}",
                          f"--screenshot={path}")
    assert path.is_file(), f"no screenshot; chromium said: {result.stderr[-2000:]}"
    return path
