"""Start and stop an ``s2t-backend`` on this machine for the add-on (no bpy here).

Blender's Python has no torch, so the backend runs as its own process, from the command the
user gives in the preferences (``s2t-backend`` on PATH, or a full path into the venv where
``pip install style2talker`` went). Its output goes to a log file whose tail is shown when
it dies, so "the backend would not start" always comes with the reason.

Nothing here waits on a process while Blender's UI runs: stopping sends SIGTERM and returns
(the backend cancels its jobs and exits in a few seconds), and a backend that replaces one
(the preferences changed) starts only once the old one has exited and freed the address;
:meth:`LocalBackend.pending` says when, and the poll timer asks it each tick.
"""

from __future__ import annotations

import atexit
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from .session import endpoint_problem


class LocalBackendError(RuntimeError):
    """The local backend could not be started, or it exited."""


class LocalBackend:
    """One backend process serving ``endpoint`` (a loopback address).

    ``replaces`` is the backend it takes over from (already asked to stop): :meth:`start`
    then only marks this one to be launched, and :meth:`pending` launches it once the old
    process has exited, killing the old one if it outlives ``grace`` seconds.
    """

    def __init__(self, command: str, endpoint: str, replaces: "LocalBackend | None" = None, grace: float = 5.0):
        problem = endpoint_problem(endpoint)
        if problem:
            raise LocalBackendError(problem)
        self.setting = command  # as the preferences give it, to tell when they changed
        self.command = shlex.split(command) + ["--bind", endpoint]
        self.endpoint = endpoint
        self.log_path = Path(tempfile.gettempdir()) / "s2t-blender-backend.log"
        self.process: subprocess.Popen | None = None
        self.grace = grace
        self.previous: subprocess.Popen | None = None  # a process that must exit before this one may bind
        self.previous_deadline = 0.0
        if replaces is not None and replaces.endpoint == endpoint:  # the address it must wait for
            self.previous, self.previous_deadline = replaces.previous, replaces.previous_deadline
        self.wanted = False  # start() was called while the previous process was still exiting
        self.answered = False  # a job has connected to it (the caller sets it; until then it may be importing)

    def pending(self) -> bool:
        """True while the previous process has not exited (never blocks); launches this one when it has.

        A previous process that outlives its ``grace`` period after SIGTERM is killed."""
        if self.previous is not None:
            if self.previous.poll() is None:
                if time.monotonic() < self.previous_deadline:
                    return True
                self.previous.kill()
                self.previous.wait()
            self.previous = None
            if self.wanted:
                self.start()
        return False

    def start(self) -> None:
        if self.running():
            return
        if self.pending():
            self.wanted = True
            return
        try:
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise LocalBackendError(f"cannot run {self.command[0]!r} ({exc.strerror or exc}); set the backend "
                                    "command in the add-on's preferences to the s2t-backend of your install") from None
        self.wanted, self.answered = False, False
        atexit.register(self.stop_and_wait)

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

    def stop(self) -> None:
        """Ask the backend to finish (SIGTERM: it cancels its jobs cleanly) and return at once.

        The exiting process becomes :attr:`previous`: a later :meth:`start` (of this backend,
        or of one that ``replaces`` it) waits for it, and kills it after the grace period."""
        self.wanted = False
        if self.running():
            self.process.terminate()
            self.previous, self.previous_deadline = self.process, time.monotonic() + self.grace
        self.process = None

    def stop_and_wait(self) -> None:
        """At Blender's exit: stop, wait out the grace period, then kill (no orphan is left)."""
        self.stop()
        if self.previous is not None and self.previous.poll() is None:
            try:
                self.previous.wait(max(0.0, self.previous_deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.previous.kill()
                self.previous.wait()


__all__ = ["LocalBackend", "LocalBackendError"]
