"""Writing a benchmark's own section of ``bench/RESULTS.md`` (the ``--write`` option of the
benchmarks that run inside Blender)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def write_section(heading: str, section: str, path: Path = RESULTS) -> None:
    """Replace the section that starts with ``heading`` (up to the next ``## ``), or append it."""
    text = path.read_text()
    start = text.find(heading + "\n")
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + len(heading))
    path.write_text(text[:start] + section + (text[end + 1:] if end >= 0 else ""))
