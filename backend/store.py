"""The job folders on the backend's disk: what a job got and what it produced so far.

Every job has ``<jobs_dir>/<job_id>/`` with

- ``job.json``: the manifest (kind, parameters, state, times, error), rewritten atomically;
- ``inputs/``: the buffers it was submitted with (``photo.png``, ``expression.npy`` ...);
- ``outputs/``: each message the job streamed (progress excepted), in order, as
  ``<seq>-<type>.json`` (the message's JSON header, written last) and one file per buffer,
  ``<seq>-<type>-<name>.<ext>`` (PNG frames as ``.png``, arrays as ``.npy``).

An output counts once its ``.json`` exists, so a crash mid-write leaves no half message, and
replaying the folder re-sends exactly what the job produced. Job ids are checked against
:data:`JOB_ID` before they touch a path: paths never come from the network.
"""

from __future__ import annotations

import errno
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np

from backend.protocol import INTERRUPTED
from s2t.checkpoint import atomic_write

JOB_ID = re.compile(r"[0-9a-f]{32}")
FINAL_STATES = ("finished", "cancelled", "failed", "interrupted")
"""States a job never leaves; ``interrupted``: the backend stopped (or died) while it was queued or running."""

_MAGIC = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "wav"), (b"fLaC", "flac"), (b"OggS", "ogg"),
          (b"ID3", "mp3"), (b"GIF8", "gif"), (b"BM", "bmp"))  # fmt: skip


def disk_full(exc: BaseException) -> bool:
    """A full disk or quota (which the operator can fix), as opposed to a bug."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _extension(data: bytes) -> str:
    return next((ext for magic, ext in _MAGIC if data.startswith(magic)), "bin")


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write(path, data, mode=None)  # the store's files stay private to the backend's user


def _write_buffer(stem: Path, value) -> Path:
    if isinstance(value, np.ndarray):
        path = stem.with_name(stem.name + ".npy")
        np.save(path, value, allow_pickle=False)
    else:
        data = bytes(value)
        path = stem.with_name(f"{stem.name}.{_extension(data)}")
        path.write_bytes(data)
    return path


class JobStore:
    """Job folders under ``root``; safe to use from several threads for different jobs."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, job_id: str) -> Path | None:
        """The job's folder, or ``None`` if ``job_id`` is malformed or unknown here."""
        if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
            return None
        folder = self.root / job_id
        return folder if (folder / "job.json").is_file() else None

    def create(self, job_id: str, manifest: dict, inputs: dict) -> dict[str, Path]:
        """Make the folder, save the input buffers and the manifest; the saved inputs' paths."""
        if not JOB_ID.fullmatch(job_id):
            raise ValueError(f"bad job id {job_id!r}")
        folder = self.root / job_id
        try:
            (folder / "inputs").mkdir(parents=True)
            (folder / "outputs").mkdir()
            paths = {name: _write_buffer(folder / "inputs" / name, value) for name, value in inputs.items()}
            self.write_manifest(job_id, {**manifest, "job_id": job_id, "created": time.time()})
        except BaseException:  # a disk full mid-way: no half-made folder stays behind
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return paths

    def manifest(self, job_id: str) -> dict | None:
        folder = self.folder(job_id)
        return json.loads((folder / "job.json").read_text()) if folder else None

    def write_manifest(self, job_id: str, manifest: dict) -> None:
        _atomic_write(self.root / job_id / "job.json", json.dumps(manifest, indent=1).encode("utf-8"))

    def update(self, job_id: str, **changes) -> dict:
        """Merge ``changes`` into the manifest (only the job's worker calls this once running)."""
        manifest = {**json.loads((self.root / job_id / "job.json").read_text()), **changes}
        self.write_manifest(job_id, manifest)
        return manifest

    def write_output(self, job_id: str, seq: int, msg_type: str, header: bytes, buffers: dict) -> None:
        """Store one streamed message: its buffers first, its header last (atomically)."""
        outputs = self.root / job_id / "outputs"
        for name, value in buffers.items():
            _write_buffer(outputs / f"{seq:06d}-{msg_type}-{name}", value)
        _atomic_write(outputs / f"{seq:06d}-{msg_type}.json", header)

    def count_outputs(self, job_id: str) -> int:
        """How many messages the job has stored."""
        return len(list((self.root / job_id / "outputs").glob("[0-9]*-*.json")))

    def read_output(self, job_id: str, seq: int) -> tuple[str, list[bytes]] | None:
        """Stored message ``seq`` as ``(type, frames ready to send again)``, or ``None`` if there is none.

        One message at a time, so replaying a long job to a client never holds more than one
        frame in memory.
        """
        outputs = self.root / job_id / "outputs"
        header_path = next(outputs.glob(f"{seq:06d}-*.json"), None)
        if header_path is None:
            return None
        header = header_path.read_bytes()
        decoded = json.loads(header)
        frames = [header]
        for descriptor in decoded["buffers"]:
            stem = f"{header_path.stem}-{descriptor['name']}"
            if "dtype" in descriptor:
                frames.append(np.load(outputs / f"{stem}.npy", allow_pickle=False).tobytes())
            else:
                frames.append(next(outputs.glob(f"{stem}.*")).read_bytes())
        return decoded["type"], frames

    def mark_interrupted(self) -> list[str]:
        """Record ``interrupted`` for jobs a previous backend left queued or running; the ids.

        Their end time is the folder's last change, so ``prune`` deletes them after
        ``--keep-days`` like any finished job. Call only when no backend serves this folder.
        """
        marked = []
        for folder in self.root.iterdir():
            manifest = self.manifest(folder.name) if folder.is_dir() else None
            if manifest is None or manifest.get("state") in FINAL_STATES:
                continue
            ended = max(path.stat().st_mtime for path in (folder / "job.json", folder / "outputs") if path.exists())
            error = {"code": INTERRUPTED, "message": "the backend stopped before this job finished"}
            self.write_manifest(folder.name, {**manifest, "state": "interrupted", "finished": ended, "error": error})
            marked.append(folder.name)
        return marked

    def prune(self, keep_seconds: float, now: float | None = None) -> list[str]:
        """Delete the folders of jobs that ended more than ``keep_seconds`` ago; the ids removed.

        Live and queued jobs are never touched, and nor is anything in ``root`` that is not a
        job folder (the folder may be shared with the user's own files).
        """
        now = time.time() if now is None else now
        removed = []
        for folder in self.root.iterdir():
            manifest = self.manifest(folder.name) if folder.is_dir() else None
            if manifest is None or manifest.get("state") not in FINAL_STATES:
                continue
            ended = manifest.get("finished", manifest.get("created", now))
            if now - ended > keep_seconds:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

