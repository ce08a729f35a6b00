"""What pages answer, as a browser shows it. Found by the web audit's second round:

- English pages drew curly quotes and dashes full-width: the stylesheet named the CJK face
  first for every language, and a chart's labels kept the CJK face the PDF needs;
- the what-if's answer naming the answers it cannot score (now a 422) must still be shown in
  place: htmx swaps no 4xx by itself;
- a request for a reset link was answered by the POST's own page, which a reload sent again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.answers import FULL, questionnaire, submit_assessment
from tests.browser.helpers import api_client, database, fill_form, serve
from tests.factories import create_enterprise, create_user

OWNER = "owner@answers.example.com"


@dataclass
class World:
    url: str
    result_id: str


def _prepare(url: str) -> dict[str, Any]:
    with database(url) as db:
        firm = create_enterprise(db, name="上海回答测试机械有限公司")
        create_user(db, enterprise=firm, email=OWNER)
        db.expunge(firm)
        return {"firm": firm}


@pytest.fixture(scope="module")
def world(chromium_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("answers"), _prepare) as (live, prepared):
        with api_client(live.url, OWNER) as http:
            result = submit_assessment(http, prepared["firm"], questionnaire(FULL), 0.3)  # type: ignore[arg-type]
        yield World(live.url, str(result["assessment_id"]))


@pytest.fixture(scope="module")
def live_server(world: World) -> str:
    return world.url


#: The width of a text in ``main``, in ems of its font, in a span marked ``lang`` (or unmarked).
WIDTH = """([text, lang]) => {
    const span = document.createElement("span");
    if (lang) span.lang = lang;
    span.textContent = text;
    document.querySelector("main").appendChild(span);
    const width = span.getBoundingClientRect().width / parseFloat(getComputedStyle(span).fontSize);
    span.remove();
    return width;
}"""


def test_english_pages_draw_latin_punctuation_at_its_own_width(world: World, new_page: Any) -> None:
    english = new_page(lang="en")
    english.goto(world.url + "/")
    quotes = english.evaluate(WIDTH, ["“”‘’", None])
    assert quotes < 2.4, f"four curly quotes {quotes:.2f} em wide: drawn full-width"
    # Chinese on an English page, marked as such, keeps its own face and full-width marks.
    assert english.evaluate(WIDTH, ["“”‘’", "zh-CN"]) > 3.2
    chinese = new_page(lang="zh")
    chinese.goto(world.url + "/")
    assert chinese.evaluate(WIDTH, ["“”‘’", None]) > 3.2


def test_a_charts_text_follows_the_pages_language(world: World, new_page: Any) -> None:
    """A chart names the CJK face for the PDF; on an English page its labels were drawn in it."""
    faces: dict[str, str] = {}
    for lang in ("en", "zh"):
        page = new_page(OWNER, lang)
        page.goto(f"{world.url}/assessments/{world.result_id}/result")
        faces[lang] = page.evaluate(
            "() => getComputedStyle(document.querySelector('svg.chart text')).fontFamily"
        )
    assert not faces["en"].startswith('"Noto Sans CJK'), faces["en"]
    assert faces["zh"].startswith('"Noto Sans CJK SC"'), faces["zh"]


def test_the_what_ifs_refusal_is_shown_in_place(world: World, new_page: Any) -> None:
    page = new_page(OWNER)
    page.goto(f"{world.url}/assessments/{world.result_id}/result")
    select = page.locator("#what-if form select").first
    question = str(select.get_attribute("name"))
    # An option the question has not (a form from an older page, or a hand-made one).
    select.evaluate("s => s.add(new Option('an option it has not', 'no-such-option'))")
    with page.expect_response(lambda r: "/what-if" in r.url) as answer:
        select.select_option("no-such-option")
    assert answer.value.status == 422
    alert = page.locator("#what-if-result [role=alert]")
    alert.wait_for()
    assert alert.locator(f"a[href='#wi-{question}']").count() == 1
    assert page.locator("#what-if-result .what-if-score").count() == 0


def test_reloading_the_answer_to_a_reset_request_sends_nothing(world: World, new_page: Any) -> None:
    page = new_page()
    page.goto(world.url + "/password/forgot")
    posts: list[str] = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    fill_form(page, "发送链接", email="nobody@answers.example.com")
    page.wait_for_selector("#reset-sent")
    assert page.url == world.url + "/password/forgot/sent"
    page.reload()
    page.wait_for_selector("#reset-sent")
    assert posts == [world.url + "/password/forgot"]
