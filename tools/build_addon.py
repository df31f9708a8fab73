"""Build the Blender add-on: a 4.2+ extension zip and legacy add-on zips (Blender 3.4-4.1).

    python tools/build_addon.py                      # all platforms, into dist/
    python tools/build_addon.py --platform linux-x64 # one platform (what the tests build)

The add-on talks to the backend through ``backend.protocol`` + ``backend.client`` (copied
into ``vendor/``) and pyzmq. The extension lists pyzmq wheels in its manifest and Blender
installs the one for its platform; a legacy zip (one per platform) carries pyzmq unpacked
in ``vendor/``. Wheels are fetched with ``pip download`` (the package registry only) unless
``--wheels DIR`` already holds them.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADDON = REPO / "blender_addon"
CLIENT_MODULES = ("__init__.py", "protocol.py", "client.py", "security.py")
PYZMQ = "pyzmq==27.3.0"
PYTHON = "3.11"  # Blender 4.2-5.0 (and Debian's 3.4) run Python 3.11
PLATFORMS = {  # Blender's extension platform -> pip's wheel platform
    "linux-x64": "manylinux_2_28_x86_64",
    "windows-x64": "win_amd64",
    "macos-arm64": "macosx_11_0_arm64",
    "macos-x64": "macosx_10_15_x86_64",
}


def addon_files() -> list[Path]:
    """The add-on's own files (sources and manifest; no caches, no vendored copies)."""
    return sorted(p for p in ADDON.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and "vendor" not in p.relative_to(ADDON).parts and p.suffix in (".py", ".toml"))


def fetch_wheel(platform: str, folder: Path) -> Path:
    """The pyzmq wheel for Blender's Python on ``platform`` (downloaded into ``folder`` if missing)."""
    tag = PLATFORMS[platform]
    arch = {"manylinux_2_28_x86_64": "x86_64", "win_amd64": "win_amd64"}.get(tag, "macosx")
    found = [w for w in folder.glob("pyzmq-*-cp311-*.whl") if arch in w.name]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", PYZMQ, "--only-binary=:all:", "--no-deps",
                        "--python-version", PYTHON, "--platform", tag, "-d", str(folder)], check=True)
        found = [w for w in folder.glob("pyzmq-*-cp311-*.whl") if arch in w.name]
    if not found:
        raise SystemExit(f"no pyzmq wheel for {platform} in {folder}")
    return found[0]


def version() -> str:
    return re.search(r'^version = "([^"]+)"', (ADDON / "blender_manifest.toml").read_text(), re.M).group(1)


def _write_sources(archive: zipfile.ZipFile, prefix: str) -> None:
    for path in addon_files():
        if path.name == "blender_manifest.toml":
            continue  # a legacy add-on has none; the extension gets its own with the wheels listed
        archive.write(path, prefix + str(path.relative_to(ADDON)))
    for name in CLIENT_MODULES:
        archive.write(REPO / "backend" / name, f"{prefix}vendor/backend/{name}")


def build_legacy(platform: str, wheel: Path, out: Path) -> Path:
    """``style2talker-<version>-addon-<platform>.zip``: Preferences > Add-ons > Install."""
    target = out / f"style2talker-{version()}-addon-{platform}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive, zipfile.ZipFile(wheel) as whl:
        _write_sources(archive, "style2talker/")
        for item in whl.infolist():
            if not item.is_dir() and ".dist-info/" not in item.filename:
                archive.writestr(f"style2talker/vendor/{item.filename}", whl.read(item))
    return target


def build_extension(platforms: list[str], wheels: list[Path], out: Path) -> Path:
    """``style2talker-<version>-extension.zip``: drag into Blender 4.2+, or Install from Disk."""
    manifest = (ADDON / "blender_manifest.toml").read_text()
    manifest = manifest.replace("[permissions]", "platforms = [{}]\nwheels = [{}]\n\n[permissions]".format(
        ", ".join(f'"{p}"' for p in platforms), ", ".join(f'"./wheels/{w.name}"' for w in wheels)))
    if "network" not in manifest:
        manifest += 'network = "Talks to s2t-backend over ZeroMQ (this machine, or the address in the preferences)"\n'
    target = out / f"style2talker-{version()}-extension.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        _write_sources(archive, "")
        archive.writestr("blender_manifest.toml", manifest)
        for wheel in wheels:
            archive.write(wheel, f"wheels/{wheel.name}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS),
                        help="build for this platform (repeat; default: all)")
    parser.add_argument("--wheels", type=Path, help="folder with pyzmq wheels (default: a download cache)")
    args = parser.parse_args(argv)
    platforms = args.platform or list(PLATFORMS)
    wheel_dir = args.wheels or Path(tempfile.gettempdir()) / "s2t-addon-wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    wheels = {platform: fetch_wheel(platform, wheel_dir) for platform in platforms}
    built = [build_legacy(platform, wheel, args.out) for platform, wheel in wheels.items()]
    built.append(build_extension(platforms, sorted(set(wheels.values())), args.out))
    for path in built:
        print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
