"""Routers included flat, and the request's database session returned to the pool."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.kit.errors import problem_responses
from app.kit.routing import CommittingRoute, domain_router, include_flat


async def _counted() -> None:
    """A router-level dependency (the API router's rate limit stands for it)."""


def _domain() -> APIRouter:
    router = domain_router(tags=["things"], responses=problem_responses(409))

    @router.get("/things/{thing_id}", operation_id="things_get", summary="A thing")
    def get_thing(thing_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(thing_id)}

    @router.put("/things/{thing_id}", operation_id="things_put", status_code=202)
    def put_thing(thing_id: uuid.UUID) -> None:
        """Replace a thing."""

    return router


def _api(include: str) -> FastAPI:
    app = FastAPI(responses=problem_responses(400))
    api = APIRouter(
        prefix="/api/v1",
        route_class=CommittingRoute,
        responses=problem_responses(404),
        dependencies=[Depends(_counted)],
    )
    other = domain_router(tags=["others"])

    @other.get("/others", operation_id="others_list", deprecated=True)
    def list_others() -> list[str]:
        return []

    for router in (_domain(), other):
        if include == "flat":
            include_flat(api, router)
        else:
            api.include_router(router)
    if include == "flat":
        include_flat(app.router, api)
    else:
        app.include_router(api)
    return app


def test_flat_inclusion_documents_and_answers_as_nested_inclusion() -> None:
    nested, flat = _api("nested"), _api("flat")
    assert json.dumps(flat.openapi()) == json.dumps(nested.openapi())
    # The routes sit on the app's own router: one list, matched once per request.
    assert all(isinstance(r, APIRoute) for r in flat.router.routes[-3:])
    assert all(isinstance(r, CommittingRoute) for r in flat.router.routes[-3:])
    thing = uuid.uuid4()
    for app in (nested, flat):
        client = TestClient(app)
        assert client.get(f"/api/v1/things/{thing}").json() == {"id": str(thing)}
        assert client.put(f"/api/v1/things/{thing}").status_code == 202
        assert client.post(f"/api/v1/things/{thing}").status_code == 405
        assert client.get("/api/v1/things/not-a-uuid").status_code == 422
        assert client.get("/api/v1/nothing").status_code == 404


def test_flat_inclusion_refuses_what_is_not_an_api_route() -> None:
    router = APIRouter()
    router.include_router(_domain())
    with pytest.raises(TypeError):
        include_flat(APIRouter(), router)


def test_the_session_of_a_refused_request_goes_back_to_the_pool(
    app: FastAPI, client: TestClient
) -> None:
    """A request that read (the key check) and then failed leaves its transaction open; the
    request middleware rolls it back and returns the connection (``kit.db.get_session``)."""
    pool = app.state.database.engine.pool
    before = pool.checkedout()
    for _ in range(3):
        response = client.get(
            f"/api/v1/assessments/{uuid.uuid4()}/result",
            headers={"Authorization": "Bearer zk_test_nokey_" + "x" * 32},
        )
        assert response.status_code == 401
    assert pool.checkedout() == before
