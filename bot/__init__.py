"""arxiv-bot: answers Mastodon posts that link arXiv papers with a short summary."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("arxiv-bot")
    """The one version, ``pyproject.toml``'s, as the installed package's metadata says."""
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
