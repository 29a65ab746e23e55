"""The LLM adapter: a one-sentence TL;DR from any OpenAI-compatible chat endpoint.

Works with hosted APIs, Ollama, vLLM and llama.cpp's server (``POST {base}/chat/completions``).
What comes back is checked by :func:`bot.text.tldr.acceptable_tldr` before anyone sees it.
"""

from __future__ import annotations

from typing import Any

import requests

from bot import __version__
from bot.errors import AuthError, RateLimitedError, RejectedError, TransientError
from bot.models import Paper
from bot.text.markup import readable
from bot.text.tldr import TLDR_MAX_CHARACTERS

SYSTEM_PROMPT = (
    "You write TL;DRs of scientific papers for a social network. Given a title and an "
    "abstract, answer with exactly one plain sentence of at most "
    f"{TLDR_MAX_CHARACTERS} characters that states what the paper contributes. Use only "
    "facts from the abstract; do not speculate or praise. No preamble, no quotes, no "
    "hashtags, no mentions, no links, no emoji."
)


class LlmGateway:
    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 20.0
    ) -> None:
        self.model = model
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"arxiv-bot/{__version__}"
        if api_key:
            self._session.headers["Authorization"] = f"Bearer {api_key}"

    def close(self) -> None:
        self._session.close()

    def tldr(self, paper: Paper) -> str:
        """The model's answer, unchecked. Raises TransientError, RejectedError or AuthError."""
        body = {
            "model": self.model,
            "temperature": 0,
            "max_tokens": 120,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": f"Title: {readable(paper.title)}\n\n"
                    f"Abstract: {readable(paper.abstract)}",
                },
            ],
        }
        try:
            response = self._session.post(self._url, json=body, timeout=self._timeout)
        except requests.Timeout as exc:
            raise TransientError("the LLM endpoint did not answer in time") from exc
        except requests.RequestException as exc:
            raise TransientError(
                f"the LLM endpoint could not be reached: {type(exc).__name__}"
            ) from exc
        if response.status_code in (401, 403):
            raise AuthError(f"the LLM endpoint refused LLM_API_KEY (HTTP {response.status_code})")
        if response.status_code == 429:
            raise RateLimitedError("the LLM endpoint is rate limiting us")
        if response.status_code >= 500:
            raise TransientError(f"the LLM endpoint answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise RejectedError(
                f"the LLM endpoint answered HTTP {response.status_code}", response.status_code
            )
        try:
            data: Any = response.json()
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise RejectedError(
                "the LLM endpoint answered something other than a chat completion"
            ) from exc
        if not isinstance(content, str):
            raise RejectedError("the LLM endpoint's answer has no text")
        return content
