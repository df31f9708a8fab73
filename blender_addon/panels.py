"""The 3D View sidebar tab "Style2Talker". Panels only draw state; operators change it."""

from __future__ import annotations

import bpy


class S2T_PT_main(bpy.types.Panel):
    bl_idname = "S2T_PT_main"
    bl_label = "Style2Talker"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Style2Talker"

    def draw(self, context: bpy.types.Context) -> None:
        props = context.scene.style2talker
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False

        inputs = layout.box()
        inputs.label(text="Inputs", icon="USER")
        inputs.prop(props, "photo_path")
        inputs.prop(props, "audio_path")
        inputs.prop(props, "emotion_text")
        inputs.prop(props, "emotion_strength", slider=True)
        inputs.prop(props, "art_path")
        inputs.prop(props, "seed")
        inputs.prop(props, "resolution")
        inputs.prop(props, "frame_start")

        rig = layout.box()
        rig.label(text="Face Rig", icon="SHAPEKEY_DATA")
        rig.operator("s2t.build_face_rig", icon="MESH_MONKEY")
        row = rig.row(align=True)
        row.operator("s2t.import_coefficients", icon="IMPORT")
        row.operator("s2t.export_coefficients", icon="EXPORT")

        if props.job_status != "IDLE":
            job = layout.box()
            job.label(text=f"Job: {props.job_status.title()}", icon="TIME")
            job.prop(props, "job_progress", text="Progress", slider=True)
            if props.job_error:
                job.label(text=props.job_error, icon="ERROR")


CLASSES = (S2T_PT_main,)
