"""Style-A datasets: relative poses, and building one from a video corpus plus stylised frames."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from skimage import data

from s2t.face import CoeffSequence
from s2t.face.pose import rotation_matrix
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.training.style_a_dataset import StyleADataset, build_from_videos, relative_pose
from s2t.video import VideoWriter

FRAMES = 4


def test_relative_pose_composes_back_to_the_absolute_one():
    rng = np.random.default_rng(0)
    pose = np.column_stack([rng.normal(0, 0.2, (5, 3)), rng.normal(0, 0.05, (5, 3))])
    relative = relative_pose(pose, pose[0])
    np.testing.assert_allclose(relative[0], 0, atol=1e-12)
    np.testing.assert_allclose(rotation_matrix(relative[:, :3]) @ rotation_matrix(pose[0, :3]),
                               rotation_matrix(pose[:, :3]), atol=1e-12)
    np.testing.assert_allclose(relative[:, 3:] + pose[0, 3:], pose[:, 3:])


@pytest.fixture
def corpus(tmp_path):
    """A one-clip video corpus (what build_video_corpus writes) and a folder of stylised frames."""
    source, root, styled = tmp_path / "videos", tmp_path / "corpus", tmp_path / "styled"
    face = cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    source.mkdir()
    with VideoWriter(source / "talk.mp4", 25.0, 256) as writer:
        for _ in range(FRAMES):
            writer.write(face)
    (styled / "talk").mkdir(parents=True)
    for t in range(FRAMES):
        cv2.imwrite(str(styled / "talk" / f"{t:04d}.png"), 255 - face[..., ::-1])
    pose = np.zeros((FRAMES, 6))
    pose[:, 1] = [0.1, 0.2, 0.3, 0.4]
    (root / "shard_0000").mkdir(parents=True)
    CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, np.zeros((FRAMES, 52)), pose).save(root / "shard_0000" / "c0000000.npz")
    (root / "corpus.json").write_text(json.dumps({"format": "s2t-corpus", "source_root": str(source)}))
    record = {"clip_id": "c0000000", "index": 0, "shard": "shard_0000", "source": "talk.mp4", "num_frames": FRAMES}
    (root / "shard_0000" / "index.jsonl").write_text(json.dumps(record) + "\n")
    return root, styled


def test_a_video_corpus_with_stylised_frames_becomes_a_dataset(corpus, tmp_path):
    root, styled = corpus
    built = build_from_videos(tmp_path / "data", root, styled, size=128)
    again = StyleADataset(tmp_path / "data")
    assert len(again) == 1 and again.size == 128 and again.channel_names == ARKIT_52 and again.art_path is None
    clip = built.clips[0]
    assert clip.num_frames == FRAMES and clip.coefficients.shape == (FRAMES, 58)
    np.testing.assert_allclose(clip.coefficients[:, 52 + 1], [0.0, 0.1, 0.2, 0.3], atol=1e-9)  # yaw from frame 0
    identity, target = built.identity(0), built.target(0, 2)
    assert identity.shape == target.shape == (128, 128, 3)
    # the same crop of the photo and of its stylised (inverted) copy
    assert np.abs((255 - target.astype(int)) - identity).mean() < 8


def test_clips_without_a_stylised_copy_are_refused(corpus, tmp_path):
    root, _ = corpus
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="stylised copy"):
        build_from_videos(tmp_path / "data", root, tmp_path / "empty")
