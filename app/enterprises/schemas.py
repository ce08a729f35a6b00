from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    JsonValue,
    WithJsonSchema,
    field_validator,
)

from app.enterprises.classification import credit_code_problem, normalize_credit_code
from app.kit.clock import SHANGHAI, utcnow
from app.kit.errors import FieldError, InvalidValue
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.schemas import NOT_BOOL, JsonDecimal, RequestModel, ResponseModel, Text, in_utc
from app.kit.web.forms import typed_number
from scoring.facts import FACTS, FACTS_BY_NAME, MAX_MONEY_CNY, FactDef

#: Upper bounds that catch unit mistakes (a figure 1000× too large), not real firms.
MAX_EMPLOYEES = 2_000_000
MAX_REVENUE_CNY = int(MAX_MONEY_CNY)  # the money facts' bound too


#: A revenue sent as a JSON string: plain digits and at most two decimals ("45000000.50"),
#: the one spelling the OpenAPI document admits besides a JSON number.
_REVENUE_TEXT = re.compile(r"[0-9]{1,14}(\.[0-9]{1,2})?")


def _revenue_text(value: Any) -> Any:
    if isinstance(value, str) and not _REVENUE_TEXT.fullmatch(value):
        raise InvalidValue('must be a number of yuan with at most two decimals, e.g. "45000000.50"')
    return value


_REVENUE_TEXT_BOUNDED = r"^([0-9]{1,13}(\.[0-9]{1,2})?|10000000000000(\.0{1,2})?)$"

#: Annual revenue in yuan: a JSON number or a decimal string, 0 to 10^13, cents at most. The
#: document states exactly that (pydantic's own schema for a decimal admits any string).
RevenueCny = Annotated[
    JsonDecimal,
    BeforeValidator(_revenue_text),
    Field(ge=0, le=MAX_REVENUE_CNY, max_digits=16, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_REVENUE_CNY, "multipleOf": 0.01},
                # The string form within the same bound: up to 10^13 with at most two decimals.
                {"type": "string", "pattern": _REVENUE_TEXT_BOUNDED, "maxLength": 17},
            ],
            "examples": [45_000_000],
        },
        mode="validation",
    ),
]


#: Multipliers of the units a revenue may be typed in, into units of 10,000 yuan (万元).
_WAN_UNITS = (
    ("万元", Decimal(1)),
    ("万", Decimal(1)),
    ("亿元", Decimal(10_000)),
    ("亿", Decimal(10_000)),
)


def cny_from_wan(typed: str) -> str:
    """A revenue typed in 万元 on a form ("4500", "4,500.5", "3200万", "3200万元", "0.45亿") as a
    CNY amount for ``annual_revenue_cny``. Text that is not such a number comes back as typed,
    so that the validator names the field."""
    text = typed.replace(" ", "").replace("\u3000", "")
    factor = Decimal(1)
    for suffix, multiplier in _WAN_UNITS:
        if text.endswith(suffix):
            text, factor = text[: -len(suffix)], multiplier
            break
    try:
        wan = typed_number(text)
        if wan is None:
            return typed
        return str((wan * factor * 10_000).quantize(Decimal("0.01")))
    except ArithmeticError:  # not a number, or beyond the arithmetic (InvalidOperation,
        # Overflow: "1e999999999" 万元 once answered 500); the validator names the field
        return typed


def wan_from_cny(amount: Decimal) -> str:
    """The revenue as the form shows it, in 万元 without trailing zeros."""
    wan = (amount / 10_000).normalize()
    return f"{wan:f}"


#: The document's statement of a credit code: its check character (GB 32100-2015) is the
#: custom ``format`` (docs/integrators.md, "Formats"); validation is ``credit_code_problem``.
CREDIT_CODE_FORMAT = "gb32100-credit-code"
#: ``district_code`` in the document: one of these (``known_district`` checks it).
DISTRICT_SCHEMA: dict[str, Any] = {"enum": sorted(DISTRICTS)}
#: ``industry_code`` in the document: a division 13–43, optionally with its section letter C
#: in either case (``manufacturing_division`` checks it).
INDUSTRY_SCHEMA: dict[str, Any] = {"pattern": "^[Cc]?(" + "|".join(sorted(INDUSTRIES)) + ")$"}
Employees = Annotated[int, Field(ge=0, le=MAX_EMPLOYEES, examples=[120]), NOT_BOOL]


def valid_credit_code(value: str) -> str:
    """The code normalised (``normalize_credit_code``), if it is a valid unified social credit
    code: every form and body that names a firm by its code checks it so, so that a typo is said
    to be one (and not, say, an unregistered firm)."""
    code = normalize_credit_code(value)
    problem = credit_code_problem(code)
    if problem is not None:
        raise problem
    return code


def known_district(value: str) -> str:
    if value not in DISTRICTS:
        raise InvalidValue("must be one of Shanghai's 16 district codes (e.g. 310115)")
    return value


def manufacturing_division(value: str) -> str:
    value = value.upper().removeprefix("C")
    if value not in INDUSTRIES:
        raise InvalidValue("must be a GB/T 4754 manufacturing division from 13 to 43")
    return value


class EnterpriseCreate(RequestModel):
    credit_code: str = Field(
        max_length=40,
        description="统一社会信用代码 (GB 32100-2015), 18 characters; case and spaces are ignored.",
        examples=["91310115MA1FL3K293"],
        json_schema_extra={"format": CREDIT_CODE_FORMAT},
    )
    name: Annotated[
        Text, Field(min_length=2, max_length=200, examples=["上海示例精密机械有限公司"])
    ]
    district_code: str = Field(
        max_length=6,
        description="Shanghai district, GB/T 2260 code.",
        examples=["310115"],
        json_schema_extra=DISTRICT_SCHEMA,
    )
    industry_code: str = Field(
        max_length=3,
        description="GB/T 4754-2017 manufacturing division (13–43).",
        examples=["36"],
        json_schema_extra=INDUSTRY_SCHEMA,
    )
    employees: Employees
    annual_revenue_cny: RevenueCny

    _credit_code = field_validator("credit_code")(valid_credit_code)
    _district = field_validator("district_code")(known_district)
    _industry = field_validator("industry_code")(manufacturing_division)


class EnterpriseRegistration(EnterpriseCreate):
    """An integrator's registration of a client firm, with the firm's consent."""

    consent: ConsentEvidence | None = Field(
        default=None,
        description="Required when an integrator registers a firm: who at the firm consented, "
        "when and how.",
    )


#: How far ahead of the service's clock a consent time may be: the integrator's clock may run
#: a little fast, a consent cannot be given in the future.
CONSENT_CLOCK_SKEW = timedelta(minutes=5)
#: The earliest consent time believed: 2000-01-01 in Shanghai. No integrator platform or
#: digital-maturity data sharing this consent is about is older; an earlier year is a typing
#: mistake (0001, 1926 for 2026) or a placeholder, not evidence.
EARLIEST_CONSENT = datetime(2000, 1, 1, tzinfo=SHANGHAI)


#: The document's name for a consent time (docs/integrators.md, "Formats"): an RFC 3339
#: date-time within the bounds below, which JSON Schema cannot state (one is "now").
CONSENT_TIME_FORMAT = "zhizao-consent-time"
#: Longer text is no RFC 3339 date-time ("2026-11-20T09:00:00.123456+08:00" is 32).
MAX_CONSENT_TIME_CHARS = 64
#: RFC 3339 ``date-time`` (section 5.6): date, "T", time with seconds, optional fraction, and
#: the offset "Z" or ±hh:mm (T and Z in either case, as the RFC allows). The offset may be left
#: out (then UTC: the documented leniency). Pydantic's own datetime parsing is wider: it took a
#: date alone, Unix seconds as a number or a string, a space for the T, "+0800"; none of those
#: is the format the document declares.
CONSENT_TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?$"
)
_CONSENT_TIME = re.compile(CONSENT_TIME_PATTERN)


def _consent_time_text(value: Any) -> Any:
    """Only RFC 3339 text reaches pydantic's datetime parsing (which checks the values)."""
    if not isinstance(value, str):
        raise InvalidValue('must be an RFC 3339 date-time string, e.g. "2026-11-20T09:00:00+08:00"')
    if len(value) > MAX_CONSENT_TIME_CHARS:
        raise InvalidValue(
            "must be an RFC 3339 date-time of at most %(n)s characters", n=MAX_CONSENT_TIME_CHARS
        )
    if not _CONSENT_TIME.fullmatch(value):
        raise InvalidValue(
            "must be an RFC 3339 date-time (date, T, time with seconds, offset), e.g. "
            '"2026-11-20T09:00:00+08:00" or "2026-11-20T01:00:00Z"'
        )
    return value


def _plausible_consent_time(value: datetime) -> datetime:
    """``value`` unchanged (the evidence as sent) if it is a moment consent can have been given
    at: not before :data:`EARLIEST_CONSENT`, not after now + :data:`CONSENT_CLOCK_SKEW`. Without
    an offset it is UTC."""
    try:
        moment = in_utc(value)
    except ValueError:  # before year 1 in UTC (0001-01-01T00:00+14:00)
        moment = datetime.min.replace(tzinfo=UTC)
    if moment < EARLIEST_CONSENT:
        raise InvalidValue("must not be before 2000-01-01 (Shanghai time): check the year")
    if moment > utcnow() + CONSENT_CLOCK_SKEW:
        raise InvalidValue("must not be in the future (at most 5 minutes ahead, for clock skew)")
    return value


class ConsentEvidence(RequestModel):
    given_by: Annotated[Text, Field(min_length=2, max_length=200, examples=["张经理 (总经理)"])]
    given_at: Annotated[
        datetime,
        BeforeValidator(_consent_time_text),
        AfterValidator(_plausible_consent_time),
        WithJsonSchema(
            {
                "type": "string",
                "format": CONSENT_TIME_FORMAT,
                "pattern": CONSENT_TIME_PATTERN,
                "maxLength": MAX_CONSENT_TIME_CHARS,
            }
        ),
    ] = Field(
        description="When the firm consented: an RFC 3339 date-time (without an offset, UTC). "
        "Not in the future (up to 5 minutes ahead is allowed, for clock skew) and not before "
        "2000-01-01 (Shanghai time): an earlier year is a typing mistake, not evidence.",
        examples=["2026-11-20T09:00:00+08:00"],
    )
    method: Literal["signed_form", "email", "contract", "in_person"]
    reference: Annotated[Text, Field(max_length=200)] = ""


class EnterpriseRead(ResponseModel):
    id: uuid.UUID
    credit_code: str
    name: str
    district_code: str
    industry_code: str
    employees: int
    annual_revenue_cny: JsonDecimal
    size_class: Literal["micro", "small", "medium", "large"]
    above_designated_size: bool
    verified: bool
    verified_method: str | None
    verified_at: datetime | None
    attested_at: datetime | None
    synthetic: bool
    facts: dict[str, Any]
    created_at: datetime


EnterpriseRegistration.model_rebuild()


def _fact_schema(fact: FactDef) -> dict[str, Any]:
    """What ``scoring.facts.validate_facts`` accepts for one fact; null (undeclare) always."""
    if fact.derived:
        return {"type": "null", "description": "Computed, not declared: only null."}
    if fact.type == "boolean":
        value: dict[str, Any] = {"type": "boolean"}
    elif fact.type == "choice":
        value = {"type": "string", "enum": [choice.id for choice in fact.choices]}
    else:
        value = {"type": "integer" if fact.type == "integer" else "number"}
        if fact.min is not None:
            value["minimum"] = float(fact.min)
        if fact.max is not None:
            value["maximum"] = float(fact.max)
        if fact.type == "money":
            value["multipleOf"] = float(FEN)
    return {"anyOf": [value, {"type": "null"}]}


#: Money is yuan and fen: a money fact has at most two decimals, as ``annual_revenue_cny``.
FEN = Decimal("0.01")
#: The code of a money fact's :class:`~app.kit.errors.FieldError` for fractions of a fen.
FRACTION_OF_A_FEN = "fraction_of_a_fen"


def fen_problems(clean: Mapping[str, object]) -> list[FieldError]:
    """The money facts of ``clean`` (``scoring.facts.validate_facts``'s valid facts, so within
    their bounds) given in fractions of a fen (1e-300, 0.001), each as its field's error."""
    problems: list[FieldError] = []
    for name, value in clean.items():
        fact = FACTS_BY_NAME.get(name)
        if fact is None or fact.type != "money" or not isinstance(value, Decimal):
            continue
        if value != value.quantize(FEN):  # bounded (≤ MAX_MONEY_CNY): no overflow here
            problems.append(
                FieldError(
                    f"body.facts.{name}",
                    "must be yuan with at most two decimals (fen), got %(value)s",
                    FRACTION_OF_A_FEN,
                    {"value": value},
                )
            )
    return problems


#: The facts object as ``validate_facts`` checks it: the known names (GET /facts), each with its
#: type and bounds. Validation stays the service's (one message per bad fact).
FACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {fact.name: _fact_schema(fact) for fact in FACTS},
    "additionalProperties": False,
}


class FactsUpdate(RequestModel):
    facts: Annotated[dict[str, JsonValue], WithJsonSchema(FACTS_SCHEMA, mode="validation")] = Field(
        description="Fact name → value; null removes a declared fact. See GET /facts for names, "
        "types, units and bounds.",
        examples=[{"planned_investment_cny": 30_000_000, "zjtx_status": "municipal"}],
    )


class ProfileUpdate(RequestModel):
    """The firm's registered facts, edited by its owner (the credit code never changes)."""

    name: Annotated[Text, Field(min_length=2, max_length=200)]
    district_code: str = Field(max_length=6, json_schema_extra=DISTRICT_SCHEMA)
    industry_code: str = Field(max_length=3, json_schema_extra=INDUSTRY_SCHEMA)
    employees: Employees
    annual_revenue_cny: RevenueCny

    _district = field_validator("district_code")(known_district)
    _industry = field_validator("industry_code")(manufacturing_division)
