"""Start and stop an ``s2t-backend`` on this machine for the add-on (no bpy here).

Blender's Python has no torch, so the backend runs as its own process, from the command the
user gives in the preferences (``s2t-backend`` on PATH, or a full path into the venv where
``pip install style2talker`` went). Its output goes to a log file whose tail is shown when
it dies, so "the backend would not start" always comes with the reason.
"""

from __future__ import annotations

import atexit
import shlex
import subprocess
import tempfile
from pathlib import Path


class LocalBackendError(RuntimeError):
    """The local backend could not be started, or it exited."""


class LocalBackend:
    """One backend process serving ``endpoint`` (a loopback address)."""

    def __init__(self, command: str, endpoint: str):
        self.setting = command  # as the preferences give it, to tell when they changed
        self.command = shlex.split(command) + ["--bind", endpoint]
        self.endpoint = endpoint
        self.log_path = Path(tempfile.gettempdir()) / "s2t-blender-backend.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if self.running():
            return
        try:
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise LocalBackendError(f"cannot run {self.command[0]!r} ({exc.strerror or exc}); set the backend "
                                    "command in the add-on's preferences to the s2t-backend of your install") from None
        atexit.register(self.stop)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check(self) -> None:
        """Raise with the log's last lines if the process has exited."""
        if self.process is not None and self.process.poll() is not None:
            tail = self.log_tail()
            code = self.process.returncode
            self.process = None
            raise LocalBackendError(f"the local backend exited with code {code}: {tail}")

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(no output)"

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the backend to finish (SIGTERM cancels its jobs cleanly), then kill it if it must."""
        if not self.running():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


__all__ = ["LocalBackend", "LocalBackendError"]
