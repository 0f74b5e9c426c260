"""A data dir as ``hotline db upgrade`` leaves it: CLI commands other than ``serve`` and ``db upgrade``
refuse a data dir without a database (a mistyped --data-dir must not start an empty one)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hotline.cli import main


def init_data_dir(path: Path | str) -> Path:
    result = CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(path)])
    assert result.exit_code == 0, result.output
    return Path(path)
