"""A real GoToSocial on 127.0.0.1 for the tests: started in a folder of its own, accounts made
with its admin command, tokens got through its real OAuth flow.

The binary comes from ``GOTOSOCIAL_BIN`` (GoToSocial's own release binary, or one built from
its source); its web templates and assets from ``GOTOSOCIAL_WEB`` or the ``web/`` folder
beside the binary, as a release unpacks them. A ``bin/`` folder beside the binary (media
tool stubs) goes first on its PATH.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import requests

from tests.waiting import wait_for

BINARY = "GOTOSOCIAL_BIN"
WEB = "GOTOSOCIAL_WEB"
PASSWORD = "Long-pass-1234!"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def binary() -> Path | None:
    """The GoToSocial binary the environment names, if it is there."""
    named = os.environ.get(BINARY)
    path = Path(named) if named else None
    return path if path is not None and path.is_file() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class User:
    """An account on the server and a token of it."""

    server: GoToSocial
    username: str
    token: str
    id: str = ""

    def call(self, method: str, path: str, **data: Any) -> Any:
        response = requests.request(
            method,
            f"{self.server.url}{path}",
            data=data or None,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def post(self, text: str, *, in_reply_to: str | None = None, **more: str) -> str:
        """A status; its id."""
        fields: dict[str, str] = {"status": text, "visibility": "public", **more}
        if in_reply_to is not None:
            fields["in_reply_to_id"] = in_reply_to
        return str(self.call("POST", "/api/v1/statuses", **fields)["id"])

    def replies(self, status_id: str, by: User) -> list[dict[str, Any]]:
        """The statuses ``by`` posted right under ``status_id``."""
        context = self.call("GET", f"/api/v1/statuses/{status_id}/context")
        return [
            s
            for s in context["descendants"]
            if s["in_reply_to_id"] == status_id and s["account"]["id"] == by.id
        ]


class GoToSocial:
    """One server; ``rate_limit`` None keeps GoToSocial's default (300 per 5 min per IP)."""

    def __init__(
        self,
        executable: Path,
        root: Path,
        *,
        rate_limit: int | None = 5000,
        max_characters: int = 500,
    ) -> None:
        self._executable = executable
        self._root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        web = Path(os.environ.get(WEB) or executable.parent / "web")
        config: dict[str, Any] = {
            "host": f"localhost:{self.port}",  # nodeinfo's links need the port
            "protocol": "http",
            "bind-address": "127.0.0.1",
            "port": self.port,
            "db-type": "sqlite",
            "db-address": str(root / "sqlite.db"),
            "web-template-base-dir": f"{web}/template/",
            "web-asset-base-dir": f"{web}/assets/",
            "storage-backend": "local",
            "storage-local-base-path": str(root / "storage"),
            "statuses-max-chars": max_characters,
            "letsencrypt-enabled": False,
            "accounts-registration-open": False,
        }
        if rate_limit is not None:
            config["advanced-rate-limit-requests"] = rate_limit
        (root / "storage").mkdir(parents=True, exist_ok=True)
        self._config = root / "config.json"
        self._config.write_text(json.dumps(config))
        self._env = dict(os.environ)
        tools = executable.parent / "bin"
        if tools.is_dir():
            self._env["PATH"] = f"{tools}{os.pathsep}{self._env.get('PATH', '')}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def _command(self, *args: str) -> list[str]:
        return [str(self._executable), "--config-path", str(self._config), *args]

    def start(self, timeout: float = 60) -> None:
        self._log = (self._root / "server.log").open("wb")
        self._process = subprocess.Popen(
            self._command("server", "start"), env=self._env, stdout=self._log, stderr=self._log
        )
        process = self._process

        def answering() -> bool:  # it answers 503 while it migrates its database
            if process.poll() is not None:
                return True  # ended: no use waiting
            try:
                return requests.get(f"{self.url}/api/v1/instance", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        failed = f"GoToSocial did not start: see {self._root / 'server.log'}"
        try:
            wait_for(answering, timeout)
        except AssertionError as exc:
            raise RuntimeError(failed) from exc
        if process.poll() is not None:
            raise RuntimeError(failed)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def accounts(self, *usernames: str, scopes: str = "read write") -> dict[str, User]:
        """New accounts (made side by side: each takes a couple of CPU seconds), each with a
        token of ``scopes``."""
        with ThreadPoolExecutor(max_workers=len(usernames)) as pool:
            list(pool.map(self._create, usernames))
        users = {name: self.token(name, scopes) for name in usernames}
        for user in users.values():
            user.id = str(user.call("GET", "/api/v1/accounts/verify_credentials")["id"])
        return users

    def _create(self, username: str) -> None:
        subprocess.run(
            self._command(
                "admin", "account", "create", "--username", username,
                "--email", f"{username}@example.org", "--password", PASSWORD,
            ),
            env=self._env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def token(self, username: str, scopes: str) -> User:
        """The real OAuth flow: an app, sign-in with the e-mail, consent, the code, a token."""
        app = requests.post(
            f"{self.url}/api/v1/apps",
            data={"client_name": "tests", "redirect_uris": OOB, "scopes": scopes},
            timeout=10,
        ).json()
        browser = requests.Session()
        browser.get(
            f"{self.url}/oauth/authorize",
            params={
                "client_id": app["client_id"],
                "redirect_uri": OOB,
                "response_type": "code",
                "scope": scopes,
            },
            headers={"Accept": "text/html"},  # 406 otherwise
            timeout=10,
        )
        browser.post(
            f"{self.url}/auth/sign_in",
            data={"username": f"{username}@example.org", "password": PASSWORD},
            timeout=10,
        )
        consent = browser.post(f"{self.url}/oauth/authorize", allow_redirects=False, timeout=10)
        code = re.search(r"code=([^&]+)", consent.headers.get("Location", ""))
        if code is None:
            raise RuntimeError(f"no OAuth code for {username}: {consent.status_code}")
        token = requests.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code[1],
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "redirect_uri": OOB,
                "scope": scopes,
            },
            timeout=10,
        ).json()
        return User(self, username, str(token["access_token"]))
