"""The ``s2t`` command. argparse lives in this package only; each command group is a module
(:mod:`.generate`, :mod:`.batch`, :mod:`.face`, :mod:`.corpus`, :mod:`.train`, shared pieces in
:mod:`.common`) whose ``add_*`` function adds its subcommands, each calling its ``cmd_*``
function with keyword arguments.

Exit codes: 0 success, 2 bad input (unreadable photo, no face, wrong file...), 1 a bug.
"""

from __future__ import annotations

import argparse
import sys

from s2t import __version__
from s2t.cli.batch import add_batch
from s2t.cli.common import Parser, UserError
from s2t.cli.corpus import add_corpus
from s2t.cli.face import add_coeffs, add_fit_face, add_rig
from s2t.cli.generate import add_demo, add_generate, add_generate_coeffs
from s2t.cli.train import add_train


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="s2t", description="Style2Talker: talking heads with text-driven emotion "
                                    "and picture-driven art style.")
    parser.add_argument("--version", action="version", version=f"s2t {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_demo, add_generate, add_batch, add_fit_face, add_corpus, add_generate_coeffs, add_train, add_rig,
                add_coeffs):  # the order of `s2t --help`
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from s2t.face.detect import FaceImageError
    from s2t.pipeline import StageUnavailable

    try:
        args.run(args)
    except (UserError, FaceImageError, StageUnavailable, FileNotFoundError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"s2t: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk filled up, a file vanished: the system's words, no traceback
        print(f"s2t: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("s2t: interrupted" + (f"; {exc}" if str(exc) else ""), file=sys.stderr)
        return 130
    return 0


__all__ = ["UserError", "build_parser", "main"]
