#!/usr/bin/env bash
# The console's admin requests on a large ledger: seeds 5,000,000 usage records over the last 90 days (200 keys of 20
# teams, 10 models of 4 providers) through the gateway's own ledger sink, starts the gateway on it (real HTTP) and times
# the requests each console page makes: cold (the first after a start, median over BENCH_STARTS starts) and warm (median
# of BENCH_WARM repeats). Prints a markdown table; the README's "Ledger at scale" has before/after figures.
#   bash bench/ledger-scale.sh                                  # SQLite
#   BENCH_POSTGRES="Host=127.0.0.1;Port=5439;Username=tollgate;Password=tollgate" bash bench/ledger-scale.sh
# Environment: BENCH_RECORDS (5000000), BENCH_DAYS (90), BENCH_STARTS (3), BENCH_WARM (5),
#   BENCH_POSTGRES (an Npgsql connection string without Database: the ledger goes to PostgreSQL databases
#   tollgate_bench_seed and tollgate_bench_run, created and dropped here),
#   BENCH_LEDGER (a directory: the seeded ledger is kept there and reused by later runs with the same settings),
#   BENCH_GATEWAY (a Tollgate.Gateway.dll to time instead of this checkout's: an older build, for before/after).
# A ledger seeded without roll-ups is what an older release leaves: the first start of this build backfills them, and
# its start-up time says how long that takes.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${BENCH_RECORDS:-5000000}; days=${BENCH_DAYS:-90}; starts=${BENCH_STARTS:-3}; warm=${BENCH_WARM:-5}
master=tg-bench-master
work=$(mktemp -d)
gw_pid=""
tool=(dotnet bench/Tollgate.Benchmarks/bin/Release/net10.0/Tollgate.Benchmarks.dll)
pg=${BENCH_POSTGRES:-}
stop_gateway() { if [ -n "$gw_pid" ]; then kill "$gw_pid" 2>/dev/null || true; wait "$gw_pid" 2>/dev/null || true; gw_pid=""; fi; }
cleanup() {
  stop_gateway
  [ -n "$pg" ] && "${tool[@]}" postgres-db "$pg" drop tollgate_bench_run >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

missing=(); for need in jq curl; do command -v "$need" >/dev/null || missing+=("$need"); done
if [ ${#missing[@]} -gt 0 ]; then sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; fi
dotnet build Tollgate.slnx -c Release -nologo -v quiet >/dev/null
gateway=${BENCH_GATEWAY:-src/Tollgate.Gateway/bin/Release/net10.0/Tollgate.Gateway.dll}
free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
port=$(free_port); base="http://127.0.0.1:$port"

startup=()
start_gateway() { # data-dir [postgres database]; adds to startup the seconds until /healthz answers (schema, backfill, counter rebuild)
  local t0; t0=$(date +%s.%N)
  local store=(); [ -n "${2:-}" ] && store=(--postgres "$pg;Database=$2")
  TOLLGATE_MASTER_KEY=$master dotnet "$gateway" --urls "$base" --data-dir "$1" "${store[@]}" >>"$work/gateway.log" 2>&1 &
  gw_pid=$!
  for _ in $(seq 1 36000); do curl -sf -o /dev/null "$base/healthz" && break; kill -0 "$gw_pid" 2>/dev/null || { tail -20 "$work/gateway.log" >&2; exit 1; }; sleep 0.05; done
  startup+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')")
}
admin() { curl -sf -X "$1" "$base$2" -H "Authorization: Bearer $master" -H 'Content-Type: application/json' ${3:+-d "$3"}; }

# 1. The ledger: keys, budgets and quota rules through the admin API, then the usage records through the ledger sink.
seeded=${BENCH_LEDGER:-$work/seeded}
mkdir -p "$seeded"
if [ ! -f "$seeded/seeded" ]; then
  [ -n "$pg" ] && { "${tool[@]}" postgres-db "$pg" drop tollgate_bench_seed; "${tool[@]}" postgres-db "$pg" create tollgate_bench_seed; }
  rm -rf "$seeded/data"; start_gateway "$seeded/data" "${pg:+tollgate_bench_seed}"
  for i in $(seq 0 199); do
    team=$(printf 'team-%02d' $((i % 20)))
    budget=""; [ $((i % 4)) -eq 0 ] && budget=',"budget":{"period":"month","hard":100000}'
    admin POST /admin/keys "{\"name\":\"app-$i\",\"owner\":{\"team\":\"$team\",\"project\":\"$team-p$((i % 3))\",\"cost_center\":\"cc-$((i % 5))\"}$budget}" >/dev/null
  done
  for t in $(seq 0 19); do
    team=$(printf 'team-%02d' "$t")
    admin POST /admin/budgets "{\"scope\":\"team\",\"subject\":\"$team\",\"period\":\"month\",\"soft\":50000,\"hard\":100000}" >/dev/null
    admin POST /admin/quota-rules "{\"name\":\"daily-$team\",\"limit_tokens\":1000000000000,\"cycle\":\"day\",\"time_zone\":\"UTC\",\"consumers\":[\"team:$team\"]}" >/dev/null
  done
  stop_gateway; startup=()
  if [ -n "$pg" ]; then target=(--postgres "$pg;Database=tollgate_bench_seed"); else target=(--sqlite "$seeded/data/tollgate.db"); fi
  "${tool[@]}" seed-ledger "${target[@]}" --records "$records" --days "$days" --drop-rollups | tee "$seeded/seed.txt"
  touch "$seeded/seeded"
fi

# 2. The requests of each console page (page|path), with the consumer page on the busiest key and its team's quota rule.
run_store() { # → the data dir (and PostgreSQL database) of one timed run: a fresh copy of the seeded ledger
  rm -rf "$work/data"; cp -r "$seeded/data" "$work/data"
  if [ -n "$pg" ]; then "${tool[@]}" postgres-db "$pg" drop tollgate_bench_run; "${tool[@]}" postgres-db "$pg" create tollgate_bench_run tollgate_bench_seed; fi
}
run_store
start_gateway "$work/data" "${pg:+tollgate_bench_run}"
key_id=$(admin GET /admin/keys | jq -r '[.[] | select(.role == "app")] | sort_by(.id) | .[0].id')
key_team=$(admin GET /admin/keys | jq -r --arg id "$key_id" '.[] | select(.id == $id) | .owner.team')
rule_id=$(admin GET /admin/quota-rules | jq -r --arg c "team:$key_team" '.[] | select(.consumers | index($c)) | .id')
now=$(date -u +%Y-%m-%dT%H:%M:%SZ); d30=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ); d90=$(date -u -d '90 days ago' +%Y-%m-%dT%H:%M:%SZ)
month=$(date -u +%Y-%m)
requests=(
  "Overview|/admin/reports/overview"
  "Overview|/admin/usage?from=$d30&to=$now&group_by=day,team"
  "Overview|/admin/usage?from=$d30&to=$now&group_by=day,model"
  "Overview|/admin/usage?from=$d30&to=$now&group_by=day,provider"
  "Consumer usage|/admin/quota-rules"
  "Consumer usage|/admin/quota-rules/$rule_id/usage"
  "Consumer usage|/admin/usage?from=$d30&to=$now&group_by=day&key=$key_id"
  "Budgets|/admin/budgets"
  "Keys|/admin/keys"
  "Usage explorer|/admin/usage?from=$d90&group_by=model"
  "Usage explorer|/admin/usage?from=$d90&group_by=team,day"
  "Chargeback|/admin/reports/chargeback?month=$month&by=team"
  "Chargeback|/admin/reports/chargeback?month=$month&by=team&format=csv"
  "Audit|/admin/audit"
  "Alerts|/admin/alerts"
)
time_ms() { # path → milliseconds (fails on anything but 200)
  local out; out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $master" "$base$1")
  [ "${out%% *}" = "200" ] || { echo "GET $1 → ${out%% *}" >&2; exit 1; }
  awk -v s="${out#* }" 'BEGIN{printf "%.1f", 1000 * s}'
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

declare -A cold warmth
for s in $(seq 1 "$starts"); do
  if [ "$s" -gt 1 ]; then stop_gateway; start_gateway "$work/data" "${pg:+tollgate_bench_run}"; fi
  for r in "${requests[@]}"; do cold[$r]+="$(time_ms "${r#*|}") "; done
done
for r in "${requests[@]}"; do
  cold[$r]=$(tr ' ' '\n' <<<"${cold[$r]}" | grep . | median)
  warmth[$r]=$(for _ in $(seq 1 "$warm"); do time_ms "${r#*|}"; echo; done | grep . | median)
done
total=$(admin GET /admin/usage | jq '.[0].requests')

echo
echo "| page | request | cold ms | warm ms |"
echo "|---|---|---|---|"
pages=(); for r in "${requests[@]}"; do p=${r%%|*}; [[ " ${pages[*]} " == *" $p "* ]] || pages+=("$p"); done
for p in "${pages[@]}"; do
  c=0; w=0
  for r in "${requests[@]}"; do
    [ "${r%%|*}" = "$p" ] || continue
    path=${r#*|}; path=${path//$d30/<30 days ago>}; path=${path//$d90/<90 days ago>}; path=${path//$now/<now>}
    echo "| $p | \`GET $path\` | ${cold[$r]} | ${warmth[$r]} |"
    c=$(awk -v a="$c" -v b="${cold[$r]}" 'BEGIN{print a + b}'); w=$(awk -v a="$w" -v b="${warmth[$r]}" 'BEGIN{print a + b}')
  done
  echo "| **$p** | **page total** | **$c** | **$w** |"
done
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $([ -n "$pg" ] && echo PostgreSQL || echo SQLite), $total usage records over $days days" \
  "($(cat "$seeded/seed.txt")); gateway $gateway;" \
  "seconds from start to /healthz: ${startup[*]} (the first start on this ledger backfills roll-ups when the build has them)."
[ "$total" = "$records" ]
