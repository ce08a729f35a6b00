"""The punctuation the pages write around translated text (``templates/macros/marks.html``):
Chinese full-width marks with no space around them, English ASCII marks with their spaces."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.kit.settings import PROJECT_ROOT
from app.kit.web.templating import TEMPLATES_DIR, environment
from tests.factories import PASSWORD, enterprise_payload
from tests.pages import HTML, hidden, soup

EN = {**HTML, "accept-language": "en"}


def _blank_name(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    token = hidden(soup(client.get("/register", headers=headers)), "csrf_token")
    payload = {k: str(v) for k, v in enterprise_payload().items()}
    payload["annual_revenue_wan"] = str(int(payload.pop("annual_revenue_cny")) // 10_000)
    return {
        **payload,
        "name": "",
        "email": "manager@example.com",
        "password": PASSWORD,
        "display_name": "张经理",
        "csrf_token": token,
    }


@pytest.mark.parametrize(
    ("headers", "required", "district", "summary", "claim"),
    [
        (
            HTML,
            "企业名称（必填）",
            "所在区（必填）",
            "企业名称：必填。",
            "您的企业已经注册？请其所有者邀请您，或者申请加入。",
        ),
        (
            EN,
            "Company name (required)",
            "District (required)",
            "Company name: Required.",
            "Your firm is registered already? Ask its owner to invite you, or ask to join it.",
        ),
    ],
    ids=["zh", "en"],
)
def test_a_form_says_required_and_a_label_with_its_value_in_the_pages_punctuation(
    client: TestClient,
    headers: dict[str, str],
    required: str,
    district: str,
    summary: str,
    claim: str,
) -> None:
    """The Chinese form read "企业名称 (必填)" and "企业名称: 必填。": the template wrote the
    ASCII brackets and colon around the translated words."""
    response = client.post("/register", data=_blank_name(client, headers), headers=headers)
    assert response.status_code == 422
    page = soup(response)

    def shown(selector: str) -> list[str]:  # as written: no space between the nodes added
        return [node.get_text() for node in page.select(selector)]

    assert shown("label[for=f-name]") == [required]  # macros/forms.html
    assert shown("label[for=f-district_code]") == [district]  # a partial's own label
    assert shown("#error-summary li") == [summary]
    assert shown("p:has(> a[href='/claim'])") == [claim]


def test_a_value_is_escaped_once_and_markup_kept() -> None:
    page = environment("zh").from_string(
        '{% from "macros/marks.html" import aside, labelled, list_sep %}'
        '{% set code %}<code>{{ "1<2" }}</code>{% endset %}'
        '{{ labelled("a&b", code) }}|{{ aside("x", "<y>", "req") }}|'
        '{{ ["p", "q"]|join(list_sep()) }}'
    )
    assert page.render() == (
        'a&amp;b：<code>1&lt;2</code>|x<span class="req">（&lt;y&gt;）</span>|p、q'
    )


#: An expression beside ASCII punctuation in a page's text: "({{ _(", "}}: ", ") (".
_BESIDE = re.compile(r".{0,20}(?:«»\s*[:;,()]|[:;,(]\s*«»).{0,20}")


def _page_texts(source: str) -> str:
    """The template's text with each expression as «», without tags, comments and statements."""
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", "«»", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", "", source, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", source, flags=re.S))


def test_no_page_writes_ascii_punctuation_beside_a_text_it_fills_in() -> None:
    """The pages' marks are catalog messages (macros/marks.html). Not checked: the PDF report
    (its own marks, ``app.reports.texts.Marks``) and the API docs pages (English only)."""
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
        for path in sorted(TEMPLATES_DIR.rglob("*.html"))
        if path.parent.name not in ("pdf", "apidocs")
        for match in _BESIDE.finditer(_page_texts(path.read_text(encoding="utf-8")))
    ]
    assert found == []


#: A translated label ending in a colon, then white space (a page shows a line break as a space)
#: and its value: "{{ _("Source:") }} {{ value }}", which a Chinese page shows as "来源： 值". A
#: block that starts after the label (a list, a paragraph) is not on its line.
_BLOCK = r"(?:p|ul|ol|li|div|table|tr|td|th|dl|dt|dd|section|h\d|details|summary|br)\b"
_LABEL_THEN_SPACE = re.compile(
    r"""_\(\s*(["'])(?:(?!\1).)*?[:：]\1[^}]*\}\}\s+(?!\s|</|<""" + _BLOCK + r").{0,20}",
    re.S,
)


def test_no_page_writes_a_space_after_a_label_it_translates() -> None:
    """A label and its value are ``labelled(label, value)``: the colon is the catalog's, and so
    is the space after it (none in Chinese). Not checked: the PDF report and the API docs."""
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
        for path in sorted(TEMPLATES_DIR.rglob("*.html"))
        if path.parent.name not in ("pdf", "apidocs")
        for match in _LABEL_THEN_SPACE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
