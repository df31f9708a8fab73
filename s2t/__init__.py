"""Style2Talker model library: face model, Style-E, Style-A and the pipeline (never imports bpy)."""

__version__ = "0.1.0"
