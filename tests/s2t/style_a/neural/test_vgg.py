from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from s2t.style_a.neural.checkpoints import CheckpointError
from s2t.style_a.neural.vgg import (RELU_INDEX, PerceptualLoss, PerceptualLossConfig, VGG19Features,
                                    load_vgg19_features)

torchvision = pytest.importorskip("torchvision")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def reference() -> torch.nn.Module:
    """torchvision's VGG19 with random weights, the classifier left out of memory (meta)."""
    torch.manual_seed(0)
    with torch.device("meta"):
        model = torchvision.models.vgg19(weights=None)
    model.features.to_empty(device="cpu")
    for module in model.features:
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight)
            torch.nn.init.normal_(module.bias, std=0.1)
    return model.eval()


@pytest.fixture(scope="module")
def weights_file(reference, tmp_path_factory) -> Path:
    """A file in torchvision's layout: every ``features.*`` entry, plus classifier entries."""
    path = tmp_path_factory.mktemp("vgg") / "vgg19-dcbb9e9d.pth"
    state = {k: v for k, v in reference.state_dict().items() if k.startswith("features.")}
    state["classifier.6.weight"] = torch.randn(1000, 16)  # real name, shrunk: the loader ignores it
    state["classifier.6.bias"] = torch.zeros(1000)
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def features(weights_file) -> VGG19Features:
    return load_vgg19_features(weights_file)


def images(seed: int, batch: int = 2, size: int = 32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, size, size, generator=generator) * 2 - 1


def test_parameter_names_match_torchvision(reference):
    ours = VGG19Features().state_dict()
    theirs = {k: v for k, v in reference.state_dict().items() if k.startswith("features.")}
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    assert sum(v.numel() for v in ours.values()) == 20_024_384
    assert RELU_INDEX["relu1_2"] == 3 and RELU_INDEX["relu5_4"] == 35


def test_loaded_weights_are_frozen_and_in_eval_mode(features, reference):
    assert not features.training
    assert not any(p.requires_grad for p in features.parameters())
    assert torch.equal(features.state_dict()["features.34.weight"], reference.features[34].weight)


def test_features_equal_torchvision(features, reference):
    x = images(1)
    layers = ("relu1_1", "relu2_2", "relu3_4", "relu4_1", "relu5_4")
    with torch.no_grad():
        ours = features(x, layers)
        for name, got in zip(layers, ours):
            expected = reference.features[:RELU_INDEX[name] + 1](x)
            assert got.shape == expected.shape
            assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5), name


def test_unknown_layer_is_rejected(features):
    with pytest.raises(ValueError, match="relu6_1"):
        features(images(2), ("relu6_1",))


def test_loss_is_zero_for_equal_images(features):
    x = images(3)
    assert PerceptualLoss(features)(x, x.clone()).item() == 0.0


def test_loss_is_positive_and_differentiable(features):
    loss_fn = PerceptualLoss(features)
    prediction = images(4).requires_grad_(True)
    target = images(5)
    loss = loss_fn(prediction, target)
    assert loss.item() > 0
    loss.backward()
    assert prediction.grad is not None and prediction.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss_fn.parameters())


def test_closer_images_have_lower_loss(features):
    loss_fn = PerceptualLoss(features)
    target = images(6)
    noise = images(7)
    with torch.no_grad():
        near = loss_fn((target + 0.05 * noise).clamp(-1, 1), target)
        far = loss_fn((target + 0.5 * noise).clamp(-1, 1), target)
    assert 0 < near < far


@pytest.mark.parametrize("criterion, distance", [("l1", F.l1_loss), ("l2", F.mse_loss)])
def test_loss_is_the_weighted_distance_of_imagenet_normalised_features(features, reference, criterion, distance):
    config = PerceptualLossConfig(layers=("relu2_2", "relu4_4"), weights=(0.5, 2.0), criterion=criterion)
    prediction, target = images(8), images(9)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def vgg(x, name):
        return reference.features[:RELU_INDEX[name] + 1](((x + 1) / 2 - mean) / std)

    with torch.no_grad():
        expected = sum(w * distance(vgg(prediction, n), vgg(target, n)) for n, w in zip(config.layers, config.weights))
        got = PerceptualLoss(features, config)(prediction, target)
    assert torch.allclose(got, expected, rtol=1e-4)


@pytest.mark.parametrize("bad", [dict(weights=(1.0,)), dict(layers=("relu1_3",), weights=(1.0,)),
                                 dict(criterion="huber")])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        PerceptualLossConfig(**bad)


def test_loss_rejects_mismatched_shapes(features):
    with pytest.raises(ValueError, match="one shape"):
        PerceptualLoss(features)(images(10, size=32), images(10, size=48))


def test_missing_weights_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"vgg19-dcbb9e9d\.pth.*download\.pytorch\.org"):
        load_vgg19_features(tmp_path / "vgg19-dcbb9e9d.pth")


def test_wrong_layout_lists_the_keys(weights_file, tmp_path):
    state = torch.load(weights_file, weights_only=True)
    del state["features.34.bias"]
    state["features.37.weight"] = torch.zeros(1)
    path = tmp_path / "vgg.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"missing keys: features\.34\.bias\n  1 unexpected keys: features\.37"):
        load_vgg19_features(path)


def test_wrong_shapes_are_reported(weights_file, tmp_path):
    state = torch.load(weights_file, weights_only=True)
    state["features.0.weight"] = torch.zeros(64, 1, 3, 3)
    path = tmp_path / "vgg.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"shape mismatches: features\.0\.weight: checkpoint \(64, 1, 3, 3\)"):
        load_vgg19_features(path)


def test_unreadable_file_is_rejected(tmp_path):
    path = tmp_path / "vgg.pth"
    path.write_bytes(b"\x00not weights")
    with pytest.raises(CheckpointError, match="not a readable VGG19 weights checkpoint"):
        load_vgg19_features(path)
