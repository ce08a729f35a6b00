#!/usr/bin/env bash
# Backup and restore drill (docs/deployment.md): what an operator does, checked end to end.
#
#   1. a source database: migrated to head and seeded with the demo (every kind of row);
#   2. pg_dump -Fc of it (the custom format pg_restore reads; what the nightly backup takes);
#   3. pg_restore into a fresh, empty database;
#   4. checks: `alembic current` on the restored copy is the migrations' head, and every table
#      has the same number of rows in both.
# Exits non-zero if anything differs. Both databases are dropped however it ends.
#
# Usage: tools/backup_drill.sh [ADMIN_URL]
#   ADMIN_URL  a PostgreSQL database to create the drill's databases from, e.g.
#              postgresql+psycopg://postgres@127.0.0.1:5432/postgres (default: $ZHIZAO_TEST_POSTGRES_URL)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-.venv/bin}
ADMIN_URL=${1:-${ZHIZAO_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}}
# libpq wants postgresql://, SQLAlchemy postgresql+psycopg://
LIBPQ_ADMIN=${ADMIN_URL/postgresql+psycopg:/postgresql:}
BASE=${LIBPQ_ADMIN%/*}
SUFFIX="$(date +%Y%m%d%H%M%S)_$$"
SOURCE="zhizao_drill_source_$SUFFIX"
TARGET="zhizao_drill_restored_$SUFFIX"
DUMP=$(mktemp --suffix=.dump)

say() { printf '==> %s\n' "$*"; }
admin() { psql -X -q -v ON_ERROR_STOP=1 "$LIBPQ_ADMIN" "$@"; }
cleanup() {
    admin -c "DROP DATABASE IF EXISTS \"$SOURCE\" WITH (FORCE)" || true
    admin -c "DROP DATABASE IF EXISTS \"$TARGET\" WITH (FORCE)" || true
    rm -f "$DUMP"
}
trap cleanup EXIT

# Row counts of every table of the public schema, one "table count" line each, sorted.
row_counts() {
    local url=$1
    psql -X -A -t -v ON_ERROR_STOP=1 "$url" -c "
        SELECT format('SELECT %L || '' '' || count(*) FROM %I;', tablename, tablename)
        FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename" \
        | psql -X -A -t -v ON_ERROR_STOP=1 "$url"
}

say "Source database $SOURCE: migrate to head, seed the demo"
admin -c "CREATE DATABASE \"$SOURCE\""
export ZHIZAO_DATABASE_URL="${ADMIN_URL%/*}/$SOURCE"
"$BIN/zhizao" db upgrade >/dev/null
"$BIN/zhizao" seed-demo >/dev/null

say "pg_dump -Fc"
pg_dump -Fc --no-owner --no-privileges -f "$DUMP" "$BASE/$SOURCE"
say "Dump: $(du -h "$DUMP" | cut -f1)"

say "pg_restore into a fresh database $TARGET"
admin -c "CREATE DATABASE \"$TARGET\""
pg_restore --no-owner --no-privileges --exit-on-error -d "$BASE/$TARGET" "$DUMP"

say "Checks"
export ZHIZAO_DATABASE_URL="${ADMIN_URL%/*}/$TARGET"
head=$("$BIN/alembic" heads 2>/dev/null | awk '{print $1}')
current=$("$BIN/alembic" current 2>/dev/null | awk '{print $1}')
echo "alembic head: $head; restored database's current revision: $current"
[ -n "$head" ] && [ "$current" = "$head" ] || { echo "FAIL: restored revision is not the head" >&2; exit 1; }

source_counts=$(row_counts "$BASE/$SOURCE")
restored_counts=$(row_counts "$BASE/$TARGET")
tables=$(printf '%s\n' "$source_counts" | wc -l)
rows=$(printf '%s\n' "$source_counts" | awk '{s += $2} END {print s}')
if [ "$source_counts" != "$restored_counts" ]; then
    echo "FAIL: row counts differ (source < > restored):" >&2
    diff <(printf '%s\n' "$source_counts") <(printf '%s\n' "$restored_counts") >&2 || true
    exit 1
fi
printf '%s\n' "$source_counts" | awk '$2 > 0 {printf "  %-32s %s\n", $1, $2}'
echo "Row counts equal in all $tables tables ($rows rows)."
say "Backup drill passed"
