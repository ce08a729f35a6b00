"""HEAD is answered wherever GET is (RFC 9110 §9.3.2), with GET's status and headers and no
body; it met 405 everywhere before."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from fastapi.testclient import TestClient
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from app.kit.head import HeadAsGetMiddleware

#: Headers that differ between any two responses.
PER_RESPONSE = {"date", "x-request-id"}


def _headers(response: object) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_RESPONSE}  # type: ignore[attr-defined]


def test_head_has_the_status_and_headers_of_get_and_no_body(client: TestClient) -> None:
    for path in ("/healthz", "/", "/api/v1/questionnaires"):
        got, head = client.get(path), client.head(path)
        assert got.status_code == 200, path
        assert head.status_code == 200, (path, head.text)
        assert head.content == b"", path
        assert _headers(head) == _headers(got), path


def test_head_of_what_the_caller_may_not_see_is_the_same_refusal(client: TestClient) -> None:
    path = f"/api/v1/assessments/{uuid.uuid4()}"
    got, head = client.get(path), client.head(path)
    assert got.status_code in (401, 404)
    assert head.status_code == got.status_code
    assert head.content == b""


def test_head_where_get_is_not_served_is_405(client: TestClient) -> None:
    response = client.head("/api/v1/accounts/register")  # POST only
    assert response.status_code == 405
    assert "GET" not in response.headers["allow"]
    response = client.delete("/healthz")
    assert response.headers["allow"] == "GET, HEAD"


def test_a_streamed_body_is_dropped_whole() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"a", b"b", b"c"):
            yield part

    inner = StreamingResponse(chunks(), media_type="text/plain")
    seen: list[Message] = []
    methods: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        methods.append(scope["method"])
        await inner(scope, receive, send)

    requests = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> Message:
        """The request once, then nothing until the response ends (as a server does; a
        receive that answers at once makes the response's disconnect listener spin)."""
        for message in requests:
            return message
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        seen.append(message)

    scope = {"type": "http", "method": "HEAD", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(HeadAsGetMiddleware(app)(scope, receive, send))
    assert methods == ["GET"]
    assert seen[0]["type"] == "http.response.start" and seen[0]["status"] == 200
    assert [m.get("body") for m in seen[1:]] == [b""]
