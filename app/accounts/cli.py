"""``zhizao create-user``: an account of any role, its password asked for (hidden, twice)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError

from app.accounts import service
from app.accounts.schemas import MIN_PASSWORD_LENGTH, UserCreate
from app.enterprises import service as enterprise_service
from app.kit.cli import cli_session, fail, load_settings
from app.kit.errors import AppError
from app.kit.principal import CLI
from app.kit.reference import DISTRICTS

cli = typer.Typer()


class Role(StrEnum):
    enterprise = "enterprise"
    official = "official"
    admin = "admin"


@cli.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="Login e-mail address.")],
    role: Annotated[Role, typer.Option(help="What the user may see (design §7).")],
    enterprise_id: Annotated[
        str | None,
        typer.Option(help="Role enterprise: the enterprise's id or its credit code."),
    ] = None,
    district_code: Annotated[
        str | None,
        typer.Option(help="Role official: the district (e.g. 310115); omit for city-wide."),
    ] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the interface.")] = "",
) -> None:
    """Create a user; the password is asked for (hidden, twice)."""
    if role is Role.enterprise and enterprise_id is None:
        raise fail("--enterprise-id is required for role enterprise.", 2)
    if role is not Role.enterprise and enterprise_id is not None:
        raise fail("--enterprise-id applies to role enterprise only.", 2)
    if role is not Role.official and district_code is not None:
        raise fail("--district-code applies to role official only.", 2)
    if district_code is not None and district_code not in DISTRICTS:
        raise fail(f"--district-code {district_code} is not one of Shanghai's 16 districts.", 2)

    settings = load_settings()
    password = typer.prompt(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        hide_input=True,
        confirmation_prompt=True,
    )
    try:
        checked = UserCreate(email=email, password=password, display_name=display_name)
    except ValidationError as exc:
        lines = [f"  {e['loc'][-1]}: {e['msg']}" for e in exc.errors()]
        raise fail("Not created:\n" + "\n".join(lines), 2) from None

    with cli_session(settings) as session:
        enterprise_uuid: uuid.UUID | None = None
        if enterprise_id is not None:
            enterprise = enterprise_service.find(session, enterprise_id)
            if enterprise is None:
                raise fail(f"No enterprise with id or credit code {enterprise_id}.", 2)
            enterprise_uuid = enterprise.id
        try:
            user = service.create_user(
                session,
                CLI,
                email=checked.email,
                password=checked.password,
                role=role.value,
                enterprise_id=enterprise_uuid,
                district_code=district_code,
                display_name=checked.display_name,
            )
        except AppError as exc:
            raise fail(f"Not created: {exc.detail}") from None
        session.commit()
        typer.echo(f"Created {user.role} user {user.email} (id {user.id}).")
