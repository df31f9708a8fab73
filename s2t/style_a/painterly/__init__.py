"""Painterly art style: the photo painted once after the art picture (EfficientNet-Lite0 Gram losses), per-part colour and face shape from an art face."""
