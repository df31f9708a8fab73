"""Speech input: loading, SadTalker's mel features with per-frame windows, and the audio encoder."""

from s2t.audio.features import (
    FPS, NUM_MELS, SAMPLE_RATE, WINDOW_MEL_FRAMES, frame_mel_windows, load_audio, melspectrogram, num_video_frames,
)  # fmt: skip

__all__ = [
    "FPS", "NUM_MELS", "SAMPLE_RATE", "WINDOW_MEL_FRAMES", "frame_mel_windows", "load_audio", "melspectrogram",
    "num_video_frames",
]  # fmt: skip
