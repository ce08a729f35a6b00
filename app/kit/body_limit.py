"""Request body cap for bodies without a declared length.

``app.main`` answers 413 at once for a ``Content-Length`` over ``MAX_BODY_BYTES``; a chunked body
declares none. This pure-ASGI middleware counts the bytes as they stream in. Once the total
passes the cap it answers 413 problem+json itself and tells the app the client has gone
(``http.disconnect``), so the app stops reading; whatever the app then tries to send is dropped.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kit.errors import problem_response
from app.kit.i18n import N_


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0
        started = False
        rejected = False

        async def counting_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not started:
                    rejected = True
                    await self._reject(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 has gone out; the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not rejected:
                raise

    async def _reject(self, scope: Scope, send: Send) -> None:
        response = content_too_large(Request(scope), self.max_bytes, {"Connection": "close"})
        await response(scope, _no_receive, send)


def content_too_large(
    request: Request, max_bytes: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The 413 problem for a body over ``max_bytes``, whether its length was declared up front
    or found while it streamed in."""
    return problem_response(
        request,
        status=413,
        problem="content-too-large",
        detail=N_("Request bodies are limited to %(max_bytes)s bytes."),
        params={"max_bytes": max_bytes},
        headers=headers,
    )


async def _no_receive() -> Message:  # pragma: no cover - a JSONResponse never reads
    return {"type": "http.disconnect"}
