"""arxiv-bot: answers Mastodon posts that link arXiv papers with a short summary."""

__version__ = "0.1.0"
