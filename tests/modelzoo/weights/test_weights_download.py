"""The real download code against a local HTTP server: retries, fallbacks, cache safety."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import os
import socket
import struct
import threading
import time

import numpy as np
import pytest
from weights_testdata import SMALL_SHAPES

from lucid2.modelzoo import weights as w
from lucid2.modelzoo.weights import download, resolve

HANG_S = 1.0
TEST_TIMEOUT_S = 0.25
POLL_S = 0.02
CACHE_NAME = resolve.CACHE_FILE_NAME


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    routes: dict  # path -> [body, list of behaviours, one consumed per request (last repeats)]
    requests: list

    def handle_error(self, request, client_address):
        pass  # clients that give up early (timeouts, digest checks) break pipes on purpose


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        server = self.server
        with server.lock:
            server.requests.append(self.path)
            route = server.routes.get(self.path)
            if route is not None:
                body, behaviours = route
                behaviour = behaviours.pop(0) if len(behaviours) > 1 else behaviours[0]
        if route is None or behaviour == "404":
            self.send_error(404)
            return
        if behaviour == "hang":
            time.sleep(HANG_S)
        if behaviour == "corrupt":
            body = bytearray(body)
            middle = len(body) // 2
            body[middle:middle + 64] = bytes(64)
            body = bytes(body)
        half = len(body) // 2
        self.send_response(200)
        if behaviour != "nolength":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour in ("truncated", "nolength"):
            self.wfile.write(body[:half])  # then the connection closes early
        elif behaviour == "reset":
            self.wfile.write(body[:half])
            self.wfile.flush()
            # SO_LINGER with a zero timeout makes close() send a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.wfile.write(body)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


@pytest.fixture
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.lock = threading.Lock()
    srv.routes, srv.requests = {}, []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": POLL_S},
                              daemon=True)
    thread.start()
    srv.url = lambda path: f"http://127.0.0.1:{srv.server_address[1]}{path}"
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def offline_policy(monkeypatch):
    """No real network, no user override, quick retries."""
    monkeypatch.delenv(resolve.ENV_VAR, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(download, "RETRY_DELAY_S", 0.0)
    monkeypatch.setattr(download, "TIMEOUT_S", 5.0)


def _serve_all(server, sources, zip_b="ok", pb_b="ok", h5_b="ok"):
    server.routes["/inception5h.zip"] = [sources.zip.read_bytes(), [zip_b]]
    server.routes["/InceptionV1.pb"] = [sources.pb.read_bytes(), [pb_b]]
    for name in sources.shapes:
        path = sources.hdf5 / "dump" / f"{name}.h5"
        server.routes[f"/dump/{name}.h5"] = [path.read_bytes(), [h5_b]]
    server.routes["/synsets.txt"] = [(sources.hdf5 / "synsets.txt").read_bytes(), ["ok"]]
    return (w.Source("zip", server.url("/inception5h.zip")),
            w.Source("graphdef", server.url("/InceptionV1.pb")),
            w.Source("hdf5", server.url("/dump/"), labels_url=server.url("/synsets.txt")))


def _assert_matches(weight_set, sources):
    assert set(weight_set.tensors) == set(sources.shapes)
    for name, array in sources.truth.items():
        np.testing.assert_array_equal(weight_set.tensors[name], array, err_msg=name)


def _cache_listing(cache):
    return sorted(os.listdir(cache)) if cache.exists() else []


def _count(server, path):
    return sum(1 for p in server.requests if p == path)


def test_download_then_cache_hit_without_requests(server, synthetic_sources, tmp_path):
    srcs = _serve_all(server, synthetic_sources)
    cache = tmp_path / "cache"
    first = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    _assert_matches(first, synthetic_sources)
    assert len(first.labels) == 1008 and first.labels[1] == synthetic_sources.labels[1]
    assert server.requests == ["/inception5h.zip"]
    assert _cache_listing(cache) == [CACHE_NAME]
    server.routes.clear()
    second = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    assert server.requests == ["/inception5h.zip"]  # nothing new
    _assert_matches(second, synthetic_sources)
    assert second.labels == first.labels
    assert str(cache / CACHE_NAME) in second.source


def test_404_falls_back_to_graphdef_then_hdf5(server, synthetic_sources, tmp_path):
    srcs = _serve_all(server, synthetic_sources, zip_b="404")
    cache = tmp_path / "cache"
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    _assert_matches(weight_set, synthetic_sources)
    assert "InceptionV1.pb" in weight_set.source and weight_set.labels is None
    assert _count(server, "/inception5h.zip") == 1  # a 404 is not retried

    srcs = _serve_all(server, synthetic_sources, zip_b="404", pb_b="404")
    cache = tmp_path / "cache2"
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    _assert_matches(weight_set, synthetic_sources)
    assert "/dump/" in weight_set.source
    assert weight_set.labels[:2] == tuple(synthetic_sources.labels[:2])  # from synsets.txt
    assert _cache_listing(cache) == [CACHE_NAME]
    # Only the requested tensors are downloaded from the per-tensor source.
    assert {p for p in server.requests if p.startswith("/dump/")} == {
        f"/dump/{name}.h5" for name in SMALL_SHAPES}


def test_truncated_download_is_retried_then_abandoned(server, synthetic_sources, tmp_path):
    srcs = _serve_all(server, synthetic_sources, zip_b="truncated")
    cache = tmp_path / "cache"
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    assert _count(server, "/inception5h.zip") == download.MAX_ATTEMPTS
    assert "InceptionV1.pb" in weight_set.source
    assert _cache_listing(cache) == [CACHE_NAME]
    _assert_matches(w.read_lucid2_file(cache / CACHE_NAME), synthetic_sources)


def test_connection_reset_mid_transfer_is_retried(server, synthetic_sources, tmp_path):
    srcs = _serve_all(server, synthetic_sources)
    server.routes["/inception5h.zip"][1] = ["reset", "ok"]
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path, sources=srcs)
    assert _count(server, "/inception5h.zip") == 2
    assert "inception5h.zip" in weight_set.source
    _assert_matches(weight_set, synthetic_sources)


@pytest.mark.parametrize("behaviour", ["corrupt", "nolength"])
def test_corrupt_downloads_fall_back_and_never_reach_the_cache(server, synthetic_sources,
                                                               tmp_path, behaviour):
    srcs = _serve_all(server, synthetic_sources, zip_b=behaviour, pb_b=behaviour)
    # Zeroed bytes inside a GraphDef's tensor data still parse: only a digest catches them.
    digest = hashlib.sha256(synthetic_sources.pb.read_bytes()).hexdigest()
    srcs = (srcs[0], dataclasses.replace(srcs[1], sha256=digest), srcs[2])
    cache = tmp_path / "cache"
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    assert "/dump/" in weight_set.source
    _assert_matches(weight_set, synthetic_sources)
    assert _cache_listing(cache) == [CACHE_NAME]


def test_timeouts_are_retried(server, synthetic_sources, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "TIMEOUT_S", TEST_TIMEOUT_S)
    srcs = _serve_all(server, synthetic_sources)
    server.routes["/inception5h.zip"][1] = ["hang", "ok"]
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path, sources=srcs)
    assert _count(server, "/inception5h.zip") == 2
    _assert_matches(weight_set, synthetic_sources)


def test_all_sources_failing_lists_each_and_leaves_cache_empty(server, synthetic_sources,
                                                               tmp_path):
    srcs = _serve_all(server, synthetic_sources, zip_b="404", pb_b="corrupt", h5_b="truncated")
    digest = hashlib.sha256(synthetic_sources.pb.read_bytes()).hexdigest()
    srcs = (srcs[0], dataclasses.replace(srcs[1], sha256=digest), srcs[2])
    cache = tmp_path / "cache"
    with pytest.raises(w.DownloadError) as info:
        w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    message = str(info.value)
    assert "HTTP 404" in message and "InceptionV1.pb" in message and "/dump/" in message
    assert resolve.ENV_VAR in message
    assert _cache_listing(cache) == []


def test_corrupt_cache_file_is_replaced(server, synthetic_sources, tmp_path):
    srcs = _serve_all(server, synthetic_sources)
    cache = tmp_path / "cache"
    w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    cached = cache / CACHE_NAME
    cached.write_bytes(cached.read_bytes()[:1000])  # e.g. a disk problem
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=cache, sources=srcs)
    assert _count(server, "/inception5h.zip") == 2
    _assert_matches(weight_set, synthetic_sources)
    _assert_matches(w.read_lucid2_file(cached), synthetic_sources)
    assert _cache_listing(cache) == [CACHE_NAME]


def test_cache_missing_a_tensor_is_rebuilt(server, synthetic_sources, tmp_path):
    srcs = _serve_all(server, synthetic_sources)
    subset = {"conv2d0_b": SMALL_SHAPES["conv2d0_b"]}
    w.load_weights("imagenet", subset, cache_dir=tmp_path, sources=srcs)
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path, sources=srcs)
    assert _count(server, "/inception5h.zip") == 2
    _assert_matches(weight_set, synthetic_sources)


def test_environment_variable_wins_without_network(server, synthetic_sources, tmp_path,
                                                   monkeypatch):
    srcs = _serve_all(server, synthetic_sources)
    monkeypatch.setenv(resolve.ENV_VAR, str(synthetic_sources.hdf5))
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path, sources=srcs)
    _assert_matches(weight_set, synthetic_sources)
    assert server.requests == [] and _cache_listing(tmp_path) == []
    monkeypatch.setenv(resolve.ENV_VAR, str(tmp_path / "missing.zip"))
    with pytest.raises(FileNotFoundError, match=resolve.ENV_VAR):
        w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path, sources=srcs)


def test_default_cache_dir_follows_keras_home(server, synthetic_sources, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert w.default_cache_dir() == tmp_path / "keras" / "models" / "lucid2"
    srcs = _serve_all(server, synthetic_sources)
    w.load_weights("imagenet", SMALL_SHAPES, sources=srcs)
    assert (tmp_path / "keras" / "models" / "lucid2" / CACHE_NAME).is_file()


def test_url_weights_load_without_caching(server, synthetic_sources, tmp_path):
    srcs = _serve_all(server, synthetic_sources)
    weight_set = w.load_weights(srcs[1].url, SMALL_SHAPES, cache_dir=tmp_path)
    _assert_matches(weight_set, synthetic_sources)
    assert _cache_listing(tmp_path) == []


def test_fetch_url_checks_content_length_and_leaves_nothing(server, tmp_path):
    server.routes["/f"] = [b"x" * 1000, ["truncated"]]
    target = tmp_path / "f"
    with pytest.raises(w.DownloadError, match="failed 3 times"):
        w.fetch_url(server.url("/f"), target)
    assert os.listdir(tmp_path) == []
    server.routes["/f"] = [b"x" * 1000, ["ok"]]
    assert w.fetch_url(server.url("/f"), target).read_bytes() == b"x" * 1000
    with pytest.raises(ValueError, match="http"):
        w.fetch_url("ftp://example.com/x", target)


def test_bad_sources_argument():
    with pytest.raises(TypeError, match="Source"):
        w.load_weights("imagenet", SMALL_SHAPES, sources=["http://x/y.zip"])
    with pytest.raises(ValueError, match="kind"):
        w.Source("tarball", "http://127.0.0.1/x")
    with pytest.raises(ValueError, match="64 hex digits"):
        w.Source("graphdef", "http://127.0.0.1/x.pb", sha256="abc")
    with pytest.raises(ValueError, match="single-file"):
        w.Source("hdf5", "http://127.0.0.1/dump/", sha256="0" * 64)


def test_fetch_url_verifies_sha256(server, tmp_path):
    body = b"weights" * 100
    server.routes["/f"] = [body, ["ok"]]
    with pytest.raises(w.DownloadError, match="SHA-256"):
        w.fetch_url(server.url("/f"), tmp_path / "f", sha256="0" * 64)
    assert os.listdir(tmp_path) == []
    good = hashlib.sha256(body).hexdigest()
    assert w.fetch_url(server.url("/f"), tmp_path / "f", sha256=good).read_bytes() == body


def test_unwritable_cache_only_warns(server, synthetic_sources, tmp_path, caplog):
    srcs = _serve_all(server, synthetic_sources)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    weight_set = w.load_weights("imagenet", SMALL_SHAPES, cache_dir=blocker / "cache",
                                sources=srcs)
    _assert_matches(weight_set, synthetic_sources)
    assert "Could not cache" in caplog.text
    assert sorted(os.listdir(tmp_path)) == ["not_a_folder"]
