"""Where an appendix lives: atomic files on a local disk or any filesystem Beam supports.

Layout under the output directory (all paths relative, "/"-separated)::

    manifest.json                 settings, model fingerprint, layers, what is done
    renders/LAYER/0012.png        the render of channel 12 of LAYER
    renders/LAYER/0012.json       its record (written after the PNG: it marks it done)
    examples/LAYER/0012.png       the channel's top dataset examples (with --dataset)
    examples/LAYER/0012.json      their record
    index.html, LAYER.html        the gallery

Every file is written atomically: to a temporary name beside the target
(``.NAME.RANDOM.tmp``), then renamed. A job killed at any moment (SIGKILL
included) leaves complete files and, at worst, temporaries, which the next
run deletes before it starts. The record is only written once its PNG is
complete, and it carries the PNG's SHA-256 (``png_sha256``) and a SHA-256 of
its own fields (``record_sha256``): a channel counts as done only when both
match (see :mod:`.integrity`), so a truncated, corrupted or swapped file is
found and rendered again. Records without ``png_sha256`` (not written by
lucid2) cannot be checked and are rendered again; records written before
``record_sha256`` existed are checked by their PNG's checksum and their
fields (layer, channel, settings, model).

A full device (or quota) while writing raises :class:`OutputFull`: one line
with the path and the space needed, nothing partial left behind.
"""

from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import json
import os
import pathlib
import posixpath
import re
import secrets
from typing import Callable, Iterable, Mapping

from lucid2 import __version__
from lucid2.misc.io import atomic_write
from lucid2.misc.io import DISK_FULL_ERRNOS, format_bytes, free_bytes
from lucid2.recipes.appendix.plan import LEGACY_PRESET, AppendixError

MANIFEST = "manifest.json"
RENDERS = "renders"
EXAMPLES = "examples"
TEMP_SUFFIX = ".tmp"
TEMP_PATTERN = re.compile(r"^\..+\.[0-9a-f]{16}\.tmp$")
PROBE_NAME = ".lucid2-write-probe"
# Channel numbers in file names are zero-padded so that listings sort naturally.
CHANNEL_DIGITS = 4
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# Remote stores answer reads slowly but in parallel.
PARALLEL_READS = 16
JSON_INDENT = 1
# The checksums every record carries (see write_with_record).
PNG_DIGEST = "png_sha256"
RECORD_DIGEST = "record_sha256"
# How deep to look for the cause of a wrapped write error (Beam wraps its filesystems').
ERROR_CHAIN_DEPTH = 8
# How OutputFull's message starts, so that a Beam driver finds it in a worker's error text.
OUTPUT_FULL_LINE = re.compile(r"(?:No space left on the device of|Disk quota exceeded for) "
                              r"[^\n]*")


class OutputFull(AppendixError):
    """The output's device (or the user's quota) is full; the message is one line.

    Attributes:
      path: the file that could not be written.
      needed: its size in bytes.
      free: bytes free on its device (None when unknown, e.g. on an object store).
      quota: the quota is used up, rather than the device.
      remaining: about how many more bytes the rest of the run needs (None when unknown).
    """

    def __init__(self, path: str, needed: int, free: int | None, quota: bool = False,
                 remaining: int | None = None):
        self.path, self.needed, self.free = path, int(needed), free
        self.quota, self.remaining = quota, remaining
        super().__init__(self._message())

    def _message(self) -> str:
        what = (f"Disk quota exceeded for {self.path}" if self.quota
                else f"No space left on the device of {self.path}")
        free = (f"{format_bytes(self.free)} free" if self.free is not None
                else "the device is full")
        rest = (f"; the rest of the run needs about {format_bytes(self.remaining)}"
                if self.remaining is not None else "")
        return (f"{what}: writing {format_bytes(self.needed)} failed ({free}{rest}). "
                "Free some space and rerun the same command to resume.")

    def __reduce__(self):
        # Rebuilt from its fields, not its message, when a runner pickles a worker's error.
        return OutputFull, (self.path, self.needed, self.free, self.quota, self.remaining)

    def with_remaining(self, remaining: int) -> OutputFull:
        """The same error, telling how much more the rest of the run needs."""
        return OutputFull(self.path, self.needed, self.free, self.quota, remaining)


def disk_full_errno(error: BaseException) -> int | None:
    """ENOSPC or EDQUOT when ``error`` (or what it wraps) is a full device, else None."""
    seen = 0
    pending = [error]
    while pending and seen < ERROR_CHAIN_DEPTH:
        current = pending.pop(0)
        seen += 1
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return current.errno
        # Beam's BeamIOError keeps the per-file errors in exception_details.
        details = getattr(current, "exception_details", None)
        if isinstance(details, Mapping):
            pending += [e for e in details.values() if isinstance(e, BaseException)]
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return None


def output_full_line(text: str) -> str | None:
    """The disk-full message inside ``text`` (a worker's error as a Beam runner reports it)."""
    match = OUTPUT_FULL_LINE.search(text)
    return match.group(0) if match else None


def _free_bytes(path: str) -> int | None:
    """Free bytes on the device of a local ``path``; None for URLs or when unknown."""
    return None if has_scheme(path) else free_bytes(path)


def raise_if_full(error: BaseException, path: str, size: int) -> None:
    """Raises OutputFull (from None: the one line says it all) when ``error`` is a full device."""
    code = disk_full_errno(error)
    if code is not None:
        raise OutputFull(path, size, _free_bytes(path), quota=code == errno.EDQUOT) from None


class Store:
    """A directory of files addressed by relative "/"-separated paths."""

    root: str

    def read_bytes(self, rel: str) -> bytes:
        raise NotImplementedError

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Writes ``data`` atomically: readers see the old file (or none) or all of ``data``."""
        raise NotImplementedError

    def list_dir(self, rel: str) -> dict[str, int]:
        """Files directly in directory ``rel``: name -> size in bytes ({} if it is absent)."""
        raise NotImplementedError

    def delete(self, rels: Iterable[str]) -> None:
        raise NotImplementedError

    def exists(self, rel: str) -> bool:
        directory, name = posixpath.split(rel)
        return name in self.list_dir(directory)

    def url(self, rel: str) -> str:
        """The full path or URL of ``rel`` (for messages)."""
        raise NotImplementedError

    def read_json(self, rel: str):
        return json.loads(self.read_bytes(rel).decode("utf-8"))

    def write_json(self, rel: str, data, sort_keys: bool = True) -> None:
        """Writes ``data`` as indented JSON, atomically; keys sorted unless told otherwise."""
        self.write_bytes(rel, json_bytes(data, sort_keys))

    def read_many_json(self, rels: list[str]) -> list:
        """Several JSON files, read in parallel (listings of thousands of records on gs://)."""
        return map_parallel(self.read_json, rels)

    def read_many_bytes(self, rels: list[str]) -> list[bytes]:
        """Several files, read in parallel."""
        return map_parallel(self.read_bytes, rels)

    def ensure_writable(self) -> None:
        """Creates the root if needed and checks that a file can be written and removed there.

        Raises AppendixError saying what failed.
        """
        try:
            self.write_bytes(PROBE_NAME, b"probe\n")
            self.delete([PROBE_NAME])
        except OutputFull:
            raise  # already one line that says what to do
        except Exception as error:  # every filesystem raises its own types
            raise AppendixError(
                f"Cannot write to the output directory {self.root!r}: "
                f"{type(error).__name__}: {error}") from None

    def remove_temporaries(self, directories: Iterable[str]) -> list[str]:
        """Deletes the temporaries a killed run left in ``directories``; returns their paths."""
        stale = [posixpath.join(d, name) if d else name
                 for d in directories for name in self.list_dir(d) if TEMP_PATTERN.match(name)]
        if stale:
            self.delete(stale)
        return stale


def json_bytes(data, sort_keys: bool = True) -> bytes:
    """``data`` as the store writes JSON files: indented, keys sorted unless told otherwise."""
    return (json.dumps(data, indent=JSON_INDENT, sort_keys=sort_keys) + "\n").encode("utf-8")


def map_parallel(function: Callable, items: list) -> list:
    """``[function(item) for item in items]`` in threads (stores answer reads in parallel)."""
    if len(items) <= 1:
        return [function(item) for item in items]
    with concurrent.futures.ThreadPoolExecutor(PARALLEL_READS) as pool:
        return list(pool.map(function, items))


def _temp_name(name: str) -> str:
    return f".{name}.{secrets.token_hex(8)}{TEMP_SUFFIX}"


class LocalStore(Store):
    """A local directory; atomic writes are a temporary file, fsync and ``os.replace``."""

    def __init__(self, root: str | os.PathLike):
        self.root = os.path.abspath(os.fspath(root))

    def _path(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/")) if rel else self.root

    def url(self, rel: str) -> str:
        return self._path(rel)

    def read_bytes(self, rel: str) -> bytes:
        with open(self._path(rel), "rb") as handle:
            return handle.read()

    def write_bytes(self, rel: str, data: bytes) -> None:
        path = self._path(rel)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # Temporary files get this store's names, so a rerun can remove the
            # leftovers of a killed run.
            atomic_write(path, lambda temp: pathlib.Path(temp).write_bytes(data),
                         temp_name=_temp_name)
        except OSError as error:
            raise_if_full(error, path, len(data))
            raise

    def list_dir(self, rel: str) -> dict[str, int]:
        path = self._path(rel)
        try:
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            return {}
        return {e.name: e.stat().st_size for e in entries if e.is_file()}

    def delete(self, rels: Iterable[str]) -> None:
        for rel in rels:
            try:
                os.remove(self._path(rel))
            except FileNotFoundError:
                pass


class BeamStore(Store):
    """Any filesystem of ``apache_beam.io.filesystems.FileSystems`` (gs://, s3://, hdfs://, ...).

    Writes go to a temporary object, then are renamed: on object stores an
    object only appears once its upload completes, so a reader never sees a
    partial file under the final name.
    """

    def __init__(self, root: str):
        from apache_beam.io.filesystems import FileSystems

        self._fs = FileSystems
        self.root = root.rstrip("/")
        try:
            FileSystems.get_filesystem(self.root)
        except ValueError as error:
            raise AppendixError(f"No filesystem for {root!r}: {error}") from None

    def _path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def url(self, rel: str) -> str:
        return self._path(rel)

    def read_bytes(self, rel: str) -> bytes:
        with self._fs.open(self._path(rel)) as handle:
            return handle.read()

    def write_bytes(self, rel: str, data: bytes) -> None:
        from apache_beam.io.filesystem import CompressionTypes

        path = self._path(rel)
        directory, name = posixpath.split(path)
        temp = f"{directory}/{_temp_name(name)}"
        try:
            with self._fs.create(temp, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                handle.write(data)
            self._fs.rename([temp], [path])
        except BaseException as error:
            try:
                self._fs.delete([temp])
            except Exception:  # nothing to clean up, or the store is gone
                pass
            raise_if_full(error, path, len(data))
            raise

    def list_dir(self, rel: str) -> dict[str, int]:
        prefix = self._path(rel).rstrip("/") + "/"
        try:
            results = self._fs.match([prefix + "*"])
        except Exception:  # Beam raises BeamIOError when nothing matches
            return {}
        files = {}
        for result in results:
            for meta in result.metadata_list:
                name = meta.path[len(prefix):] if meta.path.startswith(prefix) else \
                    posixpath.basename(meta.path)
                if name and "/" not in name:
                    files[name] = int(meta.size_in_bytes)
        return files

    def delete(self, rels: Iterable[str]) -> None:
        paths = [self._path(r) for r in rels]
        if paths:
            self._fs.delete(paths)


def has_scheme(path: str) -> bool:
    """Whether ``path`` is a URL such as ``gs://bucket/dir`` (not a local path)."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", path) is not None


def open_store(output_dir: str | os.PathLike, backend: str | None = None) -> Store:
    """The store for ``output_dir``: local paths on disk, URLs through Beam's FileSystems.

    Args:
      output_dir: a local directory or a URL (``gs://bucket/appendix``).
      backend: "local" or "beam" to force one (tests use Beam on local paths).
    """
    text = os.fspath(output_dir)
    if not text:
        raise AppendixError("The output directory must not be empty.")
    if backend is None:
        backend = "beam" if has_scheme(text) and not text.startswith("file://") else "local"
        if text.startswith("file://"):
            text = text[len("file://"):]
    if backend == "local":
        return LocalStore(text)
    if backend != "beam":
        raise AppendixError(f"backend must be 'local' or 'beam', got {backend!r}.")
    try:
        import apache_beam  # noqa: F401
    except ImportError:
        raise AppendixError(
            f"The output directory {text!r} is a URL; writing there needs Apache Beam's "
            "filesystems: pip install 'lucid2-tf[beam]' (and 'apache-beam[gcp]' for gs://)."
        ) from None
    return BeamStore(text)


# --------------------------------------------------------------------- layout
def layer_dir(layer: str) -> str:
    """A file-system-safe directory name for ``layer`` (itself when already safe)."""
    if SAFE_NAME.match(layer):
        return layer
    digest = hashlib.sha1(layer.encode("utf-8")).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", layer).lstrip(".") + "-" + digest


def channel_stem(channel: int) -> str:
    return f"{channel:0{CHANNEL_DIGITS}d}"


def render_paths(layer: str, channel: int) -> tuple[str, str]:
    """(PNG, record) of a channel's render."""
    base = f"{RENDERS}/{layer_dir(layer)}/{channel_stem(channel)}"
    return base + ".png", base + ".json"


def example_paths(layer: str, channel: int) -> tuple[str, str]:
    """(PNG grid, record) of a channel's top dataset examples."""
    base = f"{EXAMPLES}/{layer_dir(layer)}/{channel_stem(channel)}"
    return base + ".png", base + ".json"


def layer_page(layer: str) -> str:
    """The gallery page of ``layer``, at the top of the output directory."""
    return f"{layer_dir(layer)}.html"


def work_directories(layers: Iterable[str]) -> list[str]:
    """Every directory a run writes into (for cleaning up temporaries)."""
    dirs = [""]
    for layer in layers:
        dirs += [f"{RENDERS}/{layer_dir(layer)}", f"{EXAMPLES}/{layer_dir(layer)}"]
    return dirs


def _done_channels(store: Store, folder: str, layer: str) -> set[int]:
    files = store.list_dir(f"{folder}/{layer_dir(layer)}")
    done = set()
    for name in files:
        stem, ext = posixpath.splitext(name)
        if ext == ".json" and stem.isdigit() and f"{stem}.png" in files:
            done.add(int(stem))
    return done


def rendered_channels(store: Store, layers: Iterable[str]) -> dict[str, set[int]]:
    """Per layer, the channels whose render and record both exist."""
    return {layer: _done_channels(store, RENDERS, layer) for layer in layers}


def example_channels(store: Store, layers: Iterable[str]) -> dict[str, set[int]]:
    """Per layer, the channels whose dataset examples exist."""
    return {layer: _done_channels(store, EXAMPLES, layer) for layer in layers}


def record_digest(record: Mapping) -> str:
    """SHA-256 of a record's fields but its own digest, as canonical JSON (sorted keys, no
    spaces): stable whatever the file's formatting, and Python's floats read back exactly."""
    fields = {k: v for k, v in record.items() if k != RECORD_DIGEST}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_with_record(store: Store, png_path: str, png: bytes, record_path: str,
                      record: Mapping) -> None:
    """Writes a PNG, then its record (with the PNG's size and SHA-256, and its own SHA-256),
    both atomically.

    The order matters: a record exists only once its PNG is complete.
    """
    store.write_bytes(png_path, png)
    full = {**record, "png": posixpath.basename(png_path), "png_bytes": len(png),
            PNG_DIGEST: hashlib.sha256(png).hexdigest()}
    full[RECORD_DIGEST] = record_digest(full)
    store.write_json(record_path, full)


# ------------------------------------------------------------------- manifest
MANIFEST_FORMAT = 1
MANIFEST_TOOL = "lucid2.appendix"


def write_manifest(store: Store, manifest: Mapping) -> None:
    """Writes the manifest atomically, keeping its layers in rendering order."""
    store.write_json(MANIFEST, dict(manifest), sort_keys=False)


def read_manifest(store: Store) -> dict | None:
    """The manifest of an earlier run, or None; AppendixError when it is not one of ours."""
    if not store.exists(MANIFEST):
        return None
    try:
        manifest = store.read_json(MANIFEST)
    except (ValueError, UnicodeDecodeError) as error:
        raise AppendixError(
            f"{store.url(MANIFEST)} is not valid JSON ({error}); it was not written by "
            f"{MANIFEST_TOOL}. Use another --output_dir.") from None
    if not isinstance(manifest, dict) or manifest.get("tool") != MANIFEST_TOOL:
        raise AppendixError(f"{store.url(MANIFEST)} was not written by {MANIFEST_TOOL}; use "
                            "another --output_dir.")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise AppendixError(
            f"{store.url(MANIFEST)} has format {manifest.get('format')!r}; this version of "
            f"lucid2 reads format {MANIFEST_FORMAT}. Use another --output_dir.")
    return manifest


def _differences(old: Mapping, new: Mapping) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in keys
            if old.get(k) != new.get(k)]


def check_settings(manifest: Mapping, settings: Mapping, store: Store) -> None:
    """Raises AppendixError when an earlier run in ``store`` used other settings (a
    manifest from before presets existed records Lucid's recipe)."""
    old = {"preset": LEGACY_PRESET, **manifest.get("settings", {})}
    differences = _differences(old, settings)
    if differences:
        hint = (f" (e.g. --preset={old['preset']})"
                if old["preset"] != settings.get("preset") else "")
        raise AppendixError(
            f"{store.root} holds an appendix rendered with other settings "
            f"({'; '.join(differences)}). Resume it with the same settings{hint}, or choose "
            "another --output_dir.")


def check_model(manifest: Mapping, model: Mapping, store: Store) -> None:
    """Raises AppendixError when an earlier run in ``store`` used another model or weights.

    Models are compared by the fingerprint of their weights, so the same
    weights loaded from another place are accepted.
    """
    old = manifest.get("model", {})
    if old.get("fingerprint") != model.get("fingerprint"):
        raise AppendixError(
            f"{store.root} holds an appendix rendered with another model: "
            f"{old.get('name')!r} (--model={old.get('spec')!r}, --weights={old.get('weights')!r}, "
            f"weights fingerprint {str(old.get('fingerprint'))[:12]}); now "
            f"{model.get('name')!r} (--model={model.get('spec')!r}, "
            f"--weights={model.get('weights')!r}, fingerprint "
            f"{str(model.get('fingerprint'))[:12]}). Use the same model and weights, or choose "
            "another --output_dir.")


def build_manifest(settings: Mapping, model: Mapping, layer_channels: Mapping[str, int],
                   rendered: Mapping[str, set[int]],
                   examples: Mapping[str, set[int]] | None = None,
                   dataset: str | None = None) -> dict:
    """The manifest: settings, model, and per layer its channel count and what is done."""
    layers = {}
    complete = True
    for layer, count in layer_channels.items():
        done = rendered.get(layer, set())
        missing = [c for c in range(count) if c not in done]
        entry = {"channels": count, "rendered": count - len(missing), "missing": missing,
                 "dir": layer_dir(layer), "page": layer_page(layer)}
        if examples is not None:
            have = examples.get(layer, set())
            entry["examples"] = sum(1 for c in range(count) if c in have)
            complete = complete and entry["examples"] == count
        complete = complete and not missing
        layers[layer] = entry
    manifest = {"format": MANIFEST_FORMAT, "tool": MANIFEST_TOOL, "lucid2_version": __version__,
                "settings": dict(settings), "model": dict(model), "layers": layers,
                "complete": complete}
    if dataset is not None:
        manifest["dataset"] = dataset
    return manifest
