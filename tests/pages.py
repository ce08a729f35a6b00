"""Helpers for page tests: parse HTML, read forms, sign in with a cookie only."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response

from app.models import User
from tests.factories import login

HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}


def soup(response: Response) -> BeautifulSoup:
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def hidden(page: BeautifulSoup | Any, name: str) -> str:
    field = page.find("input", attrs={"name": name})
    assert field is not None, f"no input {name}"
    return str(field["value"])


def sign_in(client: TestClient, user: User) -> str:
    """Sign in (the session cookie); forms then carry the CSRF token themselves."""
    csrf = login(client, user)
    client.headers.pop("X-CSRF-Token", None)
    return csrf


def texts(page: BeautifulSoup | Any, selector: str) -> list[str]:
    return [node.get_text(" ", strip=True) for node in page.select(selector)]
