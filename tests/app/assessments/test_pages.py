"""The wizard, review, submit, result, what-if and history pages — without JavaScript (plain
form posts) and with htmx (``HX-Request``: autosave answering out of band, or with the stage
re-rendered when its questions change)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.enterprises.service import scoring_profile
from app.models import Enterprise, Result
from scoring import Questionnaire, applicable_questions
from tests.answers import FULL, complete_answers, submit_assessment
from tests.factories import create_enterprise, create_user
from tests.pages import HTML, HTMX, hidden, sign_in, soup, texts


@pytest.fixture
def browser(client: TestClient, db: Session, enterprise: Enterprise) -> TestClient:
    sign_in(client, create_user(db, enterprise=enterprise))
    return client


def post_start(client: TestClient, questionnaire_id: str) -> Any:
    """The start form sent, as the page offers it, with ``questionnaire_id`` chosen."""
    csrf = hidden(soup(client.get("/assessments/new", headers=HTML)), "csrf_token")
    return client.post(
        "/assessments",
        data={"csrf_token": csrf, "questionnaire_id": questionnaire_id},
        headers=HTML,
        follow_redirects=False,
    )


def start(client: TestClient, questionnaire_id: str = FULL) -> str:
    response = post_start(client, questionnaire_id)
    assert response.status_code == 303
    return response.headers["location"].rsplit("/", 1)[-1]


def form_data(page: BeautifulSoup, answers: dict[str, Any], **extra: str) -> dict[str, Any]:
    """The stage form as a browser would post it, answering the shown questions from ``answers``."""
    form = page.select_one("#stage-form") or page  # a page, or the htmx fragment (its inside)
    data: dict[str, Any] = {name: hidden(form, name) for name in ("csrf_token", "etag", "shown")}
    for qid in data["shown"].split():
        if qid in answers:
            value = answers[qid]
            data[qid] = value if isinstance(value, list) else str(value)
    return data | extra


def fill_everything(
    client: TestClient, assessment_id: str, answers: dict[str, Any], *, max_posts: int = 20
) -> BeautifulSoup:
    """Answer stage after stage with "save and continue" until the review page."""
    response = client.get(f"/assessments/{assessment_id}", headers=HTML)
    for _ in range(max_posts):
        page = soup(response)
        if "/review" in str(response.url):
            return page
        url = str(response.url).split("?")[0]
        data = (
            {name: hidden(page, name) for name in ("csrf_token", "etag")} | {"action": "next"}
            if url.endswith("/kpis")  # the optional baseline figures: left blank
            else form_data(page, answers, action="next")
        )
        response = client.post(url, data=data, headers=HTML)
        assert response.status_code == 200, response.text[:500]
    raise AssertionError("never reached the review")


def test_resume_goes_to_the_first_open_stage(browser: TestClient) -> None:
    assessment_id = start(browser)
    response = browser.get(f"/assessments/{assessment_id}", headers=HTML, follow_redirects=False)
    assert response.headers["location"].endswith("/stages/digitization")
    page = soup(browser.get(response.headers["location"], headers=HTML))
    assert page.select_one("[aria-current=step]").get_text(" ", strip=True).startswith("1")
    # Labels and fieldsets: every question is a fieldset with a legend; every input has a label.
    for fieldset in page.select("fieldset.question"):
        assert fieldset.legend.get_text(strip=True)
    for field in page.select("#stage-form input:not([type=hidden])"):
        assert page.select_one(f"label[for='{field['id']}']") is not None


def test_full_journey_without_javascript(
    browser: TestClient, db: Session, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> None:
    answers = complete_answers(full_questionnaire, scoring_profile(enterprise), 0.5)
    assessment_id = start(browser)
    review = fill_everything(browser, assessment_id, answers)
    assert review.select_one("#unanswered") is None
    assert review.select_one("progress")["value"] == "100"
    result = browser.post(
        f"/assessments/{assessment_id}/submit",
        data={name: hidden(review, name) for name in ("csrf_token", "etag", "submit_key")},
        headers=HTML,
    )
    assert str(result.url).endswith("/result")
    page = soup(result)
    api = browser.get(f"/api/v1/assessments/{assessment_id}/result").json()
    assert f"{api['rung']:.2f}" in page.select_one(".big-rung").get_text()
    assert page.select_one("svg.ladder .rung-current") is not None
    assert len(page.select("svg.radar .value")) == 4
    assert page.select_one("#held-back li") or api["held_back_by"] == []
    assert len(page.select("#plan-steps li")) == len(api["roadmap"]["steps"])  # the whole plan
    assert "并非" in page.select_one("#crosswalk .disclaimer").get_text()
    assert page.select_one("#subsidies") is not None
    # Submitted: the wizard is closed, the history lists it with its trend.
    stage = browser.get(f"/assessments/{assessment_id}/stages/automation", headers=HTML)
    assert str(stage.url).endswith("/result")
    history = soup(browser.get("/history", headers=HTML))
    assert "已提交" in " ".join(texts(history, "tbody td"))
    assert history.select_one("svg.trend") is not None


@pytest.mark.parametrize(
    "questionnaire_id",
    ["no-such-questionnaire", "x" * 101, "smart\x00"],
    ids=["unknown", "too long", "NUL"],
)
def test_starting_a_questionnaire_the_form_does_not_offer_is_refused(
    browser: TestClient, enterprise: Enterprise, questionnaire_id: str
) -> None:
    """A hand-made form: a 422 page and no draft, whatever the id (a too long one or one with a
    control character answered 500)."""
    response = post_start(browser, questionnaire_id)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert browser.get(f"/api/v1/enterprises/{enterprise.id}/assessments").json()["items"] == []


@pytest.mark.parametrize("drafts", [0, 1], ids=["nothing yet", "a draft"])
def test_the_history_of_a_firm_that_never_submitted(browser: TestClient, drafts: int) -> None:
    """A new firm (the demo firm of ``make run`` too) opens its history before submitting
    anything: the page lists its drafts, with no trend and no KPI comparison (it answered 500:
    the pairing of each submission with the one before it failed on none)."""
    for _ in range(drafts):
        start(browser)
    response = browser.get("/history", headers=HTML)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("svg.trend") is None
    assert texts(page, "tbody td").count("✎ 草稿") == drafts
    assert page.select_one("a[href='/assessments/new']") is not None


def test_what_if_scores_without_saving(
    browser: TestClient, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> None:
    answers = complete_answers(full_questionnaire, scoring_profile(enterprise), 0.3)
    assessment_id = start(browser)
    review = fill_everything(browser, assessment_id, answers)
    browser.post(
        f"/assessments/{assessment_id}/submit",
        data={name: hidden(review, name) for name in ("csrf_token", "etag", "submit_key")},
    )
    page = soup(browser.get(f"/assessments/{assessment_id}/result", headers=HTML))
    form = page.select_one("#what-if form")
    best: dict[str, Any] = {}
    for select in form.select("select"):
        best[select["name"]] = select.select("option")[-1]["value"]
    for field in form.select("input[type=text]"):
        best[field["name"]] = str(full_questionnaire.question(field["name"]).max)
    before = browser.get(f"/api/v1/assessments/{assessment_id}").json()
    partial = browser.get(f"/assessments/{assessment_id}/what-if", params=best, headers=HTMX)
    fragment = soup(partial)
    assert fragment.select_one("#what-if-result .what-if-score strong") is not None
    assert "未保存任何内容" in fragment.get_text()
    assert fragment.find("html") is None  # a fragment, not a page
    full = soup(browser.get(f"/assessments/{assessment_id}/what-if", params=best, headers=HTML))
    assert full.select_one("h1") is not None and full.select_one("#what-if-result strong")
    after = browser.get(f"/api/v1/assessments/{assessment_id}").json()
    assert after["answers"] == before["answers"] and after["etag"] == before["etag"]


def plan_first(db: Session, assessment_id: str, *question_ids: str) -> None:
    """Steps on ``question_ids`` put first in the stored plan of a submitted assessment, so that
    its what-if form offers these questions (each step a copy of the first, aiming at 10)."""
    result = db.query(Result).filter_by(assessment_id=uuid.UUID(assessment_id)).one()
    payload = copy.deepcopy(result.payload)
    for lang in ("zh", "en"):
        steps = payload[lang]["roadmap"]["steps"]
        for qid in reversed(question_ids):
            steps.insert(0, steps[0] | {"question_id": qid, "target": 10})
    db.execute(update(Result).where(Result.id == result.id).values(payload=payload))
    db.commit()


def test_what_if_names_the_questions_its_answers_bring_into_play(
    signed_in: TestClient,
    db: Session,
    enterprise: Enterprise,
    full_questionnaire: Questionnaire,
) -> None:
    """A result kept before plans stopped bringing required questions into play has a step
    raising the share of networked machines from 0: the what-if showed "next rung reached"
    scoring the two data questions that then apply as unanswered (the roadmap audit). Now it
    names them and calls its figure provisional."""
    profile = scoring_profile(enterprise)
    answers = complete_answers(full_questionnaire, profile, 0.3) | {"dat_networked": 0}
    applicable = applicable_questions(full_questionnaire, answers, profile)
    answers = {q.id: answers[q.id] for q in applicable if q.id in answers}
    created = signed_in.post(
        f"/api/v1/enterprises/{enterprise.id}/assessments", json={"questionnaire_id": FULL}
    ).json()
    put = signed_in.put(
        f"/api/v1/assessments/{created['id']}/answers",
        json={"answers": answers},
        headers={"If-Match": created["etag"]},
    )
    assert put.status_code == 200, put.text
    submitted = signed_in.post(
        f"/api/v1/assessments/{created['id']}/submit", headers={"If-Match": put.json()["etag"]}
    )
    assert submitted.status_code == 200, submitted.text
    plan_first(db, created["id"], "dat_networked")
    fragment = soup(
        signed_in.get(
            f"/assessments/{created['id']}/what-if",
            params={"dat_networked": "10"},
            headers=HTMX,
        )
    )
    listed = texts(fragment, "#what-if-unanswered li")
    newly = [
        q.text.zh
        for q in applicable_questions(full_questionnaire, answers | {"dat_networked": 10}, profile)
        if q.required and q.id not in answers and q.id != "dat_networked"
    ]
    assert newly and listed == newly
    assert fragment.select_one(".tag-up") is None


@pytest.mark.parametrize("typed", ["1e200000", "9" * 5000])
def test_a_figure_no_form_takes_is_refused_without_saving(browser: TestClient, typed: str) -> None:
    """Seconds of CPU, then a 500 (the page could not print the integer), on the stage form,
    its autosave and the what-if (``parse_stage_form``, which the what-if reads its figures
    with too); now the figure is refused like any text that is not one."""
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    page = soup(browser.get(url, headers=HTML))
    saved = browser.get(f"/api/v1/assessments/{assessment_id}").json()
    data = form_data(page, {}) | {"shown": "dig_equipment_rate", "dig_equipment_rate": typed}
    for response in (
        browser.post(url, data=data | {"action": "save"}, headers=HTML),
        browser.post(url + "/autosave", data=data, headers=HTMX),
    ):
        assert response.status_code < 500, response.text[:300]
    after = browser.get(f"/api/v1/assessments/{assessment_id}").json()
    assert after["answers"] == saved["answers"] and after["etag"] == saved["etag"]


def test_autosave_rerenders_the_stage_with_adaptive_questions(browser: TestClient) -> None:
    """An answer that makes other questions apply: the autosave re-renders the form (HX-Reswap
    over the form's hx-swap="none"); app.js keeps what was entered meanwhile (tests/browser)."""
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    page = soup(browser.get(url, headers=HTML))
    assert page.select_one("#stage-form")["hx-swap"] == "none"
    assert page.select_one("#q-dig_design") is None and page.select_one("#q-dig_recipe") is None
    response = browser.post(
        url + "/autosave", data=form_data(page, {"dig_production_mode": "discrete"}), headers=HTMX
    )
    assert response.status_code == 200
    assert response.headers["hx-reswap"] == "innerHTML"
    fragment = soup(response)
    assert fragment.find("html") is None
    assert fragment.select_one("#q-dig_design") is not None
    assert fragment.select_one("#q-dig_recipe") is None
    assert fragment.select_one("#dig_production_mode--discrete").has_attr("checked")
    assert "已保存" in fragment.select_one("#save-status").get_text()
    # The progress bar comes along out of band; the new ETag is in the form.
    assert fragment.select_one("#progress")["hx-swap-oob"] == "true"
    assert hidden(fragment, "etag") != hidden(page, "etag")
    # An answer to a question of the same shape: only the new ETag and the status come back.
    answered = browser.post(
        url + "/autosave",
        data=form_data(fragment, {"dig_production_mode": "discrete", "dig_design": "cad2d"}),
        headers=HTMX,
    )
    assert "hx-reswap" not in answered.headers
    etag = hidden(soup(answered), "etag")
    # Switching the mode swaps the adaptive questions and drops answers that no longer apply.
    response = browser.post(
        url + "/autosave",
        data=form_data(fragment, {"dig_production_mode": "process", "dig_design": "cad2d"})
        | {"etag": etag},
        headers=HTMX,
    )
    assert response.headers["hx-reswap"] == "innerHTML"
    fragment = soup(response)
    assert fragment.select_one("#q-dig_design") is None
    assert fragment.select_one("#q-dig_recipe") is not None
    stored = browser.get(f"/api/v1/assessments/{assessment_id}").json()["answers"]
    assert stored == {"dig_production_mode": "process"}


def test_explicit_save_without_javascript(browser: TestClient) -> None:
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    page = soup(browser.get(url, headers=HTML))
    response = browser.post(
        url,
        data=form_data(page, {"dig_equipment_rate": "35"}, action="save"),
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == url + "?saved=1"
    page = soup(browser.get(response.headers["location"], headers=HTML))
    assert page.select_one("#dig_equipment_rate--value")["value"] == "35"
    assert "已保存" in page.select_one("#save-status").get_text()


def test_answers_changed_elsewhere_are_reported_not_overwritten(browser: TestClient) -> None:
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    stale = soup(browser.get(url, headers=HTML))
    # Another tab saves first.
    other = browser.post(
        url + "/autosave", data=form_data(stale, {"dig_equipment_rate": "50"}), headers=HTMX
    )
    assert other.status_code == 200
    # The stale page now tries to save something else: refused, with a reload offer.
    response = browser.post(
        url, data=form_data(stale, {"dig_equipment_rate": "20"}, action="save"), headers=HTML
    )
    assert response.status_code == 412
    page = soup(response)
    conflict = page.select_one("#conflict")
    assert conflict["role"] == "alert" and "别处" in conflict.get_text()
    assert conflict.select_one("a")["href"] == url
    assert page.select_one("#dig_equipment_rate--value")["value"] == "20"  # what they typed
    htmx = browser.post(
        url + "/autosave", data=form_data(stale, {"dig_equipment_rate": "20"}), headers=HTMX
    )
    assert htmx.status_code == 200 and soup(htmx).select_one("#conflict") is not None
    assert browser.get(f"/api/v1/assessments/{assessment_id}").json()["answers"] == {
        "dig_equipment_rate": 50
    }
    # A stale form that only repeats what is stored (its own autosave got there first) is fine.
    same = browser.post(
        url,
        data=form_data(stale, {"dig_equipment_rate": "50"}, action="save"),
        headers=HTML,
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_the_wizard_saves_what_the_api_counts_as_a_change(browser: TestClient) -> None:
    """What the wizard saves is what differs from the stored answers as the API judges it
    (``service.same_json``): a figure an integrator stored as 50.0, which PostgreSQL keeps so,
    is another answer than the 50 a form sends (the API stores that PUT), while SQLite keeps it
    as 50, the same. The wizard compared with ``!=``, which calls 50 and 50.0 equal, and never
    saved it. A form that changes nothing is not saved at all (the ETag stays)."""
    assessment_id = start(browser)
    api = f"/api/v1/assessments/{assessment_id}"
    url = f"/assessments/{assessment_id}/stages/digitization"
    stored = browser.put(
        f"{api}/answers",
        json={"answers": {"dig_equipment_rate": 50.0}},
        headers={
            "If-Match": browser.get(api).json()["etag"],
            "X-CSRF-Token": hidden(soup(browser.get(url, headers=HTML)), "csrf_token"),
        },
    )
    assert stored.status_code == 200, stored.text
    kept_as_float = type(browser.get(api).json()["answers"]["dig_equipment_rate"]) is float
    for changes in (kept_as_float, False):  # once saved as 50, the same form changes nothing
        page = soup(browser.get(url, headers=HTML))
        before = browser.get(api).json()["etag"]
        response = browser.post(
            url + "/autosave", data=form_data(page, {"dig_equipment_rate": "50"}), headers=HTMX
        )
        assert response.status_code == 200
        after = browser.get(api).json()
        assert (after["etag"] != before) == changes
        assert after["answers"] == {"dig_equipment_rate": 50}
        assert type(after["answers"]["dig_equipment_rate"]) is int


def test_an_autosave_answers_without_the_fields(browser: TestClient) -> None:
    """The autosave answered with the whole form re-rendered from the server's state as of that
    save, and htmx swapped it in: whatever the user typed or clicked while it was in flight was
    undone, and the next save sent the form so reverted (the web audit lost 5 clicks of 6). Now
    a save that leaves the questions as they are answers only with what is not the user's, out
    of band: the new ETag, the status, the progress, each field's error (tests/browser keeps
    what the user entered in a real browser)."""
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    page = soup(browser.get(url, headers=HTML))
    shown = hidden(page, "shown").split()
    response = browser.post(
        url + "/autosave", data=form_data(page, {"dig_equipment_rate": "40"}), headers=HTMX
    )
    assert response.status_code == 200 and "hx-reswap" not in response.headers
    answer = soup(response)
    assert [field["name"] for field in answer.select("input")] == ["etag"]
    assert (
        hidden(answer, "etag") == browser.get(f"/api/v1/assessments/{assessment_id}").json()["etag"]
    )
    assert all(element.has_attr("hx-swap-oob") for element in answer.find_all(recursive=False))
    assert answer.select_one("#save-status")["hx-swap-oob"] == "innerHTML"  # the live region stays
    assert "已保存" in answer.select_one("#save-status").get_text()
    assert answer.select_one("#progress .step-state").get_text() == "1/12"
    assert [slot["id"] for slot in answer.select(".field-error-slot")] == [
        f"errslot-{qid}" for qid in shown
    ]
    # A figure out of range: its error comes in its slot; the field keeps what was typed.
    refused = soup(
        browser.post(
            url + "/autosave",
            data=form_data(page, {"dig_equipment_rate": "150"}) | {"etag": hidden(answer, "etag")},
            headers=HTMX,
        )
    )
    assert refused.select_one("#dig_equipment_rate--value") is None
    assert "0 到 100" in refused.select_one("#errslot-dig_equipment_rate .field-error").get_text()
    assert refused.select_one("#form-errors a")["href"] == "#q-dig_equipment_rate"


@pytest.mark.parametrize("autosave", [False, True], ids=["save button", "autosave"])
def test_a_stale_form_keeps_conflicting_until_it_is_reloaded(
    browser: TestClient, autosave: bool
) -> None:
    """The conflict notice came with the form carrying the current ETag and the stale tab's
    unsaved answers: its next save passed the ETag check and overwrote the other tab's answer
    without a word (the stale-tab audit). Now the form keeps the ETag it posted, so every save
    from it conflicts until it is reloaded, as the notice says."""
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    stale = soup(browser.get(url, headers=HTML))
    other = browser.post(url + "/autosave", data=form_data(stale, {"dig_erp": "erp"}), headers=HTMX)
    assert other.status_code == 200  # another tab saved
    etag = hidden(stale, "etag")
    for answers in (
        {"dig_erp": "spreadsheets"},
        {"dig_erp": "spreadsheets", "dig_planning": "mrp"},
    ):
        # The stale tab's form as the conflict's answer left it: its ETag, its own answers.
        data = form_data(stale, answers, action="save") | {"etag": etag}
        response = browser.post(
            url + "/autosave" if autosave else url,
            data=data,
            headers=HTMX if autosave else HTML,
            follow_redirects=False,
        )
        assert response.status_code == (200 if autosave else 412)
        answer = soup(response)
        conflict = answer.select_one("#conflict")
        assert conflict is not None
        etag = hidden(answer, "etag")
    assert browser.get(f"/api/v1/assessments/{assessment_id}").json()["answers"] == {
        "dig_erp": "erp"
    }
    assert etag == hidden(stale, "etag")
    # The notice says that nothing from this page is saved any more, and to reload it.
    assert "不再保存" in conflict.select_one("p").get_text()
    assert conflict.select_one("a")["href"] == url


def test_a_save_after_the_session_ended_leads_back_to_sign_in(browser: TestClient) -> None:
    """The session ended with the wizard open (signed out in another tab, or expired): the
    autosave got a 401 page its status took for a network failure, and the Save button a bare
    401 page with no way to sign in. Now htmx is sent to sign in (HX-Redirect), back to the
    page it was on; a plain post gets the error page with a sign-in link back to its page."""
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    data = form_data(soup(browser.get(url, headers=HTML)), {"dig_equipment_rate": "40"})
    browser.cookies.clear()
    shown = "http://testserver" + url + "?saved=1"
    autosave = browser.post(
        url + "/autosave",
        data=data,
        headers={**HTMX, "hx-current-url": shown},
        follow_redirects=False,
    )
    assert autosave.status_code == 401
    assert autosave.headers["hx-redirect"] == f"/login?next={url}%3Fsaved%3D1"
    # A page of another site is no page to come back to: the form's own page is.
    elsewhere = browser.post(
        url + "/autosave",
        data=data,
        headers={**HTMX, "hx-current-url": "https://example.com/x"},
        follow_redirects=False,
    )
    assert elsewhere.headers["hx-redirect"] == f"/login?next={url}/autosave"
    for headers, back_to in (
        ({**HTML, "referer": shown}, f"{url}%3Fsaved%3D1"),
        (HTML, url),  # no Referer: the wizard form posts to its page's URL
    ):
        plain = browser.post(url, data=data | {"action": "save"}, headers=headers)
        assert plain.status_code == 401
        page = soup(plain)
        assert page.select_one("#sign-in-again")["href"] == f"/login?next={back_to}"
        assert "登录已失效" in page.select_one(".lead").get_text()
    english = soup(browser.post(url, data=data, headers={**HTML, "accept-language": "en"}))
    assert "your session has ended" in english.select_one(".lead").get_text()
    assert english.select_one("#sign-in-again").get_text(strip=True) == "Sign in"


def test_bad_answers_are_shown_inline(browser: TestClient) -> None:
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    page = soup(browser.get(url, headers=HTML))
    for value, message in (("abc", "请输入数字"), ("150", "0 到 100")):
        response = browser.post(
            url, data=form_data(page, {"dig_equipment_rate": value}, action="save"), headers=HTML
        )
        assert response.status_code == 422
        error = soup(response).select_one("#err-dig_equipment_rate")
        assert message in error.get_text()
    english = browser.post(
        url,
        data=form_data(page, {"dig_equipment_rate": "150"}, action="save"),
        headers={**HTML, "accept-language": "en"},
    )
    assert "from 0 to 100" in soup(english).select_one("#err-dig_equipment_rate").get_text()


@pytest.mark.parametrize("autosave", [False, True], ids=["save", "autosave"])
def test_every_bad_answer_is_marked_in_one_round(browser: TestClient, autosave: bool) -> None:
    """A figure that cannot be read beside one out of range and an option not offered: only
    the unreadable one was marked, the others once it was fixed and the form sent again."""
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    page = soup(browser.get(url, headers=HTML))
    typed = {"dig_equipment_rate": "abc", "dig_invest_share": "50", "dig_erp": "no-such-option"}
    response = browser.post(
        url + "/autosave" if autosave else url,
        data=form_data(page, typed, action="save"),
        headers=HTMX if autosave else HTML,
    )
    assert response.status_code == (200 if autosave else 422)
    answered = soup(response)
    for qid, message in (
        ("dig_equipment_rate", "请输入数字"),
        ("dig_invest_share", "0 到 30"),
        ("dig_erp", "请从列出的选项中选择"),
    ):
        error = answered.select_one(f"#err-{qid}")
        assert error is not None and message in error.get_text(), qid
        assert answered.select_one(f"#form-errors a[href='#q-{qid}']") is not None, qid
    if not autosave:  # an autosave leaves the fields as they are in the browser
        for qid in ("dig_equipment_rate", "dig_invest_share"):
            assert answered.select_one(f"#{qid}--value")["value"] == typed[qid]
    assert browser.get(f"/api/v1/assessments/{assessment_id}").json()["answers"] == {}


@pytest.mark.parametrize(
    ("stage", "qid", "value"),
    [
        ("digitization", "dig_erp", "no-such-option"),
        ("digitization", "dig_erp", "erp\x00"),
        ("automation", "aut_material_handling", ["manual", "agv\x00"]),
    ],
    ids=["an option not offered", "a control character", "one in a multiple choice"],
)
def test_a_value_no_option_has_is_shown_inline(
    browser: TestClient, stage: str, qid: str, value: str | list[str]
) -> None:
    """A hand-made stage form: the question says to choose one of its options (422), nothing is
    saved. Each of these answered 500: the wizard worked out what still applies from the sent
    values before validating them, and a control character failed the update's own check."""
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/{stage}"
    page = soup(browser.get(url, headers=HTML))
    for autosave in (False, True):  # the save button, then htmx's autosave (always 200)
        response = browser.post(
            url + "/autosave" if autosave else url,
            data=form_data(page, {qid: value}, action="save"),
            headers=HTMX if autosave else HTML,
        )
        assert response.status_code == (200 if autosave else 422)
        error = soup(response).select_one(f"#err-{qid}")
        assert error is not None and "请从列出的选项中选择" in error.get_text()
    stored = browser.get(f"/api/v1/assessments/{assessment_id}").json()
    assert stored["answers"] == {}


def test_review_lists_unanswered_required_questions(browser: TestClient) -> None:
    assessment_id = start(browser, "quick-check")
    page = soup(browser.get(f"/assessments/{assessment_id}/review", headers=HTML))
    links = page.select("#unanswered a")
    assert links and all("/stages/" in a["href"] and "#q-" in a["href"] for a in links)
    assert page.select_one("#btn-submit").has_attr("disabled")
    response = browser.post(
        f"/assessments/{assessment_id}/submit",
        data={name: hidden(page, name) for name in ("csrf_token", "etag", "submit_key")},
        headers=HTML,
    )
    assert response.status_code == 422
    assert "必答题" in soup(response).select_one("[role=alert]").get_text()


def test_another_firms_assessment_is_not_found(
    browser: TestClient, client: TestClient, db: Session
) -> None:
    assessment_id = start(browser)
    other = create_user(db, enterprise=create_enterprise(db))
    client.cookies.clear()
    sign_in(client, other)
    for path in ("", "/stages/digitization", "/review", "/result"):
        response = client.get(f"/assessments/{assessment_id}{path}", headers=HTML)
        assert response.status_code == 404, path
    assert client.get(f"/assessments/{uuid.uuid4()}", headers=HTML).status_code == 404


def test_csrf_is_required_on_wizard_forms(browser: TestClient) -> None:
    assessment_id = start(browser)
    url = f"/assessments/{assessment_id}/stages/digitization"
    data = form_data(soup(browser.get(url, headers=HTML)), {"dig_equipment_rate": "50"})
    data["csrf_token"] = "nope"
    assert browser.post(url + "/autosave", data=data, headers=HTMX).status_code == 403


@pytest.mark.parametrize("headers", [HTML, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize("value", ["no-such-option", "a\x0bb"], ids=["unknown", "no-option"])
def test_what_if_answers_it_cannot_score_are_a_422_naming_the_question(
    signed_in: TestClient,
    enterprise: Enterprise,
    full_questionnaire: Questionnaire,
    headers: dict[str, str],
    value: str,
) -> None:
    """An option the question has not, or text that is no option at all, was said in an alert
    of a 200, as if the calculation had gone well."""
    submitted = submit_assessment(signed_in, enterprise, full_questionnaire, 0.3)
    url = f"/assessments/{submitted['assessment_id']}"
    form = soup(signed_in.get(f"{url}/result", headers=HTML)).select_one("#what-if form")
    assert form is not None
    select = form.select_one("select")
    assert select is not None
    qid = str(select["name"])
    response = signed_in.get(f"{url}/what-if", params={qid: value}, headers=headers)
    assert response.status_code == 422
    page = soup(response)
    alert = page.select_one("#what-if-result [role=alert]")
    assert alert is not None
    named = {str(a["href"]): a.get_text(strip=True) for a in alert.select("a")}
    assert named == {f"#wi-{qid}": full_questionnaire.question(qid).text.zh}
    assert page.select_one(".what-if-score") is None
    if headers is HTML:  # the whole page again, the field refused marked
        assert page.select_one(f"#wi-{qid}[aria-invalid=true]") is not None
    assert signed_in.get(f"{url}/what-if", headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [HTML, HTMX], ids=["page", "htmx"])
def test_what_if_names_every_answer_it_cannot_score_at_once(
    signed_in: TestClient,
    db: Session,
    enterprise: Enterprise,
    full_questionnaire: Questionnaire,
    headers: dict[str, str],
) -> None:
    """A figure that cannot be read beside one out of range and an option not offered: only
    the unreadable one was named, the others once it was fixed and the form sent again."""
    submitted = submit_assessment(signed_in, enterprise, full_questionnaire, 0.3)
    plan_first(db, submitted["assessment_id"], "dig_equipment_rate", "dig_invest_share")
    url = f"/assessments/{submitted['assessment_id']}"
    form = soup(signed_in.get(f"{url}/result", headers=HTML)).select_one("#what-if form")
    assert form is not None
    select = form.select_one("select")
    assert select is not None
    chosen = str(select["name"])
    typed = {"dig_equipment_rate": "abc", "dig_invest_share": "50", chosen: "no-such-option"}
    response = signed_in.get(f"{url}/what-if", params=typed, headers=headers)
    assert response.status_code == 422
    page = soup(response)
    alert = page.select_one("#what-if-result [role=alert]")
    assert alert is not None
    named = {str(a["href"]): li.get_text() for li in alert.select("li") for a in li.select("a")}
    assert set(named) == {f"#wi-{qid}" for qid in typed}
    for qid, message in (
        ("dig_equipment_rate", "请输入数字"),
        ("dig_invest_share", "0 到 30"),
        (chosen, "请从列出的选项中选择"),
    ):
        assert message in named[f"#wi-{qid}"], qid
    assert page.select_one(".what-if-score") is None
    if headers is HTML:  # the whole page again: each field refused marked, the figures as typed
        for qid in typed:
            assert page.select_one(f"#wi-{qid}[aria-invalid=true]") is not None, qid
        for qid in ("dig_equipment_rate", "dig_invest_share"):
            assert page.select_one(f"#wi-{qid}")["value"] == typed[qid], qid
