"""The AWS emulator of the publish benchmarks: moto's server in a process of its own, on 127.0.0.1.

    server, port = start_emulator()      # as benchmarks/publish.py uses it
    ...
    server.stop()

    .venv/bin/python benchmarks/emulator.py --port 4599     # the same server in the foreground

Why a process of its own: in the benchmark's process the emulator shared one interpreter lock with the
counting proxy (benchmarks/proxy.py), and both tools' figures were then the emulator's speed, not the
tools'. Moto handles one S3 request in a few milliseconds of CPU; about a quarter of it was spent finding
the emulator's own module list on disk again (``moto.backends.list_of_moto_modules``: a directory listing
and ~90 stat calls, twice per request). The server here computes that list once; nothing else differs from
``moto_server`` (same application, same backends, threaded werkzeug server), so what a request does and
answers is unchanged.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int) -> None:
    import logging

    import moto.backends
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    modules = tuple(moto.backends.list_of_moto_modules())  # the installed package does not change while serving
    moto.backends.list_of_moto_modules = lambda: iter(modules)
    app = DomainDispatcherApplication(create_backend_app)
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


class Emulator:
    """A running emulator process; ``stop()`` ends it (and only it)."""

    def __init__(self, port: int):
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"the emulator did not start on 127.0.0.1:{port}") from None
                time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (user + system), 0 once it is gone."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_emulator() -> tuple[Emulator, int]:
    port = free_port()
    return Emulator(port), port


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    serve(ap.parse_args().port)
