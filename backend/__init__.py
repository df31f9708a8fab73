"""The ZeroMQ backend: ``protocol`` (shared with the Blender add-on; stdlib + numpy only),
``server`` (``s2t-backend``), ``jobs`` (what it runs), ``store`` (job folders) and ``client``.

This package imports nothing itself, so ``backend.protocol`` loads without pyzmq or torch.
"""
