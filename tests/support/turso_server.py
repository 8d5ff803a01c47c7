"""A real Turso sync server (`tursodb --sync-server` from npm turso@0.6.0) on 127.0.0.1, for tests."""
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# The native binary itself: the npm wrapper (.bin/turso) runs it as a child that outlives a kill.
TURSO_BIN = next(iter(sorted((ROOT / "node_modules" / "@tursodatabase").glob("cli-*/tursodb"))),
                 ROOT / "node_modules" / "@tursodatabase" / "cli-linux-x64-gnu" / "tursodb")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=15.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class TursoServer:
    def __init__(self, folder, name="primary"):
        if not TURSO_BIN.exists():
            pytest.fail(
                f"The Turso sync server is missing at {TURSO_BIN}: run `make test` (it runs npm install).",
                pytrace=False,
            )
        self.path = Path(folder) / f"{name}.db"
        self.log = Path(folder) / f"{name}.log"
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(TURSO_BIN), str(self.path), "--sync-server", f"127.0.0.1:{self.port}"], stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        wait_for_port(self.port, proc=self.proc)
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
