"""The score feed: consented firms only, stable cursor order, no gap or duplicate while
submissions commit concurrently."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.integrators import service
from app.kit.cursor import POSITION
from app.kit.principal import CLI
from app.models import FeedEntry
from tests.app.integrators.helpers import (
    Integrator,
    LiveServer,
    prepare_assessment,
    register_firm,
    submit,
    submitted,
)
from tests.factories import create_enterprise


def _read_all(http: httpx.Client, headers: dict[str, str], limit: int = 2) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/v1/scores", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return items


class TestFeed:
    def test_pages_in_order_with_only_consented_firms(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        other_integrator: Integrator,
    ) -> None:
        firm_a = register_firm(client, integrator.headers)
        firm_b = register_firm(client, integrator.headers)
        theirs = register_firm(client, other_integrator.headers)
        expected = [
            submitted(client, integrator.headers, firm_a["id"], 0.2)["assessment_id"],
            submitted(client, other_integrator.headers, theirs["id"])["assessment_id"],
            submitted(client, integrator.headers, firm_b["id"], 0.9)["assessment_id"],
            submitted(client, integrator.headers, firm_a["id"], 0.5)["assessment_id"],
        ]
        items = _read_all(client, integrator.headers)
        assert [i["assessment_id"] for i in items] == [expected[0], expected[2], expected[3]]
        seqs = [i["seq"] for i in items]
        assert seqs == sorted(seqs) and len(set(seqs)) == 3
        first = items[0]
        assert first["enterprise_id"] == firm_a["id"]
        assert first["credit_code"] == firm_a["credit_code"]
        assert first["questionnaire_id"] == "quick-check"
        assert isinstance(first["rung"], float) and set(first["stages"]) >= {"digitization"}
        assert first["result_url"] == f"/api/v1/assessments/{expected[0]}/result"

        theirs_items = _read_all(client, other_integrator.headers)
        assert [i["assessment_id"] for i in theirs_items] == [expected[1]]

    def test_cursor_at_the_end_waits_for_new_results(
        self, client: TestClient, integrator: Integrator
    ) -> None:
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])
        page = client.get("/api/v1/scores", headers=integrator.headers).json()
        assert len(page["items"]) == 1 and page["has_more"] is False
        empty = client.get(
            "/api/v1/scores", params={"cursor": page["next_cursor"]}, headers=integrator.headers
        ).json()
        assert empty["items"] == [] and empty["next_cursor"] == page["next_cursor"]
        later = submitted(client, integrator.headers, firm["id"])
        resumed = client.get(
            "/api/v1/scores", params={"cursor": page["next_cursor"]}, headers=integrator.headers
        ).json()
        assert [i["assessment_id"] for i in resumed["items"]] == [later["assessment_id"]]

    def test_bad_cursor_is_422_problem(self, client: TestClient, integrator: Integrator) -> None:
        for cursor in ("not-a-cursor!", "WyJ4Il0"):  # the second is ["x"]
            response = client.get(
                "/api/v1/scores", params={"cursor": cursor}, headers=integrator.headers
            )
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "query.cursor"

    def test_feed_is_for_api_keys_with_read_scope(
        self, client: TestClient, db: Session, settings: Any
    ) -> None:
        from tests.factories import create_api_key

        assert client.get("/api/v1/scores").status_code == 401
        key, _ = create_api_key(db, settings, scopes=["enterprises:write"])
        response = client.get(
            "/api/v1/scores", headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"}
        )
        assert response.status_code == 403
        assert response.json()["type"] == "https://zhizao.dev/problems/insufficient-scope"
        assert response.json()["title"] == "Insufficient scope"

    def test_every_submit_gets_one_feed_entry(
        self, client: TestClient, db: Session, integrator: Integrator
    ) -> None:
        firm = register_firm(client, integrator.headers)
        create_enterprise(db)  # a firm without consent: its submissions are in no client's view
        for position in (0.1, 0.4):
            submitted(client, integrator.headers, firm["id"], position)
        db.rollback()
        assert [e.seq for e in db.scalars(select(FeedEntry).order_by(FeedEntry.seq))] == [1, 2]


class TestPerIntegratorSequence:
    def test_an_integrators_seqs_are_gap_free_while_another_is_active(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        other_integrator: Integrator,
    ) -> None:
        """They were not: one global counter, so integrator A saw 1, 3, 5 while B's firms
        submitted 2 and 4, and the gaps told A how busy B was."""
        mine = register_firm(client, integrator.headers)
        theirs = register_firm(client, other_integrator.headers)
        for position in (0.1, 0.3, 0.5):
            submitted(client, integrator.headers, mine["id"], position)
            submitted(client, other_integrator.headers, theirs["id"], position)
            submitted(client, other_integrator.headers, theirs["id"], position + 0.1)
        assert [i["seq"] for i in _read_all(client, integrator.headers)] == [1, 2, 3]
        assert [i["seq"] for i in _read_all(client, other_integrator.headers)] == list(range(1, 7))

    def test_a_firm_both_follow_is_numbered_in_each_sequence(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        other_integrator: Integrator,
    ) -> None:
        firm = create_enterprise(db)
        for who in (integrator, other_integrator):
            service.grant_access(db, CLI, firm.id, who.client_id)
        db.commit()
        theirs = register_firm(client, other_integrator.headers)
        submitted(client, other_integrator.headers, theirs["id"])
        shared = submitted(client, integrator.headers, str(firm.id))["assessment_id"]
        [mine] = _read_all(client, integrator.headers)
        assert (mine["seq"], mine["assessment_id"]) == (1, shared)
        other = _read_all(client, other_integrator.headers)
        assert [(i["seq"], i["assessment_id"]) for i in other][-1] == (2, shared)

    def test_a_cursor_past_the_end_of_the_sequence_is_422(
        self, client: TestClient, integrator: Integrator
    ) -> None:
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])
        stale = POSITION.encode(1042)  # a cursor into the old global sequence
        response = client.get(f"/api/v1/scores?cursor={stale}", headers=integrator.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.cursor"
        at_end = POSITION.encode(1)
        assert (
            client.get(f"/api/v1/scores?cursor={at_end}", headers=integrator.headers).json()[
                "items"
            ]
            == []
        )


class TestConcurrentSubmits:
    def test_no_gap_or_duplicate_while_submits_commit_concurrently(
        self, live_server: LiveServer, integrator: Integrator, db: Session
    ) -> None:
        """Eight threads submit 24 assessments at once through the HTTP server while a reader
        follows the feed with its cursor: the reader sees every result exactly once, in seq
        order, with no seq skipped (a skipped seq would be a result lost to the cursor)."""
        headers = integrator.headers
        # One firm per draft, each unverified (registered by itself, consent given by its
        # user): submits of verified firms also update shared heatmap aggregates, whose locks
        # would serialise them and hide what this test is about.
        firms = []
        for _ in range(24):
            firm = create_enterprise(db)
            service.grant_access(db, CLI, firm.id, integrator.client_id)
            db.commit()
            firms.append(str(firm.id))
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            drafts = [prepare_assessment(http, headers, firms[i], (i % 10) / 10) for i in range(24)]

        seen: list[dict[str, Any]] = []
        done = threading.Event()

        def read() -> None:
            cursor = None
            with httpx.Client(base_url=live_server.url, timeout=60) as http:
                while True:
                    finished = done.is_set()
                    params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
                    body = http.get("/api/v1/scores", params=params, headers=headers).json()
                    seen.extend(body["items"])
                    cursor = body["next_cursor"]
                    if finished and not body["has_more"]:
                        return

        def submit_one(draft: tuple[str, str]) -> str:
            with httpx.Client(base_url=live_server.url, timeout=120) as http:
                return submit(http, headers, *draft)["assessment_id"]

        reader = threading.Thread(target=read)
        reader.start()
        with ThreadPoolExecutor(max_workers=8) as pool:
            submitted_ids = list(pool.map(submit_one, drafts))
        done.set()
        reader.join(timeout=120)
        assert not reader.is_alive()

        seqs = [item["seq"] for item in seen]
        assert seqs == list(range(1, 25)), seqs  # in order, none skipped, none twice
        assert sorted(i["assessment_id"] for i in seen) == sorted(submitted_ids)
