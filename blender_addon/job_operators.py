"""Operators that run backend jobs: Build Face Rig, Generate Animation, Render Stylized, Cancel.

Each one checks its inputs, reads the files it sends (inputs travel as bytes), submits the
job and returns at once; :mod:`runtime` polls the job from a timer and applies what arrives.
"""

from __future__ import annotations

from pathlib import Path

import bpy

from backend.client import BackendError, BackendGone
from backend.protocol import pack_coefficients, render_art

from . import character, core, preferences, retarget, rig, runtime, sequencer
from .local_backend import LocalBackendError
from .operators import poll_with_reason, read_active_take, take_problem, target_problem
from .session import BackendJob, Update, remove_stale_frames


def _file_bytes(path_property: str, what: str) -> tuple[bytes, str]:
    path = bpy.path.abspath(path_property)
    if not path_property:
        raise ValueError(f"choose the {what} first")
    try:
        return Path(path).read_bytes(), path
    except OSError as exc:
        raise ValueError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _start(kind: str, label: str, params: dict, buffers: dict, on_update, **job_options) -> None:
    """Start a local backend if the preferences say so, then submit; raises ValueError to report."""
    settings = preferences.settings()
    timeout = settings.connect_timeout
    if settings.autostart:
        try:
            runtime.ensure_local_backend(settings.backend_command, settings.backend_address)
        except LocalBackendError as exc:
            raise ValueError(str(exc)) from None
        timeout = max(timeout, 60.0)  # a cold backend imports its libraries first
    try:
        job = BackendJob(settings.backend_address, kind, params, buffers, curve_keys=settings.curve_keys or None,
                         connect_timeout=timeout, **job_options)
    except (BackendError, BackendGone, OSError) as exc:
        raise ValueError(f"cannot reach the backend at {settings.backend_address}: {exc}") from None
    runtime.start(job, label, on_update)


class _JobOperator:
    """What the job operators share: ``submit`` starts the job and returns the line to report;
    a bad input (ValueError) or an unreadable file (OSError) is reported and changes nothing."""

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            message = self.submit(context)
        except (ValueError, OSError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, message)
        return {"FINISHED"}


def _busy(cls) -> bool:
    return poll_with_reason(cls, "A Style2Talker job is running (Cancel it first)" if runtime.active() else "")


class S2T_OT_build_face_rig(_JobOperator, bpy.types.Operator):
    """Build the face rig from the backend: with an identity photo, shaped like the person and textured with the photo"""

    bl_idname = "s2t.build_face_rig"
    bl_label = "Build Face Rig"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _busy(cls)

    def submit(self, context: bpy.types.Context) -> str:
        props = context.scene.style2talker
        photo, photo_path = _file_bytes(props.photo_path, "identity photo") if props.photo_path else (None, "")
        buffers = {"photo": photo} if photo else {}
        name = f"Face ({Path(photo_path).stem})" if photo_path else None

        def on_update(update: Update) -> None:
            if update.rig is not None:
                scene = bpy.context.scene
                obj = rig.build_rig_object(scene, bpy.context.view_layer, update.rig, name, photo_path or None)
                if "identity" in update.rig_metadata:
                    obj["s2t_identity"] = update.rig_metadata["identity"]

        _start("rig", "Build Face Rig", {}, buffers, on_update)
        return "Building the face rig" + (f" from {Path(photo_path).name}" if photo_path else "")


class S2T_OT_generate_animation(_JobOperator, bpy.types.Operator):
    """Style-E: the speech and the emotion text become a new take of keyframes on the active face rig or character"""

    bl_idname = "s2t.generate_animation"
    bl_label = "Generate Animation"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _busy(cls) and poll_with_reason(cls, target_problem(context))

    def submit(self, context: bpy.types.Context) -> str:
        props = context.scene.style2talker
        obj_name = context.active_object.name
        on_character = not character.is_proxy(context.active_object)
        if on_character:  # a mapping or bone problem is said now, not when the take arrives
            character.check(context.active_object, retarget.ARKIT_CHANNELS)
        if props.audio_strip:
            audio_path, props.frame_start = sequencer.sound_strip_audio(context.scene, props.audio_strip)
            audio = Path(audio_path).read_bytes()
        else:
            audio, audio_path = _file_bytes(props.audio_path, "audio file")
        if not props.emotion_text.strip():
            raise ValueError("write the emotion in words (or pick a preset)")
        photo = _file_bytes(props.photo_path, "identity photo")[0] if props.photo_path else None
        buffers = {"audio": audio, **({"photo": photo} if photo else {})}
        params = {"text": props.emotion_text, "seed": props.seed, "strength": props.emotion_strength,
                  "variants": props.variants}
        if props.emotion_from_markers:
            fps = context.scene.render.fps / context.scene.render.fps_base
            markers = [(marker.frame, marker.name) for marker in context.scene.timeline_markers]
            track = core.emotion_track_from_markers(markers, props.frame_start, fps, props.emotion_text)
            if not track:
                raise ValueError("no timeline marker after the take's start is named with an emotion "
                                 "(rename a marker, e.g. 'She turns angry')")
            params["emotion_track"] = track
        base = props.emotion_text.split(",")[0].split(".")[0]
        take = rig.take_name(base)
        sound_added = bool(props.audio_strip)  # a strip's sound is already in the Sequencer

        def on_update(update: Update) -> None:
            nonlocal sound_added
            scene = bpy.context.scene
            target = bpy.data.objects[obj_name]
            for arrived in update.takes:  # several when the job has variants: one action each, named by seed
                seed = arrived.metadata.get("seed")
                name = take if params["variants"] == 1 else rig.take_name(f"{base} seed {seed}")
                if on_character:
                    try:
                        action = character.apply_take(scene, target, arrived, name)
                    except ValueError as exc:
                        target.s2t_character.message, target.s2t_character.message_is_error = str(exc), True
                        return
                else:
                    action = rig.apply_take(scene, target, arrived, name)
                scene.style2talker.last_take = action.name
                if not sound_added:  # one sound strip for all takes of the line
                    sequencer.add_sound_strip(scene, audio_path, action.name, scene.style2talker.frame_start)
                    sound_added = True

        _start("coefficients", "Generate Animation", params, buffers, on_update)
        if props.variants == 1:
            return f"Generating take {take!r}"
        last_seed = props.seed + props.variants - 1
        return f"Generating {props.variants} takes of {base.strip() or 'the line'!r} (seeds {props.seed}-{last_seed})"


class S2T_OT_render_stylized(_JobOperator, bpy.types.Operator):
    """Style-A: render the active rig's or character's take, hand edits included, into stylized frames in the Sequencer"""

    bl_idname = "s2t.render_stylized"
    bl_label = "Render Stylized"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _busy(cls) and poll_with_reason(cls, take_problem(context))

    def submit(self, context: bpy.types.Context) -> str:
        props = context.scene.style2talker
        obj = character.take_holder(context.active_object)
        photo, _ = _file_bytes(props.photo_path or obj.get("s2t_photo", ""), "identity photo")
        take, first_frame, name = read_active_take(context)
        fields, buffers = pack_coefficients(take)
        buffers["photo"] = photo
        picture = _file_bytes(props.art_path, "art picture")[0] if props.art_preset == "PICTURE" else None
        # the neural renderer takes a picture, or keeps the style it was trained on: no preset
        preset = None if props.art_preset in ("PICTURE", "NONE") or props.renderer == "NEURAL" else props.art_preset
        art_params, art_buffers = render_art(preset, picture, props.art_strength)
        buffers.update(art_buffers)
        params = {"coefficients": fields, "size": int(props.resolution), "renderer": props.renderer.lower(),
                  "encoding": "png", **art_params}
        folder, beside_blend = rig.frames_folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_frames(folder, take.num_frames)
        strip = sequencer.FrameStrip(context.scene, name, first_frame, take.num_frames)

        def on_update(update: Update) -> None:
            for _, path in update.frames:
                strip.add(path)

        _start("render", "Render Stylized", params, buffers, on_update, frames_dir=folder,
               total_frames=take.num_frames)
        where = f"//s2t/{folder.name}/" if beside_blend else f"{folder} (save the .blend to keep frames beside it)"
        return f"Rendering {take.num_frames} frames of {name!r} into {where}"


class S2T_OT_cancel_job(bpy.types.Operator):
    """Stop the running Style2Talker job (frames already made are kept)"""

    bl_idname = "s2t.cancel_job"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, "" if runtime.active() else "No job is running")

    def execute(self, context: bpy.types.Context) -> set[str]:
        runtime.cancel()
        return {"FINISHED"}


CLASSES = (S2T_OT_build_face_rig, S2T_OT_generate_animation, S2T_OT_render_stylized, S2T_OT_cancel_job)
