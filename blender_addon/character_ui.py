"""The character panel: the mapping list (key <- channel, gain, offset), presets, head and jaw
targets, take options, and applying a take already in the file. The settings live on the
object (``obj.s2t_character``) so they are saved with it and a re-bake uses them."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import (BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty,
                       StringProperty)
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import character, retarget
from .job_display import chars_per_line, wrap
from .operators import poll_with_reason

_CHANNEL_ITEMS = ([("NONE", "(unmapped)", "This key is left alone")]
                  + [(name, name, f"Follow the take's {name}") for name in retarget.ARKIT_CHANNELS]
                  + [(retarget.VISEME_PREFIX + v, f"viseme {v}", f"The mouth projected onto the viseme {v}")
                     for v in retarget.VISEMES])
_CHANNEL_INDEX = {identifier: index for index, (identifier, _, _) in enumerate(_CHANNEL_ITEMS)}


def _get_choice(self) -> int:
    return _CHANNEL_INDEX.get(self.channel or "NONE", 0)


def _set_choice(self, value: int) -> None:
    identifier = _CHANNEL_ITEMS[value][0]
    self.channel = "" if identifier == "NONE" else identifier


class S2TMappingRow(bpy.types.PropertyGroup):
    key: StringProperty(name="Shape Key")
    channel: StringProperty(name="Channel", description="The take's channel this key follows (empty: unmapped)")
    channel_choice: EnumProperty(name="Channel", items=_CHANNEL_ITEMS, get=_get_choice, set=_set_choice,
                                 description="The take's channel this shape key follows")
    gain: FloatProperty(name="Gain", default=1.0, soft_min=-2.0, soft_max=2.0,
                        description="Key value = channel x gain + offset")
    offset: FloatProperty(name="Offset", default=0.0, soft_min=-1.0, soft_max=1.0,
                          description="Key value = channel x gain + offset")


def _is_armature(self, obj: bpy.types.Object) -> bool:
    return obj.type == "ARMATURE"


class S2TCharacterSettings(bpy.types.PropertyGroup):
    """``obj.s2t_character``: how takes land on this character."""

    rows: CollectionProperty(type=S2TMappingRow)
    active_row: IntProperty(name="Row")
    emotion_gain: FloatProperty(name="Emotion Gain", default=1.0, min=0.0, soft_max=2.0,
                                description="Scales the emotion channels (brows, cheeks, nose, smile, frown, "
                                            "squint, wide eyes); lip-sync, blinks and gaze stay as they are")
    head_mode: EnumProperty(name="Head", default="OBJECT", items=[
        ("NONE", "None", "No head motion"),
        ("OBJECT", "Object", "Rotate an object (this mesh unless another is chosen)"),
        ("BONE", "Bone", "Rotate a bone of an armature")])
    head_object: PointerProperty(name="Head Object", type=bpy.types.Object,
                                 description="The object that turns with the head (empty: this mesh)")
    armature: PointerProperty(name="Armature", type=bpy.types.Object, poll=_is_armature,
                              description="The armature with the head (and jaw) bone")
    head_bone: StringProperty(name="Head Bone")
    head_axes: EnumProperty(name="Axes", default="Y_UP", items=[
        ("Y_UP", "Y Up (bone)", "Pitch about X, yaw about Y, roll about Z: a bone along the neck, a Y-up object"),
        ("Z_UP", "Z Up (object)", "Pitch about X, yaw about Z, roll about -Y: a Blender object facing -Y"),
        ("Y_UP_BACK", "Y Up, Z Back", "A Y-up bone whose Z axis points to the back of the head")])
    head_gain: FloatProperty(name="Head Gain", default=1.0, soft_min=-2.0, soft_max=2.0,
                             description="Scales the head rotation (negative turns it the other way)")
    jaw_bone: StringProperty(name="Jaw Bone", description="Opened from jawOpen when no shape key takes jawOpen")
    jaw_angle: FloatProperty(name="Jaw Angle", default=0.3, subtype="ANGLE", soft_min=-1.0, soft_max=1.0,
                             description="Rotation about the jaw bone's X at jawOpen = 1")
    eye_bone_left: StringProperty(name="Left Eye Bone", description="Turned by the left eye's eyeLook channels "
                                  "(a bone looking forward: up about X, outwards about Z)")
    eye_bone_right: StringProperty(name="Right Eye Bone", description="Turned by the right eye's eyeLook channels")
    gaze_angle: FloatProperty(name="Gaze Angle", default=0.38, subtype="ANGLE", soft_min=-1.0, soft_max=1.0,
                              description="Eye rotation at a full look (eyeLook... = 1)")
    use_nla: BoolProperty(name="NLA Strip per Take", default=False,
                          description="Put each take on its own NLA track so takes can be layered and compared")
    nla_blend: FloatProperty(name="Blend In/Out", default=3.0, min=0.0, description="Frames of blend in and out")
    nla_influence: FloatProperty(name="Influence", default=1.0, min=0.0, max=1.0, subtype="FACTOR")
    stepped: BoolProperty(name="Stepped Keys", default=False,
                          description="Constant interpolation, for 2D and limited animation")
    message: StringProperty(name="Message")
    message_is_error: BoolProperty()


def _say(settings: S2TCharacterSettings, message: str, error: bool) -> None:
    settings.message, settings.message_is_error = message, error


def _character(context: bpy.types.Context) -> bpy.types.Object | None:
    obj = context.active_object
    return None if character.is_proxy(obj) or character.character_problem(obj) else obj


def _channel_names(obj: bpy.types.Object) -> tuple[str, ...]:
    action = character.take_action(obj)
    return character.stored_take(action).channel_names if action is not None else retarget.ARKIT_CHANNELS


class S2T_OT_auto_match(bpy.types.Operator):
    """Match this mesh's shape keys to the take's channels by name (replaces the list)"""

    bl_idname = "s2t.auto_match"
    bl_label = "Auto-Match"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, "" if _character(context) else "Select a character mesh with shape keys")

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = context.active_object
        mapping = retarget.auto_mapping(_channel_names(obj), character.key_names(obj))
        mapping.emotion_gain = obj.s2t_character.emotion_gain
        character.store_mapping(obj, mapping)
        unmapped = len(mapping.rows) - len(mapping.mapped())
        _say(obj.s2t_character, f"{len(mapping.mapped())} keys matched, {unmapped} unmapped", False)
        return {"FINISHED"}


class S2T_OT_save_mapping(bpy.types.Operator, ExportHelper):
    """Save this character's mapping as a JSON preset"""

    bl_idname = "s2t.save_mapping"
    bl_label = "Save Mapping"
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        obj = _character(context)
        return poll_with_reason(cls, "" if obj and len(obj.s2t_character.rows) else "No mapping to save yet")

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = context.active_object
        try:
            Path(self.filepath).write_text(retarget.mapping_to_json(character.stored_mapping(obj)))
        except OSError as exc:
            self.report({"ERROR"}, f"Cannot write {self.filepath}: {exc.strerror or exc}")
            return {"CANCELLED"}
        _say(obj.s2t_character, f"Saved the mapping to {Path(self.filepath).name}", False)
        return {"FINISHED"}


class S2T_OT_load_mapping(bpy.types.Operator, ImportHelper):
    """Load a JSON mapping preset onto this character (every key it names must exist)"""

    bl_idname = "s2t.load_mapping"
    bl_label = "Load Mapping"
    bl_options = {"REGISTER", "UNDO"}
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, "" if _character(context) else "Select a character mesh with shape keys")

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = context.active_object
        try:
            text = Path(self.filepath).read_text()
            mapping = retarget.mapping_from_json(text, character.key_names(obj))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            message = f"Cannot load the mapping: {getattr(exc, 'strerror', None) or exc}"
            _say(obj.s2t_character, message, True)
            self.report({"ERROR"}, message)
            return {"CANCELLED"}
        listed = {row.key for row in mapping.rows}
        mapping.rows += [retarget.Row(key) for key in character.key_names(obj) if key not in listed]
        character.store_mapping(obj, mapping)
        _say(obj.s2t_character, f"Loaded {Path(self.filepath).name}: {len(mapping.mapped())} keys mapped", False)
        return {"FINISHED"}


def _take_items(self, context: bpy.types.Context) -> list[tuple[str, str, str]]:
    items = [(action.name, action.name, "Apply this take") for action in character.takes_in_file()]
    _take_items.cache = items  # Blender needs the strings kept alive while the menu shows
    return items or [("NONE", "(no takes in this file)", "")]


class S2T_OT_apply_take(bpy.types.Operator):
    """Apply a take already in this file to the selected character, as new Actions"""

    bl_idname = "s2t.apply_take"
    bl_label = "Apply Take"
    bl_options = {"REGISTER", "UNDO"}
    bl_property = "take"
    take: EnumProperty(name="Take", items=_take_items)

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, "" if _character(context) else "Select a character mesh with shape keys")

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = context.active_object
        action = bpy.data.actions.get(self.take)
        if action is None or "s2t_take" not in action:
            self.report({"ERROR"}, "Choose a take (this file has none yet)")
            return {"CANCELLED"}
        return apply_reporting(self, context, obj, character.stored_take(action), action.name)


def apply_reporting(operator: bpy.types.Operator, context: bpy.types.Context, obj: bpy.types.Object, take,
                    name: str) -> set[str]:
    """Apply ``take`` to the character and say what happened, in the panel and the report."""
    try:
        action = character.apply_take(context.scene, obj, take, name)
    except ValueError as exc:
        _say(obj.s2t_character, str(exc), True)
        operator.report({"ERROR"}, str(exc))
        return {"CANCELLED"}
    operator.report({"INFO"}, obj.s2t_character.message)
    context.scene.style2talker.last_take = action.name
    return {"FINISHED"}


class S2T_UL_mapping(bpy.types.UIList):
    """One row per shape key: key <- channel, gain, offset; unmapped keys flagged."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0, flt_flag=0):
        row = layout.row(align=True)
        split = row.split(factor=0.38, align=True)
        split.label(text=item.key, icon="SHAPEKEY_DATA" if item.channel else "ERROR")
        rest = split.split(factor=0.55, align=True)
        rest.prop(item, "channel_choice", text="")
        numbers = rest.row(align=True)
        numbers.prop(item, "gain", text="")
        numbers.prop(item, "offset", text="")

    def filter_items(self, context, data, propname):
        rows = getattr(data, propname)
        flags = bpy.types.UI_UL_list.filter_items_by_name(self.filter_name, self.bitflag_filter_item, rows, "key")
        return flags or [self.bitflag_filter_item] * len(rows), []


def draw_character(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    obj = context.active_object
    if character.is_proxy(obj):
        box = layout.box()
        box.label(text="This is the face rig: the preview of the photo,", icon="INFO")
        box.label(text="and what Render Stylized draws. To put a take on")
        box.label(text="your own character, select its mesh.")
        return
    problem = character.character_problem(obj)
    if problem:
        layout.label(text=problem, icon="INFO")
        return
    settings = obj.s2t_character
    mapped = sum(1 for row in settings.rows if row.channel)
    header = layout.row()
    header.label(text=f"{obj.name}: {len(character.key_names(obj))} keys, {mapped} mapped", icon="OUTLINER_OB_MESH")
    heading = layout.row().split(factor=0.38)
    heading.label(text="Shape Key")
    rest = heading.split(factor=0.55)
    rest.label(text="Follows Channel")
    rest.label(text="Gain / Offset")
    layout.template_list("S2T_UL_mapping", "", settings, "rows", settings, "active_row", rows=6)
    unmapped = [row.key for row in settings.rows if not row.channel]
    if unmapped:
        layout.label(text=f"Unmapped ({len(unmapped)}): {', '.join(unmapped[:4])}{' ...' if len(unmapped) > 4 else ''}",
                     icon="ERROR")
    row = layout.row(align=True)
    row.operator("s2t.auto_match", icon="LINKED")
    row.operator("s2t.load_mapping", text="Load", icon="IMPORT")
    row.operator("s2t.save_mapping", text="Save", icon="EXPORT")
    layout.prop(settings, "emotion_gain", slider=True)

    head = layout.box()
    head.prop(settings, "head_mode")
    if settings.head_mode == "OBJECT":
        head.prop(settings, "head_object", text="Object")
    if settings.head_mode == "BONE" or settings.jaw_bone or settings.eye_bone_left or settings.eye_bone_right:
        head.prop(settings, "armature")
    if settings.armature is not None:
        if settings.head_mode == "BONE":
            head.prop_search(settings, "head_bone", settings.armature.pose, "bones", text="Bone")
        head.prop_search(settings, "jaw_bone", settings.armature.pose, "bones", text="Jaw Bone")
        if settings.jaw_bone:
            head.prop(settings, "jaw_angle")
        head.prop_search(settings, "eye_bone_left", settings.armature.pose, "bones", text="Left Eye")
        head.prop_search(settings, "eye_bone_right", settings.armature.pose, "bones", text="Right Eye")
        if settings.eye_bone_left or settings.eye_bone_right:
            head.prop(settings, "gaze_angle")
    if settings.head_mode != "NONE":
        head.prop(settings, "head_axes")
        head.prop(settings, "head_gain")

    options = layout.column(align=True)
    options.prop(settings, "stepped")
    options.prop(settings, "use_nla")
    if settings.use_nla:
        options.prop(settings, "nla_blend")
        options.prop(settings, "nla_influence", slider=True)
    layout.operator_menu_enum("s2t.apply_take", "take", text="Apply Take", icon="ACTION")
    if settings.message:
        width = chars_per_line(context.region.width, context.preferences.view.ui_scale)
        for line in wrap(settings.message, width):
            layout.label(text=line, icon="ERROR" if settings.message_is_error else "NONE")


class S2T_PT_character(bpy.types.Panel):
    bl_idname = "S2T_PT_character"
    bl_label = "Character"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Style2Talker"

    def draw(self, context: bpy.types.Context) -> None:
        draw_character(self.layout, context)


class S2T_PT_character_data(bpy.types.Panel):
    """The same panel under Object Data, beside the Shape Keys list (wider than the sidebar)."""

    bl_idname = "S2T_PT_character_data"
    bl_label = "Style2Talker Character"
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "data"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.active_object is not None and context.active_object.type == "MESH"

    def draw(self, context: bpy.types.Context) -> None:
        draw_character(self.layout, context)


PROPERTY_CLASSES = (S2TMappingRow, S2TCharacterSettings)
CLASSES = (S2T_OT_auto_match, S2T_OT_save_mapping, S2T_OT_load_mapping, S2T_OT_apply_take, S2T_UL_mapping,
           S2T_PT_character, S2T_PT_character_data)
