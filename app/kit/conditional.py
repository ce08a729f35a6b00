"""Responses a client may revalidate: ETags, ``If-None-Match`` → 304, and bodies serialised once.

For things that never change once made (a submitted assessment's result in one language, a
published questionnaire version): the first request serialises the response model and keeps the
bytes (``JsonBody``) in a bounded in-process cache (``LruCache``); later requests send the bytes,
or 304 when the client holds them already. The bytes are what FastAPI would have sent for the
same model (``json_body``), and the ETag is a hash of them, so every instance agrees on it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Header, Response
from pydantic import BaseModel

from app.kit.i18n import html_lang

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


#: The ``If-None-Match`` request header of a route that answers 304.
IfNoneMatch = Annotated[
    str | None, Header(description="The ETag of a copy you hold: 304 if it is still current.")
]
#: A caller's own data: caches keep it for that caller only and ask before reusing it.
PRIVATE_REVALIDATE = {
    "Cache-Control": "private, no-cache",
    "Vary": "Accept-Language, Cookie, Authorization",
}


def content_language(lang: str) -> dict[str, str]:
    return {"Content-Language": html_lang(lang)}


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 §13.1.2) or is ``*``."""
    if not if_none_match:
        return False
    presented = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in presented or etag in presented


@dataclass(frozen=True, slots=True)
class JsonBody:
    body: bytes
    etag: str


def json_body(model: BaseModel) -> JsonBody:
    """The bytes FastAPI sends for ``model`` as a route's response model (by alias, JSON mode,
    compact, UTF-8), with a strong ETag of them."""
    content = model.model_dump(mode="json", by_alias=True)
    body = json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")
    return JsonBody(body, '"' + hashlib.sha256(body).hexdigest()[:24] + '"')


def json_response(
    stored: JsonBody, if_none_match: str | None, headers: Mapping[str, str] | None = None
) -> Response:
    """200 with the stored bytes, or 304 (no body) when the client holds them already."""
    all_headers = {"ETag": stored.etag, **(headers or {})}
    if etag_matches(if_none_match, stored.etag):
        return Response(status_code=304, headers=all_headers)
    return Response(stored.body, media_type="application/json", headers=all_headers)


def model_response(model: BaseModel, headers: Mapping[str, str] | None = None) -> Response:
    """200 with ``model`` as FastAPI sends a route's response model (pydantic's JSON, by
    alias), made in the route itself: a sync route that returns the model instead has FastAPI
    validate it again, in another trip through the thread pool."""
    return Response(
        model.model_dump_json(by_alias=True), media_type="application/json", headers=headers
    )


class LruCache(Generic[K, V]):
    """At most ``size`` entries, least recently used out first; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The cached value, or ``make()``'s (made outside the lock; two threads may both make
        it the first time, and the values are equal)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
