"""If-Match is a non-empty string: an empty one is a missing precondition (428 or 422), never
412 "changed since you loaded it"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("value", ["", " "])
@pytest.mark.parametrize("write", ["answers", "submit"])
def test_an_empty_if_match_is_not_a_stale_version(
    signed_in: TestClient, start: Callable[..., dict[str, Any]], value: str, write: str
) -> None:
    assessment = start()
    url = f"/api/v1/assessments/{assessment['id']}/{write}"
    headers = {"If-Match": value}
    if write == "answers":
        response = signed_in.put(url, json={"answers": {}}, headers=headers)
    else:
        response = signed_in.post(url, headers=headers)
    assert response.status_code in {422, 428}, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"].lower() for e in response.json()["errors"]] == ["header.if-match"]
