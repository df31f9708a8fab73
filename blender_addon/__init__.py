"""Style2Talker for Blender: audio-driven talking heads with text-controlled emotion.

``bpy`` is imported inside :func:`register` only, so the Blender-free core
(:mod:`blender_addon.core`) imports, and is tested, without Blender.
"""

bl_info = {
    "name": "Style2Talker",
    "author": "Style2Talker for Blender contributors",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "3D View > Sidebar > Style2Talker",
    "description": "Audio-driven talking heads: face rig, coefficient takes as keyframes",
    "category": "Animation",
}


def _classes() -> tuple:
    """Every bpy class, in registration order (property groups before what points at them)."""
    from . import operators, panels, properties

    return properties.CLASSES + operators.CLASSES + panels.CLASSES


def register() -> None:
    import bpy

    from .properties import S2TSceneProperties

    for cls in _classes():
        bpy.utils.register_class(cls)
    bpy.types.Scene.style2talker = bpy.props.PointerProperty(type=S2TSceneProperties)


def unregister() -> None:
    import bpy

    del bpy.types.Scene.style2talker
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
