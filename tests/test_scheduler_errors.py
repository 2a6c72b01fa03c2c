"""Bad `--scheduler` values: a usage error at once for a malformed address, exit 69 with one
clear line within the connect timeout for anything that is not a working Dask scheduler.

The command-line tests check exit codes and messages; how long the connection attempt takes
is timed in-process (:func:`_connect_seconds`), since a command's wall time also counts the
interpreter's start-up, which a loaded machine stretches to many seconds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.runner import DaskEvaluator, ExecutorUnavailable
from simulator.runner.executors import scheduler_address

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"


def _critmin(*args: str, cwd: Path, timeout: float = 60) -> tuple[subprocess.CompletedProcess,
                                                                   float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("CRITMIN_DEBUG", None)
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "simulator", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=timeout)
    return res, time.monotonic() - t0


def _connect_seconds(address: str, timeout: float) -> float:
    """Seconds until ``DaskEvaluator(address, timeout=timeout)`` gives up with
    ExecutorUnavailable."""
    t0 = time.monotonic()
    with pytest.raises(ExecutorUnavailable), DaskEvaluator(address, timeout=timeout):
        pass
    return time.monotonic() - t0


def _server(reply: bytes | None) -> Iterator[str]:
    """A TCP server on loopback that is not a Dask scheduler: it sends ``reply`` (or nothing)
    to every connection and keeps it open."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    conns: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conns.append(conn)
            if reply:
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    for c in conns:
        c.close()


@pytest.fixture
def junk_server() -> Iterator[str]:
    yield from _server(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>hi</html>" * 50)


@pytest.fixture
def silent_server() -> Iterator[str]:
    yield from _server(None)


@pytest.mark.parametrize(("address", "why"), [
    ("garbage", "no port number"),
    ("http://127.0.0.1:8786", "unknown scheme 'http://'"),
    ("tcp://10.0.0.5", "no port number"),
    ("tcp://:8786", "no host"),
    ("tcp://host:99999", "no port number"),
])
def test_malformed_scheduler_address_is_a_usage_error(tmp_path, address, why):
    res, seconds = _critmin("run", str(TINY), "--executor", "dask", "--scheduler", address,
                            "--out", "out", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "--scheduler" in res.stderr and why in res.stderr
    assert "tcp://HOST:PORT" in res.stderr and "Traceback" not in res.stderr
    assert seconds < 60 and not (tmp_path / "out").exists()  # (hang guard: no attempt is made,
    # as the in-process check shows)
    with pytest.raises(ValueError, match=why):
        scheduler_address(address)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_server_speaking_another_protocol_exits_69(tmp_path, junk_server, command):
    args = (["run", str(TINY)] if command == "run" else
            ["sweep", str(TINY), "--param", "demand.jp_ev.rate_tpy=800,1200"])
    res, seconds = _critmin(*args, "--executor", "dask", "--scheduler", junk_server,
                            "--connect-timeout", "3", "--out", "out", cwd=tmp_path)
    assert res.returncode == 69, res.stderr
    assert f"critmin: error: {junk_server} did not answer as a Dask scheduler" in res.stderr
    assert "Traceback" not in res.stderr and "MemoryError: Unable" not in res.stderr
    assert seconds < 60  # (a hang guard; the attempt itself is timed below)


def test_a_server_speaking_another_protocol_is_given_up_on_within_the_timeout(junk_server):
    assert _connect_seconds(junk_server, 3) < 3 + 3


def test_a_silent_server_exits_69_within_the_connect_timeout(tmp_path, silent_server):
    res, seconds = _critmin("run", str(TINY), "--executor", "dask", "--scheduler",
                            silent_server, "--connect-timeout", "2", "--out", "out",
                            cwd=tmp_path, timeout=40)
    assert res.returncode == 69, res.stderr
    assert f"no answer from Dask scheduler {silent_server} within 2 s" in res.stderr
    assert "--connect-timeout" in res.stderr and "Traceback" not in res.stderr
    assert seconds < 60  # (a hang guard: CONNECT_TIMEOUT is 10 s; timed in-process below)


def test_a_silent_server_is_given_up_on_within_the_connect_timeout(silent_server):
    seconds = _connect_seconds(silent_server, 2)
    assert 1.5 < seconds < 2 + 3


def test_nothing_listening_exits_69(tmp_path):
    with socket.socket() as s:  # a free port, closed again: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res, seconds = _critmin("run", str(TINY), "--executor", "dask", "--scheduler",
                            f"127.0.0.1:{port}", "--connect-timeout", "2", "--out", "out",
                            cwd=tmp_path)
    assert res.returncode == 69, res.stderr
    assert f"cannot connect to Dask scheduler tcp://127.0.0.1:{port}" in res.stderr
    assert seconds < 60  # (a hang guard; timed in-process below)


def test_nothing_listening_is_given_up_on_within_the_connect_timeout():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert _connect_seconds(f"tcp://127.0.0.1:{port}", 2) < 2 + 3


def test_a_scheduler_without_workers_is_unavailable():
    import distributed

    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        t0 = time.monotonic()
        with pytest.raises(ExecutorUnavailable, match="has no workers"), \
                DaskEvaluator(cluster.scheduler_address, timeout=1):
            pass
        assert time.monotonic() - t0 < 5
