#!/usr/bin/env bash
# Load test (login throttling off, as for any test that logs one user in thousands of
# times): ciphemic against itself (a protected endpoint vs /healthz, which does no
# authentication and no store read) and, when it is available, against the Django
# reference of ../shared/django-ref, in one run on one machine. Prints requests/second and
# the ratios docs/PERFORMANCE.md reports.
#
#   docs/bench/loadtest.sh [DURATION] [CONNECTIONS]      (defaults 10s, 8)
#
# Needs wrk and jq (apt-get install -y wrk jq); the Django side needs Debian's
# python3-djangorestframework-simplejwt and gunicorn and is skipped without them.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${1:-10s}
CONNS=${2:-8}
BENCH=$(cd docs/bench && pwd)
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

go build -o "$WORK/ciphemic" ./cmd/ciphemic
DB="sqlite:$WORK/bench.db"
"$WORK/ciphemic" serve --database "$DB" --addr 127.0.0.1:18080 --log-format json --login-throttle=false >"$WORK/serve.out" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do curl -fs http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
echo password-for-bench | "$WORK/ciphemic" createuser --database "$DB" --username testuser --password-stdin >/dev/null

token() { curl -fs -X POST "$1" -H 'Content-Type: application/json' \
  -d "{\"username\":\"testuser\",\"password\":\"$2\"}" | jq -r .access; }

rps() { # rps NAME wrk-args... → prints "NAME req/s", keeps the number in $LAST
  local out
  out=$(wrk -t1 -c"$CONNS" -d"$DUR" "${@:2}")
  if grep -q 'Non-2xx' <<<"$out"; then echo "$1: non-2xx responses!" >&2; grep 'Non-2xx' <<<"$out" >&2; fi
  LAST=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  local lat; lat=$(awk '/Latency/ {print $2}' <<<"$out")
  printf '%-34s %10s req/s   avg latency %s\n' "$1" "$LAST" "$lat"
}

TOKEN=$(token http://127.0.0.1:18080/api/token/ password-for-bench)
export TOKEN
rps "ciphemic GET /healthz" http://127.0.0.1:18080/healthz;                        HEALTH=$LAST
rps "ciphemic GET /api/me/" -s "$BENCH/get.lua" http://127.0.0.1:18080/api/me/;    ME=$LAST
BENCH_USER=testuser BENCH_PASSWORD=password-for-bench \
rps "ciphemic POST /api/token/" -s "$BENCH/login.lua" http://127.0.0.1:18080/api/token/; LOGIN=$LAST

DJANGO_ME="" DJANGO_LOGIN=""
REF=../shared/django-ref
if [ -x "$REF/run.sh" ] && command -v gunicorn >/dev/null; then
  DJANGO_SQLITE_PATH="$WORK/django.sqlite3" "$REF/run.sh" 18081 2 >"$WORK/django.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18081/api/me/ && break; sleep 0.2; done
  TOKEN=$(token http://127.0.0.1:18081/api/token/ password)
  rps "django-ref GET /api/me/" -s "$BENCH/get.lua" http://127.0.0.1:18081/api/me/; DJANGO_ME=$LAST
  rps "django-ref POST /api/token/" -s "$BENCH/login.lua" http://127.0.0.1:18081/api/token/; DJANGO_LOGIN=$LAST
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "ciphemic /api/me/ vs /healthz:       $(ratio "$ME" "$HEALTH") (1.00 = authentication and the store read are free)"
if [ -n "$DJANGO_ME" ]; then
  echo "ciphemic vs django-ref, /api/me/:    $(ratio "$ME" "$DJANGO_ME")x"
  echo "ciphemic vs django-ref, /api/token/: $(ratio "$LOGIN" "$DJANGO_LOGIN")x"
fi
