"""Problems (RFC 9457): one problem type, one title, whoever raises it; their texts in the
request's language, their machine-readable parts the same in every language."""

from __future__ import annotations

import re
import sqlite3
from enum import StrEnum
from typing import Annotated, Any, Literal

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from psycopg import errors as pg_errors
from pydantic import BaseModel, Field, HttpUrl, ValidationError
from pydantic_core._pydantic_core import list_all_errors
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.schemas import LoginRequest
from app.kit.errors import (
    PROBLEM_HANDLERS,
    PYDANTIC_MESSAGES,
    Conflict,
    Forbidden,
    InvalidInput,
    status_title,
)
from app.kit.guards import InsufficientScope
from app.kit.i18n import tr
from app.kit.settings import Settings
from scoring import Questionnaire
from tests.factories import create_api_key


class Body(BaseModel):
    count: int


class Profile(BaseModel):
    name: Annotated[str, Field(min_length=2)]
    employees: Annotated[int, Field(ge=0)]
    website: HttpUrl  # url_parsing: a code the service has no message of its own for


class Level(StrEnum):
    low = "low"
    middle = "middle"
    high = "high"


class Choices(BaseModel):
    """Fields whose values are listed: pydantic says "Input should be 'a', 'b' or 'c'"."""

    kind: Literal["grant", "voucher", "award"]
    level: Level
    scope: Literal["only"]


#: The titles and details asserted below are the English ones.
ENGLISH = {"Accept-Language": "en"}


def _app() -> FastAPI:
    app = FastAPI()
    for exception, handler in PROBLEM_HANDLERS:
        app.add_exception_handler(exception, handler)

    @app.post("/validated")
    def validated(body: Body) -> None:
        """FastAPI refuses a bad body itself (``RequestValidationError``)."""

    @app.post("/checked")
    def checked() -> None:
        raise InvalidInput("The service's own check refused it.")

    @app.post("/too-large")
    def too_large() -> None:
        raise HTTPException(413)

    @app.get("/forbidden")
    def forbidden() -> None:
        raise Forbidden("Not for you.")

    @app.get("/scoped")
    def scoped() -> None:
        raise InsufficientScope("The key lacks a scope.")

    @app.post("/raced")
    def raced() -> None:
        """A unique rule the database enforced after the service's own check had passed."""
        raise IntegrityError("INSERT …", {}, Exception("duplicate key value"))

    @app.post("/raced-a-deletion/{engine}")
    def raced_a_deletion(engine: str) -> None:
        """A row referring to one another request deleted after this one's check."""
        raise IntegrityError("INSERT …", {}, _foreign_key_violation(engine))

    @app.post("/updated-a-deleted-row")
    def updated_a_deleted_row() -> None:
        raise StaleDataError("UPDATE statement on table 'enterprise' expected to update 1 row(s)")

    @app.post("/profile")
    def profile(body: Profile) -> None:
        """FastAPI refuses a bad body itself, with pydantic's codes and their context."""

    @app.post("/choices")
    def choices(body: Choices) -> None:
        """FastAPI refuses a value that is none of a Literal's or an Enum's."""

    @app.get("/unfilled")
    def unfilled() -> None:
        raise Conflict("No catalog entry, and %(nothing)s given for its placeholder.")

    return app


def test_invalid_input_has_rfc_9110s_title_whoever_refuses_it() -> None:
    client = TestClient(_app(), headers=ENGLISH)
    by_fastapi = client.post("/validated", json={"count": "many"})
    by_service = client.post("/checked")
    assert by_fastapi.status_code == by_service.status_code == 422
    problems = [by_fastapi.json(), by_service.json()]
    assert {p["type"] for p in problems} == {"https://zhizao.dev/problems/invalid-input"}
    assert {p["title"] for p in problems} == {"Unprocessable Content"}


def test_a_starlette_413_is_the_same_problem_as_the_body_limits() -> None:
    problem = TestClient(_app(), headers=ENGLISH).post("/too-large").json()
    assert problem["type"] == "https://zhizao.dev/problems/content-too-large"
    assert problem["title"] == "Content Too Large"


def test_a_missing_scope_is_a_problem_type_of_its_own() -> None:
    client = TestClient(_app(), headers=ENGLISH)
    generic, scope = client.get("/forbidden").json(), client.get("/scoped").json()
    assert (generic["type"], generic["title"]) == (
        "https://zhizao.dev/problems/forbidden",
        "Forbidden",
    )
    assert (scope["status"], scope["type"], scope["title"]) == (
        403,
        "https://zhizao.dev/problems/insufficient-scope",
        "Insufficient scope",
    )


def test_status_title() -> None:
    assert [status_title(s) for s in (404, 413, 422, 599)] == [
        "Not Found",
        "Content Too Large",
        "Unprocessable Content",
        "Error",
    ]


def test_a_body_json_cannot_read_is_the_malformed_json_problem() -> None:
    """Invalid UTF-8, or an integer of more than 4,300 digits (Python's limit), was a bare 400
    "There was an error parsing the body" with no field named (found by fuzzing); a syntax error
    was already this problem."""
    client = TestClient(_app())
    for content in (b'{"count": 1', b'{"count": "\xff"}', b'{"count": ' + b"9" * 5000 + b"}"):
        response = client.post(
            "/validated", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, content[:20]
        problem = response.json()
        assert problem["type"].endswith("/malformed-json"), problem
        assert [e["field"] for e in problem["errors"]] == ["body"]


def test_a_write_another_request_made_first_is_a_409_not_a_500() -> None:
    """Two acceptances of different invitations with one e-mail at the same moment: the later
    insert broke the unique rule and answered 500."""
    response = TestClient(_app(), raise_server_exceptions=False, headers=ENGLISH).post("/raced")
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("/conflict") and "Retry" in problem["detail"]


def _foreign_key_violation(engine: str) -> Exception:
    """The driver's error of a foreign key whose row is gone, as each engine raises it."""
    if engine == "postgresql":
        return pg_errors.ForeignKeyViolation('Key (enterprise_id) is not present in "enterprise"')
    connection = sqlite3.connect(":memory:")
    connection.executescript(
        "PRAGMA foreign_keys=ON; CREATE TABLE firm (id INTEGER PRIMARY KEY);"
        "CREATE TABLE contact (firm_id INTEGER REFERENCES firm (id));"
    )
    try:
        connection.execute("INSERT INTO contact VALUES (1)")
    except sqlite3.IntegrityError as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("SQLite accepted a row referring to none")


@pytest.mark.parametrize("path", ["/raced-a-deletion/postgresql", "/raced-a-deletion/sqlite"])
def test_a_write_that_refers_to_a_row_deleted_meanwhile_is_a_404(path: str) -> None:
    """A firm deleted between a write's checks and its insert (its foreign key fails): the
    write was answered 409 "retry it", and a retry met the 404 it should have had."""
    response = TestClient(_app(), raise_server_exceptions=False, headers=ENGLISH).post(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/not-found") and "deleted" in problem["detail"]


def test_an_update_of_a_row_deleted_meanwhile_is_a_404_not_a_500() -> None:
    """The firm's facts saved while its owner deleted it: the UPDATE matched no row (the ORM's
    StaleDataError) and the request answered 500."""
    client = TestClient(_app(), raise_server_exceptions=False, headers=ENGLISH)
    response = client.post("/updated-a-deleted-row")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/not-found")


# --- the request's language ------------------------------------------------------------------


def _pydantics_messages(model: type[BaseModel], body: dict[str, Any]) -> dict[str, str]:
    """What pydantic itself says of ``body``'s errors (English), by the problem's field."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return {"body." + ".".join(map(str, e["loc"])): e["msg"] for e in exc.errors()}
    raise AssertionError("the body is valid")


def _by_field(problem: dict[str, Any], key: str) -> dict[str, str]:
    return {e["field"]: e[key] for e in problem["errors"]}


def english_words(text: str) -> list[str]:
    """The Latin-script words of a text, leaving out the values it quotes and the fields it
    names (``'grant'``, ``body.kind``): what a Chinese problem must not hold."""
    return re.findall(r"[A-Za-z]{2,}", re.sub(r"'[^']*'|\b(body|query|path)\.[\w.]+", "", text))


#: pydantic's context values that are English words rather than values (its list of choices
#: with "or", a parser's reason, a type's name, a plural "s"): no Chinese message names one.
ENGLISH_CONTEXT = {"expected", "error", "field_type", "class_name", "expected_plural"}


def _signing_in_with_a_number(client: TestClient, **request: Any) -> Any:
    """The integrators' report: a sign-in whose e-mail is a number and whose password is
    missing answered English whatever the request's language."""
    response = client.post("/api/v1/session", json={"email": 1}, **request)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    return response


class TestLanguage:
    def test_a_problem_is_said_in_chinese_when_the_request_names_no_language(
        self, client: TestClient
    ) -> None:
        response = _signing_in_with_a_number(client)
        problem = response.json()
        assert problem["title"] == "请求内容无法处理"
        assert problem["detail"] == "请求中有无效字段：body.email, body.password"
        assert _by_field(problem, "message") == {
            "body.email": "应为有效的字符串",
            "body.password": "此字段为必填项",
        }
        assert response.headers["content-language"] == "zh-CN"

    def test_accept_language_en_says_it_in_english_the_machine_parts_unchanged(
        self, client: TestClient
    ) -> None:
        chinese = _signing_in_with_a_number(client, headers={"Accept-Language": "zh-CN"})
        english = _signing_in_with_a_number(client, headers={"Accept-Language": "en-GB,zh;q=0.5"})
        problem = english.json()
        assert problem["title"] == "Unprocessable Content"
        assert problem["detail"] == "The request has invalid fields: body.email, body.password"
        # pydantic's own English, word for word.
        assert _by_field(problem, "message") == _pydantics_messages(LoginRequest, {"email": 1})
        zh = chinese.json()
        assert (zh["title"], zh["detail"]) != (problem["title"], problem["detail"])
        for key in ("type", "status", "instance"):
            assert zh[key] == problem[key]
        assert _by_field(zh, "code") == _by_field(problem, "code")
        assert (chinese.headers["content-language"], english.headers["content-language"]) == (
            "zh-CN",
            "en",
        )

    def test_lang_in_the_query_wins_over_accept_language(self, client: TestClient) -> None:
        english = _signing_in_with_a_number(
            client, params={"lang": "en"}, headers={"Accept-Language": "zh-CN"}
        ).json()
        assert english["detail"] == "The request has invalid fields: body.email, body.password"
        assert _by_field(english, "message")["body.password"] == "Field required"
        chinese = _signing_in_with_a_number(
            client, params={"lang": "zh"}, headers={"Accept-Language": "en"}
        ).json()
        assert chinese["detail"] == "请求中有无效字段：body.email, body.password"
        assert _by_field(chinese, "message")["body.password"] == "此字段为必填项"

    def test_pydantics_messages_are_said_by_code_with_their_values(self) -> None:
        """Each code in the service's words, its context filled in (the bound, the length); a
        code it has no words for (``url_parsing``) keeps pydantic's English, and nothing
        fails."""
        client = TestClient(_app())
        body = {"name": "x", "employees": -1, "website": "no url"}
        chinese = client.post("/profile", json=body)
        assert chinese.status_code == 422
        assert _by_field(chinese.json(), "message") == {
            "body.name": "长度至少为 2 个字符",
            "body.employees": "应大于或等于 0",
            "body.website": _pydantics_messages(Profile, body)["body.website"],
        }
        english = client.post("/profile", json=body, headers={"Accept-Language": "en"})
        assert _by_field(english.json(), "message") == _pydantics_messages(Profile, body)
        assert _by_field(english.json(), "code") == _by_field(chinese.json(), "code")

    def test_the_english_of_each_pydantic_code_is_pydantics_own(self) -> None:
        """The English templates are pydantic's (its ``{name}`` written ``%(name)s``): English
        answers say what they said before, and a pydantic upgrade that rewords one shows here."""
        templates = {
            error["type"]: re.sub(r"\{(\w+)\}", r"%(\1)s", error["message_template_python"])
            for error in list_all_errors()
        }
        assert {code: templates.get(code) for code in PYDANTIC_MESSAGES} == PYDANTIC_MESSAGES

    def test_a_text_without_a_translation_or_its_values_is_answered_not_a_500(self) -> None:
        response = TestClient(_app(), raise_server_exceptions=False).get("/unfilled")
        assert response.status_code == 409
        problem = response.json()
        assert problem["title"] == "状态冲突"
        assert problem["detail"] == "No catalog entry, and %(nothing)s given for its placeholder."

    def test_a_details_values_are_filled_in_in_either_language(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        """A detail that names something (the scope a key lacks) is a template and its
        values, said in the request's language."""
        key, _ = create_api_key(db, settings, scopes=["enterprises:write"])
        bearer = {"Authorization": f"Bearer {key}"}
        chinese = client.get("/api/v1/scores", headers=bearer).json()
        english = client.get("/api/v1/scores", headers=bearer | {"Accept-Language": "en"}).json()
        assert chinese["detail"] == "此 API 密钥缺少本操作所需的权限范围 'assessments:read'。"
        assert english["detail"] == (
            "This API key lacks the scope 'assessments:read' this operation needs."
        )
        assert (chinese["title"], english["title"]) == ("权限范围不足", "Insufficient scope")
        assert chinese["type"] == english["type"]

    def test_an_answers_problem_is_said_with_its_values_in_either_language(
        self,
        signed_in: TestClient,
        start: Any,
        full_questionnaire: Questionnaire,
    ) -> None:
        """scoring's messages (an answer's problem) keep their template and values."""
        question = next(
            q for q in full_questionnaire.questions if q.type == "single" and q.applies_if is None
        )
        assessment = start()

        def put(headers: dict[str, str]) -> dict[str, Any]:
            response = signed_in.put(
                f"/api/v1/assessments/{assessment['id']}/answers",
                json={"answers": {question.id: "nope"}},
                headers={"If-Match": assessment["etag"], **headers},
            )
            assert response.status_code == 422
            return dict(response.json())

        field = f"body.answers.{question.id}"
        chinese, english = put({}), put({"Accept-Language": "en"})
        assert _by_field(chinese, "message") == {field: "'nope' 不是本题的选项"}
        assert _by_field(english, "message") == {field: "'nope' is not an option of this question"}
        assert _by_field(chinese, "code") == _by_field(english, "code") == {field: "unknown_option"}
        assert chinese["detail"] == f"部分答案无效，所有答案均未保存：{question.id}"

    @pytest.mark.parametrize(
        "chinese", [{"headers": {"Accept-Language": "zh-CN"}}, {"params": {"lang": "zh"}}]
    )
    def test_the_values_a_field_accepts_are_listed_without_englishs_or(
        self, chinese: dict[str, Any]
    ) -> None:
        """pydantic lists a Literal's or an Enum's values as "'a', 'b' or 'c'", and the Chinese
        problem said "取值应为 'grant', 'voucher' or 'award'" (found by reviewing every problem in
        Chinese). The values stay as they are; the English keeps pydantic's own words."""
        client = TestClient(_app())
        body = {"kind": "loan", "level": "top", "scope": "all"}
        zh = client.post("/choices", json=body, **chinese)
        assert zh.status_code == 422
        messages = _by_field(zh.json(), "message")
        assert messages == {
            "body.kind": "取值应为以下之一：'grant', 'voucher', 'award'",
            "body.level": "取值应为以下之一：'low', 'middle', 'high'",
            "body.scope": "取值应为以下之一：'only'",
        }
        assert [english_words(m) for m in messages.values()] == [[], [], []]
        en = client.post("/choices", json=body, headers={"Accept-Language": "en"}).json()
        assert _by_field(en, "message") == _pydantics_messages(Choices, body)
        assert _by_field(en, "message")["body.kind"] == (
            "Input should be 'grant', 'voucher' or 'award'"
        )
        assert _by_field(en, "code") == _by_field(zh.json(), "code")

    def test_no_chinese_pydantic_message_says_an_english_context_value(self) -> None:
        """A context value that is English words (``expected``: "'a', 'b' or 'c'") left them in
        the Chinese problem; the Chinese says the values instead (``choices``) or leaves it out
        (a parser's ``error``)."""
        named = {
            code: set(re.findall(r"%\((\w+)\)s", tr("zh", template)))
            for code, template in PYDANTIC_MESSAGES.items()
        }
        assert {
            code: names & ENGLISH_CONTEXT
            for code, names in named.items()
            if names & ENGLISH_CONTEXT
        } == {}

    def test_the_api_lists_a_query_parameters_values_in_either_language(
        self, client: TestClient
    ) -> None:
        zh = client.get(
            "/api/v1/subsidies", params={"level": "city"}, headers={"Accept-Language": "zh-CN"}
        )
        en = client.get("/api/v1/subsidies", params={"level": "city", "lang": "en"})
        assert zh.status_code == en.status_code == 422
        assert _by_field(zh.json(), "message") == {
            "query.level": "取值应为以下之一：'national', 'municipal', 'district'"
        }
        assert _by_field(en.json(), "message") == {
            "query.level": "Input should be 'national', 'municipal' or 'district'"
        }
