"""The real download code against a local HTTP server: retries, fallbacks, cache safety,
the overall deadline and progress."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import http.server
import io
import os
import socket
import struct
import threading
import time
import types

import numpy as np
import pytest
from weights_testdata import SMALL_SHAPES

from lucid2.modelzoo import InceptionV1
from lucid2.modelzoo import weights as w
from lucid2.modelzoo.weights import detect, download, resolve

HANG_S = 1.0
TEST_TIMEOUT_S = 0.25
POLL_S = 0.02
CACHE_NAME = resolve.CACHE_FILE_NAME
# "slow": the body in SLOW_PIECES pieces, SLOW_PIECE_DELAY_S apart (about 2 s in all).
SLOW_PIECES = 20
SLOW_PIECE_DELAY_S = 0.1
SLOW_BODY = bytes(range(256)) * 400
SHORT_DEADLINE_S = 0.5
# What a deadline may overshoot on a loaded 2-core machine (thread start, a last read).
DEADLINE_SLACK_S = 2.0
FAST_PROGRESS_LINE_S = 0.05
# "stall": a piece at once, another after STALL_SECOND_PIECE_S, then silence for STALL_S.
STALL_PIECE_BYTES = 10
STALL_DEADLINE_S = 2.0
STALL_SECOND_PIECE_S = 1.8
STALL_S = 5.0


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
        elif behaviour == "stall":
            self.wfile.write(body[:STALL_PIECE_BYTES])
            self.wfile.flush()
            time.sleep(STALL_SECOND_PIECE_S)
            self.wfile.write(body[STALL_PIECE_BYTES:2 * STALL_PIECE_BYTES])
            self.wfile.flush()
            time.sleep(STALL_S)
        elif behaviour == "slow":
            piece = -(-len(body) // SLOW_PIECES)
            for start in range(0, len(body), piece):
                self.wfile.write(body[start:start + piece])
                self.wfile.flush()
                time.sleep(SLOW_PIECE_DELAY_S)
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


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: a black-holing proxy or firewall."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(POLL_S)
    accepted, stop = [], threading.Event()

    def accept_forever():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)  # held open, never read, never written

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    yield types.SimpleNamespace(url=lambda path: f"http://127.0.0.1:{port}{path}",
                                accepted=accepted)
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def _silent_sources(silent_server):
    return (w.Source("zip", silent_server.url("/inception5h.zip")),
            w.Source("graphdef", silent_server.url("/InceptionV1.pb")),
            w.Source("hdf5", silent_server.url("/dump/")))


@pytest.fixture(autouse=True)
def offline_policy(monkeypatch):
    """No real network, no user override, quick retries."""
    monkeypatch.delenv(resolve.ENV_VAR, raising=False)
    monkeypatch.delenv("LUCID2_DOWNLOAD_TIMEOUT", raising=False)
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


# ------------------------------------------- item 1: one deadline, progress, offline advice
def _progress_module():
    # Imported here, not at the top: this file must still load (and its other tests run)
    # on a lucid2 without it.
    return importlib.import_module("lucid2.modelzoo.weights.progress")


def _assert_offline_advice(message):
    assert resolve.ENV_VAR in message
    for form in detect.ACCEPTED_FORMS:
        assert form in message
    assert "LUCID2_DOWNLOAD_TIMEOUT" in message


def test_imagenet_download_behind_a_silent_network_fails_within_the_deadline(
        silent_server, tmp_path):
    # Without the deadline: 3 sources x 3 attempts x TIMEOUT_S (5 s here, 60 s by default).
    started = time.monotonic()
    with pytest.raises(w.DownloadError) as info:
        w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path,
                       sources=_silent_sources(silent_server),
                       download_timeout_s=SHORT_DEADLINE_S, download_progress=False)
    elapsed = time.monotonic() - started
    assert SHORT_DEADLINE_S * 0.9 <= elapsed < SHORT_DEADLINE_S + DEADLINE_SLACK_S
    message = str(info.value)
    assert f"{SHORT_DEADLINE_S:g} s download time limit" in message
    assert "inception5h.zip (zip)" in message and "before the server sent any data" in message
    assert "not tried:" in message and "InceptionV1.pb (graphdef)" in message
    _assert_offline_advice(message)
    assert len(silent_server.accepted) == 1  # no retry, no other source once the time is spent
    assert _cache_listing(tmp_path) == []


def test_download_timeout_environment_variable_bounds_the_download(silent_server, tmp_path,
                                                                   monkeypatch):
    for bad in ("soon", "0", "-3", "nan"):
        monkeypatch.setenv("LUCID2_DOWNLOAD_TIMEOUT", bad)
        with pytest.raises(ValueError, match=rf"\$LUCID2_DOWNLOAD_TIMEOUT.*> 0.*{bad!r}"):
            download.deadline_seconds()
    for bad in (0, -1.0, float("nan"), "60", True):
        with pytest.raises(ValueError, match=r"download_timeout_s must be .* > 0"):
            download.deadline_seconds(bad)
    monkeypatch.delenv("LUCID2_DOWNLOAD_TIMEOUT")
    assert download.deadline_seconds() == download.DEFAULT_DEADLINE_S == 60.0
    monkeypatch.setenv("LUCID2_DOWNLOAD_TIMEOUT", "inf")
    assert download.deadline_seconds() == float("inf")
    assert download.deadline_seconds(7) == 7.0  # the keyword wins over the variable
    monkeypatch.setenv("LUCID2_DOWNLOAD_TIMEOUT", str(SHORT_DEADLINE_S))
    started = time.monotonic()
    with pytest.raises(w.DownloadError, match="download time limit"):
        w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path,
                       sources=_silent_sources(silent_server)[:1], download_progress=False)
    assert time.monotonic() - started < SHORT_DEADLINE_S + DEADLINE_SLACK_S


def test_inceptionv1_imagenet_behind_a_silent_network_fails_fast(silent_server, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(resolve, "DEFAULT_SOURCES", _silent_sources(silent_server))
    started = time.monotonic()
    with pytest.raises(w.DownloadError) as info:
        InceptionV1(weights="imagenet", cache_dir=tmp_path, download_timeout_s=SHORT_DEADLINE_S,
                    download_progress=False)
    assert time.monotonic() - started < SHORT_DEADLINE_S + DEADLINE_SLACK_S
    _assert_offline_advice(str(info.value))


def test_slow_download_shows_progress_and_completes_within_the_deadline(server, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(_progress_module(), "LINE_INTERVAL_S", FAST_PROGRESS_LINE_S)
    server.routes["/slow.bin"] = [SLOW_BODY, ["slow"]]
    log = io.StringIO()
    target = w.fetch_url(server.url("/slow.bin"), tmp_path / "slow.bin", deadline=30.0,
                         progress=w.DownloadProgress(log, interactive=False))
    assert target.read_bytes() == SLOW_BODY
    lines = log.getvalue().splitlines()
    assert len(lines) >= 3  # the start, some lines while it trickles, the end
    assert all(line.startswith("Downloading slow.bin: ") for line in lines)
    assert lines[0].endswith("0.0 MB of 0.1 MB (0%)")
    assert "(100%)" in lines[-1] and "MB/s" in lines[-1]


def test_slow_download_stops_at_the_deadline_even_while_bytes_arrive(server, tmp_path):
    # Every read gets data well within TIMEOUT_S: only the overall deadline can stop this.
    server.routes["/slow.bin"] = [SLOW_BODY, ["slow"]]
    started = time.monotonic()
    with pytest.raises(w.DeadlineExceeded) as info:
        w.fetch_url(server.url("/slow.bin"), tmp_path / "slow.bin", deadline=SHORT_DEADLINE_S)
    assert time.monotonic() - started < SHORT_DEADLINE_S + DEADLINE_SLACK_S
    message = str(info.value)
    assert f"of {len(SLOW_BODY)} bytes" in message and "LUCID2_DOWNLOAD_TIMEOUT" in message
    assert os.listdir(tmp_path) == []  # no .part left behind


def test_server_that_stalls_late_in_the_deadline_is_stopped_at_the_deadline(server, tmp_path):
    # The second piece arrives just before the deadline: the read after it may only wait for
    # what is left (0.2 s), not for a timeout fixed at connection time (2 s, ending at 3.8 s).
    server.routes["/stall.bin"] = [SLOW_BODY, ["stall"]]
    started = time.monotonic()
    with pytest.raises(w.DeadlineExceeded, match=f"after receiving {2 * STALL_PIECE_BYTES} of"):
        w.fetch_url(server.url("/stall.bin"), tmp_path / "stall.bin", deadline=STALL_DEADLINE_S)
    elapsed = time.monotonic() - started
    assert STALL_DEADLINE_S * 0.9 <= elapsed < STALL_SECOND_PIECE_S + STALL_DEADLINE_S - 0.5


def test_download_progress_on_a_terminal_is_one_redrawn_bar(server, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    server.routes["/f"] = [SLOW_BODY, ["slow"]]
    terminal = Terminal()
    shown = w.DownloadProgress(terminal)
    w.fetch_url(server.url("/f"), tmp_path / "f", progress=shown)
    shown.close()
    progress = _progress_module()
    text = terminal.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, redrawn with \r
    final = text.rstrip().split("\r")[-1]
    assert final.startswith("f [" + progress.BAR_DONE * progress.BAR_WIDTH + "] ")
    assert "(100%)" in final


def test_download_progress_lines_every_few_seconds_and_unknown_length():
    clock = types.SimpleNamespace(now=0.0)
    log = io.StringIO()
    shown = w.DownloadProgress(log, interactive=False, clock=lambda: clock.now)
    shown.start("a.zip", None)
    for step in range(1, 13):  # 12 s, 1 MB a second
        clock.now = float(step)
        shown.update(step * 1_000_000)
    shown.finish()
    lines = log.getvalue().splitlines()
    # At 0 s, 5 s and 10 s, then the end: one line per LINE_INTERVAL_S, not one per read.
    assert lines == ["Downloading a.zip: 0.0 MB (size unknown)",
                     "Downloading a.zip: 5.0 MB (size unknown), 1.0 MB/s",
                     "Downloading a.zip: 10.0 MB (size unknown), 1.0 MB/s",
                     "Downloading a.zip: 12.0 MB (size unknown), 1.0 MB/s"]


def test_load_weights_shows_progress_unless_quiet(server, synthetic_sources, tmp_path, capsys):
    srcs = _serve_all(server, synthetic_sources)
    w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path / "a", sources=srcs)
    assert "Downloading inception5h.zip: " in capsys.readouterr().err
    w.load_weights("imagenet", SMALL_SHAPES, cache_dir=tmp_path / "b", sources=srcs,
                   download_progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="download_progress"):
        w.load_weights("imagenet", SMALL_SHAPES, sources=srcs, download_progress="no")
