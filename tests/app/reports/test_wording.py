"""What the PDF report says, read from the PDFs' text as a Chinese and an English reader read it:
Chinese spaced and punctuated as Chinese, the firm spoken of in one voice, each report in its
own language."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Enterprise, Result
from tests.app.reports.helpers import Submit
from tests.pdfs import pdf_reader

#: Chinese characters and full-width punctuation.
HAN = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
#: A space beside a Chinese character, with a Chinese character, a digit or a letter on its
#: other side (app.reports.texts.tighten_chinese: the Chinese report has none).
SPACED = re.compile(f"[{HAN}] +[{HAN}0-9A-Za-z%]|[0-9A-Za-z%] +[{HAN}]")
#: ASCII punctuation against Chinese text: a colon, comma or semicolon, or a bracket round a
#: score ("查看 (3.25)"), or a colon after a question mark ("？:").
ASCII_MARK = re.compile(f"[{HAN}] ?[:;,]|[:;,] ?[{HAN}]|[{HAN}] ?\\([0-9+]|[?？] ?:")


def report(client: TestClient, assessment_id: object, lang: str) -> bytes:
    response = client.get(f"/api/v1/assessments/{assessment_id}/report.pdf?lang={lang}")
    assert response.status_code == 200, response.text
    pdf: bytes = response.content
    return pdf


def pages(pdf: bytes) -> list[list[str]]:
    """Each page's lines as extracted (a table row's cells are separated by spaces)."""
    return [(page.extract_text() or "").split("\n") for page in pdf_reader(pdf).pages]


def running_text(pdf: bytes) -> list[str]:
    """The lines of sentences (holding a full stop): no table row, no page footer."""
    return [line for page in pages(pdf) for line in page if "。" in line]


def stored_why(db: Session, assessment_id: object, lang: str) -> dict[str, Any]:
    db.expire_all()
    row = db.query(Result).filter_by(assessment_id=uuid.UUID(str(assessment_id))).one()
    why = (row.payload[lang].get("roadmap") or {}).get("why_not_higher")
    assert why, "the test firm's result says why it is not higher"
    return dict(why)


class TestChinese:
    def test_no_space_beside_a_chinese_character(
        self, signed_in: TestClient, submit: Submit, enterprise: Enterprise, db: Session
    ) -> None:
        """ "停在 3.50 集成级 之下", "总分为 3.56，", "不足 5 家": the labels put spaces around
        numbers, the catalogue and the dates did not; the report now has none beside a Chinese
        character (tighten_chinese), in sentences, on the cover and in the footer."""
        result = submit()
        pdf = report(signed_in, result["assessment_id"], "zh")
        lines = running_text(pdf)
        assert len(lines) > 30  # the summary, reasons, roadmap, programmes, methodology
        spaced = [(m.group(0), line) for line in lines for m in SPACED.finditer(line)]
        assert not spaced, spaced
        text = pages(pdf)
        assert f"从业人数{enterprise.employees}人" in "".join(text[0])  # with its unit
        assert f"第2页，共{len(text)}页" in text[1][-1]
        why = stored_why(db, result["assessment_id"], "zh")
        joined = "".join(line for page in text for line in page)
        assert why["text"] not in joined
        assert f"「{why['stage']}」" in joined and "使您" not in joined

    def test_punctuation_is_full_width_and_never_doubled(
        self, signed_in: TestClient, submit: Submit
    ) -> None:
        """ "……怎么处理生产情况？: 在厂外……(3.50) → ……(3.75) (+0.013, 投入 2)": the other
        ideas joined a question and its answer with an ASCII colon after the question mark;
        labels and values were joined with ": " and asides bracketed with "(…)" everywhere."""
        pdf = report(signed_in, submit()["assessment_id"], "zh")
        lines = [line for page in pages(pdf) for line in page]
        found = [(m.group(0), line) for line in lines for m in ASCII_MARK.finditer(line)]
        assert not found, found
        joined = "".join(lines)
        assert "其他思路（不属于本方案）" in joined
        assert re.search(r"？[^:：\s]", joined.split("其他思路")[1])  # question, then its answer
        assert re.search(r"（总分\+0\.\d{3}，投入\d）", joined)
        # Latin words are names and abbreviations (zhizao, GB/T, OEE, Excel), never English.
        words = {
            word
            for line in lines
            if "http" not in line
            for word in re.findall(r"\b[a-z]{3,}\b", line)
        }
        assert words <= {"zhizao"}, words


class TestEnglish:
    def test_the_report_speaks_of_the_firm(
        self, signed_in: TestClient, submit: Submit, db: Session
    ) -> None:
        """The report says "the firm" throughout; why the rung is not higher said "holds you
        below" (the result page's text, stored with the result)."""
        result = submit()
        pdf = report(signed_in, result["assessment_id"], "en")
        joined = " ".join(line for page in pages(pdf) for line in page)
        why = stored_why(db, result["assessment_id"], "en")
        assert "holds you" not in joined and "The overall index" not in joined
        head = "holds the firm below rung" if why["stage_short"] else "pulls it down most"
        assert head in joined and f"“{why['stage']}”" in joined

    def test_no_colon_after_a_question_and_no_chinese_of_the_reports_own(
        self, signed_in: TestClient, submit: Submit
    ) -> None:
        pdf = report(signed_in, submit()["assessment_id"], "en")
        lines = [line for page in pages(pdf) for line in page]
        assert not [line for line in lines if re.search(r"\? ?:", line)]
        joined = " ".join(lines)
        assert "Other ideas (not part of the plan)" in joined
        assert re.search(r"\(overall score \+0\.\d{3}, effort \d\)", joined)
        # Chinese only in names: the firm's, programmes' and official sources' (the roadmap's
        # stored texts used 「」 and 您).
        assert not re.search("[「」您]", joined)
