"""Synthetic demo firms in bulk (``zhizao seed-demo --enterprises N --seed S``).

Realistic but invented: districts weighted by the synthetic demo table of reference/domain.md
§6.3 (规上 counts per district), each district's top manufacturing divisions over-represented,
size classes with consistent headcount and revenue, and maturity centred on the district's demo
level. Every firm is labelled ``synthetic=True`` and named "（合成演示）".

Scores come from the real engine: a few hundred answer profiles spanning the ladder are scored
once with :func:`scoring.score`; each firm is given the profile nearest to its drawn maturity,
and its stored result is that profile's score. Rows go in with COPY (PostgreSQL) or
``executemany`` (SQLite) in chunks, together with the heatmap contributions and cell sums (the
same arithmetic as the submit-time upkeep), so 1M firms take minutes. Synthetic results keep
their score, stages, rung, hold-backs and crosswalk but no stored roadmap, and no per-question
answers (the answer profile id is kept in the result payload), to keep the database small.

Deterministic for a given seed. Running again with a larger N adds firms up to N.
"""

from __future__ import annotations

import bisect
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.enterprises.classification import industrial_size_class, is_above_designated_size
from app.heatmaps import perturbation, quarters
from app.heatmaps.service import table_of
from app.heatmaps.sums import (
    CELL_COLUMNS,
    CELL_KEY,
    STAGE_COLUMNS,
    STAGE_KEY,
    Changes,
    Contribution,
    centi,
)
from app.kit.clock import utcnow
from app.models import (
    Assessment,
    Enterprise,
    HeatmapCell,
    HeatmapContribution,
    HeatmapStageCell,
    Result,
)
from scoring import Question, Questionnaire, ScoreResult, applicable_questions, round_score, score

#: reference/domain.md §6.3 [SYN]: district, 规上 firms (weight), top divisions, mean CMMM level.
DISTRICT_MIX: tuple[tuple[str, int, tuple[str, ...], float], ...] = (
    ("310117", 1668, ("39", "34", "38"), 2.3),
    ("310114", 1550, ("36", "34", "39"), 2.4),
    ("310115", 1500, ("36", "39", "27", "37"), 2.6),
    ("310112", 1000, ("34", "38", "37"), 2.3),
    ("310120", 800, ("34", "33", "26"), 1.9),
    ("310118", 750, ("39", "34", "29"), 2.0),
    ("310113", 600, ("31", "34", "33"), 2.1),
    ("310116", 550, ("26", "29", "27"), 2.0),
    ("310151", 180, ("37", "13", "33"), 1.6),
    ("310106", 70, ("23", "24", "40"), 1.9),
    ("310107", 60, ("34", "40", "23"), 1.8),
    ("310104", 60, ("40", "39", "27"), 2.0),
    ("310110", 40, ("40", "34", "23"), 1.8),
    ("310105", 40, ("39", "40", "23"), 1.8),
    ("310109", 30, ("23", "40", "24"), 1.7),
    ("310101", 20, ("23", "24", "14"), 1.7),
)
#: Other divisions firms of any district fall in (city-wide mix, §6.1 sector weights).
COMMON_DIVISIONS = (
    "39",
    "36",
    "34",
    "38",
    "31",
    "26",
    "35",
    "33",
    "29",
    "27",
    "40",
    "37",
    "14",
    "17",
    "22",
    "30",
    "32",
    "21",
    "23",
    "41",
)
#: Share of each size class among the synthetic firms, and (employees, revenue CNY) ranges.
SIZE_MIX = (("micro", 0.15), ("small", 0.55), ("medium", 0.22), ("large", 0.08))
SIZE_RANGES = {
    "micro": ((5, 19), (500_000, 2_900_000)),
    "small": ((20, 299), (3_000_000, 19_900_000)),
    "medium": ((300, 999), (20_000_000, 399_000_000)),
    "large": ((1000, 6000), (400_000_000, 5_000_000_000)),
}
SIZE_EFFECT = {"micro": -0.10, "small": 0.0, "medium": 0.06, "large": 0.14}
VERIFIED_SHARE = 0.92
RESUBMIT_SHARE = 0.30
QUARTERS_SPAN = 8
PROFILES = 300
CHUNK = 20_000

_NAME_HEADS = (
    "华",
    "申",
    "浦",
    "沪",
    "东",
    "新",
    "永",
    "宏",
    "恒",
    "瑞",
    "金",
    "联",
    "中",
    "德",
    "安",
    "泰",
    "嘉",
    "海",
    "立",
    "天",
    "博",
    "盛",
    "通",
    "信",
    "昌",
    "鼎",
    "兴",
    "正",
)
_NAME_TAILS = (
    "达",
    "源",
    "科",
    "诚",
    "远",
    "力",
    "新",
    "宇",
    "航",
    "峰",
    "威",
    "创",
    "晟",
    "益",
    "腾",
    "合",
    "邦",
    "美",
    "辰",
    "星",
    "润",
    "智",
    "精",
    "拓",
)
_TRADES = {
    "13": "食品",
    "14": "食品",
    "17": "纺织",
    "21": "家具",
    "22": "纸业",
    "23": "印务",
    "24": "文体用品",
    "26": "化工",
    "27": "医药",
    "29": "塑胶",
    "30": "建材",
    "31": "钢铁",
    "32": "有色金属",
    "33": "金属制品",
    "34": "机械",
    "35": "专用设备",
    "36": "汽车零部件",
    "37": "船舶装备",
    "38": "电气",
    "39": "电子科技",
    "40": "仪器仪表",
    "41": "制造",
}
_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def synthetic_credit_code(index: int, region: str) -> str:
    """A structurally valid, invented credit code, unique per index (organisation body
    "Y" + 7 digits: no real or test code uses it)."""
    body8 = f"Y{index:07d}"
    c9 = (
        11
        - sum(
            (int(c) if c.isdigit() else ord(c) - 55) * w
            for c, w in zip(body8, _ORG_WEIGHTS, strict=True)
        )
        % 11
    )
    body17 = "91" + region + body8 + {10: "X", 11: "0"}.get(c9, str(c9))
    total = sum(_CHARSET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return body17 + _CHARSET[(31 - total % 31) % 31]


@dataclass(frozen=True, slots=True)
class Profile:
    """A scored answer profile."""

    index: int
    overall: Decimal
    result: ScoreResult
    payload: str  # JSON of the stored result payload
    contribution_scores: tuple[int | None, int, dict[str, int]]
    #: JSON of the result's stages (2 dp) and of the contribution's stages (hundredths).
    result_stages: str
    contribution_stages: str
    overall_rounded: Decimal | None


@dataclass(slots=True)
class SyntheticReport:
    requested: int
    existing: int
    created: int = 0
    assessments: int = 0
    seconds: float = 0.0


def _answer(question: Question, position: float, rng: random.Random) -> Any:
    position = min(1.0, max(0.0, position + rng.gauss(0, 0.12)))
    if question.type == "number":
        assert question.min is not None and question.max is not None
        value = float(question.min) + (float(question.max) - float(question.min)) * position
        return int(round(value))
    options = [o for o in question.options if not (question.type == "multi" and o.exclusive)]
    options.sort(key=lambda o: o.level if o.level is not None else Decimal(0))
    if question.type == "single":
        return options[min(len(options) - 1, int(position * len(options)))].id
    chosen = [o.id for i, o in enumerate(options) if i <= position * len(options)]
    return chosen[: max(1, len(chosen))] or [options[0].id]


def answer_profiles(questionnaire: Questionnaire, count: int, seed: int) -> list[Profile]:
    """``count`` answer profiles spread over the ladder, each scored by the engine, by score."""
    rng = random.Random(f"profiles:{seed}")
    profiles: list[Profile] = []
    for index in range(count):
        base = (index + 0.5) / count
        stage_bias = {s.id: rng.gauss(0, 0.08) for s in questionnaire.stages}
        answers: dict[str, Any] = {}
        for _ in range(3):  # applicability depends on earlier answers
            for question in applicable_questions(questionnaire, answers, {}):
                if question.id not in answers:
                    stage_id = next(s.id for s in questionnaire.stages if question in s.questions)
                    answers[question.id] = _answer(question, base + stage_bias[stage_id], rng)
            keep = {q.id for q in applicable_questions(questionnaire, answers, {})}
            answers = {k: v for k, v in answers.items() if k in keep}
        result = score(questionnaire, answers, {})
        payload: dict[str, Any] = {"synthetic_profile": index}
        for lang in ("zh", "en"):
            data = result.to_dict(lang)
            data["roadmap"] = None
            payload[lang] = data
        overall = round_score(result.overall) if result.overall is not None else None
        profiles.append(
            Profile(
                index=index,
                overall=overall if overall is not None else Decimal("2.75"),
                result=result,
                payload=json.dumps(payload, ensure_ascii=False, default=str),
                contribution_scores=(
                    None if overall is None else centi(overall),
                    centi(result.rung),
                    {k: centi(round_score(v)) for k, v in result.stages.items()},
                ),
                result_stages=json.dumps(
                    {k: float(round_score(v)) for k, v in result.stages.items()}
                ),
                contribution_stages=json.dumps(
                    {k: centi(round_score(v)) for k, v in result.stages.items()}
                ),
                overall_rounded=overall,
            )
        )
    profiles.sort(key=lambda p: p.overall)
    return profiles


def _weighted(rng: random.Random, choices: Sequence[Any], cumulative: Sequence[float]) -> Any:
    return choices[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


class _BulkWriter:
    """Insert rows fast: COPY on PostgreSQL, ``executemany`` on SQLite. Rows arrive already in
    the driver's form (see ``_Convert``)."""

    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        self.connection = connection
        self.table = table
        self.columns = list(columns)
        self.postgres = connection.dialect.name == "postgresql"

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        raw = self.connection.connection.driver_connection
        assert raw is not None
        names = ", ".join(f'"{c}"' for c in self.columns)
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f'COPY "{self.table.name}" ({names}) FROM STDIN') as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in self.columns)
        cursor = raw.cursor()
        cursor.executemany(f'INSERT INTO "{self.table.name}" ({names}) VALUES ({marks})', rows)
        cursor.close()


class _Convert:
    """Values in the form each driver stores them, matching what SQLAlchemy's own bind
    processing writes (checked by tests/app/demo/test_synthetic.py reading rows back)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def uuid(self, value: uuid.UUID) -> Any:
        return value.hex if self.sqlite else value

    def time(self, value: datetime) -> Any:
        return f"{value:%Y-%m-%d %H:%M:%S.%f}" if self.sqlite else value

    def number(self, value: Decimal | None) -> Any:
        return (None if value is None else float(value)) if self.sqlite else value

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value


ENTERPRISE_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "credit_code",
    "name",
    "district_code",
    "industry_code",
    "employees",
    "annual_revenue_cny",
    "size_class",
    "above_designated_size",
    "facts",
    "verified",
    "verified_method",
    "verified_at",
    "synthetic",
    "revision",
    "record_secret",
)
ASSESSMENT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "enterprise_id",
    "questionnaire_id",
    "questionnaire_version",
    "questionnaire_hash",
    "status",
    "version",
    "submitted_at",
)
RESULT_COLUMNS = (
    "assessment_id",
    "enterprise_id",
    "overall",
    "rung",
    "stages",
    "payload",
    "subsidies",
    "computed_at",
)
CONTRIBUTION_COLUMNS = (
    "enterprise_id",
    "questionnaire_id",
    "quarter",
    "assessment_id",
    "submitted_at",
    "district_code",
    "industry_code",
    "size_class",
    "overall_c",
    "rung_c",
    "stages",
    "count_key",
    "submission_key",
)


def seed_synthetic(
    connection: Connection,
    questionnaire: Questionnaire,
    *,
    enterprises: int,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyntheticReport:
    """Add synthetic firms until there are ``enterprises`` of them (the caller commits)."""
    started = time.perf_counter()
    existing = int(
        connection.scalar(
            select(func.count())
            .select_from(Enterprise)
            .where(Enterprise.synthetic.is_(True), Enterprise.name.like("%（合成演示）"))
        )
        or 0
    )
    report = SyntheticReport(requested=enterprises, existing=existing)
    if existing >= enterprises:
        return report
    now = now or utcnow()
    profiles = answer_profiles(questionnaire, PROFILES, seed)
    profile_scores = [float(p.overall) for p in profiles]
    if progress:
        progress(
            f"scored {len(profiles)} answer profiles with the engine "
            f"({time.perf_counter() - started:.1f} s)"
        )
    convert = _Convert(connection.dialect.name)
    U, T, N, B = convert.uuid, convert.time, convert.number, convert.flag  # noqa: N806
    empty_object, empty_list = "{}", "[]"
    writers = {
        "enterprise": _BulkWriter(connection, table_of(Enterprise), ENTERPRISE_COLUMNS),
        "assessment": _BulkWriter(connection, table_of(Assessment), ASSESSMENT_COLUMNS),
        "result": _BulkWriter(connection, table_of(Result), RESULT_COLUMNS),
        "contribution": _BulkWriter(
            connection, table_of(HeatmapContribution), CONTRIBUTION_COLUMNS
        ),
    }
    districts = [d[0] for d in DISTRICT_MIX]
    district_weights = _cumulative([d[1] for d in DISTRICT_MIX])
    district_info = {d[0]: d for d in DISTRICT_MIX}
    sizes = [s for s, _ in SIZE_MIX]
    size_weights = _cumulative([w for _, w in SIZE_MIX])
    quarter_now = quarters.quarter_of(now)
    span = quarters.last_n(quarter_now, QUARTERS_SPAN)
    first_start = quarters.start_of(span[0])
    window = (now - first_start).total_seconds()
    qid, qversion, qhash = questionnaire.id, questionnaire.version, questionnaire.content_hash
    changes = Changes()

    for chunk_start in range(existing - existing % CHUNK, enterprises, CHUNK):
        rng = random.Random(f"firms:{seed}:{chunk_start}")
        rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in writers}
        for index in range(chunk_start, min(chunk_start + CHUNK, enterprises)):
            district = _weighted(rng, districts, district_weights)
            _, _, top, level = district_info[district]
            if rng.random() < 0.55:
                industry = top[min(len(top) - 1, int(rng.random() ** 1.6 * len(top)))]
            else:
                industry = rng.choice(COMMON_DIVISIONS)
            size: str = _weighted(rng, sizes, size_weights)
            (e_low, e_high), (r_low, r_high) = SIZE_RANGES[size]
            employees = int(rng.uniform(e_low, e_high))
            revenue = int(rng.uniform(r_low, r_high))
            age = rng.random()
            resubmit = rng.random() < RESUBMIT_SHARE
            verified = rng.random() < VERIFIED_SHARE
            target = 3.0 + (level - 1) * 0.25 + SIZE_EFFECT[size] + rng.gauss(0, 0.18)
            improve = abs(rng.gauss(0.08, 0.06))
            head, tail = rng.randrange(len(_NAME_HEADS)), rng.randrange(len(_NAME_TAILS))
            id_bits = rng.getrandbits(128), rng.getrandbits(128), rng.getrandbits(128)
            second_at_share = rng.random()
            if index < existing:  # drawn above all the same: the stream stays deterministic
                continue
            enterprise_id = uuid.UUID(int=id_bits[0], version=4)
            first_at = first_start + timedelta(seconds=window * (1 - age**1.5))
            created_at = first_at - timedelta(days=7)
            submissions = [(first_at, target, uuid.UUID(int=id_bits[1], version=4))]
            if resubmit:
                second_at = first_at + (now - first_at) * (0.3 + 0.7 * second_at_share)
                submissions.append(
                    (second_at, target + improve, uuid.UUID(int=id_bits[2], version=4))
                )
            revenue_decimal = Decimal(revenue)
            size_class = industrial_size_class(employees, revenue_decimal)
            firm = U(enterprise_id)
            secret = perturbation.new_record_secret()
            firm_key = perturbation.count_key(secret)
            rows["enterprise"].append(
                (
                    firm,
                    T(created_at),
                    T(submissions[-1][0]),
                    synthetic_credit_code(index, district),
                    f"上海{_NAME_HEADS[head]}{_NAME_TAILS[tail]}"
                    f"{_TRADES.get(industry, '制造')}有限公司（合成演示）",
                    district,
                    industry,
                    employees,
                    N(revenue_decimal),
                    size_class,
                    B(is_above_designated_size(revenue_decimal)),
                    empty_object,
                    B(verified),
                    "synthetic" if verified else None,
                    T(created_at) if verified else None,
                    B(True),
                    1,
                    secret,
                )
            )
            timeline: dict[int, Contribution] = {}
            firm_rows: dict[int, tuple[Any, ...]] = {}
            for submitted_at, wanted, assessment_id in submissions:
                profile = profiles[
                    min(len(profiles) - 1, bisect.bisect_left(profile_scores, wanted))
                ]
                assessment = U(assessment_id)
                at = T(submitted_at)
                rows["assessment"].append(
                    (
                        assessment,
                        T(submitted_at - timedelta(hours=2)),
                        at,
                        firm,
                        qid,
                        qversion,
                        qhash,
                        "submitted",
                        2,
                        at,
                    )
                )
                rows["result"].append(
                    (
                        assessment,
                        firm,
                        N(profile.overall_rounded),
                        N(profile.result.rung),
                        profile.result_stages,
                        profile.payload,
                        empty_list,
                        at,
                    )
                )
                quarter = quarters.quarter_of(submitted_at)
                overall_c, rung_c, stage_cs = profile.contribution_scores
                submission_key = perturbation.submission_key(secret, str(assessment_id))
                timeline[quarter] = Contribution(
                    district,
                    industry,
                    size_class,
                    overall_c,
                    rung_c,
                    stage_cs,
                    firm_key,
                    submission_key,
                )
                firm_rows[quarter] = (
                    firm,
                    qid,
                    quarter,
                    assessment,
                    at,
                    district,
                    industry,
                    size_class,
                    overall_c,
                    rung_c,
                    profile.contribution_stages,
                    firm_key,
                    submission_key,
                )
            rows["contribution"].extend(firm_rows.values())
            if verified:
                changes.timeline(qid, timeline.items(), +1)
            report.created += 1
            report.assessments += len(submissions)
        for name in ("enterprise", "assessment", "result", "contribution"):
            writers[name].write(rows[name])
        if progress:
            progress(
                f"{min(chunk_start + CHUNK, enterprises):,} firms "
                f"({time.perf_counter() - started:.1f} s)"
            )
    _add_cells(connection, changes)
    report.seconds = time.perf_counter() - started
    return report


def _add_cells(connection: Connection, changes: Changes) -> None:
    cells, stage_cells = changes.nonzero()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for table, key_names, columns, data in (
        (table_of(HeatmapCell), CELL_KEY, CELL_COLUMNS, cells),
        (table_of(HeatmapStageCell), STAGE_KEY, STAGE_COLUMNS, stage_cells),
    ):
        if not data:
            continue
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[k] for k in key_names],
            set_={c: table.c[c] + statement.excluded[c] for c in columns},
        )
        connection.execute(
            statement,
            [
                {**dict(zip(key_names, k, strict=True)), **dict(zip(columns, v, strict=True))}
                for k, v in sorted(data.items())
            ],
        )
