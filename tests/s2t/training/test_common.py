"""The training toolkit both loops share: checkpoint discovery and the resumable metrics log."""

import math

import pytest

from s2t.training.common import MetricsLog, checkpoint_name, latest_checkpoint, remove_old_checkpoints


def test_checkpoints_are_found_by_step_and_pruned(tmp_path):
    assert latest_checkpoint(tmp_path / "absent", "run_") is None
    for step in (5, 40, 1000):
        (tmp_path / checkpoint_name("run_", step)).write_bytes(b"")
    (tmp_path / "other_0009999.pt").write_bytes(b"")
    assert checkpoint_name("run_", 40) == "run_0000040.pt"
    assert latest_checkpoint(tmp_path, "run_").name == "run_0001000.pt"
    remove_old_checkpoints(tmp_path, "run_", keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other_0009999.pt", "run_0000040.pt", "run_0001000.pt"]


def test_metrics_log_resumes_at_the_checkpoint_step(tmp_path):
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path, ("step", "loss", "r1"))
    for step in (1, 2, 3):
        log.append({"step": step, "loss": step / 10, **({"r1": 0.5} if step == 2 else {})})
    assert [r["step"] for r in log.rows()] == [1, 2, 3]
    assert math.isnan(log.rows()[0]["r1"]) and log.rows()[1] == {"step": 2, "loss": 0.2, "r1": 0.5}
    resumed = MetricsLog(path, ("step", "loss", "r1"), resume_step=2)  # step 3 came after the last checkpoint
    resumed.append({"step": 3, "loss": "0.333"})
    assert [(r["step"], r["loss"]) for r in resumed.rows()] == [(1, 0.1), (2, 0.2), (3, 0.333)]
    fresh = MetricsLog(path, ("step", "loss", "r1"))
    assert fresh.rows() == [] and path.read_text().splitlines() == ["step,loss,r1"]


def test_metrics_log_needs_a_step_column(tmp_path):
    with pytest.raises(ValueError, match="first metrics column must be 'step'"):
        MetricsLog(tmp_path / "m.csv", ("loss", "step"))
