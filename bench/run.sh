#!/usr/bin/env bash
# Side-by-side benchmark: the mock provider directly, Tollgate with full governance, and the Portkey gateway,
# all in front of the same standalone mock, in one run on this machine. Prints one markdown table.
#   bash bench/run.sh            # full run (about 3 minutes)
#   bash bench/run.sh --smoke    # a few seconds per target, no Portkey: checks the harness end to end
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
duration=${BENCH_DURATION:-20s}; connections=${BENCH_CONNECTIONS:-32}; warmup=5s
[ $smoke -eq 1 ] && { duration=2s; connections=8; warmup=1s; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f -- "--port=${pk_port:-none}" 2>/dev/null || true   # npx's children
  wait 2>/dev/null || true; rm -rf "$work"
}
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT

missing=(); for tool in wrk curl; do command -v $tool >/dev/null || missing+=($tool); done
if [ ${#missing[@]} -gt 0 ]; then sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; fi
dotnet build Tollgate.slnx -c Release -nologo -v quiet >/dev/null

free_port() { # a random loopback port nobody listens on (bash only)
  local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done
}
wait_http() { for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "timeout waiting for $1" >&2; return 1; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

mock_port=$(free_port); gw_port=$(free_port); pk_port=$(free_port)
dotnet tools/MockProvider/bin/Release/net10.0/Tollgate.MockProvider.dll --urls "http://127.0.0.1:$mock_port" >"$work/mock.log" 2>&1 & pids+=($!); mock_pid=$!
TOLLGATE_MASTER_KEY=tg-bench-master dotnet src/Tollgate.Gateway/bin/Release/net10.0/Tollgate.Gateway.dll \
  --urls "http://127.0.0.1:$gw_port" --data-dir "$work/data" >"$work/gateway.log" 2>&1 & pids+=($!); gw_pid=$!
wait_http "http://127.0.0.1:$mock_port/_mock/stats"; wait_http "http://127.0.0.1:$gw_port/healthz"

admin() { curl -sf -X "$1" "http://127.0.0.1:$gw_port$2" -H "Authorization: Bearer tg-bench-master" -H 'Content-Type: application/json' -d "$3"; }
admin POST /admin/providers "{\"name\":\"mock\",\"kind\":\"openai_compatible\",\"base_url\":\"http://127.0.0.1:$mock_port/v1\"}" >/dev/null
admin PUT /admin/prices/mock/echo '{"input_per_mtok":1,"output_per_mtok":2}' >/dev/null
key_json=$(admin POST /admin/keys '{"name":"bench","owner":{"team":"bench"},"limits":{"rpm":100000000,"tpm":1000000000000},"budget":{"period":"month","hard":1000000}}')
key=$(sed -E 's/.*"key":"([^"]+)".*/\1/' <<<"$key_json"); key_id=$(sed -E 's/.*"id":"([^"]+)".*/\1/' <<<"$key_json")
admin POST /admin/quota-rules "{\"name\":\"bench\",\"limit_tokens\":1000000000000,\"cycle\":\"day\",\"consumers\":[\"key:$key_id\",\"team:bench\"]}" >/dev/null
admin POST /admin/budgets '{"scope":"team","subject":"bench","period":"day","hard":1000000}' >/dev/null

# name|url|model|key|pid|api
targets=("direct|http://127.0.0.1:$mock_port/v1/chat/completions|echo||$mock_pid|chat"
         "tollgate|http://127.0.0.1:$gw_port/v1/chat/completions|mock/echo|$key|$gw_pid|chat"
         "direct-responses|http://127.0.0.1:$mock_port/v1/responses|echo||$mock_pid|responses"
         "tollgate-responses|http://127.0.0.1:$gw_port/v1/responses|mock/echo|$key|$gw_pid|responses")
if [ $smoke -eq 0 ] && [ "${BENCH_PORTKEY:-1}" = "1" ]; then
  (cd "$work" && npx -y @portkey-ai/gateway@1.15.2 --port="$pk_port" --headless >"$work/portkey.log" 2>&1) & pids+=($!)
  if wait_http "http://127.0.0.1:$pk_port/"; then
    pk_pid=$(pgrep -f "gateway --port=$pk_port" | tail -1 || true)
    [ -n "$pk_pid" ] && targets+=("portkey|http://127.0.0.1:$pk_port/v1/chat/completions|echo|sk-unused|$pk_pid|chat")
  fi
fi

run() { # name url model key pid api → "rps p50 p99 p999 errors cpu% rss"
  local name=$1 url=$2 model=$3 bkey=$4 pid=$5 extra=""
  export BENCH_API=$6
  [ "$name" = "portkey" ] && extra="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$mock_port/v1"
  BENCH_MODEL=$model BENCH_KEY=$bkey BENCH_EXTRA_HEADERS=$extra wrk -t2 -c"$connections" -d"$warmup" -s bench/chat.lua "$url" >/dev/null
  local t0 c0 out; t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  out=$(BENCH_MODEL=$model BENCH_KEY=$bkey BENCH_EXTRA_HEADERS=$extra wrk -t2 -c"$connections" -d"$duration" -s bench/chat.lua "$url" | grep '^RESULT')
  local c1 t1; c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  local cpu; cpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.0f", 100*(b-a)/hz/(e-s)}')
  echo "$out cpu=$cpu rss=$(peak_rss_mb "$pid")"
}

# Streaming: time to first byte through each target, median of sequential requests.
ttfb() { # url model key name api
  local extra=(); [ "$4" = "portkey" ] && extra=(-H "x-portkey-provider: openai" -H "x-portkey-custom-host: http://127.0.0.1:$mock_port/v1")
  local body="{\"model\":\"$2\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
  [ "$5" = "responses" ] && body="{\"model\":\"$2\",\"stream\":true,\"input\":\"hi\"}"
  for _ in $(seq 1 "$([ $smoke -eq 1 ] && echo 5 || echo 50)"); do
    curl -s -o /dev/null -w '%{time_starttransfer}\n' "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' "${extra[@]}" -d "$body"
  done | sort -n | awk '{v[NR]=$1} END {printf "%.2f", 1000*v[int((NR+1)/2)]}'
}

declare -A result
for t in "${targets[@]}"; do
  IFS='|' read -r name url model bkey pid api <<<"$t"
  result[$name]="$(run "$name" "$url" "$model" "$bkey" "$pid" "$api") ttfb=$(ttfb "$url" "$model" "$bkey" "$name" "$api")"
done

field() { sed -E "s/.*\b$2=([0-9.]+).*/\1/" <<<"${result[$1]}"; }
# Each row is compared with the direct row of the same API.
echo
echo "| target | RPS | p50 µs | p99 µs | p99.9 µs | added p50 µs | added p99 µs | RPS vs direct | stream TTFB ms | peak RSS MB | CPU % | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  name=${t%%|*}; base=direct; [ "${t##*|}" = "responses" ] && base=direct-responses
  direct_rps=$(field $base rps); direct_p50=$(field $base p50); direct_p99=$(field $base p99)
  awk -v n="$name" -v rps="$(field "$name" rps)" -v p50="$(field "$name" p50)" -v p99="$(field "$name" p99)" -v p999="$(field "$name" p999)" \
      -v d50="$direct_p50" -v d99="$direct_p99" -v drps="$direct_rps" -v ttfb="$(field "$name" ttfb)" -v rss="$(field "$name" rss)" \
      -v cpu="$(field "$name" cpu)" -v err="$(field "$name" errors)" \
      'BEGIN { printf "| %s | %.0f | %d | %d | %d | %s | %s | %.0f %% | %s | %s | %s | %s |\n", n, rps, p50, p99, p999,
               n ~ /^direct/ ? "—" : p50-d50, n ~ /^direct/ ? "—" : p99-d99, 100*rps/drps, ttfb, rss, cpu, err }'
done
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$connections -d$duration (closed loop; wrk2 constant-rate is not packaged in Debian)."
# The smoke run fails if Tollgate answered anything but 200 or recorded nothing.
tg_errors=$(field tollgate errors)
recorded=$(curl -sf "http://127.0.0.1:$gw_port/admin/usage?group_by=key" -H "Authorization: Bearer tg-bench-master" | grep -o '"requests":[0-9]*' | head -1 | cut -d: -f2)
echo "tollgate: $recorded usage records, $tg_errors errors"
[ "$tg_errors" = "0" ] && [ "${recorded:-0}" -gt 0 ]
