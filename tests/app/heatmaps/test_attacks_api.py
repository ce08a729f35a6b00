"""The attacks of issue #16, replayed through the HTTP API as a district official and an
integrator would, on both engines. Each fails now: what an official reads changes only with the
next publication, an official cannot withdraw a confirmation, band + share cannot pin a count,
and an integrator's firms do not count.

On main's code (no publication) each of these tests fails: there, a verification change or a
re-submission shows in the next GET, an official's ``{"verified": false}`` answers 200, shares are
whole percents in the "5–9" band, and integrator-registered firms are ``"verified": true`` and
fill the cell."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.heatmaps.disclosure import count_band
from app.heatmaps.perturbation import Parameters, share_step
from app.kit.settings import Settings
from app.models import Enterprise
from tests.app.heatmaps.helpers import publish_now, submit, verified_firm
from tests.databases import World
from tests.factories import (
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
    login,
)

NOW = datetime.now(UTC)
PUDONG = "310115"
#: What the official reads: every cut of their scope, every metric.
READS = [
    (cut, metric)
    for cut, metrics in {
        "district-stage": ("mean", "share", "count"),
        "district-industry": ("mean", "share", "count"),
        "industry-stage": ("mean", "share", "count"),
        "size-stage": ("mean", "share", "count"),
        "district-rung": ("share", "count"),
        "district-quarter": ("mean", "share", "count"),
    }.items()
    for metric in metrics
]


def populate(db: Session) -> dict[str, list[uuid.UUID]]:
    """The issue's district: C13 with one firm, C36 with six, C34 with seven (Pudong); eight
    firms in Songjiang; and one Pudong firm that is registered but not yet confirmed. Their
    ids, by industry (built once per module and engine: the ``world`` fixture)."""
    firms: dict[str, list[uuid.UUID]] = {}
    for (district, industry), n in {
        (PUDONG, "13"): 1,
        (PUDONG, "36"): 6,
        (PUDONG, "34"): 7,
        ("310117", "39"): 8,
    }.items():
        for i in range(n):
            firm = verified_firm(db, district_code=district, industry_code=industry)
            submit(db, firm, NOW, overall=f"{3.0 + 0.11 * (i % 7):.2f}", rung="3.25")
            firms.setdefault(industry, []).append(firm.id)
    pending = create_enterprise(db, district_code=PUDONG, industry_code="36")
    submit(db, pending, NOW, overall="3.90", rung="3.75")
    firms["pending"] = [pending.id]
    publish_now(db)
    return firms


def everything(client: TestClient) -> dict[tuple[str, str], Any]:
    """Every table the official can read, by the API (JSON and CSV)."""
    seen: dict[tuple[str, str], Any] = {}
    for cut, metric in READS:
        response = client.get("/api/v1/heatmaps", params={"cut": cut, "metric": metric})
        assert response.status_code == 200, response.text
        seen[(cut, metric)] = response.json()
        csv_text = client.get("/api/v1/heatmaps.csv", params={"cut": cut, "metric": metric})
        seen[(cut, metric + ".csv")] = csv_text.text
    return seen


@pytest.fixture
def official(client: TestClient, db: Session) -> TestClient:
    login(client, create_user(db, role="official", district_code=PUDONG))
    return client


def test_attack_1_verification_toggling_changes_nothing_an_official_reads(
    official: TestClient, client: TestClient, db: Session, world: World
) -> None:
    firms = world(populate)
    before = everything(official)
    assert before[("district-industry", "mean")]["district"] == PUDONG
    # The official withdraws a confirmation: refused (only an admin may).
    target = db.get_one(Enterprise, firms["36"][0])
    refused = official.put(
        f"/api/v1/verification/enterprises/{target.id}", json={"verified": False}
    )
    assert refused.status_code == 403
    # The official confirms the pending firm: allowed, recorded, but not shown before the next
    # publication.
    confirmed = official.put(
        f"/api/v1/verification/enterprises/{firms['pending'][0]}", json={"verified": True}
    )
    assert confirmed.status_code == 200 and confirmed.json()["verified"] is True
    assert everything(official) == before
    # A day later an admin withdraws one: still nothing changes for the official until the next
    # publication.
    target.verification_changed_at = datetime.now(UTC) - timedelta(days=1, minutes=1)
    db.commit()
    admin = TestClient(client.app, base_url="http://testserver")
    login(admin, create_user(db, role="admin"))
    withdrawn = admin.put(f"/api/v1/verification/enterprises/{target.id}", json={"verified": False})
    assert withdrawn.status_code == 200
    assert everything(official) == before


def test_attack_2_a_resubmission_shows_only_at_the_next_publication(
    official: TestClient, db: Session, world: World
) -> None:
    firms = world(populate)
    before = everything(official)
    submit(
        db, db.get_one(Enterprise, firms["34"][0]), datetime.now(UTC), overall="3.95", rung="3.75"
    )
    assert everything(official) == before
    publish_now(db)
    after = everything(official)
    assert (
        after[("district-industry", "mean")]["published_at"]
        != before[("district-industry", "mean")]["published_at"]
    )


def test_attack_3_band_and_share_cannot_pin_the_count(official: TestClient, world: World) -> None:
    """Every share the API shows is rounded to its band's step (10 points for "5–9", 2 for
    "10–19"), so that every (band, share) pair fits at least two counts."""
    world(populate)
    checked = 0
    for cut, metric in READS:
        if metric != "share":
            continue
        for rung in ("3.00", "3.25", "3.50", "3.75", "4.00"):
            view = official.get(
                "/api/v1/heatmaps", params={"cut": cut, "metric": "share", "rung": rung}
            ).json()
            cells = [c for row in view["cells"] for c in row] + view["column_totals"]
            cells += [view["total"], *(view["row_totals"] or [])]
            for cell in cells:
                if cell["suppressed"] or cell["value"] is None:
                    continue
                low = int(cell["count_band"].split("–")[0])
                assert cell["value"] % share_step(low, 5) == 0, (cut, rung, cell)
                checked += 1
    assert checked > 0
    # the case: a "5–9" cell shows shares in steps of 10 points
    view = official.get(
        "/api/v1/heatmaps", params={"cut": "district-industry", "metric": "share", "rung": "3.25"}
    ).json()
    c34 = [c["key"] for c in view["columns"]].index("34")
    # 7 firms, shown as the band of 7 give or take D: in "5–9", steps of 10 points
    noise = Parameters().count_max_noise
    band = view["cells"][0][c34]["count_band"]
    assert band in {count_band(n, 5) for n in range(7 - noise, 7 + noise + 1) if n >= 5}
    step = share_step(int(band.split("–")[0]), 5)
    assert view["cells"][0][c34]["value"] % step == 0 and (band != "5–9" or step == 10)


def test_attack_4_integrator_padding_firms_do_not_count(
    official: TestClient, client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    world(populate)
    before = everything(official)
    key, _ = create_api_key(db, settings)
    integrator = TestClient(client.app, base_url="http://testserver")
    headers = {"Authorization": f"Bearer {key}"}
    consent = {
        "given_by": "张经理",
        "given_at": "2026-11-20T09:00:00+08:00",
        "method": "signed_form",
    }
    for _ in range(4):  # four firms of known score, to make Pudong's C13 cell visible
        created = integrator.post(
            "/api/v1/enterprises",
            json=enterprise_payload(district_code=PUDONG, industry_code="13")
            | {"consent": consent},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        assert created.json()["verified"] is False and created.json()["attested_at"]
        firm = db.get(Enterprise, uuid.UUID(created.json()["id"]))
        assert firm is not None
        submit(db, firm, datetime.now(UTC), overall="4.00", rung="4.00")
    publish_now(db)
    after = everything(official)
    view = after[("district-industry", "count")]
    c13 = [c["key"] for c in view["columns"]].index("13")
    assert view["cells"][0][c13]["suppressed"] is True  # still one counted firm
    for (cut, metric), table in after.items():  # a new publication, the same figures
        if metric.endswith(".csv"):
            assert table.split("\n", 1)[1] == before[(cut, metric)].split("\n", 1)[1]
        else:
            assert {**table, "published_at": None} == {
                **before[(cut, metric)],
                "published_at": None,
            }
