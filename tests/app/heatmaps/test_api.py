"""GET /api/v1/heatmaps and its CSV: who sees what, disclosure control on every path, audit."""

from __future__ import annotations

import copy
import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.heatmaps.disclosure import TOTAL, count_band
from app.heatmaps.perturbation import Parameters
from app.heatmaps.publication import CITY
from app.kit.settings import Settings
from app.models import AuditEvent, Enterprise, HeatmapPublishedTable
from tests.app.heatmaps.helpers import publish_now, recoverable, submit, verified_firm
from tests.databases import World
from tests.factories import create_api_key, create_enterprise, create_user, login

NOW = datetime.now(UTC)


def populate(db: Session) -> None:
    """Pudong: 4 firms in C34, 9 in C36, 2 in C39; Songjiang: 7 in C39, 6 in C34;
    Minhang: 3 in C36 (a whole district below the threshold); plus unverified padding."""
    layout = {
        ("310115", "34"): 4,
        ("310115", "36"): 9,
        ("310115", "39"): 2,
        ("310117", "39"): 7,
        ("310117", "34"): 6,
        ("310112", "36"): 3,
    }
    for (district, industry), n in layout.items():
        for i in range(n):
            firm = verified_firm(db, district_code=district, industry_code=industry)
            submit(db, firm, NOW, overall=f"{3.0 + 0.1 * (i % 8):.2f}", rung="3.00")
    for _ in range(4):  # unverified firms never count, however many
        padding = create_enterprise(db, district_code="310112", industry_code="36")
        submit(db, padding, NOW, overall="4.00", rung="4.00")
    publish_now(db)


def signed_in_as(
    client: TestClient,
    db: Session,
    role: str,
    district: str | None = None,
    enterprise: Enterprise | None = None,
) -> TestClient:
    login(client, create_user(db, role=role, district_code=district, enterprise=enterprise))
    return client


@pytest.fixture
def city(client: TestClient, db: Session, world: World) -> TestClient:
    world(populate)
    return signed_in_as(client, db, "official")


def cell(view: dict[str, Any], row: str, col: str) -> dict[str, Any]:
    r = [x["key"] for x in view["rows"]].index(row)
    c = [x["key"] for x in view["columns"]].index(col)
    return dict(view["cells"][r][c])


class TestAccess:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        # Like every protected operation: sign in first (the route's existence is public).
        assert client.get("/api/v1/heatmaps").status_code == 401
        assert client.get("/api/v1/heatmaps.csv").status_code == 401

    def test_enterprise_user_is_404(self, client: TestClient, db: Session) -> None:
        signed_in_as(client, db, "enterprise", enterprise=create_enterprise(db))
        assert client.get("/api/v1/heatmaps").status_code == 404
        assert client.get("/api/v1/heatmaps/options").status_code == 404

    def test_integrator_is_404(self, client: TestClient, db: Session, settings: Settings) -> None:
        key, _ = create_api_key(db, settings)
        response = client.get("/api/v1/heatmaps", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 404

    def test_city_official_and_admin_see_every_district(
        self, client: TestClient, db: Session, world: World
    ) -> None:
        world(populate)
        for role in ("official", "admin"):
            signed_in_as(client, db, role)
            view = client.get("/api/v1/heatmaps", params={"cut": "district-industry"}).json()
            assert len(view["rows"]) == 16
            assert view["district"] is None

    def test_district_official_sees_own_district_and_the_city_total(
        self, client: TestClient, db: Session, world: World
    ) -> None:
        world(populate)
        signed_in_as(client, db, "admin")
        citywide = client.get(
            "/api/v1/heatmaps", params={"cut": "district-stage", "metric": "count"}
        ).json()
        signed_in_as(client, db, "official", district="310117")
        own = client.get("/api/v1/heatmaps", params={"cut": "industry-stage"})
        assert own.status_code == 200
        assert own.json()["district"] == "310117"
        for channel in ("/api/v1/heatmaps", "/api/v1/heatmaps.csv", "/heatmaps"):
            for cut in ("district-stage", "district-rung", "district-quarter"):
                response = client.get(channel, params={"cut": cut, "district": "310115"})
                assert response.status_code == 404, (channel, cut)
        comparison = client.get(
            "/api/v1/heatmaps", params={"cut": "district-stage", "metric": "count"}
        ).json()
        # Only the official's own district's row, and the city-wide total row: the city-wide
        # table's own published margin, not their district's.
        assert comparison["district"] == "310117"
        assert [r["key"] for r in comparison["rows"]] == ["310117"]
        assert comparison["total_is_city"] is True
        assert comparison["column_totals"] == citywide["column_totals"]
        assert comparison["total"] == citywide["total"]
        assert comparison["total"]["count_band"] == "20–49"  # 13 + 7 + 6 + 3 verified firms
        csv_text = client.get(
            "/api/v1/heatmaps.csv", params={"cut": "district-stage", "lang": "en"}
        ).text
        assert "Pudong" not in csv_text and "Songjiang" in csv_text
        page = client.get("/heatmaps", params={"cut": "district-stage", "lang": "en"}).text
        assert "City-wide total" in page and "Pudong New Area</th>" not in page
        other = client.get(
            "/api/v1/heatmaps", params={"cut": "industry-stage", "district": "310115"}
        )
        assert other.status_code == 404
        city_breakdown = client.get(
            "/api/v1/heatmaps", params={"cut": "district-industry", "district": "310115"}
        )
        assert city_breakdown.status_code == 404

    def test_only_predefined_cuts(self, client: TestClient, db: Session) -> None:
        signed_in_as(client, db, "official")
        response = client.get("/api/v1/heatmaps", params={"cut": "enterprise-list"})
        assert response.status_code == 422
        bad_metric = client.get(
            "/api/v1/heatmaps", params={"cut": "district-rung", "metric": "mean"}
        )
        assert bad_metric.status_code == 422
        assert bad_metric.json()["errors"][0]["field"] == "query.metric"

    def test_every_request_is_audited(self, city: TestClient, db: Session) -> None:
        city.get("/api/v1/heatmaps", params={"cut": "size-stage", "metric": "share"})
        city.get("/api/v1/heatmaps.csv", params={"cut": "district-rung"})
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "heatmap.view").order_by(AuditEvent.id)
        ).all()
        assert [(e.target_id, e.detail["channel"]) for e in events] == [
            ("size-stage", "json"),
            ("district-rung", "csv"),
        ]
        assert all(e.actor_type == "user" and e.actor_id for e in events)

    def test_repeated_views_are_each_audited_and_follow_the_next_publication(
        self, city: TestClient, db: Session
    ) -> None:
        """The JSON is made once per published table (issue 19): every request is still
        audited, and a new publication is served at once, not the bytes of the last one."""
        params = {"cut": "district-industry"}
        first, again = (city.get("/api/v1/heatmaps", params=params) for _ in range(2))
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        views = db.scalars(select(AuditEvent).where(AuditEvent.action == "heatmap.view")).all()
        assert len(views) == 2
        for _ in range(3):  # Pudong C34 grows from 4 firms (suppressed) to 7
            firm = verified_firm(db, district_code="310115", industry_code="34")
            submit(db, firm, NOW, overall="3.50", rung="3.50")
        publish_now(db)
        after = city.get("/api/v1/heatmaps", params=params).json()
        assert after["published_at"] != first.json()["published_at"]
        assert cell(after, "310115", "34")["suppressed"] is False
        assert cell(first.json(), "310115", "34")["suppressed"] is True

    def test_the_same_publication_id_with_other_figures_is_not_served_from_the_cache(
        self, city: TestClient, db: Session
    ) -> None:
        """Publication ids start again in another database (each test's, or a restored one):
        the cached JSON is keyed by the stored table's contents, not only its ids."""
        params = {"cut": "district-industry"}
        first = city.get("/api/v1/heatmaps", params=params).json()
        row = db.scalars(
            select(HeatmapPublishedTable)
            .where(
                HeatmapPublishedTable.cut == "district-industry",
                HeatmapPublishedTable.scope == CITY,
                HeatmapPublishedTable.questionnaire_id == first["questionnaire"]["id"],
            )
            .order_by(HeatmapPublishedTable.quarter.desc())  # the current quarter's
            .limit(1)
        ).one()
        payload = copy.deepcopy(row.payload)
        payload["rows"] = list(reversed(payload["rows"]))
        payload["cells"] = list(reversed(payload["cells"][:-1])) + payload["cells"][-1:]
        row.payload = payload
        db.commit()
        again = city.get("/api/v1/heatmaps", params=params).json()
        assert [r["key"] for r in again["rows"]] == [r["key"] for r in first["rows"]][::-1]


class TestDisclosure:
    def test_small_cells_show_no_value_and_counts_are_bands(self, city: TestClient) -> None:
        view = city.get("/api/v1/heatmaps", params={"cut": "district-industry"}).json()
        small = cell(view, "310115", "34")  # 4 firms
        assert small == {"value": None, "count_band": None, "suppressed": True}
        big = cell(view, "310117", "39")  # 7 firms, shown as the band of 7 give or take D
        parameters = Parameters()
        noise, k = parameters.count_max_noise, parameters.min_cell
        bands = {count_band(n, k) for n in range(max(k, 7 - noise), 7 + noise + 1)}
        assert big["suppressed"] is False and big["count_band"] in bands
        # Its true mean is 3.30 (scores 3.0 … 3.6); the published one carries the sum's noise,
        # at most B points over its 7 firms, and the rounding to 2 dp.
        true_mean = sum(3.0 + 0.1 * i for i in range(7)) / 7
        assert abs(big["value"] - true_mean) <= Parameters().sum_bound / 7 + 0.005
        # Minhang's 3 firms force a second hidden row (here Pudong's, whose total is the
        # next smallest), or Minhang's total would follow from the city total.
        pudong = [x["key"] for x in view["rows"]].index("310115")
        assert view["row_totals"][pudong]["suppressed"] is True
        assert view["total"]["suppressed"] is False and view["total"]["count_band"] == "20–49"
        minhang = [x["key"] for x in view["rows"]].index("310112")
        assert view["row_totals"][minhang]["suppressed"] is True  # 3 verified firms only

    def test_unverified_firms_never_pad_a_cell(self, city: TestClient) -> None:
        view = city.get("/api/v1/heatmaps", params={"cut": "district-industry"}).json()
        assert cell(view, "310112", "36")["suppressed"] is True

    @pytest.mark.parametrize(
        "cut",
        [
            "district-industry",
            "district-stage",
            "district-rung",
            "industry-stage",
            "size-stage",
            "district-quarter",
        ],
    )
    def test_csv_export_shows_no_derivable_value(self, city: TestClient, cut: str) -> None:
        response = city.get("/api/v1/heatmaps.csv", params={"cut": cut, "lang": "en"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        lines = [
            r
            for r in csv.reader(io.StringIO(response.text.lstrip("\ufeff")))
            if r and not r[0].startswith("#")
        ]
        header = lines[0]
        second = next((i for i in range(1, len(lines)) if lines[i] == header), len(lines))
        table = lines[1:second]
        cols = header[1:]
        shown = {
            (row[0], col): value for row in table for col, value in zip(cols, row[1:], strict=False)
        }
        rows = [row[0] for row in table if row[0] != "Total"]
        data_cols = [c for c in cols if c != "Total"]
        suppressed = frozenset(
            (r if r != "Total" else TOTAL, c if c != "Total" else TOTAL)
            for (r, c), value in shown.items()
            if value == "x"
        )
        if cut.startswith("district"):
            assert suppressed, "the fixture has small districts"
        unknown = suppressed
        if "Total" not in cols:  # the trend shows no row totals: they are unknown too
            unknown = suppressed | {(r, TOTAL) for r in rows}
        assert recoverable(rows, data_cols, unknown) & suppressed == set()
        for value in shown.values():  # no count below the threshold is ever written
            assert value not in {"1", "2", "3", "4"}

    def test_json_and_csv_agree(self, city: TestClient) -> None:
        view = city.get(
            "/api/v1/heatmaps", params={"cut": "district-industry", "lang": "en"}
        ).json()
        text = city.get(
            "/api/v1/heatmaps.csv", params={"cut": "district-industry", "lang": "en"}
        ).text
        rows = [
            r
            for r in csv.reader(io.StringIO(text.lstrip("\ufeff")))
            if r and not r[0].startswith("#")
        ]
        pudong = next(r for r in rows if r[0] == "Pudong New Area")
        cols = [c["key"] for c in view["columns"]]
        for index, key in enumerate(cols):
            published = cell(view, "310115", key)
            expected = (
                "x"
                if published["suppressed"]
                else (
                    f"{published['value']:.2f}"
                    if published["value"] is not None
                    else published["count_band"]
                )
            )
            assert pudong[index + 1] == expected


def test_options_list_the_predefined_cuts(city: TestClient) -> None:
    options = city.get("/api/v1/heatmaps/options", params={"lang": "en"}).json()
    assert [c["key"] for c in options["cuts"]] == [
        "district-stage",
        "district-industry",
        "industry-stage",
        "size-stage",
        "district-rung",
        "district-quarter",
    ]
    assert len(options["districts"]) == 16


@pytest.mark.parametrize("questionnaire_id", ["zzz", "\x00"])
def test_options_name_an_unknown_questionnaire(city: TestClient, questionnaire_id: str) -> None:
    """The options ignored a questionnaire not served here (200, the default's quarters) where
    the heatmap itself refuses it."""
    response = city.get("/api/v1/heatmaps/options", params={"questionnaire_id": questionnaire_id})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.questionnaire_id"]


def test_submitting_through_the_api_updates_the_heatmap(client: TestClient, db: Session) -> None:
    from app.kit.principal import CLI
    from app.verification import service as verification
    from tests.answers import complete_answers
    from tests.answers import questionnaire as served_questionnaire

    questionnaire = served_questionnaire("smart-manufacturing-maturity")
    firm = create_enterprise(db, district_code="310117")
    verification.set_verified(db, CLI, firm.id, True)
    db.commit()
    login(client, create_user(db, enterprise=firm))
    created = client.post(
        f"/api/v1/enterprises/{firm.id}/assessments", json={"questionnaire_id": questionnaire.id}
    ).json()
    put = client.put(
        f"/api/v1/assessments/{created['id']}/answers",
        json={"answers": complete_answers(questionnaire, {})},
        headers={"If-Match": created["etag"]},
    )
    submitted = client.post(
        f"/api/v1/assessments/{created['id']}/submit", headers={"If-Match": put.headers["ETag"]}
    )
    assert submitted.status_code == 200, submitted.text
    from app.heatmaps.verify import verify

    report = verify(db)
    assert report.differences == [] and report.contributions == 1 and report.cells == 2
