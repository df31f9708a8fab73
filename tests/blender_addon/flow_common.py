"""Loading the add-on inside a Blender run by the flow scripts.

With ``S2T_ADDON_ZIP`` set, the packaged legacy zip is installed (into the user scripts
folder ``BLENDER_USER_SCRIPTS`` names, a temporary one in the tests) and enabled the way a
user would; otherwise the checkout's ``blender_addon`` is imported and registered.
"""

import importlib
import os
import sys
from pathlib import Path

import bpy

REPO = Path(__file__).resolve().parents[2]


def load_addon():
    """The add-on's package, registered."""
    archive = os.environ.get("S2T_ADDON_ZIP")
    if archive:
        assert bpy.ops.preferences.addon_install(filepath=archive, overwrite=True) == {"FINISHED"}
        bpy.ops.preferences.addon_enable(module="style2talker")
        return importlib.import_module("style2talker")
    sys.path.insert(0, str(REPO))
    addon = importlib.import_module("blender_addon")
    addon.register()
    return addon


def unload_addon(addon) -> None:
    if os.environ.get("S2T_ADDON_ZIP"):
        bpy.ops.preferences.addon_disable(module="style2talker")
    else:
        addon.unregister()
