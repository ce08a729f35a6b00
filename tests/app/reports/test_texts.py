"""The report's spacing rule for Chinese and the punctuation each language joins parts with."""

from __future__ import annotations

import pytest

from app.reports.texts import MARKS, tighten_chinese


@pytest.mark.parametrize(
    ("text", "spaced"),
    [
        ("停在 3.50 集成级 之下", "停在3.50集成级之下"),
        ("第 {page} 页，共 {pages} 页", "第{page}页，共{pages}页"),
        ("约 12% 达到", "约12%达到"),
        ("由 zhizao（智造）生成", "由zhizao（智造）生成"),
        # Tags are looked through, never changed; their attributes keep their spaces.
        ('<td class="num">3.25 <small>规范级</small>', '<td class="num">3.25<small>规范级</small>'),
        ("不满足。</strong> <span>松江区", "不满足。</strong><span>松江区"),
        # Spaces around a symbol, between Latin words and at the edges stay.
        ("小型 · 从业人数", "小型 · 从业人数"),
        ("1 = 几天的配置工作", "1 = 几天的配置工作"),
        ("GB/T 4754 大类", "GB/T 4754大类"),
        ("OPC UA、Modbus", "OPC UA、Modbus"),
        (" 开头", " 开头"),
    ],
)
def test_tighten_chinese(text: str, spaced: str) -> None:
    assert tighten_chinese(text) == spaced


def test_a_part_ending_with_its_own_mark_takes_no_colon() -> None:
    assert MARKS["zh"].lead("怎么用？") + "日常看板" == "怎么用？日常看板"
    assert MARKS["zh"].lead("依据") == "依据："
    assert MARKS["en"].lead("How is it used?") == "How is it used? "
    assert MARKS["en"].lead("Source") == "Source: "
    assert MARKS["zh"].paren(3.25) == "（3.25）" and MARKS["en"].paren("3.25") == " (3.25)"
