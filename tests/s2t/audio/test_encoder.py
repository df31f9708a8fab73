import torch

from s2t.audio.encoder import AudioEncoder


def test_sadtalker_sized_encoder_has_its_shapes():
    encoder = AudioEncoder(32)
    state = encoder.state_dict()
    # SadTalker's SimpleWrapperV2.audio_encoder: 13 units, 1 -> 32 ... -> 512, last a 1x1 conv
    assert state["audio_encoder.0.conv_block.0.weight"].shape == (32, 1, 3, 3)
    assert state["audio_encoder.11.conv_block.0.weight"].shape == (512, 256, 3, 3)
    assert state["audio_encoder.12.conv_block.0.weight"].shape == (512, 512, 1, 1)
    assert "audio_encoder.12.conv_block.1.running_var" in state
    assert sum(p.numel() for p in encoder.parameters()) == 2_812_672
    assert encoder(torch.zeros(2, 1, 80, 16)).shape == (2, 512)


def test_width_scales_features_and_accepts_either_layout():
    encoder = AudioEncoder(2).eval()
    windows = torch.randn(5, 80, 16)
    features = encoder(windows)
    assert features.shape == (5, 32) and encoder.out_dim == 32
    torch.testing.assert_close(features, encoder(windows[:, None]))
    assert (features >= 0).all()  # ends in ReLU
    assert "width=2" in repr(encoder)
