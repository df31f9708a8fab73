"""``s2t batch``: many shots from a CSV, rendered on an ``s2t-backend``."""

from __future__ import annotations

import sys
from pathlib import Path

from s2t.cli.common import UserError, check_strength


def cmd_batch(*, shots_csv: Path, backend: str, curve_keys: Path | None, strength: float, seed: int,
              quiet: bool) -> None:
    from tqdm import tqdm

    from backend.batch import read_shots, run_batch, write_results

    shots = read_shots(shots_csv)  # every row checked before the first shot starts
    check_strength(strength, "--strength")
    results = []

    def report(result) -> None:
        results.append(result)
        note = f": {result.message}" if result.status == "failed" else ""
        tqdm.write(f"{result.status:7s} {result.shot.output} ({result.seconds:.1f} s){note}", file=sys.stderr)

    results_path = shots_csv.with_name(shots_csv.stem + ".results.csv")
    try:
        run_batch(shots, backend, curve_keys=curve_keys, strength=strength, seed=seed, show_progress=not quiet,
                  report=report)
    finally:
        write_results(results, results_path)
    counts = {status: sum(r.status == status for r in results) for status in ("done", "skipped", "failed")}
    print(f"batch: {counts['done']} done, {counts['skipped']} skipped (finished before), {counts['failed']} failed; "
          f"results in {results_path}", file=sys.stderr)
    if counts["failed"]:
        raise UserError(f"{counts['failed']} of {len(shots)} shots failed (see {results_path}); run the same command "
                        "again to retry them, finished shots are skipped")


def add_batch(sub) -> None:
    p = sub.add_parser("batch", help="render many shots (a CSV, one row per shot) on an s2t-backend; resumable")
    p.add_argument("shots", type=Path, help="CSV with columns photo, audio, emotion, output (.mp4) and optionally "
                   "art, size; paths relative to the CSV")
    p.add_argument("--backend", required=True, metavar="ENDPOINT", help="the s2t-backend, e.g. tcp://gpu-box:5599")
    p.add_argument("--curve-keys", type=Path, metavar="DIR", help="folder with server.key and client.key_secret")
    p.add_argument("--strength", type=float, default=1.0, help="art-style strength, 0 (photo) to 1 (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_batch(shots_csv=a.shots, backend=a.backend, curve_keys=a.curve_keys,
        strength=a.strength, seed=a.seed, quiet=a.quiet))
