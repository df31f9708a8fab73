"""The one place for differences between Blender 3.4 and 5.0.

- Actions: up to 4.3 an Action holds its F-curves directly (``action.fcurves``). 4.4
  introduced slotted actions (layers -> strips -> a channelbag per slot), and 5.0 removed
  ``Action.fcurves``. We use the slotted API wherever it exists (``Action.layers``), through
  the ``bpy_extras.anim_utils`` helpers.
- Sequencer: ``SequenceEditor.sequences`` became ``strips`` in 4.4 (5.0 removed the old name).
"""

from __future__ import annotations

import bpy

HAS_SLOTTED_ACTIONS = "layers" in bpy.types.Action.bl_rna.properties


def new_action(id_data: bpy.types.ID, name: str) -> bpy.types.Action:
    """A fresh Action assigned to ``id_data`` (an Object or a shape-key ``Key``).

    Blender makes the name unique (``name.001``), so an existing Action is never replaced;
    the fake user keeps earlier takes in the file after they are unassigned.
    """
    id_type = id_data.bl_rna.identifier.upper()  # "OBJECT", "KEY"; ID.id_type is missing in 3.4
    action = bpy.data.actions.new(name)
    action.use_fake_user = True
    animation_data = id_data.animation_data or id_data.animation_data_create()
    if HAS_SLOTTED_ACTIONS:
        slot = action.slots.new(id_type=id_type, name=id_data.name)
        animation_data.action = action
        animation_data.action_slot = slot
    else:
        action.id_root = id_type
        animation_data.action = action
    return action


def new_fcurve(id_data: bpy.types.ID, data_path: str, index: int, group: str) -> bpy.types.FCurve:
    """An F-curve in the Action assigned to ``id_data`` (see :func:`new_action`)."""
    action = id_data.animation_data.action
    if HAS_SLOTTED_ACTIONS:
        from bpy_extras import anim_utils

        channelbag = anim_utils.action_ensure_channelbag_for_slot(action, id_data.animation_data.action_slot)
        return channelbag.fcurves.new(data_path, index=index, group_name=group)
    return action.fcurves.new(data_path, index=index, action_group=group)


def fcurves(id_data: bpy.types.ID | None) -> list[bpy.types.FCurve]:
    """The F-curves animating ``id_data`` through its assigned Action (empty when none)."""
    animation_data = getattr(id_data, "animation_data", None)
    action = animation_data.action if animation_data else None
    if action is None:
        return []
    if HAS_SLOTTED_ACTIONS:
        from bpy_extras import anim_utils

        channelbag = anim_utils.animdata_get_channelbag_for_assigned_slot(animation_data)
        return list(channelbag.fcurves) if channelbag else []
    return list(action.fcurves)


def action_fcurves(action: bpy.types.Action) -> list[bpy.types.FCurve]:
    """The F-curves of an Action whether or not it is assigned (its first slot's, from 4.4)."""
    if HAS_SLOTTED_ACTIONS:
        from bpy_extras import anim_utils

        if not len(action.slots):
            return []
        channelbag = anim_utils.action_get_channelbag_for_slot(action, action.slots[0])
        return list(channelbag.fcurves) if channelbag else []
    return list(action.fcurves)


def sequencer_strips(scene: bpy.types.Scene) -> bpy.types.bpy_prop_collection:
    """The top-level strips of the scene's sequencer, created if missing."""
    editor = scene.sequence_editor or scene.sequence_editor_create()
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def _strips_collection() -> str:
    props = bpy.types.SequenceEditor.bl_rna.properties
    return "strips_all" if "strips_all" in props else "sequences_all"


ALL_STRIPS = _strips_collection()
"""The name of the collection of every strip (meta strips' contents too), for ``prop_search``."""

