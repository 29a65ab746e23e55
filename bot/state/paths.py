"""Where the state file lives. Standard library only: the healthcheck finds it with this."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DATA_DIR = Path("./data")


def state_file(data_dir: Path, dry_run: bool) -> Path:
    """The SQLite file; a dry run keeps its own, so it never marks real work as done."""
    return data_dir / ("state-dry-run.sqlite3" if dry_run else "state.sqlite3")
