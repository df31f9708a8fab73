import numpy as np
import pytest
from skimage import data

from s2t.face.fit import fit_photo
from s2t.face.rig import build_rig
from s2t.style_e.conditioning import identity_from_photo


@pytest.mark.slow
def test_identity_features_are_the_fitted_rig_identity():
    photo = data.astronaut()
    identity = identity_from_photo(photo)
    assert identity.shape == (16,) and identity.dtype == np.float32 and np.isfinite(identity).all()
    np.testing.assert_allclose(identity, fit_photo(build_rig(), photo)[0].identity, atol=1e-6)
    assert np.abs(identity).max() > 0.1  # a real face is not the average one
