"""Checking an appendix's files: each channel's PNG against its record, and a whole gallery.

A channel is done only when its record reads back whole (its own SHA-256,
``record_sha256``, matches its fields), names that layer and channel, holds
the run's settings and model, and its PNG's SHA-256 matches the record's
``png_sha256``. :func:`check_layer` checks one layer's channels (a rerun
removes the damaged ones and renders them again, see
:func:`.job.prepare`); :func:`verify_output` checks a finished output
directory without loading any model (``python -m lucid2.appendix --verify``):
every channel of every layer, the manifest against the files, and the
gallery pages against what the manifest and the records give.

Which records can be checked how:

* records with both checksums (this version on): fully;
* records with ``png_sha256`` but no ``record_sha256`` (written before it
  existed): the PNG's checksum and the record's layer, channel, settings and
  model; a changed number elsewhere in such a record is not found;
* records without ``png_sha256`` (never written by lucid2's appendix): not at
  all, so they count as damaged and are rendered again (a render depends only
  on the settings, its layer and its channel, so this gives the same bytes).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import posixpath
from typing import Callable, Iterable, Mapping

from lucid2.recipes.appendix import gallery
from lucid2.recipes.appendix import lock as lock_lib
from lucid2.recipes.appendix import store as store_lib
from lucid2.recipes.appendix.plan import AppendixError

# Kinds of problems. A PNG without its record is what a run killed between the
# two writes leaves: the channel is simply not done yet.
MISSING = "missing"
INCOMPLETE = "incomplete"
DAMAGED = "damaged"
# How every PNG file starts: a shorter file that starts so was cut short.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One missing or damaged file.

    Attributes:
      path: the file, relative to the output directory.
      kind: MISSING, INCOMPLETE or DAMAGED.
      reason: what is wrong, for people.
      layer, channel: the channel it belongs to (None for the manifest and the pages).
    """

    path: str
    kind: str
    reason: str
    layer: str | None = None
    channel: int | None = None


@dataclasses.dataclass
class LayerCheck:
    """What :func:`check_layer` found: the intact channels with their records, the problems."""

    records: dict[int, dict]
    problems: list[Problem]

    def damaged_channels(self) -> list[int]:
        return sorted({p.channel for p in self.problems
                       if p.kind == DAMAGED and p.channel is not None})


def _read_or_none(store: store_lib.Store, rels: list[str]) -> dict[str, bytes | None]:
    def read(rel: str) -> bytes | None:
        try:
            return store.read_bytes(rel)
        except OSError:  # gone since the listing
            return None

    return dict(zip(rels, store_lib.map_parallel(read, rels), strict=True))


def _parse(raw: bytes) -> dict | None:
    try:
        record = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _record_problem(record: dict, raw: bytes, layer: str, channel: int,
                    settings: Mapping | None, fingerprint: str | None) -> str | None:
    """Why ``record`` (read from ``raw``) is not a valid record of ``layer`` ``channel``
    (None when it is)."""
    if not isinstance(record.get(store_lib.PNG_DIGEST), str):
        return (f"has no {store_lib.PNG_DIGEST} (not written by lucid2's appendix), so its "
                "PNG cannot be checked")
    digest = record.get(store_lib.RECORD_DIGEST)
    if digest is not None and digest != store_lib.record_digest(record):
        return "corrupted (its fields do not match its own checksum)"
    if record.get("layer") != layer or record.get("channel") != channel:
        return f"is the record of {record.get('layer')} channel {record.get('channel')}"
    if settings is not None and record.get("settings") != dict(settings):
        return "was rendered with other settings than the manifest's"
    model = record.get("model")
    if fingerprint is not None and (not isinstance(model, dict)
                                    or model.get("fingerprint") != fingerprint):
        return "was rendered with another model than the manifest's"
    # Same fields, other bytes (changed spacing): a rerun must give the very same files.
    if raw != store_lib.json_bytes(record):
        return "altered (its fields are intact, but not its bytes)"
    return None


def _png_problem(png: bytes, record: Mapping, channel: int,
                 by_digest: Mapping[str, int]) -> str | None:
    """Why ``png`` is not the PNG that ``record`` describes (None when it is)."""
    digest = hashlib.sha256(png).hexdigest()
    if digest == record[store_lib.PNG_DIGEST]:
        return None
    other = by_digest.get(digest)
    if other is not None and other != channel:
        return f"holds the PNG of channel {other}"
    size = record.get("png_bytes")
    if isinstance(size, int) and len(png) < size and png.startswith(PNG_SIGNATURE):
        return f"truncated ({len(png)} of {size} bytes)"
    return "corrupted (does not match the SHA-256 in its record)"


def check_layer(store: store_lib.Store, folder: str, layer: str,
                channels: Iterable[int] | None = None, settings: Mapping | None = None,
                fingerprint: str | None = None) -> LayerCheck:
    """Checks the channels of ``layer`` in ``folder`` (renders or dataset examples).

    Args:
      store: the output directory.
      folder: ``store.RENDERS`` or ``store.EXAMPLES``.
      layer: the layer.
      channels: the channels that should be there (each one missing is a
        problem); None for those with a file there.
      settings: the run's settings, which render records must hold (None: not checked).
      fingerprint: the model's weights fingerprint render records must hold.
    """
    paths_of: Callable[[str, int], tuple[str, str]] = (
        store_lib.render_paths if folder == store_lib.RENDERS else store_lib.example_paths)
    names = store.list_dir(f"{folder}/{store_lib.layer_dir(layer)}")
    if channels is None:
        stems = (posixpath.splitext(name) for name in names)
        channels = {int(stem) for stem, ext in stems if ext in (".png", ".json")
                    and stem.isdigit()}
    wanted = {c: paths_of(layer, c) for c in sorted(set(channels))}
    present = [rel for pair in wanted.values() for rel in pair
               if posixpath.basename(rel) in names]
    files = _read_or_none(store, present)
    records = {c: _parse(raw) for c, (_, record_rel) in wanted.items()
               if (raw := files.get(record_rel)) is not None}
    # Which channel each PNG belongs to, to name the channel of a swapped PNG.
    by_digest = {r[store_lib.PNG_DIGEST]: c for c, r in records.items()
                 if r is not None and isinstance(r.get(store_lib.PNG_DIGEST), str)
                 and r.get("channel") == c}
    result = LayerCheck(records={}, problems=[])
    for channel, (png_rel, record_rel) in wanted.items():
        png, raw = files.get(png_rel), files.get(record_rel)
        record = records.get(channel)
        found: tuple[str, str, str]  # (path, kind, reason) of this channel's problem
        if png is None and raw is None:
            found = (png_rel, MISSING, "missing, and its record too")
        elif raw is None:
            found = (record_rel, INCOMPLETE, "missing: its PNG has no record (an interrupted "
                                             "write)")
        elif record is None:
            found = (record_rel, DAMAGED, "not a readable record (truncated or corrupted JSON)")
        elif (reason := _record_problem(record, raw, layer, channel, settings,
                                        fingerprint)) is not None:
            found = (record_rel, DAMAGED, reason)
        elif png is None:
            found = (png_rel, DAMAGED, "missing, though its record exists")
        elif (reason := _png_problem(png, record, channel, by_digest)) is not None:
            found = (png_rel, DAMAGED, reason)
        else:  # both files intact
            result.records[channel] = record
            continue
        result.problems.append(Problem(*found, layer, channel))
    return result


# ------------------------------------------------------------ --verify
@dataclasses.dataclass
class Report:
    """What :func:`verify_output` found.

    Attributes:
      store: the output directory.
      problems: every missing or damaged file.
      notes: what is worth knowing but not wrong (no gallery, a job still running).
      layers, channels: how many were checked.
    """

    store: store_lib.Store
    problems: list[Problem] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    layers: int = 0
    channels: int = 0

    @property
    def root(self) -> str:
        return self.store.root

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """One line per problem (``KIND PATH: REASON``, full paths), then the notes."""
        return ([f"{p.kind} {self.store.url(p.path)}: {p.reason}" for p in self.problems]
                + [f"note: {note}" for note in self.notes])


def _manifest_difference(manifest: Mapping, expected: Mapping) -> str:
    """A short description of how the stored manifest differs from the files."""
    for layer, entry in expected["layers"].items():
        stored = manifest["layers"].get(layer)
        if stored != entry:
            return f"layer {layer}: {stored} there, the files give {entry}"
    keys = sorted(k for k in set(manifest) | set(expected) if manifest.get(k) != expected.get(k))
    return f"{', '.join(keys)} differ from what the files give"


def _layer_counts(manifest: Mapping) -> dict[str, int]:
    """Layer -> channel count; AppendixError when the manifest is not shaped as lucid2 writes
    it (valid JSON can still be damaged)."""
    for key in ("settings", "model", "layers"):
        if not isinstance(manifest.get(key), dict):
            raise AppendixError(f"its {key!r} entry is missing or malformed")
    try:
        return {str(name): int(entry["channels"]) for name, entry in manifest["layers"].items()}
    except (KeyError, TypeError, ValueError) as error:
        raise AppendixError(f"its layers are malformed ({error!r})") from None


def _check_manifest(report: Report, manifest: Mapping, counts: Mapping[str, int],
                    rendered: Mapping[str, set[int]], examples: Mapping[str, set[int]] | None,
                    files_intact: bool) -> None:
    expected = store_lib.build_manifest(manifest["settings"], manifest["model"], counts,
                                        rendered, examples, manifest.get("dataset"))
    expected["lucid2_version"] = manifest.get("lucid2_version")
    expected = json.loads(json.dumps(expected))
    # With damaged or missing channels the manifest differs from the files anyway: those are
    # reported one by one.
    if files_intact and expected != manifest:
        report.problems.append(Problem(
            store_lib.MANIFEST, DAMAGED,
            f"does not match the files ({_manifest_difference(manifest, expected)})"))
    if not manifest.get("complete"):
        report.notes.append(f"{store_lib.MANIFEST} says the run is not finished.")


def _check_gallery(report: Report, store: store_lib.Store, manifest: Mapping,
                   checks: Mapping[str, tuple[LayerCheck, LayerCheck]]) -> None:
    """Compares the pages with what the manifest and the intact records give."""
    pages = [gallery.INDEX] + [store_lib.layer_page(layer) for layer in checks]
    top = store.list_dir("")
    if not any(page in top for page in pages):
        report.notes.append("No gallery pages (was the run made with --nogallery?).")
        return
    expected: dict[str, Callable[[], str]] = {
        gallery.INDEX: lambda: gallery.index_html(manifest)}
    for layer, (renders, examples) in checks.items():
        if renders.problems or examples.problems:
            # Its page shows the damaged channels as they were: only a rerun can rewrite it.
            report.notes.append(f"{store_lib.layer_page(layer)} not compared: its layer has "
                                "problems (a rerun rewrites it).")
            continue
        expected[store_lib.layer_page(layer)] = functools.partial(
            gallery.layer_page_html, manifest, layer, renders.records, examples.records)
    for page in pages:
        if page not in top:
            report.problems.append(Problem(page, MISSING, "gallery page missing"))
        elif page in expected and store.read_bytes(page) != expected[page]().encode("utf-8"):
            report.problems.append(Problem(
                page, DAMAGED, "differs from what the manifest and the records give"))


def verify_output(output_dir: str, backend: str | None = None) -> Report:
    """Checks a finished appendix in ``output_dir`` without rendering or loading a model.

    Reports every missing or damaged file: each layer's renders (and dataset
    examples) against their records, the manifest against the files, the
    gallery pages against what the manifest and the records give.
    """
    store = store_lib.open_store(output_dir, backend)
    report = Report(store)
    owner = lock_lib.read_owner(store)
    if owner is not None and lock_lib.is_stale(owner):
        report.notes.append(f"{lock_lib.LOCK_NAME} is left by an interrupted job "
                            f"({owner.describe()}); the next run takes it over.")
    elif owner is not None:
        report.notes.append(f"A job holds {lock_lib.LOCK_NAME} ({owner.describe()}); "
                            "its files may still change.")
    try:
        manifest = store_lib.read_manifest(store)
        if manifest is None:
            report.problems.append(Problem(store_lib.MANIFEST, MISSING,
                                           "missing: no appendix was started here"))
            return report
        counts = _layer_counts(manifest)
    except AppendixError as error:
        report.problems.append(Problem(store_lib.MANIFEST, DAMAGED, str(error)))
        return report
    fingerprint = manifest["model"].get("fingerprint")
    with_examples = any("examples" in entry for entry in manifest["layers"].values())
    checks = {}
    for layer, count in counts.items():
        renders = check_layer(store, store_lib.RENDERS, layer, range(count),
                              manifest["settings"], fingerprint)
        examples = check_layer(store, store_lib.EXAMPLES, layer,
                               range(count) if "examples" in manifest["layers"][layer] else None)
        checks[layer] = (renders, examples)
        report.problems += renders.problems + examples.problems
        report.layers += 1
        report.channels += count
    _check_manifest(report, manifest, counts,
                    {layer: set(c[0].records) for layer, c in checks.items()},
                    {layer: set(c[1].records) for layer, c in checks.items()}
                    if with_examples else None, files_intact=not report.problems)
    _check_gallery(report, store, manifest, checks)
    return report
