"""A static HTML gallery of an appendix: ``index.html`` and one page per layer.

Pages use relative links only and carry their data in the HTML itself (no
``fetch`` of JSON), so they work from ``file://`` as well as from any static
host (a bucket, GitHub Pages, ``python -m http.server``). Thumbnails load
lazily (``loading="lazy"``); clicking one opens a viewer with the render
enlarged and, when the run had a ``--dataset``, the channel's top dataset
examples beside it (arrow keys step through channels, Escape closes;
``LAYER.html#c12`` opens channel 12 directly). Without JavaScript a click
opens the PNG itself.
"""

from __future__ import annotations

import html
import urllib.parse
from typing import Mapping

from lucid2.recipes.appendix import store as store_lib

INDEX = "index.html"
# Thumbnails on the index page per layer.
PREVIEW_COUNT = 12
# Displayed size of thumbnails (CSS pixels); small renders are scaled up.
THUMBNAIL_PIXELS = 128
INDEX_THUMBNAIL_PIXELS = 64
TITLE = "Feature visualization appendix"

_STYLE = """
:root { color-scheme: light; --fg: #222; --muted: #777; --line: #ddd; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       margin: 0; padding: 16px 24px; background: #fafafa; }
a { color: #1a5fb4; text-decoration: none; }
a:hover { text-decoration: underline; }
header { margin-bottom: 16px; }
h1 { font-size: 22px; margin: 4px 0; }
nav { color: var(--muted); }
nav a { margin-right: 12px; }
.settings { color: var(--muted); font-size: 12px; }
.grid { display: grid; gap: 10px;
        grid-template-columns: repeat(auto-fill, minmax(THUMBpx, 1fr)); }
.unit { display: flex; flex-direction: column; align-items: center; color: var(--fg);
        background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 4px; }
.unit img, .unit .placeholder { width: THUMBpx; height: THUMBpx; }
.unit img { image-rendering: pixelated; background: #eee; }
.unit .placeholder { display: flex; align-items: center; justify-content: center;
                     background: #eee; color: var(--muted); font-size: 12px; }
.unit .num { font-variant-numeric: tabular-nums; font-size: 12px; margin-top: 2px; }
.layer { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 10px;
         margin-bottom: 12px; }
.layer h2 { font-size: 16px; margin: 0 0 6px 0; }
.strip { display: flex; flex-wrap: wrap; gap: 4px; }
.strip img { width: INDEXpx; height: INDEXpx; image-rendering: pixelated; background: #eee; }
#viewer { position: fixed; inset: 0; background: rgba(20, 20, 20, 0.92); color: #eee;
          display: flex; align-items: center; justify-content: center; gap: 24px;
          padding: 24px; flex-wrap: wrap; z-index: 10; }
#viewer[hidden] { display: none; }
#viewer figure { margin: 0; text-align: center; }
#viewer .big { width: min(70vh, 70vw, 512px); height: auto; image-rendering: pixelated;
               background: #333; }
#viewer .examples { width: min(40vw, 480px); }
#viewer .examples img { width: 100%; image-rendering: pixelated; background: #333; }
#viewer h3 { font-size: 14px; margin: 0 0 6px 0; font-weight: normal; color: #ccc; }
#viewer button { position: absolute; background: none; border: 0; color: #eee;
                 font-size: 32px; cursor: pointer; padding: 8px 14px; }
#viewer .close { top: 8px; right: 12px; }
#viewer .prev { left: 8px; top: 50%; }
#viewer .next { right: 8px; top: 50%; }
"""

_SCRIPT = """
(function () {
  var units = Array.prototype.slice.call(document.querySelectorAll("a.unit"));
  var viewer = document.getElementById("viewer");
  var current = -1;
  function close() {
    viewer.hidden = true; viewer.querySelector(".content").textContent = ""; current = -1;
    document.body.style.overflow = "";
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }
  function open(index) {
    if (index < 0 || index >= units.length) return;
    current = index;
    var unit = units[index], data = unit.dataset;
    var content = viewer.querySelector(".content");
    content.textContent = "";
    var figure = document.createElement("figure");
    var big = document.createElement("img");
    big.className = "big"; big.src = data.render; big.alt = unit.querySelector("img").alt;
    figure.appendChild(big);
    var caption = document.createElement("figcaption");
    caption.textContent = data.layer + " channel " + data.channel +
      (data.activation ? " \\u2014 mean activation " + data.activation : "");
    figure.appendChild(caption);
    content.appendChild(figure);
    if (data.examples) {
      var section = document.createElement("section");
      section.className = "examples";
      var title = document.createElement("h3");
      title.textContent = "Top dataset examples";
      var examples = document.createElement("img");
      examples.src = data.examples; examples.alt = "top dataset examples of channel " +
        data.channel;
      section.appendChild(title); section.appendChild(examples);
      content.appendChild(section);
    }
    viewer.hidden = false;
    document.body.style.overflow = "hidden";  // the page behind stays put
    history.replaceState(null, "", "#c" + data.channel);
  }
  units.forEach(function (unit, index) {
    unit.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault(); open(index);
    });
  });
  viewer.querySelector(".close").addEventListener("click", close);
  viewer.querySelector(".prev").addEventListener("click", function () { open(current - 1); });
  viewer.querySelector(".next").addEventListener("click", function () { open(current + 1); });
  viewer.addEventListener("click", function (event) { if (event.target === viewer) close(); });
  document.addEventListener("keydown", function (event) {
    if (viewer.hidden) return;
    if (event.key === "Escape") close();
    else if (event.key === "ArrowLeft") open(current - 1);
    else if (event.key === "ArrowRight") open(current + 1);
  });
  var match = /^#c(\\d+)$/.exec(location.hash);
  if (match) {
    var wanted = units.findIndex(function (u) { return u.dataset.channel === match[1]; });
    if (wanted >= 0) open(wanted);
  }
})();
"""


def _href(rel: str) -> str:
    """A relative URL for a path of the store (percent-encoded, "/" kept)."""
    return urllib.parse.quote(rel, safe="/")


def _attr(text) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str, script: str = "") -> str:
    style = (_STYLE.replace("THUMBpx", f"{THUMBNAIL_PIXELS}px")
             .replace("INDEXpx", f"{INDEX_THUMBNAIL_PIXELS}px"))
    tail = f"<script>{script}</script>\n" if script else ""
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
            f"{body}\n{tail}</body>\n</html>\n")


def _settings_line(manifest: Mapping) -> str:
    settings = manifest.get("settings", {})
    model = manifest.get("model", {})
    parts = [f"{model.get('name', '?')}"]
    if model.get("weights"):
        parts.append(f"weights {model['weights']}")
    parts += [f"{settings.get('size')} px", f"{settings.get('steps')} steps",
              f"seed {settings.get('seed')}", f"{settings.get('channels_per_batch')} channels "
              "per batch", f"param {settings.get('param')}",
              f"transforms {settings.get('transforms')}"]
    if manifest.get("dataset"):
        parts.append(f"dataset {manifest['dataset']}")
    return html.escape(" \u00b7 ".join(str(p) for p in parts))


def _records(store: store_lib.Store, layer: str, channels: set[int], kind: str) -> dict:
    paths = {c: (store_lib.render_paths if kind == store_lib.RENDERS
                 else store_lib.example_paths)(layer, c)[1] for c in sorted(channels)}
    records = store.read_many_json(list(paths.values()))
    return dict(zip(paths, records, strict=True))


def _format_activation(value) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else ""


def layer_page_html(manifest: Mapping, layer: str, records: Mapping[int, Mapping],
                    examples: Mapping[int, Mapping]) -> str:
    """The HTML of one layer's page.

    Args:
      manifest: the run's manifest (layers, settings).
      layer: the layer.
      records: channel -> render record, for the rendered channels.
      examples: channel -> dataset examples record, for channels that have them.
    """
    layers = list(manifest["layers"])
    entry = manifest["layers"][layer]
    size = manifest.get("settings", {}).get("size", THUMBNAIL_PIXELS)
    position = layers.index(layer)
    links = [f"<a href=\"{INDEX}\">All layers</a>"]
    if position > 0:
        links.append(f"<a href=\"{_href(store_lib.layer_page(layers[position - 1]))}\">"
                     f"\u2190 {html.escape(layers[position - 1])}</a>")
    if position + 1 < len(layers):
        links.append(f"<a href=\"{_href(store_lib.layer_page(layers[position + 1]))}\">"
                     f"{html.escape(layers[position + 1])} \u2192</a>")
    cells = []
    for channel in range(int(entry["channels"])):
        if channel not in records:
            cells.append(f"<div class=\"unit missing\" id=\"c{channel}\"><span class="
                         f"\"placeholder\">not rendered</span><span class=\"num\">{channel}"
                         "</span></div>")
            continue
        png, _ = store_lib.render_paths(layer, channel)
        activation = _format_activation(records[channel].get("activation"))
        data = {"layer": layer, "channel": channel, "render": _href(png),
                "activation": activation}
        if channel in examples:
            data["examples"] = _href(store_lib.example_paths(layer, channel)[0])
        attributes = " ".join(f"data-{k}=\"{_attr(v)}\"" for k, v in data.items())
        title = f"{layer} channel {channel}" + (f", activation {activation}" if activation
                                                 else "")
        cells.append(
            f"<a class=\"unit\" id=\"c{channel}\" href=\"{_href(png)}\" {attributes} "
            f"title=\"{_attr(title)}\"><img loading=\"lazy\" decoding=\"async\" "
            f"src=\"{_href(png)}\" width=\"{size}\" height=\"{size}\" "
            f"alt=\"{_attr(f'{layer} channel {channel}')}\"><span class=\"num\">{channel}"
            "</span></a>")
    rendered = int(entry.get("rendered", len(records)))
    body = (f"<header><nav>{' '.join(links)}</nav><h1>{html.escape(layer)}</h1>"
            f"<div class=\"settings\">{rendered} of {entry['channels']} channels rendered "
            f"\u00b7 {_settings_line(manifest)}</div></header>\n"
            f"<main class=\"grid\">\n" + "\n".join(cells) + "\n</main>\n"
            "<div id=\"viewer\" hidden><div class=\"content\" style=\"display:contents\"></div>"
            "<button class=\"prev\" aria-label=\"previous channel\">\u2039</button>"
            "<button class=\"next\" aria-label=\"next channel\">\u203a</button>"
            "<button class=\"close\" aria-label=\"close\">\u00d7</button></div>")
    return _page(f"{layer} \u2014 {TITLE}", body, _SCRIPT)


def index_html(manifest: Mapping) -> str:
    """The HTML of the index page: every layer with a few thumbnails."""
    sections = []
    size = manifest.get("settings", {}).get("size", INDEX_THUMBNAIL_PIXELS)
    for layer, entry in manifest["layers"].items():
        missing = set(entry.get("missing", []))
        shown = [c for c in range(int(entry["channels"])) if c not in missing][:PREVIEW_COUNT]
        page = _href(store_lib.layer_page(layer))
        thumbs = "".join(
            f"<a href=\"{page}#c{c}\"><img loading=\"lazy\" decoding=\"async\" "
            f"src=\"{_href(store_lib.render_paths(layer, c)[0])}\" width=\"{size}\" "
            f"height=\"{size}\" alt=\"{_attr(f'{layer} channel {c}')}\"></a>" for c in shown)
        examples = (f" \u00b7 {entry['examples']} with dataset examples"
                    if "examples" in entry else "")
        sections.append(
            f"<section class=\"layer\"><h2><a href=\"{page}\">{html.escape(layer)}</a></h2>"
            f"<div class=\"settings\">{entry.get('rendered', 0)} of {entry['channels']} "
            f"channels rendered{examples}</div><div class=\"strip\">{thumbs}</div></section>")
    state = "complete" if manifest.get("complete") else "in progress"
    body = (f"<header><h1>{TITLE}</h1><div class=\"settings\">{_settings_line(manifest)} "
            f"\u00b7 {state}</div></header>\n<main>\n" + "\n".join(sections) + "\n</main>")
    return _page(TITLE, body)


def build_gallery(store: store_lib.Store, manifest: Mapping | None = None) -> list[str]:
    """Writes ``index.html`` and one page per layer of the manifest; returns their paths.

    Reads the manifest and the records from ``store`` (the manifest too when
    not given). Pages show what exists; channels not yet rendered appear as
    placeholders, so a gallery of a run in progress is valid too.
    """
    if manifest is None:
        manifest = store_lib.read_manifest(store)
        if manifest is None:
            raise ValueError(f"{store.root} has no {store_lib.MANIFEST}: nothing to show.")
    layers = list(manifest["layers"])
    rendered = store_lib.rendered_channels(store, layers)
    with_examples = store_lib.example_channels(store, layers)
    written = []
    for layer in layers:
        records = _records(store, layer, rendered[layer], store_lib.RENDERS)
        examples = _records(store, layer, with_examples[layer], store_lib.EXAMPLES)
        page = store_lib.layer_page(layer)
        store.write_bytes(page, layer_page_html(manifest, layer, records, examples)
                          .encode("utf-8"))
        written.append(page)
    store.write_bytes(INDEX, index_html(manifest).encode("utf-8"))
    written.append(INDEX)
    return written
