# syntax=docker/dockerfile:1
# arxiv-bot: build the locked dependencies with uv, run them on a slim Python as a non-root user.

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.13-slim AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY bot ./bot
RUN uv sync --locked --no-dev --no-editable

FROM python:3.13-slim
RUN useradd --system --uid 10001 --no-create-home --home-dir /data --shell /usr/sbin/nologin bot \
    && mkdir -p /data && chown bot /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BOT_DATA_DIR=/data
USER bot
WORKDIR /app
VOLUME ["/data"]
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD ["arxiv-bot", "healthcheck"]
ENTRYPOINT ["arxiv-bot"]
CMD ["run"]
