"""Identity and size rules for enterprises: the credit code check and the size class."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from app.kit.errors import InvalidValue

SizeClass = Literal["micro", "small", "medium", "large"]

_CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(_CREDIT_CHARSET)}
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def normalize_credit_code(raw: str) -> str:
    """Upper-case and drop spaces and hyphens, as people type codes off paper licences."""
    return "".join(ch for ch in raw.upper() if ch not in " -\t\u3000")


def credit_code_problem(code: str) -> InvalidValue | None:
    """Why a normalised code is not a valid GB 32100-2015 unified social credit code (the error
    a validator raises), or None.

    The region part (characters 3–8) is the registering authority's code at registration time;
    historic codes (e.g. 310108 闸北区) are valid there, so it is only checked to be digits.
    """
    if len(code) != 18:
        return InvalidValue(
            "not a valid unified social credit code: must have 18 characters, not %(length)s",
            length=len(code),
        )
    bad = sorted({c for c in code if c not in _CREDIT_VALUE})
    if bad:
        return InvalidValue(
            "not a valid unified social credit code: contains characters not used in credit "
            "codes: %(characters)s",
            characters="".join(bad),
        )
    if not code[2:8].isdigit():
        return InvalidValue(
            "not a valid unified social credit code: characters 3–8 must be a region code of "
            "6 digits"
        )
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    expected = _CREDIT_CHARSET[(31 - total % 31) % 31]
    if code[17] != expected:
        return InvalidValue(
            "not a valid unified social credit code: the check character does not match "
            "(probably a typo): please check the code"
        )
    return None


_SIZE_ORDER: tuple[SizeClass, ...] = ("large", "medium", "small", "micro")
_EMPLOYEE_FLOORS = (1000, 300, 20, 0)
_REVENUE_FLOORS_CNY = (Decimal(400_000_000), Decimal(20_000_000), Decimal(3_000_000), Decimal(0))
#: 规模以上工业企业: annual main-business revenue of 20 million CNY or more (since 2011).
ABOVE_DESIGNATED_SIZE_REVENUE_CNY = Decimal(20_000_000)


def industrial_size_class(employees: int, annual_revenue_cny: Decimal) -> SizeClass:
    """Size class of an industrial enterprise by 工信部联企业〔2011〕300号.

    Large, medium and small must meet both lower bounds (employees and revenue), otherwise the
    firm drops a tier; micro needs only one. So the class is the smaller of the two tiers.
    """

    def tier(value: Decimal | int, floors: tuple[Decimal | int, ...]) -> int:
        return next(i for i, floor in enumerate(floors) if value >= floor)

    return _SIZE_ORDER[
        max(tier(employees, _EMPLOYEE_FLOORS), tier(annual_revenue_cny, _REVENUE_FLOORS_CNY))
    ]


def is_above_designated_size(annual_revenue_cny: Decimal) -> bool:
    return annual_revenue_cny >= ABOVE_DESIGNATED_SIZE_REVENUE_CNY
