import time

from backend.store import JobStore


def _job(store: JobStore, job_id: str, state: str, finished: float | None) -> None:
    store.create(job_id, {"kind": "render", "state": state}, {"photo": b"\x89PNG fake"})
    if finished is not None:
        store.update(job_id, finished=finished)


def test_prune_deletes_only_old_finished_jobs(tmp_path):
    store = JobStore(tmp_path / "jobs")
    now = time.time()
    _job(store, "a" * 32, "finished", now - 3 * 86400)
    _job(store, "b" * 32, "cancelled", now - 3 * 86400)
    _job(store, "c" * 32, "finished", now - 3600)
    _job(store, "d" * 32, "running", None)
    store.update("d" * 32, created=now - 30 * 86400)  # a long job still running is kept
    (store.root / "notes").mkdir()  # not a job folder: never touched
    removed = store.prune(2 * 86400, now=now)
    assert sorted(removed) == ["a" * 32, "b" * 32]
    assert sorted(p.name for p in store.root.iterdir()) == ["c" * 32, "d" * 32, "notes"]
    assert store.prune(2 * 86400, now=now) == []


def test_server_prunes_old_job_folders_when_it_starts(tmp_path, start_server, connect):
    store = JobStore(tmp_path / "jobs")
    _job(store, "e" * 32, "finished", time.time() - 10 * 86400)
    server = start_server(keep_days=7)
    connect(server)  # the loop has run once the hello is answered
    assert not (tmp_path / "jobs" / ("e" * 32)).exists()
