"""The take's sound and its stylized frames in the Video Sequence Editor.

Our strips are tagged with the take's name (``s2t_take``) so a re-render replaces only
them; the user's other strips are never touched.
"""

from __future__ import annotations

from pathlib import Path

import bpy

from . import compat
from .session import png_size

TAG = "s2t_take"


def sound_strips(scene: bpy.types.Scene) -> list:
    editor = scene.sequence_editor
    if editor is None:
        return []
    return [strip for strip in compat.sequencer_strips(scene) if strip.type == "SOUND"]


def sound_strip_audio(scene: bpy.types.Scene, name: str) -> tuple[str, int]:
    """(the sound file's absolute path, the strip's start frame) of sound strip ``name``."""
    strip = next((s for s in sound_strips(scene) if s.name == name), None)
    if strip is None:
        raise ValueError(f"there is no sound strip named {name!r} in the Sequencer")
    return bpy.path.abspath(strip.sound.filepath, library=strip.sound.library), int(strip.frame_start)


def _free_channel(scene: bpy.types.Scene, start: int, end: int, lowest: int) -> int:
    """The lowest channel from ``lowest`` up with nothing between ``start`` and ``end``."""
    busy = {s.channel for s in compat.sequencer_strips(scene)
            if s.frame_final_start < end and s.frame_final_end > start}
    channel = lowest
    while channel in busy:
        channel += 1
    return channel


def add_sound_strip(scene: bpy.types.Scene, path: str, take: str, frame_start: int) -> bpy.types.Sequence:
    """The take's audio in the sequencer, so playback lines lips up with speech."""
    remove_take_strips(scene, take, "SOUND")
    strips = compat.sequencer_strips(scene)
    strip = strips.new_sound(take, path, _free_channel(scene, frame_start, frame_start + 1, 1), frame_start)
    strip[TAG] = take
    return strip


class FrameStrip:
    """An image-sequence strip that grows as a render's frames land on disk (in order)."""

    def __init__(self, scene: bpy.types.Scene, take: str, frame_start: int, total: int):
        self.scene, self.take, self.frame_start, self.total = scene, take, frame_start, total
        self.strip = None
        self.count = 0

    def add(self, path: Path) -> None:
        """Append the next frame (``path``'s name must follow the previous one's)."""
        if self.strip is None:
            remove_take_strips(self.scene, self.take, "IMAGE")
            channel = _free_channel(self.scene, self.frame_start, self.frame_start + self.total, 2)
            self.strip = compat.sequencer_strips(self.scene).new_image(
                f"{self.take} stylized", str(path), channel, self.frame_start)
            self.strip[TAG] = self.take
            self.strip.directory = bpy.path.relpath(str(path.parent)) + "/" if bpy.data.filepath else \
                str(path.parent) + "/"
            fit_canvas(self.scene, path)
        else:
            self.strip.elements.append(path.name)
        self.count += 1


def fit_canvas(scene: bpy.types.Scene, frame: Path) -> None:
    """Make the scene's canvas the frames' size (512 x 512, not a 1920 x 1080 letterbox) when no
    strip but ours and sounds needs another, and zoom every Sequencer preview to fit it."""
    if all(strip.type == "SOUND" or strip.get(TAG) for strip in compat.sequencer_strips(scene)):
        scene.render.resolution_x, scene.render.resolution_y = png_size(frame)
    window_manager = bpy.context.window_manager
    for window in window_manager.windows if window_manager else ():
        for area in window.screen.areas:
            if area.type == "SEQUENCE_EDITOR" and area.spaces[0].view_type in {"PREVIEW", "SEQUENCER_PREVIEW"}:
                region = next(r for r in area.regions if r.type == "PREVIEW")
                with bpy.context.temp_override(window=window, area=area, region=region):
                    bpy.ops.sequencer.view_all_preview()


def remove_take_strips(scene: bpy.types.Scene, take: str, strip_type: str) -> int:
    """Remove this add-on's strips of ``take`` of one type; returns how many."""
    strips = compat.sequencer_strips(scene)
    ours = [s for s in strips if s.get(TAG) == take and s.type == strip_type]
    for strip in ours:
        strips.remove(strip)
    return len(ours)
