"""The running backend job: polled from a ``bpy.app.timers`` callback on Blender's main thread.

The callback handles only what has arrived (``poll(0)``), applies it to Blender (keyframes,
a rig, frames into the Sequencer) and returns; it never waits on the network or on a
process, and handles messages for a few milliseconds at most. It asks Blender to redraw the
sidebars and the status bar only when what they show changed, at most four times a second
and less when redraws are slow (:mod:`job_display`): with software OpenGL on a busy machine a
sidebar redraw costs seconds, far more than the callback itself. When the job ends, its
outcome goes to Blender's Info log in full. Every callback's duration is recorded in
:data:`TIMINGS` as ``(job label, milliseconds)``, and each job's ticks and redraws in
:data:`REDRAWS`, for the responsiveness benchmark and the tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import bpy
from bpy.props import EnumProperty, StringProperty

from .job_display import JobProgress, RedrawPacer, Shown
from .local_backend import LocalBackend, LocalBackendError
from .session import BackendJob, Update

POLL_INTERVAL = 0.03  # seconds between callbacks while a job runs (about two UI frames)
TIMINGS: list[tuple[str, float]] = []
REDRAWS: list[tuple[str, int, int]] = []
"""``(job label, timer callbacks, redraws asked for)`` of each finished job."""


@dataclass
class ActiveJob:
    """A job with what to do with its updates (``on_update`` runs on the main thread)."""

    job: BackendJob
    label: str
    on_update: Callable[[Update], None]
    progress: JobProgress
    started: float = field(default_factory=time.monotonic)
    shown: Shown | None = None
    pacer: RedrawPacer = field(default_factory=lambda: RedrawPacer(poll_interval=POLL_INTERVAL))
    held_frames: list = field(default_factory=list)  # on disk, not yet in the strip (see tick)
    ticks: int = 0
    redraws: int = 0


_ACTIVE: ActiveJob | None = None
_LOCAL: LocalBackend | None = None


def active() -> ActiveJob | None:
    return _ACTIVE


def _serves(job: BackendJob) -> LocalBackend | None:
    """The local backend ``job`` talks to, if the add-on started it."""
    return _LOCAL if _LOCAL is not None and _LOCAL.endpoint == job.endpoint else None


def start(job: BackendJob, label: str, on_update: Callable[[Update], None]) -> None:
    """Make ``job`` the running job and poll it from a timer."""
    global _ACTIVE
    local = _serves(job)
    stage = "starting the local backend" if local is not None and not local.answered else "connecting"
    _ACTIVE = ActiveJob(job, label, on_update, JobProgress(stage, time.monotonic()))
    props = bpy.context.scene.style2talker
    props.job_status, props.job_kind, props.job_stage, props.job_progress, props.job_error = (
        "RUNNING", label, stage, 0.0, "")
    if not bpy.app.timers.is_registered(tick):
        bpy.app.timers.register(tick, first_interval=0.0)
    redraw()


def ensure_local_backend(command: str, endpoint: str) -> None:
    """Start (once) a backend on this machine; raises :class:`LocalBackendError` if it cannot.

    When the command or the address changed, the old backend is asked to stop and the new
    one starts once it has exited; neither waits here (the job waits in :func:`tick`)."""
    global _LOCAL
    if _LOCAL is None or (_LOCAL.setting, _LOCAL.endpoint) != (command, endpoint):
        replaced = _LOCAL
        if replaced is not None:
            replaced.stop()
        _LOCAL = LocalBackend(command, endpoint, replaces=replaced)
    _LOCAL.start()


def stop_local_backend() -> None:
    """Ask the local backend to stop (SIGTERM) without waiting; it is reaped at exit or by its successor."""
    if _LOCAL is not None:
        _LOCAL.stop()


def _poll(current: ActiveJob) -> Update:
    """One poll of the job, with the local backend's state folded in."""
    local = _serves(current.job)
    try:
        if local is not None and local.pending():
            return Update(stage="waiting for the previous local backend to exit")
    except LocalBackendError as exc:
        current.job.close()
        return Update(error=str(exc))
    update = current.job.poll()
    if local is None:
        return update
    if update.error is None:
        try:
            local.check()
        except LocalBackendError as exc:
            update.error = str(exc)
            current.job.close()
    if current.job.client is not None and current.job.client.server is not None:
        local.answered = True
    elif update.stage == "connecting" and not local.answered:
        update.stage = "starting the local backend"  # it imports PyTorch first: seconds, not a hang
    return update


def tick() -> float | None:
    """The timer callback: handle what arrived; ``None`` unregisters it when the job has ended."""
    global _ACTIVE
    started = time.perf_counter()
    current = _ACTIVE
    if current is None:
        return None
    current.ticks += 1
    now = time.monotonic()
    current.pacer.tick(now)
    update = _poll(current)
    # Frames join the strip in batches, paced like redraws: each change to the Sequencer's
    # strips makes Blender re-evaluate the scene once, which on a loaded machine with
    # software OpenGL stalls the UI as long as a redraw. They are on disk already.
    due = update.ended or current.pacer.due(now)
    current.held_frames += update.frames
    update.frames, current.held_frames = (current.held_frames, []) if due else ([], current.held_frames)
    try:
        current.on_update(update)
    except Exception as exc:  # a failure applying results must end the job visibly, not kill the timer silently
        update.error = f"applying the backend's results failed: {exc}"
        current.job.close()
    current.progress.apply(update.stage, update.progress, now)
    props = bpy.context.scene.style2talker
    new_data = bool(update.frames) or bool(update.takes) or update.rig is not None
    if update.ended:
        _finish(current, update, props, time.monotonic() - current.started)
        _ACTIVE = None
        redraw_now = True
    else:
        shown = current.progress.shown(now)
        redraw_now = new_data
        if shown != current.shown and due:  # the panel and the status bar would draw something new
            current.shown = shown
            props.job_stage, props.job_progress = shown.stage, shown.fraction
            redraw_now = True
    if redraw_now:
        current.redraws += 1
        current.pacer.redrawn(now)
        redraw(sequencer=new_data)
    TIMINGS.append((current.label, (time.perf_counter() - started) * 1000.0))
    del TIMINGS[:-2000]
    if update.ended:
        REDRAWS.append((current.label, current.ticks, current.redraws))
        del REDRAWS[:-100]
    return None if update.ended else POLL_INTERVAL


def _finish(current: ActiveJob, update: Update, props, elapsed: float) -> None:
    """The job's last state on the panel, and its outcome in the Info log."""
    if update.error is not None:
        props.job_status, props.job_error = "FAILED", update.error
        report("ERROR", f"{current.label} failed: {update.error}")
    elif update.cancelled:
        props.job_status, props.job_stage = "CANCELLED", "cancelled"
        report("WARNING", f"{current.label} cancelled")
    else:
        props.job_status, props.job_stage, props.job_progress = "DONE", f"done in {elapsed:.1f} s", 1.0
        report("INFO", f"{current.label} done in {elapsed:.1f} s")


def cancel() -> None:
    """Ask the backend to stop the running job; the job ends in :func:`tick` when it confirms."""
    if _ACTIVE is not None:
        _ACTIVE.job.cancel()
        _ACTIVE.progress.set_stage("cancelling", time.monotonic())
        bpy.context.scene.style2talker.job_stage = "cancelling"
        redraw()


def redraw(sequencer: bool = False) -> None:
    """Ask the sidebars and status bars (and, when strips changed, the Sequencers) to draw the
    new state; the 3D viewports are left alone, so a streaming job costs no viewport redraws."""
    window_manager = bpy.context.window_manager
    for window in window_manager.windows if window_manager else ():
        for area in window.screen.areas:
            if sequencer and area.type == "SEQUENCE_EDITOR":
                area.tag_redraw()
            elif area.type in ("VIEW_3D", "SEQUENCE_EDITOR"):
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()
        # The status bar is not one of screen.areas (it is a window's global area), so
        # tag_redraw cannot reach it; setting the workspace's status text redraws it.
        with bpy.context.temp_override(window=window):
            bpy.context.workspace.status_text_set(None)


def draw_status_bar(self, context: bpy.types.Context) -> None:
    """Appended to the status bar: the job's stage and progress while one runs."""
    if _ACTIVE is not None and _ACTIVE.shown is not None:
        self.layout.label(text=f"Style2Talker: {_ACTIVE.shown.line(_ACTIVE.label)}", icon="TIME")


def report(level: str, message: str) -> None:
    """``message`` into Blender's Info log (in full; the status bar shows its start), or to
    stdout in background mode, where there is no window (and no log) to put it in."""
    if bpy.app.background or bpy.context.window is None:
        print(f"Style2Talker {level.lower()}: {message}")
        return
    bpy.ops.s2t.report("INVOKE_DEFAULT", level=level, message=message)


class S2T_OT_report(bpy.types.Operator):
    """Report a job's outcome (used by the poll timer)"""

    bl_idname = "s2t.report"
    bl_label = "Style2Talker Report"
    bl_options = {"INTERNAL"}

    level: EnumProperty(items=[(name, name.title(), "") for name in ("INFO", "WARNING", "ERROR")])
    message: StringProperty()

    # The reports of an operator that Python runs are only printed; those of a modal operator
    # that the window manager runs reach the Info log. So report on the first timer event.
    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        window_manager = context.window_manager
        self.timer = window_manager.event_timer_add(0.0, window=context.window)
        window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self.timer)
        self.report({self.level}, self.message)
        return {"FINISHED"}


CLASSES = (S2T_OT_report,)


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
