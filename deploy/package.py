"""Build what Amazon MWAA takes, laid out as MWAA lays it out:

    python -m deploy.package [--out dist/mwaa]

- ``dags/``: the DAG files, ``.airflowignore`` and what the DAGs read at run time (``include/sql``), synced
  to the environment's ``dags/`` prefix (MWAA copies it to ``/usr/local/airflow/dags``);
- ``plugins.zip``: the contents of ``plugins/`` at the zip's root (MWAA unzips it to
  ``/usr/local/airflow/plugins``);
- ``requirements.txt``: as it is, MWAA's constraint line included;
- the same three in one ``<out>.zip``.

No ``startup.sh``: the image needs no system package. Zips are reproducible (sorted entries, fixed
timestamps), so an unchanged package uploads as an unchanged object.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT_ROOT / "dist" / "mwaa"
# What the DAGs read at run time, copied into the DAGs folder (pipeline_kit.paths finds it there).
RUNTIME_INCLUDES = ("include/sql",)
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_SKIPPED = ("__pycache__", ".pytest_cache")


@dataclasses.dataclass(frozen=True)
class Package:
    folder: Path  # dags/, plugins.zip, requirements.txt
    archive: Path  # the folder as one zip

    @property
    def dags(self) -> Path:
        return self.folder / "dags"

    @property
    def plugins_zip(self) -> Path:
        return self.folder / "plugins.zip"

    @property
    def requirements(self) -> Path:
        return self.folder / "requirements.txt"


def _files(folder: Path) -> Iterable[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part in _SKIPPED for part in path.parts) and path.suffix != ".pyc"
    )


def write_zip(target: Path, root: Path, files: Iterable[Path]) -> None:
    """A reproducible zip of ``files``, named relative to ``root``."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def build(out: Path = DEFAULT_OUT, project_root: Path = PROJECT_ROOT) -> Package:
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    dags = out / "dags"
    shutil.copytree(project_root / "dags", dags, ignore=shutil.ignore_patterns(*_SKIPPED, "*.pyc"))
    for relative in RUNTIME_INCLUDES:
        shutil.copytree(project_root / relative, dags / relative, ignore=shutil.ignore_patterns(*_SKIPPED))
    plugins = project_root / "plugins"
    write_zip(out / "plugins.zip", plugins, _files(plugins))
    shutil.copy2(project_root / "requirements.txt", out / "requirements.txt")
    archive = out.with_suffix(".zip")
    write_zip(archive, out, _files(out))
    return Package(out, archive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT.relative_to(PROJECT_ROOT)}"
    )
    args = parser.parse_args(argv)
    package = build(args.out)
    print(f"MWAA package: {package.folder} (dags/, plugins.zip, requirements.txt) and {package.archive}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
