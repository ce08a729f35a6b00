"""The principal's own firm: what every enterprise user's page reads."""

from __future__ import annotations

import uuid

import pytest

from app.kit.principal import Principal


def test_an_enterprise_user_s_own_firm_is_its_enterprise_id() -> None:
    firm = uuid.uuid4()
    principal = Principal(kind="user", id=uuid.uuid4(), role="enterprise", enterprise_id=firm)
    assert principal.own_enterprise_id == firm


def test_a_principal_without_a_firm_has_no_own_firm() -> None:
    official = Principal(kind="user", id=uuid.uuid4(), role="official", district_code="310115")
    with pytest.raises(AssertionError):
        _ = official.own_enterprise_id
