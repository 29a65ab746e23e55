"""A fake OpenAI-compatible chat-completions endpoint that answers what the test tells it to."""

from __future__ import annotations

import json

from tests.fakes.http import LoopbackServer, Request, Response

KEY = "sk-fake-llm-key-42"


class FakeLlm(LoopbackServer):
    def __init__(self, answer: str = "A one-sentence summary of the paper for everyone.") -> None:
        self.answer = answer
        super().__init__(self._handle)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def prompts(self) -> list[str]:
        return [
            json.loads(r.body)["messages"][-1]["content"]
            for r in self.requests
            if r.path == "/v1/chat/completions"
        ]

    def _handle(self, request: Request) -> Response:
        if request.path != "/v1/chat/completions" or request.method != "POST":
            return Response.json({"error": {"message": "not found"}}, 404)
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return Response.json({"error": {"message": "invalid api key"}}, 401)
        body = json.loads(request.body)
        return Response.json(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": self.answer}}
                ],
            }
        )  # fmt: skip
