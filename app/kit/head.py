"""``HEAD`` wherever ``GET`` is served (RFC 9110 §9.3.2: a general-purpose server must support
both).

FastAPI routes declare ``GET`` alone, so a ``HEAD`` (``curl -I``, uptime monitors, link
checkers) met 405. This pure-ASGI middleware hands a ``HEAD`` request to the app as a ``GET``
and sends the same status and headers without the body; the request is otherwise the same
(authentication, 404 for what the caller may not see, conditional headers). Logs and metrics
outside it still say ``HEAD``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the last (empty) message ends the response
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, without_body)
