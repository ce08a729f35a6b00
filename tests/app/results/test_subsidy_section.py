"""The result page's subsidy section (issue 15 point 5), read from the stored advice: without a
browser, on the HTML."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.pages import ROADMAP_STEPS
from app.kit import clock
from app.kit.dates import local_dates
from app.kit.settings import Settings
from app.models import Enterprise, Result
from app.reports.context import MAX_STEPS
from app.reports.pdf import render_html
from scoring import Questionnaire
from scoring.conditions import PROFILE_FIELDS, iter_leaves
from scoring.facts import DERIVED_FROM, FACTS_BY_NAME
from tests.answers import submit_assessment
from tests.app.reports.test_context import context as context_of
from tests.app.subsidies.test_api import FORMAT_1, ON, SONGJIANG, SONGJIANG_FACTS, _submit
from tests.factories import create_enterprise, create_user, login
from tests.pages import HTML, soup


@pytest.fixture
def submitted(client: TestClient, db: Session, full_questionnaire: Questionnaire) -> dict[str, Any]:
    """The Songjiang firm of docs/subsidies.md (example E), assessed on the examples' date."""
    enterprise = create_enterprise(db, **SONGJIANG)
    login(client, create_user(db, enterprise=enterprise))
    client.put(f"/api/v1/enterprises/{enterprise.id}/facts", json={"facts": SONGJIANG_FACTS})
    with clock.frozen(ON):
        result: dict[str, Any] = _submit(client, enterprise, full_questionnaire)
    return result


def page(client: TestClient, result: dict[str, Any], lang: str = "zh") -> BeautifulSoup:
    response = client.get(
        f"/assessments/{result['assessment_id']}/result", params={"lang": lang}, headers=HTML
    )
    assert response.status_code == 200
    return soup(response)


def test_summary_and_groups_follow_the_stored_advice(
    client: TestClient, submitted: dict[str, Any]
) -> None:
    html = page(client, submitted)
    advice, matches = submitted["subsidy_advice"], submitted["subsidies"]
    summary = html.select_one("#subsidy-summary").get_text(strip=True)
    assert summary == advice["summary"]["text"]
    assert re.fullmatch(
        r"已核对\d+个项目：\d+个符合、\d+个很可能符合、\d+个接近符合、\d+个不符合、\d+个待确认。",
        summary,
    )
    for outcome in ("eligible", "likely", "near", "to_confirm", "not_eligible"):
        shown = [li["id"] for li in html.select(f"ul.subsidies-{outcome} > li")]
        assert shown == [f"programme-{m['id']}" for m in matches if m["outcome"] == outcome]
    assert html.select_one("#subsidies-not_eligible").get_text().startswith("不符合")
    # Each not-eligible programme's reasons are one click away.
    refused = html.select("ul.subsidies-not_eligible > li")
    assert refused and all(li.select_one("details ul.reasons li") for li in refused)
    unconfirmed = html.select("ul.subsidies-to_confirm > li")
    assert {li["id"] for li in unconfirmed} >= {"programme-cn-c3mep-self-assessment"}
    for li in unconfirmed:  # validity to confirm: no amount, no estimate line
        assert "待确认" in li.get_text() and "预估" not in li.get_text(), li["id"]
    likely = html.select("ul.subsidies-likely > li")
    assert any("预估" in li.get_text() for li in likely)  # the label the check relies on


def test_total_names_what_it_left_out_and_why(
    client: TestClient, submitted: dict[str, Any]
) -> None:
    html = page(client, submitted)
    total = html.select_one("#subsidy-total")
    assert "合计最高约1,410,000元（3项可同时享受的政策）" in total.get_text()
    included = [li.get_text() for li in total.select("ul > li") if not li.find_parent("details")]
    assert len(included) == 3 and any("贷款贴息" in text for text in included)
    # "≤ 30 %" of the testing contract is a ceiling: up to; the 50 % interest subsidy is exact
    assert "检验检测认证服务支持（“一测多证”）：最高约60,000元" in included
    assert "技改和设备更新项目银行贷款贴息：约1,200,000元" in included
    english = page(client, submitted, "en").select_one("#subsidy-total")
    assert any(li.get_text().endswith(": up to 60,000 CNY") for li in english.select("ul > li")), (
        english.get_text()
    )
    left_out = total.select_one("#left-out").get_text()
    assert "技改和设备更新项目融资租赁补贴" in left_out and "不可叠加" in left_out
    assert "税收优惠单列" in left_out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_totals_parts_are_worded_as_each_programmes_own_estimate(
    client: TestClient, submitted: dict[str, Any], lang: str
) -> None:
    """A part of the total reads as the programme's own estimate does ("约…元", "最高约…元",
    "最高…元", "…元"): the breakdown showed "¥1,200,000" for an estimate of "约1,200,000元"."""
    shown = client.get(
        f"/api/v1/assessments/{submitted['assessment_id']}/result", params={"lang": lang}
    ).json()
    names = {m["name"]: m for m in shown["subsidies"]}
    total = page(client, submitted, lang).select_one("#subsidy-total")
    parts = [li.get_text() for li in total.select("ul > li") if not li.find_parent("details")]
    assert len(parts) == len(shown["subsidy_advice"]["total"]["programmes"]) == 3
    for part in parts:
        name, _, amount = part.rpartition("：" if lang == "zh" else ": ")
        assert names[name]["estimate"]["text"].startswith(amount), part


def test_every_match_shows_source_confidence_and_last_confirmed(
    client: TestClient, submitted: dict[str, Any]
) -> None:
    html = page(client, submitted, "en")
    by_id = {m["id"]: m for m in submitted["subsidies"]}
    for li in html.select("ul.subsidies > li"):
        match = by_id[li["id"].removeprefix("programme-")]
        source = li.select_one(".subsidy-source")
        text = source.get_text(" ", strip=True)
        if match["source"]["url"]:
            assert source.select_one("a")["href"] == match["source"]["url"]
        assert "Confidence:" in text and "Last confirmed:" in text
        if match["last_confirmed"]:
            assert local_dates(match["last_confirmed"], "en") in text
        # The engine's validity text ("in force 2023-01-01 – 2027-12-31; last confirmed …",
        # stored with ISO dates) reads with the page's dates.
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text.split("Confidence:")[1]), text
    assert html.select_one("#subsidy-summary").get_text(strip=True).startswith("Checked ")


def test_the_chinese_documents_cited_on_an_english_page_are_marked_chinese(
    client: TestClient, submitted: dict[str, Any]
) -> None:
    """A source document's title and issuer are cited as published, in Chinese; unmarked on
    an English page, they were drawn as English text (design §10: Noto then picks Japanese
    glyph forms, and a Latin face Chinese punctuation)."""
    html = page(client, submitted, "en")
    by_id = {m["id"]: m for m in submitted["subsidies"]}
    cited = 0
    for li in html.select("ul.subsidies > li"):
        source = by_id[li["id"].removeprefix("programme-")]["source"]
        marked = [node.get_text() for node in li.select(".subsidy-source [lang=zh-CN]")]
        assert marked == [source["document"] or source["issued_by"], source["issued_by"]]
        cited += 1
    assert cited


def test_unlocks_link_to_the_facts_form(client: TestClient, submitted: dict[str, Any]) -> None:
    html = page(client, submitted)
    links = [a["href"] for a in html.select("#subsidy-unlocks a")]
    assert links
    settings = soup(client.get("/settings", headers=HTML))
    for href in links:
        path, _, anchor = href.partition("#")
        assert path == "/settings" and settings.find(id=anchor) is not None, href


def test_near_programmes_and_roadmap_steps_point_at_each_other(
    client: TestClient, submitted: dict[str, Any]
) -> None:
    html = page(client, submitted)
    for li in html.select("ul.subsidies-near > li"):
        assert li.select("ul.todo li")
        for link in li.select('a[href^="#step-"]'):
            assert html.select_one(link["href"]) is not None
    funded = [step for step in submitted["roadmap"]["steps"][:10] if step["funded_by"]]
    assert funded
    for number, step in enumerate(submitted["roadmap"]["steps"][:10], 1):
        shown = html.select_one(f"#step-{number} .funded-by")
        if step["funded_by"]:
            names = [a.get_text() for a in shown.select("a")]
            assert names == [p["name"] for p in step["funded_by"]]
        else:
            assert shown is None


def test_a_result_stored_before_format_2_still_renders(
    client: TestClient, db: Session, submitted: dict[str, Any]
) -> None:
    stored = db.scalar(select(Result).where(Result.id.isnot(None)))
    assert stored is not None
    stored.subsidies = FORMAT_1
    db.commit()
    html = page(client, submitted, "en")
    assert html.select_one("#subsidy-summary").get_text(strip=True) == (
        "Checked 2 programmes: 0 eligible, 0 likely, 1 near, 1 not eligible, 0 to confirm."
    )
    assert "stored before totals" in html.select_one("#subsidy-total").get_text()
    assert [li["id"] for li in html.select("ul.subsidies > li")] == [
        "programme-sh-near", "programme-sh-closed",
    ]  # fmt: skip


def test_the_facts_form_asks_every_fact_the_matcher_uses(
    client: TestClient, submitted: dict[str, Any]
) -> None:
    """Unlocks link to the facts form: it must have an input for every fact a programme's
    scope, eligibility, to-confirm item or benefit basis reads (a derived fact: its inputs)."""
    used: set[str] = set()
    for programme in client.app.state.subsidies.programmes:  # type: ignore[attr-defined]
        conditions = [programme.requirement(), *(item.unless for item in programme.to_confirm)]
        for condition in conditions:
            if condition is not None:
                used |= {leaf.field for leaf in iter_leaves(condition)}
        if programme.benefit.basis is not None:
            used.add(f"profile.{programme.benefit.basis}")
    names = {path.removeprefix("profile.") for path in used if path.startswith("profile.")}
    sources = {source for name in names for source in DERIVED_FROM.get(name, (name,))}
    facts = sources - set(PROFILE_FIELDS)  # the profile has a form of its own
    assert {"project_investment_cny", "listed", "rd_spend_cny"} <= facts
    for lang in ("zh", "en"):
        form = soup(client.get("/settings", params={"lang": lang}, headers=HTML))
        for name in facts:
            label = form.select_one(f'label[for="f-fact_{name}"]')
            assert form.find(id=f"f-fact_{name}") is not None and label is not None, name
            assert label.get_text(strip=True).startswith(FACTS_BY_NAME[name].label.get(lang))


def test_a_near_match_names_every_plan_step_that_gets_there(
    client: TestClient, db: Session, settings: Settings, full_questionnaire: Questionnaire
) -> None:
    """A version-2 plan is listed whole, and so are the steps that fix a near match: a rung or
    overall target by the whole plan, a stage target by the plan's steps in that stage (the
    page named only steps 1–10 and the PDF 1–8 of a 25-step plan whose later steps the basic
    smart-factory tier's stage target needed)."""
    enterprise = create_enterprise(db, **SONGJIANG)
    login(client, create_user(db, enterprise=enterprise))
    with clock.frozen(ON):
        result = submit_assessment(client, enterprise, full_questionnaire, position=0.2)
    steps = result["roadmap"]["steps"]
    assert result["roadmap"]["version"] == 2 and len(steps) > ROADMAP_STEPS > MAX_STEPS

    def expected(match: dict[str, Any]) -> set[int]:
        wanted: set[int] = set()
        for item in match["todo"]:
            field = str(item.get("field", ""))
            for number, step in enumerate(steps, 1):
                if field in ("result.overall", "result.rung") or (
                    field == f"result.stages.{step['stage_id']}"
                ):
                    wanted.add(number)
        return wanted

    near = [m for m in result["subsidies"] if m["outcome"] == "near" and expected(m)]
    assert any(max(expected(m)) > ROADMAP_STEPS for m in near)
    html = page(client, result)
    report = context_of(db, settings, result["assessment_id"], "zh").subsidies
    in_report = {v.match.id: v for g in report.groups for v in g.matches}
    for match in near:
        li = html.select_one(f"#programme-{match['id']}")
        linked = {int(a["href"].removeprefix("#step-")) for a in li.select('a[href^="#step-"]')}
        assert linked == expected(match), match["id"]
        assert {f.number for f in in_report[match["id"]].fixes} == expected(match), match["id"]


def _sign_in_again(client: TestClient, db: Session, result: dict[str, Any]) -> None:
    """A session does not outlive a jump of the clock: a colleague signs in on the day."""
    enterprise = db.get(Enterprise, uuid.UUID(result["enterprise_id"]))
    login(client, create_user(db, enterprise=enterprise))


@pytest.mark.parametrize(
    ("moment", "ended"),
    [
        (datetime(2027, 12, 31, 15, 59, tzinfo=UTC), False),  # 23:59 on its last day there
        (datetime(2027, 12, 31, 16, 0, tzinfo=UTC), True),  # 00:00 on 1 January in Shanghai
    ],
)
def test_a_programme_that_ended_after_the_submission_is_not_offered_as_open(
    client: TestClient,
    db: Session,
    submitted: dict[str, Any],
    moment: datetime,
    ended: bool,
) -> None:
    """Matched as likely on 28 January 2026, the VAT credit and the IC and machine-tool
    deduction ran until 31 December 2027: read in 2028, the page still offered them as likely
    to apply for, and said nowhere on which day the programmes were matched."""
    with clock.frozen(moment):
        _sign_in_again(client, db, submitted)
        zh, en = page(client, submitted), page(client, submitted, "en")
    assert en.select_one("#subsidy-on").get_text(strip=True) == (
        "Matched on January 28, 2026, the day this assessment was submitted."
    )
    assert "2026年1月28日" in zh.select_one("#subsidy-on").get_text()
    closing = {
        m["id"]
        for m in submitted["subsidies"]
        if m["outcome"] != "not_eligible" and m["valid_until"] == "2027-12-31"
    }
    assert closing >= {"cn-advanced-manufacturing-vat-credit", "cn-ic-machine-tool-rd-deduction"}
    for html, words in ((en, "Ended on December 31, 2027"), (zh, "已于2027年12月31日截止")):
        for li in html.select("ul.subsidies > li"):
            note = li.select_one(".subsidy-ended")
            if ended and li["id"].removeprefix("programme-") in closing:
                assert note is not None and words in note.get_text(), li["id"]
            else:
                assert note is None, li["id"]


def test_a_programme_in_the_total_or_a_plan_step_that_ended_since_is_named(
    client: TestClient, db: Session, settings: Settings, submitted: dict[str, Any]
) -> None:
    """The loan-interest subsidy is in the total and pays for automation steps; had it ended
    on 30 June 2026, a page read on 1 December 2026 must say so beside the total and the
    steps, and so must a report generated that day."""
    loan = "sh-equipment-loan-interest-2024"
    stored = db.scalar(
        select(Result).where(Result.enterprise_id == uuid.UUID(submitted["enterprise_id"]))
    )
    assert stored is not None
    kept = dict(stored.subsidies)
    for lang in ("zh", "en"):
        kept[lang] = kept[lang] | {
            "matches": [
                m | {"valid_until": "2026-06-30"} if m["id"] == loan else m
                for m in kept[lang]["matches"]
            ]
        }
    stored.subsidies = kept
    db.commit()
    assert loan in submitted["subsidy_advice"]["total"]["programmes"]
    funded = [
        number
        for number, step in enumerate(submitted["roadmap"]["steps"][:ROADMAP_STEPS], 1)
        if loan in {p["id"] for p in step["funded_by"]}
    ]
    assert funded
    with clock.frozen(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)):
        _sign_in_again(client, db, submitted)
        html = page(client, submitted, "en")
        shown = client.get(
            f"/api/v1/assessments/{submitted['assessment_id']}/result", params={"lang": "en"}
        ).json()
    english = next(m["name"] for m in shown["subsidies"] if m["id"] == loan)
    assert english in html.select_one("#total-ended").get_text()
    for number in funded:
        shown = html.select_one(f"#step-{number} .funded-by").get_text()
        assert f"{english} (ended)" in shown, shown
    assert "Ended on June 30, 2026" in html.select_one(f"#programme-{loan}").get_text()
    with clock.frozen(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)):
        report = context_of(db, settings, submitted["assessment_id"], "en")
    assert report.subsidies.ended_ids == {loan} and report.subsidies.ended_in_total == (english,)
    ended = [v for g in report.subsidies.groups for v in g.matches if v.ended]
    assert [v.match.id for v in ended] == [loan] and ended[0].ended == "June 30, 2026"
    for number in funded:
        assert f"{english} (ended)" in report.roadmap.steps[number - 1].funded_by
    page_text = BeautifulSoup(render_html(report), "html.parser").get_text(" ")
    assert "Ended on June 30, 2026, after this assessment" in page_text
    assert f"no longer open for applications: {english}." in page_text
    with clock.frozen(datetime(2026, 6, 30, 15, 0, tzinfo=UTC)):  # its last day, in Shanghai
        before = context_of(db, settings, submitted["assessment_id"], "en")
    assert before.subsidies.ended_ids == frozenset()
    assert all("(ended)" not in name for s in before.roadmap.steps for name in s.funded_by)


@pytest.mark.parametrize(
    ("lang", "source", "confidence", "confirmed", "undeclared", "funded"),
    [
        ("zh", "来源：", "可信度：", "最近确认：", "未填报：", "可申请资助："),
        ("en", "Source: ", "Confidence: ", "Last confirmed: ", "Not declared: ", "Funded by: "),
    ],
    ids=["zh", "en"],
)
def test_a_label_is_followed_by_its_value_in_the_pages_punctuation(
    client: TestClient,
    submitted: dict[str, Any],
    lang: str,
    source: str,
    confidence: str,
    confirmed: str,
    undeclared: str,
    funded: str,
) -> None:
    """The Chinese page read "来源： 财政部…" and "可信度： 参数…": the catalog's label ended in a
    full-width colon and the template wrote a space after it (macros/marks.html, labelled)."""
    html = page(client, submitted, lang)
    by_id = {m["id"]: m for m in submitted["subsidies"]}

    def shown(node: Any) -> str:  # as a browser lays it out: each run of whitespace one space
        return re.sub(r"\s+", " ", node.get_text()).strip()

    for li in html.select("ul.subsidies > li"):
        cited = by_id[li["id"].removeprefix("programme-")]["source"]
        line = shown(li.select_one(".subsidy-source"))
        assert line.startswith(source + (cited["document"] or cited["issued_by"])), line
        assert re.search(f"· {confidence}[^ ·]", line), line
        assert re.search(f"· {confirmed}[^ ·]", line), line
    facts = [
        shown(p)
        for li in html.select("ul.subsidies-not_eligible > li")
        for p in li.select("details > p")
    ]
    assert facts and all(re.match(f"{undeclared}[^ ]", p) for p in facts), facts
    steps = [shown(span) for span in html.select(".funded-by")]
    assert steps and all(re.match(f"{funded}[^ ]", s) for s in steps), steps
