"""Dependencies point one way: face/audio/text -> style_e/style_a -> pipeline -> cli/backend.

The model packages must import (and run their imports) with the corpus, the evaluation
harnesses, the training layer, the demo, the CLI and the backend all missing, and no module of
``s2t`` but the CLI may import ``backend``.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
S2T = ROOT / "s2t"

MODEL_PACKAGES = ("s2t.face", "s2t.audio", "s2t.text", "s2t.style_e", "s2t.style_a")
MODEL_MODULES = ("s2t.checkpoint", "s2t.pipeline")  # walked too where they exist
BLOCKED = ("backend", "s2t.data", "s2t.eval", "s2t.training", "s2t.cli", "s2t.demo")

IMPORT_EVERYTHING = r"""
import importlib, importlib.util, json, pkgutil, sys

blocked, packages, modules = json.loads(sys.argv[1])
attempts = []


def importing_chain():
    '''The s2t/backend modules whose imports are running now, outermost first.'''
    chain, frame = [], sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.split(".")[0] in ("s2t", "backend") and (not chain or chain[-1] != name):
            chain.append(name)
        frame = frame.f_back
    return chain[::-1]


class Blocker:
    '''Refuses the layers above the model packages, and remembers who asked (even if caught).'''

    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            attempts.append(importing_chain() + [name])
            raise ImportError(f"{name} is blocked: a layer above the model packages")
        return None


sys.meta_path.insert(0, Blocker())
failures = []
names = [m for m in modules if importlib.util.find_spec(m) is not None]
for package in packages:
    names.append(package)
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + ".", onerror=lambda name: failures.append(
            [name, f"{sys.exc_info()[0].__name__}: {sys.exc_info()[1]}"])):
        names.append(info.name)
for name in sorted(set(names)):
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures.append([name, f"{type(exc).__name__}: {exc}"])
print(json.dumps({"attempts": attempts, "failures": failures, "imported": sorted(set(names))}))
"""


def _blocked(module: str) -> bool:
    return any(module == b or module.startswith(b + ".") for b in BLOCKED)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the file, function-level ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.slow  # a fresh interpreter imports torch and every model module: about 5 s
def test_the_model_packages_import_with_the_layers_above_them_blocked():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    argv = json.dumps([BLOCKED, MODEL_PACKAGES, MODEL_MODULES])
    run = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING, argv], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    chains = sorted({" -> ".join(chain) for chain in report["attempts"]})
    assert not chains, "the model packages import layers above them:\n  " + "\n  ".join(chains)
    assert not report["failures"], "\n".join(f"cannot import {name}: {why}" for name, why in report["failures"])
    assert {"s2t.face.coeffs", "s2t.audio.features", "s2t.style_e.blinks", "s2t.style_a.cpu_renderer"} <= set(
        report["imported"])  # the walk found the packages' modules


def test_no_model_module_imports_the_layers_above_it_even_inside_a_function():
    offences = []
    for package in MODEL_PACKAGES:
        for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
            offences += [f"{path.relative_to(ROOT)}:{line} imports {module}"
                         for line, module in _imports(path) if _blocked(module)]  # fmt: skip
    assert not offences, "model packages import layers above them:\n  " + "\n  ".join(offences)


def test_only_the_cli_imports_the_backend():
    offences = []
    for path in sorted(S2T.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("s2t/cli/"):
            continue
        offences += [f"{relative}:{line} imports {module}" for line, module in _imports(path)
                     if module == "backend" or module.startswith("backend.")]  # fmt: skip
    assert not offences, "s2t imports the backend outside the CLI:\n  " + "\n  ".join(offences)
