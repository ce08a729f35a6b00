"""Walk the assessment API as an SME (or its integrator) would, and check the score.

Registers a firm, signs in, answers the full questionnaire stage by stage (one PUT per stage,
each with the ETag of the last response), submits with an Idempotency-Key, then scores the same
answers offline with ``zhizao score`` and checks that both agree.

    python docs/examples/walkthrough.py --base-url http://127.0.0.1:8000

Needs a running server (``make run``). Prints the result and exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

QUESTIONNAIRE = "smart-manufacturing-maturity"
COMPARED = ("overall", "rung", "stages", "held_back_by")


def credit_code(region: str = "310117") -> str:
    """A structurally valid, made-up unified social credit code (GB 32100)."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body8 = "MA" + uuid.uuid4().hex[:6].upper().replace("I", "1").replace("O", "0")
    value = {**{str(d): d for d in range(10)}, **{c: ord(c) - 55 for c in "ABCDEF"}, "M": 22}
    c9 = 11 - sum(value[c] * w for c, w in zip(body8, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    body17 = "91" + region + body8 + {10: "X", 11: "0"}.get(c9, str(c9))
    total = sum(charset.index(c) * pow(3, i, 31) for i, c in enumerate(body17))
    return body17 + charset[(31 - total % 31) % 31]


def choose(question: dict[str, Any]) -> Any:
    """A middling answer: the option two-thirds up the list, or two-thirds of the range."""
    if question["type"] == "number":
        return round(question["min"] + (question["max"] - question["min"]) * 2 / 3)
    options = [
        o for o in question["options"] if not (question["type"] == "multi" and o["exclusive"])
    ]
    option = options[(len(options) * 2) // 3 if len(options) > 1 else 0]["id"]
    return option if question["type"] == "single" else [option]


def run(client: httpx.Client, zhizao: list[str], questionnaire_path: Path) -> dict[str, Any]:
    email = f"walkthrough-{uuid.uuid4().hex[:8]}@example.com"
    registered = client.post(
        "/api/v1/accounts/register",
        json={
            "enterprise": {
                "credit_code": credit_code(),
                "name": "上海松江示范机械有限公司",
                "district_code": "310117",
                "industry_code": "34",
                "employees": 85,
                "annual_revenue_cny": 32_000_000,
            },
            "user": {"email": email, "password": "walkthrough password"},
        },
    )
    registered.raise_for_status()
    enterprise = registered.json()["enterprise"]
    session = client.post(
        "/api/v1/session", json={"email": email, "password": "walkthrough password"}
    )
    session.raise_for_status()
    client.headers["X-CSRF-Token"] = session.json()["csrf_token"]

    questionnaire = client.get(f"/api/v1/questionnaires/{QUESTIONNAIRE}").json()
    assessment = client.post(
        f"/api/v1/enterprises/{enterprise['id']}/assessments",
        json={"questionnaire_id": QUESTIONNAIRE},
    ).json()
    answers: dict[str, Any] = {}
    for stage in questionnaire["stages"]:
        # Questions can appear as earlier answers change, so answer until the stage is complete.
        for _ in range(3):
            applicable = set(assessment["applicable_questions"])
            todo = {
                q["id"]: choose(q)
                for q in stage["questions"]
                if q["id"] in applicable and q["id"] not in assessment["answers"]
            }
            if not todo:
                break
            response = client.put(
                f"/api/v1/assessments/{assessment['id']}/answers",
                json={"answers": todo},
                headers={"If-Match": assessment["etag"]},
            )
            response.raise_for_status()
            assessment = response.json()
            answers.update(todo)
        progress = next(p for p in assessment["progress"] if p["id"] == stage["id"])
        print(f"stage {stage['id']}: {progress['answered']}/{progress['applicable']} answered")

    result = client.post(
        f"/api/v1/assessments/{assessment['id']}/submit",
        headers={"If-Match": assessment["etag"], "Idempotency-Key": str(uuid.uuid4())},
    )
    result.raise_for_status()
    api_result = result.json()

    with tempfile.TemporaryDirectory() as tmp:
        answers_path, profile_path = Path(tmp) / "answers.json", Path(tmp) / "profile.json"
        answers_path.write_text(json.dumps(assessment["answers"], ensure_ascii=False))
        profile = {
            k: enterprise[k]
            for k in (
                "district_code",
                "industry_code",
                "size_class",
                "above_designated_size",
                "employees",
                "annual_revenue_cny",
            )
        }
        profile_path.write_text(json.dumps(profile))
        cli = subprocess.run(
            [
                *zhizao,
                "score",
                "--questionnaire",
                str(questionnaire_path),
                "--answers",
                str(answers_path),
                "--profile",
                str(profile_path),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    cli_result = json.loads(cli.stdout)
    mismatches = [key for key in COMPARED if api_result[key] != cli_result[key]]
    print(
        f"API: overall {api_result['overall']}, rung {api_result['rung']} "
        f"({api_result['rung_name']}), stages {api_result['stages']}"
    )
    print(
        f"CLI: overall {cli_result['overall']}, rung {cli_result['rung']}, "
        f"stages {cli_result['stages']}"
    )
    if mismatches:
        raise SystemExit(f"API and `zhizao score` disagree on: {', '.join(mismatches)}")
    print("API and `zhizao score` agree.")
    return {"api": api_result, "cli": cli_result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--questionnaire",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "questionnaires" / f"{QUESTIONNAIRE}.v2.yaml",
    )
    args = parser.parse_args()
    with httpx.Client(base_url=args.base_url, timeout=30) as client:
        run(client, [sys.executable, "-m", "app"], args.questionnaire)


if __name__ == "__main__":
    main()
