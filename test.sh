#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with the .NET 10 SDK: bash test.sh
# Installs and starts what the tests need (redis-server, PostgreSQL, wrk, npm packages), builds Release, runs the .NET
# tests (Tollgate.Tests: unit and in-process HTTP; Tollgate.IntegrationTests: child processes, replicas, PostgreSQL and
# Redis faults, SDKs) twice, then the Node SDK tests,
# and ends with one line: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")"
out=.ci/out
mkdir -p "$out"

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
need node && need npm || apt_install nodejs npm
need redis-server || apt_install redis-server
[ -x /usr/bin/chromium ] || apt_install chromium # the console's browser tests (headless, driven by playwright-core)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || apt_install postgresql

# A throwaway redis-server on loopback for the Redis-backed tests (counters shared by replicas).
export TOLLGATE_TEST_REDIS=127.0.0.1:6390
if ! redis-cli -p 6390 ping >/dev/null 2>&1; then
  trap 'redis-cli -p 6390 shutdown nosave >/dev/null 2>&1 || true' EXIT
  redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --logfile "$PWD/$out/redis.log" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p 6390 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# A throwaway PostgreSQL cluster on loopback port 5439 for the second run of the suite (PostgreSQL + Redis).
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "tollgate_test"; then
  as_postgres "pg_createcluster -p 5439 $pg_version tollgate_test" >/dev/null
fi
pg_lsclusters -h | grep tollgate_test | grep -q online || as_postgres "pg_ctlcluster $pg_version tollgate_test start"
as_postgres "psql -p 5439 -qtc \"SELECT 1 FROM pg_roles WHERE rolname = 'tollgate'\" | grep -q 1 || psql -p 5439 -qc \"CREATE ROLE tollgate LOGIN SUPERUSER PASSWORD 'tollgate'\"" >/dev/null
postgres_tests="Host=127.0.0.1;Port=5439;Username=tollgate;Password=tollgate"

passed=0; failed=0; skipped=0
add() { passed=$((passed + ${1:-0})); failed=$((failed + ${2:-0})); skipped=$((skipped + ${3:-0})); }

echo "== build (Release)"
if ! dotnet build Tollgate.slnx -c Release -nologo -v quiet 2>&1 | tee "$out/build.log" | grep -E "error|Warn|Elapsed"; then :; fi
if ! grep -q "0 Error(s)" "$out/build.log"; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

dotnet_tests() { # label log [env...]: the unit + in-process project, then the integration project
  local label=$1 log=$2; shift 2
  : >"$out/$log"
  for project in tests/Tollgate.Tests tests/Tollgate.IntegrationTests; do
    echo "== .NET tests: $(basename "$project") ($label)"
    env "$@" dotnet test "$project" -c Release --no-build -nologo 2>&1 | tee -a "$out/$log" | grep -vE "^\s+at " | grep -E "Failed |Passed!|Failed!|Error Message|^\s{3}" | head -200
    local summary; summary=$(grep -E "(Passed|Failed)!\s+-\s+Failed:" "$out/$log" | grep "$(basename "$project").dll" | tail -1)
    if [ -n "$summary" ]; then
      add "$(sed -E 's/.*Passed:\s*([0-9]+).*/\1/' <<<"$summary")" "$(sed -E 's/.*Failed:\s*([0-9]+).*/\1/' <<<"$summary")" "$(sed -E 's/.*Skipped:\s*([0-9]+).*/\1/' <<<"$summary")"
    else
      echo ".NET test run of $project produced no summary"; add 0 1 0
    fi
  done
}
# The same suite twice: on the embedded defaults, then with every test gateway on PostgreSQL + Redis.
dotnet_tests "SQLite + in-process counters" dotnet-test.log TOLLGATE_TEST_POSTGRES=
dotnet_tests "PostgreSQL + Redis" dotnet-test-postgres.log "TOLLGATE_TEST_POSTGRES=$postgres_tests"

echo "== Node tests: SDKs (npm openai, @anthropic-ai/sdk, ai + @ai-sdk/openai) and the console in Chromium (playwright-core)"
if (cd tests/node && npm ci --no-audit --no-fund --loglevel=error >"../../$out/npm.log" 2>&1); then
  (cd tests/node && node --test --test-concurrency=1 --test-reporter=tap *.test.mjs) >"$out/node-test.log" 2>&1
  grep -E "^# (pass|fail)|^not ok" "$out/node-test.log"
  np=$(grep -E "^# pass " "$out/node-test.log" | awk '{print $3}'); nf=$(grep -E "^# fail " "$out/node-test.log" | awk '{print $3}')
  if [ -z "$np" ]; then tail -40 "$out/node-test.log"; add 0 1 0; else add "$np" "$nf" 0; fi
else
  tail -20 "$out/npm.log"; add 0 1 0
fi

echo "== benchmark harness (bench/run.sh --smoke: mock, Tollgate with full governance, wrk)"
if bash bench/run.sh --smoke >"$out/bench-smoke.log" 2>&1; then
  tail -8 "$out/bench-smoke.log"; add 1 0 0
else
  tail -30 "$out/bench-smoke.log"; add 0 1 0
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
