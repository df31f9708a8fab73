"""Style2Talker for Blender: audio-driven talking heads with text-controlled emotion.

``bpy`` is imported inside :func:`register` only, so the Blender-free core
(:mod:`blender_addon.core`) imports, and is tested, without Blender. The backend client
(``backend.protocol``, ``backend.client`` and pyzmq) comes from ``vendor/`` in a packaged
add-on (``python blender_addon/package.py``), or from the checkout this folder sits in.
"""

import sys
from pathlib import Path

_VENDOR = Path(__file__).with_name("vendor")
_CHECKOUT = Path(__file__).resolve().parent.parent

bl_info = {
    "name": "Style2Talker",
    "author": "Style2Talker for Blender contributors",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "3D View > Sidebar > Style2Talker",
    "description": "Audio-driven talking heads: text-driven emotion as editable keyframes, stylized frames",
    "category": "Animation",
}


def _import_path() -> None:
    """Make ``backend`` (and, packaged, ``zmq``) importable: the vendored copy first."""
    if _VENDOR.is_dir():
        if str(_VENDOR) not in sys.path:
            sys.path.insert(0, str(_VENDOR))
    elif (_CHECKOUT / "backend" / "protocol.py").is_file() and str(_CHECKOUT) not in sys.path:
        sys.path.append(str(_CHECKOUT))


def _classes() -> tuple:
    """Every bpy class, in registration order (property groups before what points at them)."""
    from . import character_ui, job_operators, operators, panels, preferences, properties

    return (preferences.CLASSES + properties.CLASSES + character_ui.PROPERTY_CLASSES + operators.CLASSES
            + job_operators.CLASSES + panels.CLASSES + character_ui.CLASSES)


def register() -> None:
    import bpy

    _import_path()
    from .character_ui import S2TCharacterSettings
    from .properties import S2TSceneProperties
    from .runtime import draw_status_bar

    for cls in _classes():
        bpy.utils.register_class(cls)
    bpy.types.Scene.style2talker = bpy.props.PointerProperty(type=S2TSceneProperties)
    bpy.types.Object.s2t_character = bpy.props.PointerProperty(type=S2TCharacterSettings)
    bpy.types.STATUSBAR_HT_header.append(draw_status_bar)


def unregister() -> None:
    import bpy

    from .runtime import draw_status_bar, shutdown

    shutdown()
    bpy.types.STATUSBAR_HT_header.remove(draw_status_bar)
    del bpy.types.Scene.style2talker
    del bpy.types.Object.s2t_character
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
