"""The add-on's preferences: where the backend is, and whether Blender starts one itself."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import bpy
from bpy.props import BoolProperty, FloatProperty, StringProperty

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5599"
ADDON_ID = __package__  # "blender_addon" from a checkout, "bl_ext.<repo>.style2talker" as an extension


class S2TPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    backend_address: StringProperty(name="Backend Address", default=DEFAULT_ENDPOINT,
                                     description="ZeroMQ address of s2t-backend, e.g. tcp://gpu-box:5599")
    curve_keys: StringProperty(name="CURVE Keys", subtype="DIR_PATH",
                               description="Folder with server.key and client.key_secret from `s2t-backend keys` "
                                           "(needed for a backend on another machine)")
    autostart: BoolProperty(name="Start a Local Backend", default=False,
                            description="Start s2t-backend on this machine when a job needs it, stop it on exit")
    backend_command: StringProperty(name="Backend Command", default="s2t-backend",
                                    description="How to run s2t-backend here (a full path if it is not on PATH)")
    connect_timeout: FloatProperty(name="Connect Timeout", default=5.0, min=0.5, max=120.0, unit="TIME_ABSOLUTE",
                                   description="How long to wait for the backend to answer (s)")

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop(self, "backend_address")
        layout.prop(self, "curve_keys")
        row = layout.row()
        row.prop(self, "autostart")
        sub = row.row()
        sub.enabled = self.autostart
        sub.prop(self, "backend_command", text="")
        layout.prop(self, "connect_timeout")


@dataclass(frozen=True)
class Settings:
    backend_address: str = DEFAULT_ENDPOINT
    curve_keys: str = ""
    autostart: bool = False
    backend_command: str = "s2t-backend"
    connect_timeout: float = 5.0


def settings() -> Settings:
    """The preferences (their defaults when the add-on is run from a script without being
    enabled); the environment variable ``S2T_BACKEND``, when set, names the backend address
    instead (render nodes and scripted runs point Blender at a backend without touching prefs)."""
    addon = bpy.context.preferences.addons.get(ADDON_ID)
    p = addon.preferences if addon is not None and addon.preferences is not None else None
    current = Settings() if p is None else Settings(
        p.backend_address, bpy.path.abspath(p.curve_keys) if p.curve_keys else "", p.autostart, p.backend_command,
        p.connect_timeout)
    address = os.environ.get("S2T_BACKEND")
    return replace(current, backend_address=address) if address else current


CLASSES = (S2TPreferences,)
