import io

import numpy as np
from PIL import Image

from backend.jobs import encode_frame, frame_message, progress


def test_png_frames_are_lossless_rgb_and_raw_frames_stay_arrays():
    image = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    png = encode_frame(frame_message(7, image, "png", "test"))
    assert png.content == {"index": 7, "width": 40, "height": 24, "encoding": "png", "renderer": "test"}
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png.buffers["image"]))), image)
    raw = encode_frame(frame_message(7, image, "raw", "test"))
    assert np.array_equal(raw.buffers["image"], image)
    message = progress("working", 1, 2)
    assert encode_frame(message) is message
