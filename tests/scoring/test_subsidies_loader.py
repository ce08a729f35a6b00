"""The subsidy loader: every problem reported with file, path inside and message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.conditions import All, Any, Leaf, Not
from scoring.subsidies import UNKNOWN
from scoring.subsidy_loader import (
    SubsidyLoadError,
    load_programme,
    load_subsidies,
    parse_programme,
)

DATA = Path(__file__).resolve().parent / "data" / "subsidies"

HEAD = """\
id: demo
name: {zh: 演示, en: Demo}
issuer: {zh: 演示, en: Demo}
level: municipal
region: "310000"
kind: grant
summary: {zh: 演示, en: Demo}
source: {document: 演示, issued_by: 演示, year: 2026}
confidence: secondary
"""


def problems(text: str, **kwargs: object) -> list[tuple[str, str]]:
    with pytest.raises(SubsidyLoadError) as info:
        parse_programme(text, "demo.yaml", **kwargs)  # type: ignore[arg-type]
    assert all(issue.file == "demo.yaml" for issue in info.value.issues)
    return [(issue.path, issue.message) for issue in info.value.issues]


def doc(extra: str, *, benefit: str = "benefit: {}") -> str:
    return HEAD + benefit + "\n" + extra


def test_good_fixtures_load() -> None:
    programmes = load_subsidies(DATA / "good")
    assert [p.id for p in programmes] == ["demo-answers-grant", "demo-fixed-award"]
    grant, award = programmes
    assert grant.valid_from == date(2026, 1, 1) and grant.valid_until == date(2026, 12, 31)
    assert grant.benefit.rate == Decimal("0.5") and grant.benefit.cap_cny is None
    assert grant.source.url == "https://example.org/demo"
    assert isinstance(grant.eligibility, All)
    assert isinstance(grant.eligibility.conditions[1], Any)
    assert isinstance(grant.eligibility.conditions[2], Not)
    assert grant.recommendations == ("R6",)
    assert len(grant.content_hash) == 64
    assert award.benefit.amount_cny == Decimal(200000) and award.source.year is None
    assert award.eligibility is None


def test_load_subsidies_accepts_files_and_a_single_path() -> None:
    one = load_subsidies(DATA / "good" / "demo-fixed-award.yaml")
    assert [p.id for p in one] == ["demo-fixed-award"]
    both = load_subsidies(
        [str(DATA / "good" / "demo-fixed-award.yaml"), DATA / "good" / "demo-answers-grant.yaml"]
    )
    assert [p.id for p in both] == ["demo-answers-grant", "demo-fixed-award"]


def test_duplicate_ids_across_files_are_reported() -> None:
    with pytest.raises(SubsidyLoadError) as info:
        load_subsidies([DATA / "good", DATA / "good" / "demo-fixed-award.yaml"])
    (issue,) = info.value.issues
    assert issue.path == "id" and "also defined in" in issue.message


def test_bad_directory_lists_every_file_problem() -> None:
    with pytest.raises(SubsidyLoadError) as info:
        load_subsidies(DATA / "bad")
    files = {Path(issue.file).name for issue in info.value.issues}
    assert files == {"many-problems.yaml", "not-yaml.yaml", "wrong-name.yaml"}
    text = str(info.value)
    assert "must equal the file name 'wrong-name'" in text
    assert "not valid YAML" in text


def test_many_problems_are_all_reported() -> None:
    with pytest.raises(SubsidyLoadError) as info:
        load_programme(DATA / "bad" / "many-problems.yaml")
    found = {(issue.path, issue.message) for issue in info.value.issues}
    paths = {path for path, _ in found}
    assert {
        "colour", "name", "name.en", "level", "region", "kind", "confidence", "benefit.rate",
        "benefit.cap_cny", "eligibility.field", "valid_from",
    } <= paths | {"name.en"}  # fmt: skip
    messages = " | ".join(message for _, message in found)
    assert "unknown key 'colour'" in messages
    assert "missing key 'en'" in messages
    assert "must be one of national, municipal, district; got a string ('provincial')" in messages
    assert 'quoted GB/T 2260 code such as "310117", got a number (310117)' in messages
    assert "share between 0 and 1" in messages
    assert "must be > 0, got -3" in messages
    assert "unknown profile field 'turnover'" in messages
    assert "got a string ('2026-02-30')" in messages


def test_unreadable_file() -> None:
    with pytest.raises(SubsidyLoadError) as info:
        load_programme(DATA / "missing.yaml")
    assert info.value.issues[0].message.startswith("cannot read")


def test_duplicate_keys_and_not_a_mapping() -> None:
    assert problems(HEAD + "benefit: {}\nkind: award\n")[0][1].startswith("duplicate key 'kind'")
    assert problems("- a list\n") == [("", "must be a mapping, got a list")]


@pytest.mark.parametrize(
    ("level", "region", "message"),
    [
        ("national", "310000", 'a national programme\'s region is "100000" (the whole country)'),
        ("municipal", "310117", 'a municipal programme\'s region is "310000" (Shanghai)'),
        ("district", "310000", "a district programme's region is a Shanghai district code"),
    ],
)
def test_region_must_fit_level(level: str, region: str, message: str) -> None:
    text = doc("").replace("level: municipal", f"level: {level}").replace('"310000"', f'"{region}"')
    ((path, got),) = problems(text)
    assert path == "region" and got.startswith(message)


def test_missing_keys_are_reported_once() -> None:
    text = doc("").replace("level: municipal\n", "").replace('region: "310000"\n', "")
    assert problems(text) == [("", "missing key 'level'"), ("", "missing key 'region'")]


def test_unknown_level_skips_region_check() -> None:
    found = problems(doc("").replace("level: municipal", "level: city"))
    assert [path for path, _ in found] == ["level"]


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ("valid_from: 2026-03-01\nvalid_until: 2026-02-01\n", "valid_until",
         "2026-02-01 is before valid_from (2026-03-01)"),
        ("valid_from: 2026-03-01 10:00:00\n", "valid_from",
         "must be a date (YYYY-MM-DD) without a time"),
        ("valid_from: 20260301\n", "valid_from", "must be a date written YYYY-MM-DD"),
        ("valid_until: 'soon'\n", "valid_until", "must be a date written YYYY-MM-DD"),
        ("recommendations: [R1, R1, R11]\n", "recommendations[1]", "R1 is listed twice"),
        ("recommendations: [R11]\n", "recommendations[0]", "must be one of R1 … R10"),
        ("notes: plain\n", "notes", "must be a mapping"),
    ],
)  # fmt: skip
def test_top_level_problems(extra: str, path: str, message: str) -> None:
    found = problems(doc(extra))
    assert any(p == path and message in m for p, m in found), found


def test_null_dates_are_open_ended() -> None:
    programme = parse_programme(doc("valid_from: null\nvalid_until: null\n"), "demo.yaml")
    assert programme.valid_from is None and programme.valid_until is None
    assert programme.window_status(date(2000, 1, 1)) == "open"


@pytest.mark.parametrize(
    ("benefit", "path", "message"),
    [
        ("benefit: {rate: 0.1}", "benefit", "a rate needs a basis"),
        ("benefit: {basis: rd_spend_cny}", "benefit.basis", "a basis is only used with a rate"),
        ("benefit: {rate: 0.1, basis: niche_years}", "benefit.basis", "must name a money fact"),
        ("benefit: {rate: 0.1, basis: 3}", "benefit.basis", "must name a money fact"),
        (
            "benefit: {rate: 0.1, basis: rd_spend_cny, years: 0}",
            "benefit.years",
            "whole number ≥ 1",
        ),
        ("benefit: {rate: 0.1, basis: rd_spend_cny, years: true}", "benefit.years", "whole number"),
        ("benefit: {rate: unknown, years: 2}", "benefit.years", "years multiplies a numeric rate"),
        (
            "benefit: {amount_cny: 5, cap_cny: 9}",
            "benefit.amount_cny",
            "a fixed amount stands alone",
        ),
        ("benefit: {amount_cny: unknown}", "benefit.amount_cny", "must be a number, got a string"),
        ("benefit: {cap_cny: lots}", "benefit.cap_cny", "must be a number or unknown"),
        ("benefit: {cap_cny: [1]}", "benefit.cap_cny", "must be a number, got a list"),
        ("benefit: {note: {zh: 只有中文}}", "benefit.note", "missing key 'en'"),
        ("benefit: {colour: red}", "benefit.colour", "unknown key 'colour'"),
        ("benefit: 5", "benefit", "must be a mapping"),
    ],
)
def test_benefit_problems(benefit: str, path: str, message: str) -> None:
    found = problems(doc("", benefit=benefit))
    assert any(p == path and message in m for p, m in found), found


def test_benefit_unknowns() -> None:
    programme = parse_programme(
        doc("", benefit="benefit: {rate: unknown, cap_cny: unknown}"), "demo.yaml"
    )
    assert programme.benefit.rate == UNKNOWN and programme.benefit.cap_cny == UNKNOWN
    years = parse_programme(
        doc("", benefit="benefit: {rate: 0.5, basis: loan_interest_annual_cny, years: 3}"), "d"
    )
    assert years.benefit.years == 3


@pytest.mark.parametrize(
    ("source", "path", "message"),
    [
        ("source: {document: d, issued_by: i, year: 1800}", "source.year", "must be a year"),
        ("source: {document: d, issued_by: i, year: '2024'}", "source.year", "must be a year"),
        ("source: {document: d, issued_by: i, year: true}", "source.year", "must be a year"),
        ("source: {document: d, issued_by: i, year: 2024, url: ftp://x}", "source.url",
         "must start with https://"),
        ("source: {document: '', issued_by: i, year: 2024}", "source.document",
         "must not be empty"),
        ("source: {issued_by: i, year: 2024}", "source", "missing key 'document'"),
        ("source: nope", "source", "must be a mapping"),
    ],
)  # fmt: skip
def test_source_problems(source: str, path: str, message: str) -> None:
    text = doc("").replace("source: {document: 演示, issued_by: 演示, year: 2026}", source)
    found = problems(text)
    assert any(p == path and message in m for p, m in found), found


def eligibility(condition: str) -> str:
    return doc(f"eligibility: {condition}\n")


def leaf(path: str, op: str, value: str) -> str:
    return f"{{field: {path}, op: {op}, value: {value}}}"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (leaf("profile.size_class", "eq", "huge"),
         "'huge' is not a valid value of profile.size_class"),
        (leaf("profile.district_code", "eq", "'320100'"),
         "not a valid value of profile.district_code"),
        (leaf("profile.industry_code", "in", "['36', '99']"),
         "'99' is not a valid value"),
        (leaf("profile.zjtx_status", "eq", "giant"),
         "not a valid value of profile.zjtx_status"),
        (leaf("profile.employees", "eq", "many"),
         "profile.employees is a number"),
        (leaf("profile.rd_spend_cny", "in", "[1, x]"),
         "profile.rd_spend_cny is a number"),
        (leaf("profile.size_class", "gte", "3"),
         "gte needs a number; profile.size_class"),
        (leaf("profile.size_class", "contains", "small"),
         "contains needs a list"),
        (leaf("profile.listed", "eq", "'no'"),
         "profile.listed is true or false"),
        (leaf("profile.above_designated_size", "eq", "1"),
         "is true or false"),
        (leaf("result.rung", "gte", "5"),
         "result.rung is a level"),
        (leaf("result.overall", "eq", "high"),
         "result.overall is a level"),
        (leaf("result.rung", "contains", "3"),
         "contains needs a list; result values"),
        (leaf("result.stages.quality", "gte", "3"),
         "unknown result path"),
        (leaf("answers.Bad-Id", "eq", "x"),
         "'Bad-Id' is not a valid question id"),
        (leaf("weather.today", "eq", "x"),
         "unknown path"),
        ("{all: []}", "must not be empty"),
    ],
)  # fmt: skip
def test_condition_problems(condition: str, message: str) -> None:
    found = problems(eligibility(condition))
    assert any(p.startswith("eligibility") and message in m for p, m in found), found


def test_condition_values_that_fit() -> None:
    ok = [
        "{field: profile.size_class, op: in, value: [micro, small]}",
        "{field: profile.listed, op: ne, value: true}",
        "{field: profile.industry_code, op: eq, value: '36'}",
        "{field: result.stages.automation, op: in, value: [3.25, 3.5]}",
        "{field: answers.any_question, op: contains, value: x}",
        "{field: profile.diagnosis_scope, op: eq, value: factory}",
    ]
    for condition in ok:
        programme = parse_programme(eligibility(condition), "demo.yaml")
        assert isinstance(programme.eligibility, Leaf)


def test_questions_and_stages_restrict_paths() -> None:
    text = eligibility("{field: answers.q1, op: eq, value: x}")
    assert parse_programme(text, "d", questions={"q1"}).eligibility is not None
    found = problems(text, questions={"q2"})
    assert found == [("eligibility.field", "no question 'q1'")]
    staged = eligibility("{field: result.stages.quality, op: gte, value: 3}")
    assert parse_programme(staged, "d", stages={"quality"}).eligibility is not None
