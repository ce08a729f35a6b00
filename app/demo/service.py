"""Demo data for a development checkout (``zhizao seed-demo``, run by ``make run``).

Idempotent: every step looks for what it would create and leaves existing rows alone, so running
it again changes nothing. Development only; the CLI refuses in any other environment. Later
capabilities add their demo data as further steps of :func:`seed_demo`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.enterprises import service as enterprise_service
from app.enterprises.schemas import EnterpriseCreate
from app.kit.principal import Principal
from app.models import Enterprise, User

ADMIN_EMAIL = "admin@demo.zhizao.local"
ADMIN_PASSWORD = "zhizao-admin-demo"
ENTERPRISE_EMAIL = "demo@demo.zhizao.local"
ENTERPRISE_PASSWORD = "zhizao-enterprise-demo"
OFFICIAL_EMAIL = "official@demo.zhizao.local"
OFFICIAL_PASSWORD = "zhizao-official-demo"
#: The demo official's district: the demo firm's (浦东新区).
OFFICIAL_DISTRICT = "310115"
#: A structurally valid, fabricated credit code (reference/domain.md §4.4).
DEMO_CREDIT_CODE = "91310115MA1FL3K293"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    email: str
    password: str
    created: bool


@dataclass(slots=True)
class DemoSeed:
    logins: list[DemoLogin] = field(default_factory=list)
    #: One line per thing created in this run; empty when everything was already there.
    created: list[str] = field(default_factory=list)


def seed_demo(session: Session, principal: Principal) -> DemoSeed:
    """Create the demo accounts and firm if missing. The caller commits."""
    seed = DemoSeed()
    enterprise = _demo_enterprise(session, principal, seed)
    _demo_user(
        session,
        principal,
        seed,
        role="admin",
        email=ADMIN_EMAIL,
        password=ADMIN_PASSWORD,
        display_name="演示管理员",
    )
    _demo_user(
        session,
        principal,
        seed,
        role="enterprise",
        email=ENTERPRISE_EMAIL,
        password=ENTERPRISE_PASSWORD,
        display_name="演示企业用户",
        enterprise=enterprise,
    )
    _demo_user(
        session,
        principal,
        seed,
        role="official",
        email=OFFICIAL_EMAIL,
        password=OFFICIAL_PASSWORD,
        display_name="浦东新区演示官员",
        district_code=OFFICIAL_DISTRICT,
    )
    return seed


def _demo_enterprise(session: Session, principal: Principal, seed: DemoSeed) -> Enterprise:
    existing = enterprise_service.find(session, DEMO_CREDIT_CODE)
    if existing is not None:
        return existing
    data = EnterpriseCreate(
        credit_code=DEMO_CREDIT_CODE,
        name="上海示例精密机械有限公司（演示）",
        district_code="310115",
        industry_code="34",
        employees=120,
        annual_revenue_cny=Decimal(45_000_000),
    )
    enterprise = enterprise_service.add_enterprise(session, principal, data)
    enterprise.synthetic = True
    seed.created.append(f"enterprise {enterprise.name} ({DEMO_CREDIT_CODE})")
    return enterprise


def _demo_user(
    session: Session,
    principal: Principal,
    seed: DemoSeed,
    *,
    role: str,
    email: str,
    password: str,
    display_name: str,
    enterprise: Enterprise | None = None,
    district_code: str | None = None,
) -> User:
    user = accounts_service.find_user(session, email)
    created = user is None
    if user is None:
        user = accounts_service.create_user(
            session,
            principal,
            email=email,
            password=password,
            role=role,
            enterprise_id=enterprise.id if enterprise is not None else None,
            district_code=district_code,
            display_name=display_name,
        )
        seed.created.append(f"{role} user {email}")
    seed.logins.append(DemoLogin(role=role, email=email, password=password, created=created))
    return user
