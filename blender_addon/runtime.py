"""The running backend job: polled from a ``bpy.app.timers`` callback on Blender's main thread.

The callback handles only what has arrived (``poll(0)``), applies it to Blender (keyframes,
a rig, frames into the Sequencer), updates the panel's status and returns; it never waits on
the network, and handles messages for a few milliseconds at most, so the UI stays
responsive while a job streams. Every callback's duration is recorded in :data:`TIMINGS`
as ``(job label, milliseconds)`` for the responsiveness benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import bpy

from .local_backend import LocalBackend, LocalBackendError
from .session import BackendJob, Update

POLL_INTERVAL = 0.03  # seconds between callbacks while a job runs (about two UI frames)
TIMINGS: list[tuple[str, float]] = []


@dataclass
class ActiveJob:
    """A job with what to do with its updates (``on_update`` runs on the main thread)."""

    job: BackendJob
    label: str
    on_update: Callable[[Update], None]
    started: float = field(default_factory=time.monotonic)


_ACTIVE: ActiveJob | None = None
_LOCAL: LocalBackend | None = None


def active() -> ActiveJob | None:
    return _ACTIVE


def start(job: BackendJob, label: str, on_update: Callable[[Update], None]) -> None:
    """Make ``job`` the running job and poll it from a timer."""
    global _ACTIVE
    _ACTIVE = ActiveJob(job, label, on_update)
    props = bpy.context.scene.style2talker
    props.job_status, props.job_kind, props.job_stage, props.job_progress, props.job_error = (
        "RUNNING", label, "connecting", 0.0, "")
    if not bpy.app.timers.is_registered(tick):
        bpy.app.timers.register(tick, first_interval=0.0)
    redraw()


def ensure_local_backend(command: str, endpoint: str) -> None:
    """Start (once) a backend on this machine; raises :class:`LocalBackendError` if it cannot."""
    global _LOCAL
    if _LOCAL is None or (_LOCAL.setting, _LOCAL.endpoint) != (command, endpoint):
        stop_local_backend()
        _LOCAL = LocalBackend(command, endpoint)
    _LOCAL.start()


def stop_local_backend() -> None:
    global _LOCAL
    if _LOCAL is not None:
        _LOCAL.stop()
        _LOCAL = None


def tick() -> float | None:
    """The timer callback: handle what arrived; ``None`` unregisters it when the job has ended."""
    global _ACTIVE
    started = time.perf_counter()
    current = _ACTIVE
    if current is None:
        return None
    update = current.job.poll()
    if update.error is None and _LOCAL is not None:
        try:
            _LOCAL.check()
        except LocalBackendError as exc:
            update.error = str(exc)
            current.job.close()
    props = bpy.context.scene.style2talker
    try:
        current.on_update(update)
    except Exception as exc:  # a failure applying results must end the job visibly, not kill the timer silently
        update.error = f"applying the backend's results failed: {exc}"
        current.job.close()
    if update.stage:
        props.job_stage = update.stage
    if update.progress is not None:
        props.job_progress = update.progress
    if update.ended:
        elapsed = time.monotonic() - current.started
        if update.error is not None:
            props.job_status, props.job_error = "FAILED", update.error
        elif update.cancelled:
            props.job_status, props.job_stage = "CANCELLED", "cancelled"
        else:
            props.job_status, props.job_stage = "DONE", f"done in {elapsed:.1f} s"
        _ACTIVE = None
    redraw(sequencer=bool(update.frames) or update.take is not None)
    TIMINGS.append((current.label, (time.perf_counter() - started) * 1000.0))
    del TIMINGS[:-2000]
    return None if update.ended else POLL_INTERVAL


def cancel() -> None:
    """Ask the backend to stop the running job; the job ends in :func:`tick` when it confirms."""
    if _ACTIVE is not None:
        _ACTIVE.job.cancel()
        bpy.context.scene.style2talker.job_stage = "cancelling"


def redraw(sequencer: bool = False) -> None:
    """Ask the sidebars and status bars (and, when strips changed, the Sequencers) to draw the
    new state; the 3D viewports are left alone, so a streaming job costs no viewport redraws."""
    window_manager = bpy.context.window_manager
    for window in window_manager.windows if window_manager else ():
        for area in window.screen.areas:
            if area.type == "STATUSBAR" or (sequencer and area.type == "SEQUENCE_EDITOR"):
                area.tag_redraw()
            elif area.type in ("VIEW_3D", "SEQUENCE_EDITOR"):
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()


def draw_status_bar(self, context: bpy.types.Context) -> None:
    """Appended to the status bar: the job's stage and progress while one runs."""
    props = context.scene.style2talker
    if _ACTIVE is not None:
        self.layout.label(text=f"Style2Talker: {props.job_kind} - {props.job_stage} {props.job_progress:.0%}",
                          icon="TIME")


def shutdown() -> None:
    """On unregister: drop the running job and stop the backend this add-on started."""
    global _ACTIVE
    if _ACTIVE is not None:
        _ACTIVE.job.cancel()
        _ACTIVE.job.close()
        _ACTIVE = None
    if bpy.app.timers.is_registered(tick):
        bpy.app.timers.unregister(tick)
    stop_local_backend()
