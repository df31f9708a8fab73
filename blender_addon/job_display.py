"""What the panel and the status bar show of a job, and when that changes (no bpy here).

Blender redraws a region only when asked, and with software OpenGL one sidebar redraw costs
0.2-0.5 s, so the poll timer must not ask on every tick. :class:`JobProgress` turns the
stream of :class:`~blender_addon.session.Update`s into a :class:`Shown` value: the timer
compares it with the last one and redraws only when the text or the whole percent changed.
A stage the backend gives no count for (loading models, fitting the photo, sampling) shows
how long it has lasted, so a cold backend's 20 s of loading reads as work going on, not a hang.
:class:`RedrawPacer` spaces the redraws by what they cost.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shown:
    """One state of the job display; two equal values draw the same pixels."""

    stage: str
    fraction: float  # the progress bar, 0-1, in whole percents
    counted: bool  # the backend gave done/total for this stage (else the text shows seconds)

    def line(self, label: str) -> str:
        """The status bar's line: ``Render Stylized - rendering frame 10/88 11%``."""
        return f"{label} - {self.stage}" + (f" {self.fraction:.0%}" if self.counted else "")


class JobProgress:
    """The shown stage and progress of one job, from its updates and the clock."""

    def __init__(self, stage: str, now: float):
        self.stage, self.fraction, self.counted = stage, 0.0, False
        self.stage_since = now

    def set_stage(self, stage: str, now: float) -> None:
        if stage != self.stage:
            self.stage, self.stage_since, self.counted = stage, now, False

    def apply(self, stage: str | None, progress: float | None, now: float) -> None:
        """Take one update's ``stage`` and ``progress`` (either may be ``None``: unchanged)."""
        if stage:
            self.set_stage(stage, now)
        if progress is not None:
            self.fraction, self.counted = min(max(progress, 0.0), 1.0), True

    def shown(self, now: float) -> Shown:
        stage = self.stage
        waited = int(now - self.stage_since)
        if not self.counted and waited >= 1:
            stage = f"{stage} ({waited} s)"
        return Shown(stage, int(self.fraction * 100) / 100, self.counted)


class RedrawPacer:
    """When the timer may next change what Blender shows (a redraw, frames added to a strip):
    at most every ``interval`` seconds, and never so often that the work this sets off takes
    more than ``share`` of the UI's time.

    That work's cost is seen as the lateness of the timer callback after the change (Blender
    redraws and re-evaluates between callbacks): under software OpenGL on a loaded machine
    it can take seconds, and changing on every frame would leave the UI no time for the user.
    """

    def __init__(self, interval: float = 0.25, share: float = 0.2, poll_interval: float = 0.03):
        self.interval, self.share, self.poll_interval = interval, share, poll_interval
        self.cost = 0.0  # seconds, a running estimate of one redraw
        self.last_redraw = float("-inf")
        self.last_tick: float | None = None
        self.after_redraw = False

    def tick(self, now: float) -> None:
        """A timer callback started at ``now``."""
        if self.after_redraw and self.last_tick is not None:
            late = max(0.0, now - self.last_tick - self.poll_interval)
            self.cost = late if self.cost == 0.0 else 0.5 * self.cost + 0.5 * late
        self.last_tick, self.after_redraw = now, False

    def due(self, now: float) -> bool:
        return now - self.last_redraw >= max(self.interval, self.cost / self.share)

    def redrawn(self, now: float) -> None:
        self.last_redraw, self.after_redraw = now, True


def chars_per_line(region_width: int, ui_scale: float = 1.0) -> int:
    """How many characters of Blender's UI font fit on one label line in a sidebar ``region_width`` px wide.

    About 6.5 px per character at scale 1 (wide letters and digits included), less the
    panel's margins; never fewer than 16, so a squeezed sidebar still shows whole words.
    """
    return max(16, int((region_width - 40 * ui_scale) / (6.5 * ui_scale)))


def wrap(text: str, width: int) -> list[str]:
    """``text`` over lines of at most ``width`` characters, broken between words; a word longer
    than a line (a path, an address) is cut into pieces, so nothing is ever hidden."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines


__all__ = ["JobProgress", "RedrawPacer", "Shown", "chars_per_line", "wrap"]
