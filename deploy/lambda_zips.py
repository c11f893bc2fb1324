"""Lambda zips built reproducibly, so that the same input gets the same bytes (and the same content-addressed
key in the artifacts bucket): a function's folder (``zip_folder``), and a layer of the packages some
functions' ``requirements.txt`` name (``build_layer``), as Lambda's Python runtime finds them (``python/``).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

# What the layers' functions run on (their Runtime, and the default architecture; the templates' LayerVersion
# CompatibleRuntimes and CompatibleArchitectures say the same, which tests/test_pipelines.py checks).
LAYER_PYTHON_VERSION = "3.12"
LAYER_ARCHITECTURE = "x86_64"
LAYER_PLATFORM = f"manylinux2014_{LAYER_ARCHITECTURE}"
# Where a Python runtime looks for a layer's packages.
LAYER_ROOT = "python"


def zip_folder(folder: Path) -> bytes:
    """The folder as a zip whose bytes depend only on the files' names and contents (no timestamps), so that
    the same code gets the same key and an unchanged function is not updated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def content_key(prefix: str, body: bytes) -> str:
    """``<prefix>/<sha256[:32]>.zip``: changed content is a new key, which is what makes CloudFormation update
    the function or publish a new layer version."""
    return f"{prefix}/{hashlib.sha256(body).hexdigest()[:32]}.zip"


def build_layer(requirements: Iterable[Path]) -> bytes:
    """The packages the ``requirements`` files name, resolved together as wheels for Lambda's Python (CPython
    ``LAYER_PYTHON_VERSION`` on ``LAYER_PLATFORM``, whatever this machine is), zipped under ``python/``."""
    with tempfile.TemporaryDirectory(prefix="lambda-layer-") as scratch:
        target = Path(scratch) / LAYER_ROOT
        requirement_args = [arg for path in requirements for arg in ("-r", str(path))]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(target),
                "--platform",
                LAYER_PLATFORM,
                "--implementation",
                "cp",
                "--python-version",
                LAYER_PYTHON_VERSION,
                "--only-binary=:all:",
                "--no-compile",
                *requirement_args,
            ],
            check=True,
        )
        _drop_console_scripts(target)
        return zip_folder(Path(scratch))


def _drop_console_scripts(target: Path) -> None:
    """pip's console scripts (``python/bin/``) start with this machine's interpreter path: no use on Lambda, and
    they (and the RECORD lines hashing them) would make the layer's bytes depend on where it was built."""
    shutil.rmtree(target / "bin", ignore_errors=True)
    for record in target.glob("*.dist-info/RECORD"):
        lines = record.read_text().splitlines(keepends=True)
        record.write_text("".join(line for line in lines if not line.startswith("../../bin/")))
