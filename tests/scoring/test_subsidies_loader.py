"""The subsidy loader (format 2): every problem reported with file, path inside and message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.conditions import All, Any, Leaf, Not
from scoring.subsidies import UNKNOWN, Param
from scoring.subsidy_loader import (
    SubsidyLoadError,
    load_programme,
    load_subsidies,
    parse_programme,
)
from tests.scoring.subsidy_programmes import DATED, programme_text

DATA = Path(__file__).resolve().parent / "data" / "subsidies"

SOURCE = "source: {issued_by: 演示, number: 演示〔2026〕1号, year: 2026}\n"


def problems(text: str, **kwargs: object) -> list[tuple[str, str]]:
    with pytest.raises(SubsidyLoadError) as info:
        parse_programme(text, "demo.yaml", **kwargs)  # type: ignore[arg-type]
    assert all(issue.file == "demo.yaml" for issue in info.value.issues)
    return [(issue.path, issue.message) for issue in info.value.issues]


def doc(
    extra: str = "", *, benefit: str = "benefit: {}", source: str = SOURCE, validity: str = DATED
) -> str:
    """A programme file; ``benefit`` and ``source`` are whole ``key: value`` lines."""
    return programme_text(
        extra,
        benefit=benefit.removeprefix("benefit: "),
        source=source.removeprefix("source: ").rstrip("\n"),
        validity=validity,
    )


def has(found: list[tuple[str, str]], path: str, message: str) -> bool:
    return any(p == path and message in m for p, m in found)


# --- files ------------------------------------------------------------------------------------


def test_good_fixtures_load() -> None:
    programmes = load_subsidies(DATA / "good")
    assert [p.id for p in programmes] == ["demo-answers-grant", "demo-fixed-award"]
    grant, award = programmes
    assert grant.valid_from == date(2026, 1, 1) and grant.valid_until == date(2026, 12, 31)
    assert grant.validity.status == "dated"
    assert grant.validity.last_confirmed == date(2026, 1, 5)
    assert grant.benefit.rate == Param(Decimal("0.5"), "secondary")
    assert grant.benefit.cap_cny is None
    assert grant.source.url == "https://example.org/demo"
    assert grant.source.document == "演示〔2026〕2号《演示文件》"
    assert grant.scope.size_classes == ("small", "medium")
    assert grant.scope.industries_excluded == ("16",) and grant.scope.min_age_years == 2
    assert isinstance(grant.eligibility, All)
    assert isinstance(grant.eligibility.conditions[0], Any)
    assert isinstance(grant.eligibility.conditions[1], Not)
    (item,) = grant.to_confirm
    assert item.id == "no_other_district_funds" and isinstance(item.unless, Leaf)
    assert grant.stacking is not None and grant.stacking.group == "demo-district-funds"
    assert grant.stacking.excludes == ("demo-fixed-award",)
    assert grant.funds.stages == ("cloud_adoption",) and grant.funds.questions == ("cloud_mode",)
    assert grant.recommendations == ("R6",)
    assert len(grant.content_hash) == 64
    assert award.benefit.amount_cny == Param(Decimal(200000), "verified")
    assert award.validity.status == "ongoing" and award.valid_until is None
    assert award.eligibility is None and award.stacking is None


def test_load_subsidies_accepts_files_and_a_single_path() -> None:
    one = load_subsidies(DATA / "good" / "demo-fixed-award.yaml")
    assert [p.id for p in one] == ["demo-fixed-award"]
    both = load_subsidies(
        [str(DATA / "good" / "demo-fixed-award.yaml"), DATA / "good" / "demo-answers-grant.yaml"]
    )
    assert [p.id for p in both] == ["demo-answers-grant", "demo-fixed-award"]


def test_stacking_references_must_be_loaded() -> None:
    with pytest.raises(SubsidyLoadError) as info:
        load_subsidies(DATA / "good" / "demo-answers-grant.yaml")
    (issue,) = info.value.issues
    assert issue.path == "stacking.excludes[0]"
    assert issue.message == "no programme 'demo-fixed-award' among the files loaded"


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
    found = [(issue.path, issue.message) for issue in info.value.issues]
    assert has(found, "colour", "unknown key 'colour'")
    assert has(found, "name", "missing key 'en'")
    assert has(found, "level", "must be one of national, municipal, district; got a string")
    assert has(found, "kind", "got a string ('cash')")
    assert has(found, "confidence", "got a string ('sure')")
    assert has(found, "region", 'quoted GB/T 2260 code such as "310117", got a number (310117)')
    assert has(found, "benefit.rate", "give the value with its own confidence")
    assert has(found, "benefit.cap_cny.confidence", "must be one of verified, secondary")
    assert has(found, "eligibility.field", "unknown profile field 'turnover'")
    assert has(found, "valid_from", "real calendar date")
    assert has(found, "source", "give the document's number (文号) or its exact title")


def test_unreadable_file() -> None:
    with pytest.raises(SubsidyLoadError) as info:
        load_programme(DATA / "missing.yaml")
    assert info.value.issues[0].message.startswith("cannot read")


def test_duplicate_keys_and_not_a_mapping() -> None:
    assert problems(doc("kind: award\n"))[0][1].startswith("duplicate key 'kind'")
    assert problems("- a list\n") == [("", "must be a mapping, got a list")]


def test_format_one_files_are_not_read() -> None:
    assert problems(doc().replace("format: 2\n", "")) == [("", "missing key 'format'")]
    found = problems(doc().replace("format: 2", "format: 1"))
    assert found == [
        ("format", "this loader reads format 2 (see docs/subsidies.md), got a number (1)")
    ]
    assert has(problems(doc().replace("format: 2", "format: true")), "format", "a boolean")


@pytest.mark.parametrize(
    ("level", "region", "message"),
    [
        ("national", "310000", 'a national programme\'s region is "100000" (the whole country)'),
        ("municipal", "310117", 'a municipal programme\'s region is "310000" (Shanghai)'),
        ("district", "310000", "a district programme's region is a Shanghai district code"),
    ],
)
def test_region_must_fit_level(level: str, region: str, message: str) -> None:
    text = doc().replace("level: municipal", f"level: {level}").replace('"310000"', f'"{region}"')
    ((path, got),) = problems(text)
    assert path == "region" and got.startswith(message)


def test_missing_keys_are_reported_once() -> None:
    text = doc().replace("level: municipal\n", "").replace('region: "310000"\n', "")
    assert problems(text) == [("", "missing key 'level'"), ("", "missing key 'region'")]


def test_unknown_level_skips_region_check() -> None:
    found = problems(doc().replace("level: municipal", "level: city"))
    assert [path for path, _ in found] == ["level"]


# --- validity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validity", "path", "message"),
    [
        ("valid_from: 2026-03-01\nvalid_until: 2026-02-01\nlast_confirmed: 2026-01-01\n",
         "valid_until", "2026-02-01 is before valid_from (2026-03-01)"),
        ("valid_until: 2026-03-01 10:00:00\nlast_confirmed: 2026-01-01\n", "valid_until",
         "must be a date (YYYY-MM-DD) without a time"),
        ("valid_until: 20260301\nlast_confirmed: 2026-01-01\n", "valid_until",
         "must be a real calendar date written YYYY-MM-DD"),
        ("valid_until: 2026-02-29\nlast_confirmed: 2026-01-01\n", "valid_until",
         "got a string ('2026-02-29')"),
        ("valid_until: null\nlast_confirmed: 2026-01-01\n", "valid_until",
         "leave the key out when unknown"),
        ("valid_from: 2026-01-01\nlast_confirmed: 2026-01-01\n", "",
         "say when the programme ends: valid_until, or status: ongoing"),
        ("valid_until: 2026-12-31\n", "", "missing key 'last_confirmed'"),
        ("status: ongoing\n", "", "missing key 'last_confirmed'"),
        ("status: ongoing\nvalid_until: 2026-12-31\nlast_confirmed: 2026-01-01\n",
         "valid_until", "a programme with status ongoing has no valid_until"),
        ("status: unconfirmed\nvalid_until: 2026-12-31\n", "valid_until",
         "a programme with status unconfirmed has no valid_until"),
        ("status: dated\nvalid_until: 2026-12-31\n", "status",
         "must be ongoing, annual or unconfirmed (leave it out for a dated programme)"),
        ("status: annual\n", "", "missing key 'last_confirmed'"),
        ("status: annual\nvalid_until: 2026-12-31\nlast_confirmed: 2026-01-01\n",
         "valid_until", "a programme with status annual has no valid_until"),
    ],
)  # fmt: skip
def test_validity_problems(validity: str, path: str, message: str) -> None:
    assert has(problems(doc(validity=validity)), path, message)


def test_validity_statuses() -> None:
    ongoing = parse_programme(doc(validity="status: ongoing\nlast_confirmed: 2025-05-01\n"), "d")
    assert ongoing.validity.status == "ongoing" and ongoing.valid_from is None
    unknown = parse_programme(doc(validity="status: unconfirmed\nvalid_from: 2020-01-01\n"), "d")
    assert unknown.validity.status == "unconfirmed"
    assert unknown.validity.last_confirmed is None
    assert unknown.valid_from == date(2020, 1, 1)
    annual = parse_programme(
        doc(validity="status: annual\nvalid_from: 2024-05-24\nlast_confirmed: 2025-09-10\n"), "d"
    )
    assert annual.validity.status == "annual" and annual.valid_until is None
    assert annual.validity.last_confirmed == date(2025, 9, 10)


# --- top level --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ("recommendations: [R1, R1, R11]\n", "recommendations[1]", "'R1' is listed twice"),
        ("recommendations: [R11]\n", "recommendations[0]", "must be one of R1 … R10"),
        ("notes: plain\n", "notes", "must be a mapping"),
    ],
)
def test_top_level_problems(extra: str, path: str, message: str) -> None:
    assert has(problems(doc(extra)), path, message)


# --- benefit ----------------------------------------------------------------------------------

R = "{value: 0.1, confidence: secondary}"


@pytest.mark.parametrize(
    ("benefit", "path", "message"),
    [
        (f"benefit: {{rate: {R}}}", "benefit", "a rate needs a basis"),
        ("benefit: {basis: rd_spend_cny}", "benefit.basis", "a basis is only used with a rate"),
        (f"benefit: {{rate: {R}, basis: niche_years}}", "benefit.basis", "must name a money fact"),
        (f"benefit: {{rate: {R}, basis: 3}}", "benefit.basis", "must name a money fact"),
        ("benefit: {rate: 0.1, basis: rd_spend_cny}", "benefit.rate",
         "give the value with its own confidence: {value: …, confidence: verified | secondary | "
         "unverified} (or unknown); got a number (0.1)"),
        ("benefit: {amount_cny: 5}", "benefit.amount_cny",
         "confidence: verified | secondary | unverified}; got a number (5)"),
        ("benefit: {rate: {value: 0.1}, basis: rd_spend_cny}", "benefit.rate",
         "missing key 'confidence'"),
        ("benefit: {rate: {value: 1.5, confidence: verified}, basis: rd_spend_cny}",
         "benefit.rate.value", "is a share between 0 and 1 (10% is 0.10), got 1.5"),
        ("benefit: {rate: {value: x, confidence: verified}, basis: rd_spend_cny}",
         "benefit.rate.value", "must be a number, got a string ('x')"),
        ("benefit: {rate: {value: [1], confidence: verified}, basis: rd_spend_cny}",
         "benefit.rate.value", "must be a number, got a list"),
        ("benefit: {rate: {value: 0.1, confidence: sure}, basis: rd_spend_cny}",
         "benefit.rate.confidence", "must be one of verified, secondary, unverified"),
        ("benefit: {cap_cny: {value: -3, confidence: verified}}", "benefit.cap_cny.value",
         "must be > 0, got -3"),
        (f"benefit: {{rate: {R}, basis: rd_spend_cny, "
         "years: {value: 1.5, confidence: verified}}",
         "benefit.years.value", "must be a whole number, got 1.5"),
        ("benefit: {rate: unknown, years: {value: 2, confidence: verified}}", "benefit.years",
         "years multiplies a numeric rate"),
        ("benefit: {amount_cny: {value: 5, confidence: verified}, cap_cny: unknown}",
         "benefit.amount_cny", "a fixed amount stands alone"),
        ("benefit: {amount_cny: unknown}", "benefit.amount_cny", "got a string ('unknown')"),
        ("benefit: {cap_cny: lots}", "benefit.cap_cny", "(or unknown); got a string ('lots')"),
        ("benefit: {note: {zh: 只有中文}}", "benefit.note", "missing key 'en'"),
        ("benefit: {colour: red}", "benefit.colour", "unknown key 'colour'"),
        ("benefit: {rate: {value: 0.1, confidence: verified, up_to: yes please}, "
         "basis: rd_spend_cny}", "benefit.rate.up_to", "must be true or false"),
        ("benefit: {rate: {value: 0.1, confidence: verified, upto: true}, basis: rd_spend_cny}",
         "benefit.rate.upto", "unknown key 'upto'"),
        ("benefit: {cap_cny: {value: 5, confidence: verified, up_to: true}}",
         "benefit.cap_cny.up_to",
         "only a rate can be a ceiling (up_to): a cap_cny is one already"),
        ("benefit: {amount_cny: {value: 5, confidence: verified, up_to: true}}",
         "benefit.amount_cny.up_to",
         "only a rate can be a ceiling (up_to): for an amount of at most X give cap_cny"),
        (f"benefit: {{rate: {R}, basis: loan_interest_annual_cny, "
         "years: {value: 3, confidence: verified, up_to: true}}",
         "benefit.years.up_to", "only a rate can be a ceiling (up_to)"),
        ("benefit: 5", "benefit", "must be a mapping"),
    ],
)  # fmt: skip
def test_benefit_problems(benefit: str, path: str, message: str) -> None:
    assert has(problems(doc(benefit=benefit)), path, message)


def test_benefit_parameters_and_unknowns() -> None:
    programme = parse_programme(doc(benefit="benefit: {rate: unknown, cap_cny: unknown}"), "d")
    assert programme.benefit.rate == UNKNOWN and programme.benefit.cap_cny == UNKNOWN
    years = parse_programme(
        doc(
            benefit="benefit: {rate: {value: 0.5, confidence: verified}, "
            "basis: loan_interest_annual_cny, years: {value: 3, confidence: secondary}}"
        ),
        "d",
    )
    assert years.benefit.years == Param(Decimal(3), "secondary")
    assert years.benefit.parameters() == {
        "rate": Param(Decimal("0.5"), "verified"),
        "years": Param(Decimal(3), "secondary"),
    }


def test_a_ceiling_rate_is_marked_up_to() -> None:
    """domain.md gives many rates as ceilings ("≤ 10 %", "以内"): ``up_to: true`` in the rate
    block says so, and an amount computed from it reads "up to"."""
    ceiling = parse_programme(
        doc(benefit="benefit: {rate: {value: 0.1, confidence: verified, up_to: true}, "
            "basis: rd_spend_cny}"),
        "d",
    )  # fmt: skip
    assert ceiling.benefit.rate == Param(Decimal("0.1"), "verified", up_to=True)
    exact = parse_programme(
        doc(benefit="benefit: {rate: {value: 0.1, confidence: verified, up_to: false}, "
            "basis: rd_spend_cny}"),
        "d",
    )  # fmt: skip
    assert exact.benefit.rate == Param(Decimal("0.1"), "verified")
    assert not exact.benefit.rate.up_to  # type: ignore[union-attr]


def test_a_tax_deduction_may_exceed_one_hundred_percent() -> None:
    text = doc(benefit="benefit: {rate: {value: 1.2, confidence: secondary}, basis: rd_spend_cny}")
    deduction = parse_programme(text.replace("kind: grant", "kind: tax_deduction"), "d")
    assert deduction.benefit.rate == Param(Decimal("1.2"), "secondary")
    too_much = text.replace("kind: grant", "kind: tax_deduction").replace("1.2", "6")
    assert problems(too_much) == [("benefit.rate.value", "must be at most 5, got 6")]


# --- source -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "path", "message"),
    [
        ("source: {issued_by: i, number: n, year: 1800}", "source.year", "must be a year"),
        ("source: {issued_by: i, number: n, year: '2024'}", "source.year", "must be a year"),
        ("source: {issued_by: i, number: n, year: true}", "source.year", "must be a year"),
        ("source: {issued_by: i, number: n, year: null}", "source.year",
         "the year is required unless the programme's status is unconfirmed"),
        ("source: {issued_by: i, number: n, year: 2024, url: ftp://x}", "source.url",
         "must start with https://"),
        ("source: {issued_by: i, title: '《标题》', year: 2024}", "source.title",
         "write the title without 《》"),
        ("source: {issued_by: '', number: n, year: 2024}", "source.issued_by",
         "must not be empty"),
        ("source: {issued_by: i, year: 2024}", "source",
         "give the document's number (文号) or its exact title, or both"),
        ("source: {issued_by: i, description: d, year: 2024}", "source.description",
         "a document known only by a description needs its official url"),
        ("source: {issued_by: i, number: n, description: d, year: 2024}", "source.description",
         "a document with a number or title needs none"),
        ("source: {number: n}", "source", "missing key 'issued_by'"),
        ("source: {issued_by: i, number: n, year: 2024, also: [{issued_by: j}]}",
         "source.also[0]", "missing key 'year'"),
        ("source: {issued_by: i, number: n, year: 2024, also: [{issued_by: j, number: m, "
         "year: 2024, also: []}]}", "source.also[0].also", "unknown key 'also'"),
        ("source: {issued_by: i, number: n, year: 2024, also: []}", "source.also",
         "must not be empty"),
        ("source: nope", "source", "must be a mapping"),
    ],
)  # fmt: skip
def test_source_problems(source: str, path: str, message: str) -> None:
    assert has(problems(doc(source=source + "\n")), path, message)


def test_sources_that_fit() -> None:
    described = (
        "source: {issued_by: i, description: 某政策, year: 2025, url: 'https://x.gov.cn/1'}\n"
    )
    assert parse_programme(doc(source=described), "d").source.document == "某政策"
    unconfirmed = "source: {issued_by: i, description: 某政策, year: null}\n"
    programme = parse_programme(doc(source=unconfirmed, validity="status: unconfirmed\n"), "d")
    assert programme.source.year is None and programme.source.url is None
    titled = parse_programme(doc(source="source: {issued_by: i, title: 标题, year: 2024}\n"), "d")
    assert titled.source.document == "标题"
    nested = parse_programme(
        doc(
            source="source: {issued_by: i, number: n, year: 2024, also: "
            "[{issued_by: j, description: 问答, year: null}]}\n"
        ),
        "d",
    )
    assert nested.source.also[0].document == "问答"
    assert nested.source.to_dict()["also"] == [  # type: ignore[comparison-overlap]
        {
            "document": "问答", "issued_by": "j", "title": None, "number": None,
            "description": "问答", "year": None, "url": None, "also": [],
        }
    ]  # fmt: skip


# --- scope, to_confirm, stacking, funds -----------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "path", "message"),
    [
        ("scope: {}", "scope", "must name at least one of size_classes"),
        ("scope: {size_classes: [huge]}", "scope.size_classes[0]",
         "must be micro, small, medium or large, got a string ('huge')"),
        ("scope: {size_classes: [small, small]}", "scope.size_classes[1]",
         "'small' is listed twice"),
        ("scope: {industries: [36]}", "scope.industries[0]",
         'must be a GB/T 4754 manufacturing division "13" … "43" (quoted), got a number (36)'),
        ("scope: {industries: ['36'], industries_excluded: ['36']}", "scope.industries_excluded",
         "names a division also in scope.industries"),
        ("scope: {districts: ['320100']}", "scope.districts[0]",
         "must be a Shanghai district code"),
        ("scope: {above_designated_size: 'yes'}", "scope.above_designated_size",
         "must be true or false"),
        ("scope: {listed: 1}", "scope.listed", "must be true or false"),
        ("scope: {min_age_years: -1}", "scope.min_age_years", "whole number of years ≥ 0"),
        ("scope: {max_age_years: true}", "scope.max_age_years", "whole number of years ≥ 0"),
        ("scope: {min_age_years: 5, max_age_years: 3}", "scope.max_age_years",
         "3 is below min_age_years (5)"),
        ("scope: {source: ''}", "scope.source", "must not be empty"),
        ("scope: {size_classes: small}", "scope.size_classes", "must be a list"),
        ("scope: {colour: red}", "scope.colour", "unknown key 'colour'"),
        ("scope: []", "scope", "must be a mapping"),
    ],
)  # fmt: skip
def test_scope_problems(scope: str, path: str, message: str) -> None:
    assert has(problems(doc(scope + "\n")), path, message)


def test_scope_that_fits() -> None:
    programme = parse_programme(
        doc(
            "scope: {size_classes: [micro], above_designated_size: false, industries: ['13'], "
            "districts: ['310117'], listed: false, max_age_years: 5, source: 第三条}\n"
        ),
        "d",
    )
    scope = programme.scope
    assert (scope.size_classes, scope.above_designated_size, scope.industries) == (
        ("micro",), False, ("13",),
    )  # fmt: skip
    assert (scope.districts, scope.listed, scope.max_age_years, scope.source) == (
        ("310117",), False, 5, "第三条",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("items", "path", "message"),
    [
        ("to_confirm: [{id: Bad, text: {zh: 中, en: e}}]", "to_confirm[0].id", "not a valid id"),
        ("to_confirm: [{id: in_force, text: {zh: 中, en: e}}]", "to_confirm[0].id",
         "'in_force' is reserved for the matcher's own notes"),
        ("to_confirm: [{id: application_window, text: {zh: 中, en: e}}]", "to_confirm[0].id",
         "'application_window' is reserved for the matcher's own notes"),
        ("to_confirm: [{id: a, text: {zh: 中, en: e}}, {id: a, text: {zh: 中, en: e}}]",
         "to_confirm[1].id", "'a' is used twice"),
        ("to_confirm: [{id: a}]", "to_confirm[0]", "missing key 'text'"),
        ("to_confirm: [{id: a, text: {zh: 中, en: e}, unless: {field: result.rung, op: gte, "
         "value: 3}}]", "to_confirm[0].unless.field",
         "an unless condition reads declared facts: use profile.<field>"),
        ("to_confirm: [{id: a, text: {zh: 中, en: e}, unless: {field: profile.listed, op: eq, "
         "value: 1}}]", "to_confirm[0].unless.value", "profile.listed is true or false"),
        ("to_confirm: [{id: a, text: {zh: 中, en: e}, unless: {field: profile.colour, op: eq, "
         "value: 1}}]", "to_confirm[0].unless.field", "unknown profile field 'colour'"),
        ("to_confirm: []", "to_confirm", "must not be empty"),
        ("to_confirm: [5]", "to_confirm[0]", "must be a mapping"),
    ],
)  # fmt: skip
def test_to_confirm_problems(items: str, path: str, message: str) -> None:
    assert has(problems(doc(items + "\n")), path, message)


@pytest.mark.parametrize(
    ("stacking", "path", "message"),
    [
        ("stacking: {rule: {zh: 中, en: e}, source: s}", "stacking",
         "name a group or an excludes list"),
        ("stacking: {group: g, source: s}", "stacking", "missing key 'rule'"),
        ("stacking: {group: g, rule: {zh: 中, en: e}}", "stacking", "missing key 'source'"),
        ("stacking: {group: G!, rule: {zh: 中, en: e}, source: s}", "stacking.group",
         "not a valid id"),
        ("stacking: {excludes: [demo], rule: {zh: 中, en: e}, source: s}", "stacking.excludes[0]",
         "a programme cannot exclude itself"),
        ("stacking: {excludes: [a, a], rule: {zh: 中, en: e}, source: s}", "stacking.excludes[1]",
         "'a' is listed twice"),
        ("stacking: {excludes: [3], rule: {zh: 中, en: e}, source: s}", "stacking.excludes[0]",
         "must be a programme id, got a number (3)"),
        ("stacking: {excludes: a, rule: {zh: 中, en: e}, source: s}", "stacking.excludes",
         "must be a list"),
        ("stacking: [a]", "stacking", "must be a mapping"),
    ],
)  # fmt: skip
def test_stacking_problems(stacking: str, path: str, message: str) -> None:
    assert has(problems(doc(stacking + "\n")), path, message)


@pytest.mark.parametrize(
    ("funds", "path", "message"),
    [
        ("funds: {}", "funds", "name the stages (and optionally questions)"),
        ("funds: {stages: [quality]}", "funds.stages[0]",
         "must be a stage id (digitization, automation, data_collection, cloud_adoption), "
         "got a string ('quality')"),
        ("funds: {questions: [Bad-Id]}", "funds.questions[0]", "no question a string ('Bad-Id')"),
        ("funds: {questions: [3]}", "funds.questions[0]", "no question a number (3)"),
        ("funds: {stages: automation}", "funds.stages", "must be a list"),
        ("funds: {questions: []}", "funds.questions", "must not be empty"),
        ("funds: [automation]", "funds", "must be a mapping"),
    ],
)  # fmt: skip
def test_funds_problems(funds: str, path: str, message: str) -> None:
    assert has(problems(doc(funds + "\n")), path, message)


def test_funds_against_questions_and_stages() -> None:
    text = doc("funds: {stages: [quality], questions: [q1]}\n")
    funded = parse_programme(text, "d", questions={"q1"}, stages={"quality"})
    assert funded.funds.stages == ("quality",) and funded.funds.questions == ("q1",)
    assert problems(text, questions={"q2"}, stages={"quality"}) == [
        ("funds.questions[0]", "no question a string ('q1')")
    ]
    twice = doc("funds: {stages: [automation, automation]}\n")
    assert problems(twice) == [("funds.stages[1]", "'automation' is listed twice")]


# --- conditions -------------------------------------------------------------------------------


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
        (leaf("result.overall", "eq", "3.5"),
         "a result.* condition states a level to reach: use gte or gt"),
        (leaf("result.rung", "in", "[3.5, 3.75]"),
         "use gte or gt"),
        (leaf("result.rung", "contains", "3"),
         "use gte or gt"),
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
        "{field: result.stages.automation, op: gt, value: 3.25}",
        "{field: answers.any_question, op: contains, value: x}",
        "{field: profile.diagnosis_scope, op: eq, value: factory}",
        "{field: profile.founding_year, op: lte, value: 2020}",
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
