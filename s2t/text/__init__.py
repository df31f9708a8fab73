"""Emotion-text encoders: CLIP's text tower (local weights) and the offline MiniLM."""

from s2t.text.encoders import CLIP_FILE, KNOWN_ENCODERS, TextEncoder, load_text_encoder

__all__ = ["CLIP_FILE", "KNOWN_ENCODERS", "TextEncoder", "load_text_encoder"]
