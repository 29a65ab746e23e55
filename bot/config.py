"""Settings, read once at start from the environment and an optional ``.env`` file.

Every field's name is its environment variable, lower-cased. ``load_settings`` turns a
validation error into :class:`SettingsError`, whose message is one line per bad variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.models import RemoteTag, Visibility
from bot.state.paths import DEFAULT_DATA_DIR, state_file

_HASHTAG = re.compile(r"[^\W]\w*", re.UNICODE)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class SettingsError(Exception):
    """A bad or missing setting; the message names the variable."""


def secret_from_file(data: Any, field: str) -> Any:
    """Where ``NAME_FILE`` names a file, the secret ``NAME`` is read from it (Docker and
    Kubernetes secrets): one trailing newline stripped; both set, or a file that cannot be
    read or is empty, is a bad setting naming the variable and the path, never the content."""
    if not isinstance(data, dict):
        return data
    path = str(data.get(f"{field}_file") or "").strip()
    if not path:
        return data
    name = field.upper()
    if str(data.get(field) or "").strip():
        raise ValueError(f"{name} and {name}_FILE: set one of them, not both")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ValueError(f"{name}_FILE: cannot read {path!r}: {reason}") from None
    secret = text.removesuffix("\n").removesuffix("\r")
    if not secret.strip():
        raise ValueError(f"{name}_FILE: {path!r} is empty")
    return {**data, field: secret}


def _http_url(value: str, name: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as https://{name}, got {value!r}")
    return value.rstrip("/")


_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d{1,5})?")


def _remote_server(server: str, entry: str) -> str:
    """The server of ``tag@server``: a host name (``sigmoid.social``, read over https) or a
    URL with nothing after the host (``http://127.0.0.1:8080``); lower-cased."""
    server = server.strip().rstrip("/").lower()
    parts = urlsplit(server if "://" in server else f"https://{server}")
    if (
        parts.scheme not in ("http", "https")
        or _HOST.fullmatch(parts.netloc) is None
        or parts.path
        or parts.query
    ):
        raise ValueError(f"{entry!r}: after the @ comes a server, such as arxiv@sigmoid.social")
    return server


def remote_tag(name: str) -> RemoteTag:
    """``arxiv@sigmoid.social`` as a :class:`RemoteTag` (the name already checked)."""
    tag, _, server = name.partition("@")
    url = server if server.startswith(("http://", "https://")) else f"https://{server}"
    return RemoteTag(tag, server.split("://")[-1], url)


class ReplySettings(BaseSettings):
    """What is needed to fetch papers and write replies: enough for ``arxiv-bot preview``."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_delay_seconds: float = Field(default=3.0, ge=0, le=600)
    arxiv_timeout: float = Field(default=30.0, gt=0, le=600)
    bot_max_papers_per_post: int = Field(default=3, ge=1, le=20)
    bot_bare_ids: bool = False
    bot_reply_mode: Literal["summary", "abstract"] = "summary"
    bot_summary_max_characters: int = Field(default=600, ge=0, le=100_000)
    bot_summarizer: Literal["extractive", "llm"] = "extractive"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_api_key_file: Path | None = None
    llm_model: str | None = None
    llm_timeout: float = Field(default=20.0, gt=0, le=600)
    log_format: Literal["json", "console"] | None = None
    log_level: LogLevel = "INFO"

    @field_validator("arxiv_api_url")
    @classmethod
    def _arxiv_url(cls, value: str) -> str:
        return _http_url(value, "export.arxiv.org/api/query")

    @field_validator("llm_base_url")
    @classmethod
    def _llm_url(cls, value: str | None) -> str | None:
        return _http_url(value, "api.example/v1") if value else None

    @field_validator("bot_summary_max_characters")
    @classmethod
    def _a_readable_cap(cls, value: int) -> int:
        if 0 < value < 100:
            raise ValueError(f"0 (as much as fits) or at least 100 characters, got {value}")
        return value

    @field_validator("bot_reply_mode", "bot_summarizer", mode="before")
    @classmethod
    def _lower_choice(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _llm_key_from_file(cls, data: Any) -> Any:
        return secret_from_file(data, "llm_api_key")

    @field_validator("llm_api_key", "llm_api_key_file", "llm_model", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _llm_needs_an_endpoint(self) -> ReplySettings:
        if self.bot_summarizer == "llm" and (not self.llm_base_url or not self.llm_model):
            missing = "LLM_BASE_URL" if not self.llm_base_url else "LLM_MODEL"
            raise ValueError(f"{missing}: required when BOT_SUMMARIZER=llm")
        return self

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in a log line."""
        return [self.llm_api_key.get_secret_value()] if self.llm_api_key else []

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _case_insensitive(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return (
                value.upper()
                if value.lower() in ("debug", "info", "warning", "error")
                else (value.lower() or None)
            )
        return value


class Settings(ReplySettings):
    """Everything the running bot needs."""

    mastodon_base_url: str
    mastodon_access_token: SecretStr | None = None
    mastodon_access_token_file: Path | None = None
    mastodon_timeout: float = Field(default=15.0, gt=0, le=600)
    bot_hashtags: Annotated[tuple[str, ...], NoDecode] = ()
    bot_poll_interval: float = Field(default=60.0, gt=0, le=86400)
    bot_data_dir: Path = DEFAULT_DATA_DIR
    bot_dry_run: bool = False
    bot_reply_visibility: Visibility = "unlisted"
    bot_pending_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    bot_retry_base_seconds: float = Field(default=30.0, ge=0, le=3600)
    bot_retry_max_seconds: float = Field(default=900.0, ge=0, le=86400)
    bot_retention_days: float = Field(default=30.0, gt=0, le=3650)
    bot_hashtag_policy: Literal["all", "followers"] = "all"
    bot_max_replies_per_thread: int = Field(default=6, ge=1, le=100)
    bot_rate_per_account: int = Field(default=10, ge=1, le=1000)
    bot_backlog_per_account: int = Field(default=20, ge=0, le=10000)
    bot_posts_per_3h: int = Field(default=300, ge=2, le=100000)
    bot_post_gap_seconds: float = Field(default=3.0, ge=0, le=600)
    bot_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Off unless a port is set; then every interface, as a container must for a scraper.
    bot_metrics_host: str = "0.0.0.0"  # noqa: S104 -- counts only, no secrets; off by default
    bot_sweep_seconds: float = Field(default=300.0, gt=0, le=86400)
    bot_lookback_hours: float = Field(default=6.0, gt=0, le=24 * 7)
    bot_streaming: Literal["auto", "off"] = "auto"
    bot_stream_poll_factor: int = Field(default=5, ge=1, le=100)
    bot_stream_dead_seconds: float = Field(default=60.0, ge=1, le=3600)
    bot_stream_retry_seconds: float = Field(default=1800.0, gt=0, le=86400)

    @field_validator("mastodon_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value, "mastodon.example")

    @field_validator("bot_hashtags", mode="before")
    @classmethod
    def _split_hashtags(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        tags: list[str] = []
        for raw in value.split(","):
            entry = raw.strip().removeprefix("#")
            tag, at, server = entry.partition("@")
            tag = tag.lower()
            if not tag and not at:
                continue
            if _HASHTAG.fullmatch(tag) is None:
                raise ValueError(f"{raw.strip()!r} is not a hashtag (letters, digits and _ only)")
            name = tag if not at else f"{tag}@{_remote_server(server, raw.strip())}"
            if name not in tags:
                tags.append(name)
        return tuple(tags)

    @field_validator("bot_reply_visibility", "bot_hashtag_policy", "bot_streaming", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("bot_metrics_port", mode="before")
    @classmethod
    def _blank_port(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="before")
    @classmethod
    def _token_from_file(cls, data: Any) -> Any:
        return secret_from_file(data, "mastodon_access_token")

    @field_validator("mastodon_access_token", "mastodon_access_token_file", mode="before")
    @classmethod
    def _blank_token(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _token_unless_dry_run(self) -> Settings:
        if self.mastodon_access_token is None and not self.bot_dry_run:
            raise ValueError(
                "MASTODON_ACCESS_TOKEN: required unless BOT_DRY_RUN=true "
                "(create one under Preferences > Development)"
            )
        if self.mastodon_access_token is None and not self.home_hashtags:
            raise ValueError(
                "BOT_HASHTAGS: a dry run without a token cannot read mentions, so it needs "
                "at least one hashtag on its own server to watch"
            )
        if self.mastodon_access_token is None and self.remote_hashtags:
            raise ValueError(
                f"BOT_HASHTAGS: {self.remote_hashtags[0].tag}@{self.remote_hashtags[0].server} "
                "needs MASTODON_ACCESS_TOKEN: posts found on other servers are looked up on "
                "your own to be answered there"
            )
        return self

    @property
    def home_hashtags(self) -> tuple[str, ...]:
        """The hashtags read on the bot's own server."""
        return tuple(t for t in self.bot_hashtags if "@" not in t)

    @property
    def remote_hashtags(self) -> tuple[RemoteTag, ...]:
        """The hashtags read from other servers' public tag timelines (``tag@server``)."""
        return tuple(remote_tag(t) for t in self.bot_hashtags if "@" in t)

    @property
    def secrets(self) -> list[str]:
        token = self.mastodon_access_token
        return super().secrets + ([token.get_secret_value()] if token is not None else [])

    @property
    def has_token(self) -> bool:
        """With a token the bot verifies its account and reads its mentions; without, it is a
        dry run over public hashtag timelines."""
        return self.mastodon_access_token is not None

    @property
    def health_max_age_seconds(self) -> float:
        """How old the last good cycle may be before the healthcheck fails."""
        return max(3 * self.bot_poll_interval, 60.0)

    @property
    def state_path(self) -> Path:
        """The SQLite file; a dry run keeps its own, so it never marks real work as done."""
        return state_file(self.bot_data_dir, self.bot_dry_run)


S = TypeVar("S", bound=BaseSettings)


def load_settings(model: type[S], env_file: str | Path | None = ".env") -> S:
    """Read and validate settings; raise SettingsError with one line per bad variable."""
    try:
        return model(_env_file=env_file)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not loc:
            lines.append(message)
            continue
        name = str(loc[0]).upper()
        if error["type"] == "missing":
            message = "required, not set"
        elif error["type"] != "value_error" and "input" in error and not name.endswith("TOKEN"):
            message = f"{message} (got {error['input']!r})"
        lines.append(f"{name}: {message}")
    return "\n".join(lines)
