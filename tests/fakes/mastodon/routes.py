"""The fake's endpoints, one small function each, and the table that routes to them.

Each answers as the real server does (``FACTS-mastodon.md``, ``FACTS-fediverse.md``; the
flavour says where another server differs), including its refusals: 401 without a token, 403
outside the token's scopes or on a post the bot may not see, 404 for what is not there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.http import Request, Response
from tests.fakes.mastodon.counting import MENTION, URL, count
from tests.fakes.mastodon.entities import StatusRecord, notification_json

if TYPE_CHECKING:
    from tests.fakes.mastodon.server import FakeMastodon

Handler = Callable[["FakeMastodon", Request, re.Match[str]], Response]
VISIBILITIES = ("public", "unlisted", "private", "direct")
_TAG = re.compile(r"(?<![\w/&])#(\w+)")
INVALID_TOKEN = {"error": "The access token is invalid"}
OUT_OF_SCOPE = {"error": "This action is outside the authorized scopes"}
NOT_FOUND = {"error": "Record not found"}
NOT_ALLOWED = {"error": "This action is not allowed"}


def refused_scope(fake: FakeMastodon, needed: str) -> Response | None:
    """403 when the token lacks ``needed`` (``read:accounts``…): Mastodon takes the scope or
    its broad part (``read``); Takahē only the broad part."""
    broad = needed.split(":")[0]
    if fake.flavour.granular_scopes:
        if not {needed, broad} & set(fake.scopes):
            return Response.json(OUT_OF_SCOPE, 403)
    elif broad not in fake.scopes:
        return Response.json({"error": "out_of_scope_for_token"}, 403)
    return None


def verify_credentials(fake: FakeMastodon, request: Request, _: re.Match[str]) -> Response:
    if not fake.authorised(request):
        return Response.json(INVALID_TOKEN, 401)
    refused = refused_scope(fake, "read:accounts")
    if refused is not None:
        return refused
    return Response.json({**fake.bot, "source": {"privacy": "public"}})


def app_credentials(fake: FakeMastodon, request: Request, _: re.Match[str]) -> Response:
    """Mastodon 4.3+ tells an app its scopes."""
    if not fake.authorised(request):
        return Response.json(INVALID_TOKEN, 401)
    return Response.json({"name": "arxiv-bot", "website": None, "scopes": list(fake.scopes)})


def instance_v2(fake: FakeMastodon, _: Request, __: re.Match[str]) -> Response:
    if not fake.flavour.has_v2:
        return Response.json({"error": "Not found"}, 404)
    if fake.flavour.v2_error is not None:
        return Response(fake.flavour.v2_error, b"<h1>Server Error (500)</h1>", "text/html")
    feeds = fake.hashtag_feeds
    return Response.json(
        {
            "domain": "fake.example",
            "title": "Fake",
            "version": fake.flavour.version,
            "configuration": {
                "urls": {"streaming": fake.streaming_url()},
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": {"local": feeds, "remote": feeds},
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
                "statuses": {
                    "max_characters": fake.max_characters,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": fake.url_length,
                },
            },
        }
    )


def instance_v1(fake: FakeMastodon, _: Request, __: re.Match[str]) -> Response:
    v1: dict[str, Any] = {
        "uri": "fake.example",
        "title": "Fake",
        "version": fake.flavour.version,
        "configuration": {"statuses": {"max_characters": fake.max_characters}},
    }
    if fake.flavour_name == "mastodon":
        v1["urls"] = {"streaming_api": fake.streaming_url()}
    if fake.flavour.v1_max_toot_chars:
        v1["max_toot_chars"] = fake.max_characters
        del v1["configuration"]
    return Response.json(v1)


def nodeinfo_links(fake: FakeMastodon, _: Request, __: re.Match[str]) -> Response:
    schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
    return Response.json({"links": [{"rel": schema, "href": f"{fake.url}/nodeinfo/2.0"}]})


def nodeinfo(fake: FakeMastodon, _: Request, __: re.Match[str]) -> Response:
    return Response.json({"version": "2.0", "software": {"name": fake.flavour.nodeinfo}})


def tag_timeline(fake: FakeMastodon, request: Request, match: re.Match[str]) -> Response:
    """Public statuses under the path tag and ``any[]`` (as the flavour reads ``any[]``),
    paged by ``min_id``/``max_id``/``since_id`` as ``methods/timelines.md`` says."""
    if fake.flavour.tag_timeline_needs_token and not fake.authorised(request):
        return Response.json({"error": "Unauthorized"}, 401)
    if fake.authorised(request) and (refused := refused_scope(fake, "read:statuses")):
        return refused
    if fake.hashtag_feeds == "disabled":
        return Response.json([])
    if fake.hashtag_feeds == "authenticated" and not fake.authorised(request):
        return Response.json([])  # Mastodon 4.5 timelines_access: shown to its users only
    q = request.query
    names = [match["tag"].lower(), *(t.lower() for t in q.get("any[]", []))]
    if fake.flavour.unused_tag_404 and not any(names[0] in s.tags for s in fake.statuses.values()):
        error = "Not Found: tag was not found, or not useable/listable on this instance"
        return Response.json({"error": error}, 404)
    mode = fake.flavour.any_tags
    if mode == "first4":  # Mastodon's TagFeed: LIMIT_PER_MODE = 4, the path tag first
        names = list(dict.fromkeys(names))[:4]
    elif mode == "ignored":
        names = names[:1]

    def carries(record: StatusRecord) -> bool:
        if mode == "and":
            return all(n in record.tags for n in names)
        return bool(set(names) & set(record.tags))

    limit = min(int(q.get("limit", ["20"])[0]), 40)
    with fake.state_lock:
        matching = sorted(
            (
                s
                for s in fake.statuses.values()
                if s.visibility == "public" and s.reblog_of is None and carries(s)
            ),
            key=lambda s: s.id,
        )
        if "min_id" in q and not fake.ignores_min_id:
            after = [s for s in matching if s.id > int(q["min_id"][0])]
            page = list(reversed(after[:limit]))
        else:
            newest_first = list(reversed(matching))
            if "max_id" in q:
                newest_first = [s for s in newest_first if s.id < int(q["max_id"][0])]
            if "since_id" in q:
                newest_first = [s for s in newest_first if s.id > int(q["since_id"][0])]
            page = newest_first[:limit]
        body = [fake.status_json(s) for s in page]
    headers = {}
    if page and fake.flavour.link_header:
        base = f"{fake.url}{request.path}"
        headers["Link"] = (
            f'<{base}?max_id={page[-1].id}>; rel="next", <{base}?min_id={page[0].id}>; rel="prev"'
        )
    return Response.json(body, headers=headers)


def search(fake: FakeMastodon, request: Request, _: re.Match[str]) -> Response:
    """``/api/v2/search`` for a post's URI or URL (``methods/search.md``): a post this server
    has; with ``resolve`` (logged-in users only, as Mastodon says), one it fetches from the
    post's own server (a copy under a new id). A post it cannot fetch — its server unknown,
    down or blocked, the post gone or not public — is an empty result, not an error, as
    Mastodon's ``ResolveURLService`` answers."""
    q = request.query
    resolving = q.get("resolve", ["false"])[0] == "true"
    if not fake.authorised(request):
        if resolving:
            error = "Search queries that resolve remote resources are not supported without authentication"
            return Response.json({"error": error}, 401)
    elif (refused := refused_scope(fake, "read:search")) is not None:
        return refused
    wanted = q.get("q", [""])[0]
    empty: dict[str, list[Any]] = {"accounts": [], "statuses": [], "hashtags": []}
    with fake.state_lock:
        local = next(
            (s for s in fake.statuses.values() if wanted in _uri_and_url(fake.status_json(s))),
            None,
        )
    if local is None and resolving:
        host = wanted.split("/")[2] if wanted.count("/") >= 2 else ""
        peer = fake.peers.get(host)
        if peer is not None and host not in fake.blocked_domains and not peer.unreachable:
            with peer.state_lock:
                original = next(
                    (i for i, s in peer.statuses.items() if peer.status_json(s)["uri"] == wanted),
                    None,
                )
            copied = fake.federate(peer, original) if original is not None else None
            local = fake.statuses.get(copied) if copied is not None else None
    if local is None or local.visibility != "public":
        return Response.json(empty)
    return Response.json({**empty, "statuses": [fake.status_json(local)]})


def _uri_and_url(status: dict[str, Any]) -> tuple[str, str]:
    return status["uri"], status["url"]


def notifications(fake: FakeMastodon, request: Request, _: re.Match[str]) -> Response:
    if not fake.authorised(request):
        return Response.json(INVALID_TOKEN, 401)
    refused = refused_scope(fake, "read:notifications")
    if refused is not None:
        return refused
    q = request.query
    default = "1" if fake.flavour.one_notification_without_limit else "15"
    limit = min(int(q.get("limit", [default])[0]), 80)
    with_filtered = q.get("include_filtered", ["false"])[0] == "true"
    with fake.state_lock:
        types = set(q.get("types[]", [])) if fake.flavour.notification_types else set()
        visible = [
            (nid, sid, kind)
            for nid, sid, filtered, kind in fake.notifications
            if (with_filtered or not filtered)
            and sid in fake.statuses
            and (not types or kind in types)
        ]
        if "min_id" in q:
            page = list(reversed([n for n in visible if n[0] > int(q["min_id"][0])][:limit]))
        else:
            page = list(reversed(visible))[:limit]
        body = [
            notification_json(
                nid, kind, fake.statuses[sid].account, fake.status_json(fake.statuses[sid])
            )
            for nid, sid, kind in page
        ]
    return Response.json(body)


def relationships(fake: FakeMastodon, request: Request, _: re.Match[str]) -> Response:
    if fake.relationships_forbidden:
        return Response.json(OUT_OF_SCOPE, 403)
    ids = request.query.get("id[]", [])
    return Response.json(
        [{"id": i, "following": False, "followed_by": i in fake.followers} for i in ids]
    )


def get_status(fake: FakeMastodon, _: Request, match: re.Match[str]) -> Response:
    status_id = int(match["id"])
    if status_id in fake.forbidden:
        return Response.json(NOT_ALLOWED, 403)
    with fake.state_lock:
        record = fake.statuses.get(status_id)
        if record is None:
            return Response.json(NOT_FOUND, 404)
        return Response.json(fake.status_json(record))


def context(fake: FakeMastodon, _: Request, match: re.Match[str]) -> Response:
    status_id = int(match["id"])
    if status_id in fake.forbidden:
        return Response.json(NOT_ALLOWED, 403)
    with fake.state_lock:
        if status_id not in fake.statuses:
            return Response.json(NOT_FOUND, 404)
        ancestors: list[StatusRecord] = []
        parent = fake.statuses[status_id].in_reply_to_id
        while parent is not None and parent in fake.statuses:
            ancestors.insert(0, fake.statuses[parent])
            parent = fake.statuses[parent].in_reply_to_id
        descendants = []
        frontier = [status_id]
        while frontier:
            children = sorted(
                (s for s in fake.statuses.values() if s.in_reply_to_id in frontier),
                key=lambda s: s.id,
            )
            descendants.extend(children)
            frontier = [s.id for s in children]
        return Response.json(
            {
                "ancestors": [fake.status_json(s) for s in ancestors],
                "descendants": [fake.status_json(s) for s in descendants],
            }
        )


def delete_status(fake: FakeMastodon, _: Request, match: re.Match[str]) -> Response:
    with fake.state_lock:
        record = fake.statuses.get(int(match["id"]))
        if record is None:
            return Response.json(NOT_FOUND, 404)
        if record.account["id"] != fake.bot["id"]:
            return Response.json(NOT_ALLOWED, 403)
        del fake.statuses[record.id]
        fake.deleted.append(record.id)
        return Response.json(fake.status_json(record))


def post_status(fake: FakeMastodon, request: Request, _: re.Match[str]) -> Response:
    """``POST /api/v1/statuses``: refused when too long as the flavour counts; a repeated
    ``Idempotency-Key`` of the same token answers the first status (where honoured)."""
    if not fake.authorised(request):
        return Response.json(INVALID_TOKEN, 401)
    refused = refused_scope(fake, "write:statuses")
    if refused is not None:
        return refused
    form = request.form()
    text = form.get("status", [""])[0]
    visibility = form.get("visibility", ["public"])[0]
    if visibility not in VISIBILITIES:
        return Response.json({"error": "Validation failed: Visibility is invalid"}, 422)
    spoiler = form.get("spoiler_text", [""])[0]
    flavour = fake.flavour
    counting = flavour.counting
    if counting == "mastodon" and fake.counting_override is not None:
        counting = fake.counting_override  # a Mastodon look-alike that counts another way
    length, warning = count(counting, text, spoiler, fake.url_length)
    if (
        counting != "none"
        and length + (warning if flavour.warning_counted else 0) > fake.max_characters
    ):
        status, message = flavour.too_long
        return Response.json({"error": message.format(n=fake.max_characters)}, status)
    key = request.headers.get("idempotency-key") if flavour.idempotency else None
    with fake.state_lock:
        if key is not None and (fake.token, key) in fake.keys:
            return Response.json(fake.status_json(fake.statuses[fake.keys[(fake.token, key)]]))
        reply_to = form.get("in_reply_to_id", [None])[0]
        if reply_to is not None and (
            int(reply_to) not in fake.statuses or int(reply_to) in fake.forbidden
        ):
            return Response.json(NOT_FOUND, 404)
        tags = tuple(t.lower() for t in _TAG.findall(text))
        record = StatusRecord(
            id=fake.new_id(),
            account=fake.bot,
            content="<p>" + html.escape(text).replace("\n", "<br />") + "</p>",
            visibility=visibility,
            tags=tags if visibility == "public" else (),
            text=text,
            in_reply_to_id=None if reply_to is None else int(reply_to),
            spoiler_text=spoiler,
            language=form.get("language", [None])[0],
            idempotency_key=key or "",
            mentions=tuple(m.group(0)[1:] for m in MENTION.finditer(URL.sub(" ", text))),
        )
        fake.statuses[record.id] = record
        fake.publish_status(record)
        if key is not None:
            fake.keys[(fake.token, key)] = record.id
        return Response.json(fake.status_json(record))


def streaming(fake: FakeMastodon, request: Request, _: re.Match[str]) -> Response:
    """The streaming API here, unless it lives on a host of its own (then: not found here)."""
    if fake.streaming_host is not None:
        return Response.json({"error": "Not found"}, 404)
    return stream(fake, request)


def stream(fake: FakeMastodon, request: Request) -> Response:
    """The streaming API: an upgrade to WebSocket at ``/api/v1/streaming`` where the flavour
    streams so, server-sent events at ``/api/v1/streaming/<stream>`` on Mastodon only; a user
    token for every stream (Mastodon 4.2+, GoToSocial, Akkoma)."""
    path = request.path.rstrip("/")
    streaming = fake.flavour.streaming
    if request.headers.get("upgrade", "").lower() == "websocket":
        if path != "/api/v1/streaming" or streaming == "none" or "websocket" not in streaming:
            return Response.json({"error": "Not found"}, 404)
        if fake.websocket_refused is not None:
            status, error = fake.websocket_refused
            return Response.json({"error": error}, status)
        return websocket(fake, request)
    if streaming != "sse+websocket":
        return Response.json({"error": "Not found"}, 404)
    if path == "/api/v1/streaming/health":
        return Response(200, b"OK", "text/plain")
    if not fake.authorised(request):
        return Response.json({"error": "Error: Missing access token"}, 401)
    if path == "/api/v1/streaming/user":
        return fake.streaming.serve("user")
    if path == "/api/v1/streaming/user/notification":
        return fake.streaming.serve("user:notification")
    if path == "/api/v1/streaming/hashtag":
        tag = (request.query.get("tag") or [""])[0].lower()
        if not tag:
            return Response.json({"error": "Missing tag name parameter"}, 400)
        return fake.streaming.serve(f"hashtag:{tag}")
    return Response.json({"error": "Unknown stream type"}, 400)


def websocket(fake: FakeMastodon, request: Request) -> Response:
    """The token from the query, ``Sec-WebSocket-Protocol`` or (where taken) the
    ``Authorization`` header; the first stream from the query; more by ``subscribe``
    messages where the server multiplexes."""
    flavour = fake.flavour
    protocol = request.headers.get("sec-websocket-protocol")
    given = [
        (request.query.get("access_token") or [""])[0],
        (protocol or "").split(",")[0].strip(),
    ]
    if flavour.stream_authorization_header:
        given.append(request.headers.get("authorization", "").removeprefix("Bearer "))
    if fake.token not in given:
        return Response.json({"error": "Error: Missing access token"}, 401)
    kind = (request.query.get("stream") or [""])[0]
    tag = (request.query.get("tag") or [""])[0].lower()
    first = stream_name(flavour.stream_kinds, kind, tag) if kind else None
    if kind and first is None:
        return Response.json({"error": "Unknown stream type"}, 400)
    if first is None and flavour.streaming == "websocket-query":
        return Response.json({"error": "Missing stream"}, 400)

    def subscribe(message: dict[str, Any]) -> str | None:
        if flavour.streaming == "websocket-query":
            return ""  # one stream a connection: the message is not read
        return stream_name(
            flavour.stream_kinds, str(message.get("stream")), str(message.get("tag") or "")
        )

    key = request.headers.get("sec-websocket-key", "")
    return fake.streaming.serve_websocket(key, first, protocol, subscribe)


def stream_name(kinds: tuple[str, ...], kind: str, tag: str) -> str | None:
    if kind not in kinds:
        return None
    if kind == "hashtag":
        return f"hashtag:{tag.lower()}" if tag else "hashtag"
    return kind


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("GET", r"/api/v1/accounts/verify_credentials", verify_credentials),
        ("GET", r"/api/v1/apps/verify_credentials", app_credentials),
        ("GET", r"/api/v2/instance", instance_v2),
        ("GET", r"/api/v1/instance", instance_v1),
        ("GET", r"/\.well-known/nodeinfo", nodeinfo_links),
        ("GET", r"/nodeinfo/2\.0", nodeinfo),
        ("GET", r"/api/v1/streaming(?:/.*)?", streaming),
        ("GET", r"/api/v1/timelines/tag/(?P<tag>[^/]+)", tag_timeline),
        ("GET", r"/api/v1/notifications", notifications),
        ("GET", r"/api/v2/search", search),
        ("GET", r"/api/v1/accounts/relationships", relationships),
        ("POST", r"/api/v1/statuses", post_status),
        ("GET", r"/api/v1/statuses/(?P<id>\d+)", get_status),
        ("DELETE", r"/api/v1/statuses/(?P<id>\d+)", delete_status),
        ("GET", r"/api/v1/statuses/(?P<id>\d+)/context", context),
    )
]


def route(fake: FakeMastodon, request: Request) -> Response:
    path = request.path.rstrip("/")  # Rails routes ignore a trailing slash
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and method == request.method:
            return handler(fake, request, match)
    return Response.json({"error": "Not found"}, 404)
