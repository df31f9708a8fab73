"""What both training loops share: finding and pruning checkpoints, and the CSV metrics log.

Each run's folder holds numbered checkpoints (``<prefix>0001000.pt``: the step, zero-padded,
so that names sort by step) and ``metrics.csv``, one row per logged step. A resumed run
continues both: :func:`latest_checkpoint` finds where to start, and :class:`MetricsLog`
drops the rows a run wrote after its last checkpoint (they are written again).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

METRICS_FILE = "metrics.csv"
STEP_DIGITS = 7


def checkpoint_name(prefix: str, step: int) -> str:
    """``style_e_0001000.pt`` for prefix ``style_e_`` at step 1000."""
    return f"{prefix}{step:0{STEP_DIGITS}d}.pt"


def checkpoints(folder: str | Path, prefix: str) -> list[Path]:
    """The folder's checkpoints named by :func:`checkpoint_name`, oldest step first."""
    return sorted(Path(folder).glob(f"{prefix}*.pt"))


def latest_checkpoint(folder: str | Path, prefix: str) -> Path | None:
    """The checkpoint of the highest step in ``folder``, or None (no folder or no checkpoint)."""
    found = checkpoints(folder, prefix)
    return found[-1] if found else None


def remove_old_checkpoints(folder: str | Path, prefix: str, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints."""
    for path in checkpoints(folder, prefix)[:-keep]:
        path.unlink()


class MetricsLog:
    """``metrics.csv`` with the columns ``fields`` (the first is ``step``), one row per :meth:`append`.

    Opening it for a run resumed at ``resume_step`` keeps the rows up to that step; rows past
    it, left by a run stopped after its last checkpoint, are dropped so the log continues
    cleanly. A fresh run (``resume_step`` 0) starts an empty log.
    """

    def __init__(self, path: str | Path, fields: Sequence[str], resume_step: int = 0) -> None:
        if fields[0] != "step":
            raise ValueError(f"the first metrics column must be 'step', got {fields[0]!r}")
        self.path, self.fields = Path(path), tuple(fields)
        rows = [r for r in self.rows() if r["step"] <= resume_step] if resume_step > 0 and self.path.exists() else []
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, self.fields)
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)

    def rows(self) -> list[dict]:
        """Every row: ``step`` an int, the other columns floats (NaN where empty)."""
        with open(self.path, newline="") as f:
            return [{k: int(v) if k == "step" else _number(v) for k, v in row.items()} for row in csv.DictReader(f)]

    def append(self, values: Mapping[str, object]) -> None:
        """One row; columns not in ``values`` are left empty. Strings are written as given
        (a caller's own rounding), numbers with ``repr``."""
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, self.fields).writerow({k: _cell(values[k]) for k in self.fields if k in values})


def _cell(value: object) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


def _number(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


__all__ = ["METRICS_FILE", "MetricsLog", "checkpoint_name", "checkpoints", "latest_checkpoint",
           "remove_old_checkpoints"]  # fmt: skip
