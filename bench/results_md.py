"""Writing a benchmark's own section of ``bench/RESULTS.md`` (the ``--write`` option of the
benchmarks that run inside Blender)."""

from __future__ import annotations

import sys
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


def publish(heading: str, notes: list[str], rows: list[tuple[str, str]]) -> None:
    """Print the section (``heading``, ``notes`` lines, a measure/value table of ``rows``) and,
    with ``--write`` on the command line, put it into RESULTS.md."""
    section = "\n".join([heading, "", *notes, "", "| measure | value |", "|---|---|",
                          *[f"| {name} | {value} |" for name, value in rows], ""])  # fmt: skip
    print(section)
    if "--write" in sys.argv:
        write_section(heading, section)
