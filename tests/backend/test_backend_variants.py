"""The coefficients job's variants parameter: N takes of one line, seeds seed .. seed + N - 1."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import s2t
from backend.jobs import JobError, prepare_coefficients, run_coefficients
from backend.protocol import BAD_INPUT, COEFFICIENTS, PROGRESS

SPEECH = Path(s2t.__file__).parent / "assets" / "samples" / "speech.wav"


def test_variants_default_to_one_take():
    job, _ = prepare_coefficients({"text": "He is happy."}, {"audio": b"RIFF"})
    assert job.variants == 1 and job.seed == 0


@pytest.mark.parametrize("params, message", [
    ({"variants": 0}, "variants must be an integer from 1 to 16, got 0"),
    ({"variants": 17}, "variants must be an integer from 1 to 16, got 17"),
    ({"variants": "3"}, "variants must be an integer from 1 to 16, got '3'"),
    ({"variants": 4, "seed": 2**31 - 2}, "seed . variants - 1 must be at most 2147483647"),
])  # fmt: skip
def test_bad_variants_are_refused_at_submit(params, message):
    with pytest.raises(JobError, match=message) as error:
        prepare_coefficients({"text": "He is happy.", **params}, {"audio": b"RIFF"})
    assert error.value.code == BAD_INPUT


@pytest.mark.slow
def test_the_worker_sends_one_sequence_per_seed():
    job, _ = prepare_coefficients({"text": "She is delighted.", "seed": 5, "variants": 3}, {"audio": b"RIFF"})
    messages = list(run_coefficients(job, SimpleNamespace(inputs={"audio": SPEECH}, device="cpu")))
    takes = [m for m in messages if m.type == COEFFICIENTS]
    assert [t.content["metadata"]["seed"] for t in takes] == [5, 6, 7]
    stages = [m.content["stage"] for m in messages if m.type == PROGRESS]
    assert stages[-3:] == ["sampling take 1 of 3", "sampling take 2 of 3", "sampling take 3 of 3"]
    expressions = [np.asarray(t.buffers["expression"]) for t in takes]
    assert all(e.shape == expressions[0].shape for e in expressions)
    assert not np.array_equal(expressions[0], expressions[1]) and not np.array_equal(expressions[1], expressions[2])
