"""Webhook URLs are resolved and checked at registration, at approval and at delivery, by one
resolver (``app.integrators.destinations``); numeric spellings of an address are normalised."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from app.admin import pages as admin_pages
from app.integrators import destinations, sealing, worker
from app.integrators.destinations import numeric_address
from app.kit.settings import Settings
from app.main import create_app
from app.models import WebhookEndpoint
from tests.app.integrators.helpers import Integrator
from tests.pages import HTML, soup

SPELLINGS = {
    "2130706433": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "127.1": "127.0.0.1",
    "0": "0.0.0.0",
    "0x7f.1": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "127.0.0.1.": "127.0.0.1",
    "0xa9.0xfe.0xa9.0xfe": "169.254.169.254",
    "3232235777": "192.168.1.1",
}


@pytest.fixture(scope="module")
def strict(settings: Settings) -> Iterator[TestClient]:
    """An app as in production: https only, no loopback receivers."""
    strict_settings = settings.model_copy(
        update={"WEBHOOK_ALLOW_HTTP": False, "WEBHOOK_ALLOW_LOOPBACK": False}
    )
    with TestClient(create_app(strict_settings)) as client:
        yield client


def register(client: TestClient, integrator: Integrator, host: str) -> Response:
    return client.post(
        "/api/v1/webhooks", json={"url": f"https://{host}/hook"}, headers=integrator.headers
    )


@pytest.mark.parametrize(("host", "address"), SPELLINGS.items())
def test_numeric_spellings_are_normalised(host: str, address: str) -> None:
    assert numeric_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["hooks.example.com", "0x7g.0.0.1", "1e100.net", "deadbeef"])
def test_names_are_not_numbers(host: str) -> None:
    assert numeric_address(host) is None


@pytest.mark.parametrize("host", list(SPELLINGS))
def test_every_numeric_spelling_of_an_internal_address_is_refused_at_registration(
    strict: TestClient, engine: object, integrator: Integrator, host: str
) -> None:
    response = register(strict, integrator, host)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "body.url"
    assert SPELLINGS[host] in error["message"]


@pytest.mark.parametrize(
    "host",
    [
        "intranet.example.com",  # 10.20.30.40
        "metadata.example.com",  # 169.254.169.254
        "split.example.com",  # a public address and 127.0.0.1: every address counts
        "v6-internal.example.com",  # fd00::1
        "nowhere.example.com",  # does not resolve: cannot be checked
    ],
)
def test_names_resolving_to_internal_addresses_are_refused_at_registration(
    strict: TestClient, engine: object, integrator: Integrator, host: str
) -> None:
    response = register(strict, integrator, host)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body.url"]


@pytest.mark.parametrize(
    "host",
    [
        "[fec0::1]",  # site-local (deprecated, still routed inside some sites)
        "[2002:7f00:1::]",  # 6to4 carrying 127.0.0.1
        "[2002:a9fe:a9fe::]",  # 6to4 carrying 169.254.169.254
        "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
        "[64:ff9b::a9fe:a9fe]",  # NAT64 translating to 169.254.169.254 (reserved, all of it)
    ],
)
def test_ipv6_that_reaches_an_internal_address_is_refused(
    strict: TestClient, engine: object, integrator: Integrator, host: str
) -> None:
    """Accepted with 201 before (``is_global`` is true for these), and approved and delivered
    to: found by fuzzing."""
    response = register(strict, integrator, host)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body.url"]


def test_ipv6_carrying_a_public_address_is_accepted(
    strict: TestClient, engine: object, integrator: Integrator
) -> None:
    response = register(strict, integrator, "[2002:808:808::1]")  # 6to4 carrying 8.8.8.8
    assert response.status_code == 201, response.text


#: The rule a refused address's reason ends with, in either language.
RULE = {
    "zh": "（主机地址及其解析出的所有地址都必须是公网地址）",
    "en": " (every address the host is or resolves to must be public)",
}


@pytest.mark.parametrize(
    ("url", "chinese", "english"),
    [
        (
            "https://intranet.example.com/hook",
            "intranet.example.com 解析为 10.20.30.40，不是公网地址" + RULE["zh"],
            "intranet.example.com resolves to 10.20.30.40, which is not a public address"
            + RULE["en"],
        ),
        (
            "https://2130706433/hook",
            "2130706433 即 127.0.0.1，不是公网地址" + RULE["zh"],
            "2130706433 is 127.0.0.1, which is not a public address" + RULE["en"],
        ),
        (
            "https://[fd00::1]/hook",
            "fd00::1 不是公网地址" + RULE["zh"],
            "fd00::1 is not a public address" + RULE["en"],
        ),
        (
            "https://nowhere.example.com/hook",
            "无法解析主机名 nowhere.example.com" + RULE["zh"],
            "cannot resolve nowhere.example.com: [Errno -2] Name or service not known" + RULE["en"],
        ),
        ("https://[::1/hook", "格式有误，无法解析", "is malformed (Invalid IPv6 URL)"),
    ],
    ids=["resolves-inside", "numeric-spelling", "address", "unresolvable", "malformed"],
)
def test_why_a_url_is_refused_is_said_in_the_requests_language(
    strict: TestClient,
    engine: object,
    integrator: Integrator,
    url: str,
    chinese: str,
    english: str,
) -> None:
    """The Chinese problem said why in English ("该网址无法使用：refused: intranet.example.com
    resolves to 10.20.30.40, which is not a public address（…）"), and Python's own reasons
    ("Invalid IPv6 URL", "[Errno -2] Name or service not known") with it. The English keeps
    them."""

    def problem(**request: Any) -> dict[str, Any]:
        response = strict.post("/api/v1/webhooks", json={"url": url}, **request)
        assert response.status_code == 422, response.text
        return dict(response.json())

    by_header = problem(headers=integrator.headers | {"Accept-Language": "zh-CN"})
    by_query = problem(params={"lang": "zh"}, headers=integrator.headers)
    en = problem(headers=integrator.headers | {"Accept-Language": "en"})
    for zh in (by_header, by_query):
        assert [(e["field"], e["message"], e["code"]) for e in zh["errors"]] == [
            ("body.url", chinese, "invalid_url")
        ]
        assert zh["detail"] == f"该网址无法使用：{chinese}。"
    assert [e["message"] for e in en["errors"]] == [english]
    assert en["detail"] == f"The URL cannot be used: {english}."


@pytest.mark.parametrize("host", ["a..example.com", ".example.com", "x" * 64 + ".example.com"])
def test_a_host_that_is_no_valid_name_is_refused_by_the_system_resolver(
    settings: Settings, host: str
) -> None:
    """The system resolver raised UnicodeError (from the IDNA codec) for these: a 500."""
    with pytest.raises(destinations.UnsafeDestination):
        destinations.checked_addresses(
            f"https://{host}/hook", settings, resolver=destinations.system_resolver
        )


def test_a_public_name_is_accepted(
    strict: TestClient, engine: object, integrator: Integrator
) -> None:
    response = register(strict, integrator, "hooks.example.com")
    assert response.status_code == 201, response.text


def test_approval_checks_again_and_the_console_shows_why(
    admin: TestClient, db: Session, integrator: Integrator, settings: Settings
) -> None:
    """A pending endpoint whose name now resolves inside (registered before this check, or
    DNS changed since) is shown with the reason and cannot be approved."""
    endpoint_id = uuid.uuid4()
    sealed = sealing.seal(settings, endpoint_id, "whsec_" + "A" * 43 + "=")
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        client_id=integrator.client_id,
        url="https://intranet.example.com/hook",
        description="",
        events=["assessment.submitted"],
        secret_ciphertext=sealed.ciphertext,
        secret_key_id=sealed.key_id,
        status="pending",
    )
    db.add(endpoint)
    db.commit()
    card = soup(admin.get("/admin", headers=HTML)).select_one(f"#webhook-{endpoint.id}")
    assert card is not None
    assert "10.20.30.40" in card.get_text()
    approved = admin.post(f"/api/v1/admin/webhooks/{endpoint.id}/approve")
    assert approved.status_code == 422
    assert approved.json()["errors"][0]["field"] == "body.url"


def test_one_resolver_and_check_for_registration_approval_and_delivery(
    settings: Settings,
) -> None:
    assert worker.checked_addresses is destinations.checked_addresses
    assert admin_pages.destination("https://metadata.example.com/x", settings)[0] == []
    assert admin_pages.destination("https://hooks.example.com/x", settings) == (
        ["93.184.215.14"],
        None,
    )
