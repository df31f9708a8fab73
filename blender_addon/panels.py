"""The "Style2Talker" sidebar tab, in the 3D View and in the Sequencer. Panels only draw state;
operators change it."""

from __future__ import annotations

import bpy

from . import compat, runtime
from .job_display import chars_per_line, wrap


def draw_panel(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    props = context.scene.style2talker
    layout.use_property_split = True
    layout.use_property_decorate = False

    inputs = layout.box()
    inputs.label(text="Inputs", icon="USER")
    inputs.prop(props, "photo_path", text="Photo")
    inputs.prop(props, "audio_path")
    if context.scene.sequence_editor is not None:
        inputs.prop_search(props, "audio_strip", context.scene.sequence_editor, compat.ALL_STRIPS, text="Strip",
                           icon="SOUND")
    inputs.prop(props, "emotion_preset")
    inputs.prop(props, "emotion_text")
    inputs.prop(props, "emotion_strength", slider=True)
    inputs.prop(props, "emotion_from_markers")
    inputs.prop(props, "seed")
    inputs.prop(props, "variants")
    inputs.prop(props, "frame_start", text="Start")

    style = layout.box()
    style.label(text="Art Style", icon="BRUSH_DATA")
    style.prop(props, "art_preset", text="Style")
    if props.art_preset == "PICTURE":
        style.prop(props, "art_path", text="Picture")
    style.prop(props, "art_strength", text="Strength", slider=True)
    style.prop(props, "resolution", text="Size")
    style.prop(props, "renderer")

    actions = layout.column(align=True)
    actions.scale_y = 1.3
    actions.operator("s2t.build_face_rig", icon="MESH_MONKEY")
    actions.operator("s2t.generate_animation", icon="SHAPEKEY_DATA")
    actions.operator("s2t.render_stylized", icon="RENDER_ANIMATION")

    if props.job_status != "IDLE":
        job = layout.box()
        running = runtime.active() is not None
        icon = {"RUNNING": "TIME", "DONE": "CHECKMARK", "FAILED": "ERROR", "CANCELLED": "CANCEL"}[props.job_status]
        job.label(text=props.job_kind, icon=icon)
        width = chars_per_line(context.region.width, context.preferences.view.ui_scale)
        for line in wrap(props.job_stage or props.job_status.title(), width):
            job.label(text=line)
        if running:
            row = job.row(align=True)
            row.prop(props, "job_progress", text="", slider=True)
            row.operator("s2t.cancel_job", text="", icon="X")
        if props.job_error:  # in full, over as many lines as it takes (also in the Info log)
            for line in wrap(props.job_error, width):
                job.label(text=line)

    files = layout.box()
    files.label(text="Files", icon="FILE_FOLDER")
    files.operator("s2t.import_face_rig", icon="IMPORT")
    row = files.row(align=True)
    row.operator("s2t.import_coefficients", icon="IMPORT")
    row.operator("s2t.export_coefficients", icon="EXPORT")


class S2T_PT_main(bpy.types.Panel):
    bl_idname = "S2T_PT_main"
    bl_label = "Style2Talker"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Style2Talker"

    def draw(self, context: bpy.types.Context) -> None:
        draw_panel(self.layout, context)


class S2T_PT_sequencer(bpy.types.Panel):
    bl_idname = "S2T_PT_sequencer"
    bl_label = "Style2Talker"
    bl_space_type = "SEQUENCE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Style2Talker"

    def draw(self, context: bpy.types.Context) -> None:
        draw_panel(self.layout, context)


CLASSES = (S2T_PT_main, S2T_PT_sequencer)
