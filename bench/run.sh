#!/usr/bin/env bash
# Side-by-side benchmark: the mock provider directly, Tollgate with full governance, and the Portkey gateway,
# all in front of the same standalone mock, in one run on this machine, then the BenchmarkDotNet micro-benchmarks.
# Prints markdown tables: load (paced rates and a saturated closed loop; "tollgate-cache-hit" is a key whose every call
# the exact-match response cache answers), goals of issue 5, micro-benchmarks.
#   bash bench/run.sh            # full run (about 8 minutes)
#   bash bench/run.sh --smoke    # a few seconds per target, no Portkey: checks the harness end to end
# Environment: BENCH_DURATION (20s), BENCH_CONNECTIONS (32, closed loop), BENCH_RATES ("500 1000 2000 4000"),
#   BENCH_PORTKEY=0 (skip Portkey), BENCH_MICRO=0 (skip the micro-benchmarks), BENCH_KEEP=1 (leave processes running).
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
duration=${BENCH_DURATION:-20s}; connections=${BENCH_CONNECTIONS:-32}; warmup=5s; rates=${BENCH_RATES:-500 1000 2000 4000}
paced_duration=${BENCH_PACED_DURATION:-15s}
[ $smoke -eq 1 ] && { duration=2s; paced_duration=2s; connections=8; warmup=1s; rates=500; }
pace_ms=20 # each paced connection sends one request per 20 ms: rate R uses R/50 connections
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
# A second key whose calls the exact-match response cache answers (the wrk body never changes: every call after the
# first is a hit), to show the hit path beside the proxied one; same limits, quota and team budget as the first key.
cached_json=$(admin POST /admin/keys '{"name":"bench-cached","owner":{"team":"bench"},"limits":{"rpm":100000000,"tpm":1000000000000},"budget":{"period":"month","hard":1000000}}')
cached_key=$(sed -E 's/.*"key":"([^"]+)".*/\1/' <<<"$cached_json"); cached_id=$(sed -E 's/.*"id":"([^"]+)".*/\1/' <<<"$cached_json")
admin POST /admin/cache-policies "{\"scope\":\"key\",\"subject\":\"$cached_id\"}" >/dev/null

# name|url|model|key|pid|api
targets=("direct|http://127.0.0.1:$mock_port/v1/chat/completions|echo||$mock_pid|chat"
         "tollgate|http://127.0.0.1:$gw_port/v1/chat/completions|mock/echo|$key|$gw_pid|chat"
         "tollgate-cache-hit|http://127.0.0.1:$gw_port/v1/chat/completions|mock/echo|$cached_key|$gw_pid|chat"
         "direct-responses|http://127.0.0.1:$mock_port/v1/responses|echo||$mock_pid|responses"
         "tollgate-responses|http://127.0.0.1:$gw_port/v1/responses|mock/echo|$key|$gw_pid|responses")
if [ $smoke -eq 0 ] && [ "${BENCH_PORTKEY:-1}" = "1" ]; then
  (cd "$work" && npx -y @portkey-ai/gateway@1.15.2 --port="$pk_port" --headless >"$work/portkey.log" 2>&1) & pids+=($!)
  if wait_http "http://127.0.0.1:$pk_port/"; then
    pk_pid=$(pgrep -f "gateway --port=$pk_port" | tail -1 || true)
    [ -n "$pk_pid" ] && targets+=("portkey|http://127.0.0.1:$pk_port/v1/chat/completions|echo|sk-unused|$pk_pid|chat")
  fi
fi

load() { # name url model key pid api connections duration delay_ms → "rps= p50= p99= p999= requests= errors= cpu="
  local name=$1 url=$2 model=$3 bkey=$4 pid=$5 extra=""
  export BENCH_API=$6 BENCH_DELAY_MS=$9
  [ "$name" = "portkey" ] && extra="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$mock_port/v1"
  local t0 c0 out c1 t1; t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  out=$(BENCH_MODEL=$model BENCH_KEY=$bkey BENCH_EXTRA_HEADERS=$extra wrk -t2 -c"$7" -d"$8" -s bench/chat.lua "$url" | grep '^RESULT')
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  echo "$out cpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.0f", 100*(b-a)/hz/(e-s)}')"
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

# result[name|load] = "rps= p50= ... cpu=" ; load is a paced rate or "max" (closed loop)
declare -A result
for t in "${targets[@]}"; do
  IFS='|' read -r name url model bkey pid api <<<"$t"
  load "$name" "$url" "$model" "$bkey" "$pid" "$api" "$connections" "$warmup" 0 >/dev/null # JIT, connection pools
  if [ "$api" = "chat" ]; then
    for rate in $rates; do
      result[$name|$rate]=$(load "$name" "$url" "$model" "$bkey" "$pid" "$api" $((rate * pace_ms / 1000)) "$paced_duration" $pace_ms)
    done
  fi
  result[$name|max]="$(load "$name" "$url" "$model" "$bkey" "$pid" "$api" "$connections" "$duration" 0) ttfb=$(ttfb "$url" "$model" "$bkey" "$name" "$api") rss=$(peak_rss_mb "$pid")"
done

field() { local v; v=$(grep -oE "\b$2=[0-9.]+" <<<"${result[$1]:-}" | cut -d= -f2); echo "${v:-0}"; }
base_of() { case $1 in *responses) echo direct-responses ;; *) echo direct ;; esac; }
echo
echo "| target | load | RPS | p50 µs | p99 µs | p99.9 µs | added p50 µs | added p99 µs | RPS vs direct | CPU % | stream TTFB ms | peak RSS MB | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  IFS='|' read -r name _ _ _ _ api <<<"$t"
  loads=max; [ "$api" = "chat" ] && loads="$rates max"
  for l in $loads; do
    b="$(base_of "$name")|$l"; r="$name|$l"
    awk -v n="$name" -v l="$l" -v rps="$(field "$r" rps)" -v p50="$(field "$r" p50)" -v p99="$(field "$r" p99)" -v p999="$(field "$r" p999)" \
        -v d50="$(field "$b" p50)" -v d99="$(field "$b" p99)" -v drps="$(field "$b" rps)" -v cpu="$(field "$r" cpu)" -v err="$(field "$r" errors)" \
        -v ttfb="$([ "$l" = max ] && field "$r" ttfb || echo —)" -v rss="$([ "$l" = max ] && field "$r" rss || echo —)" \
        'BEGIN { direct = n ~ /^direct/
                 printf "| %s | %s | %.0f | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", n, l == "max" ? "closed loop, '"$connections"' conns" : "paced " l "/s",
                   rps, p50, p99, p999, direct ? "—" : p50 - d50, direct ? "—" : p99 - d99,
                   l == "max" ? sprintf("%.0f %%", 100 * rps / drps) : "—", cpu, ttfb, rss, err }'
  done
done
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/ {print $2}') GB;" \
  "wrk -t2; paced rows: one request per connection every ${pace_ms} ms for $paced_duration; closed loop: -c$connections -d$duration."

# Micro-benchmarks (BenchmarkDotNet, in process): the hot-path pieces with their allocations.
micro="$work/micro.txt"
if [ "${BENCH_MICRO:-1}" = "1" ]; then
  echo
  dotnet bench/Tollgate.Benchmarks/bin/Release/net10.0/Tollgate.Benchmarks.dll $([ $smoke -eq 1 ] && echo --smoke) >"$micro" 2>&1 || { cat "$micro"; exit 1; }
  sed -n '/^| Method/,/^$/p' "$micro"
fi

# Issue 5's goals, checked against this run.
added50=0; added99=0; top=""; for rate in $rates; do top=$rate; done
if [ -n "${result[tollgate|$top]:-}" ]; then
  added50=$(( $(field "tollgate|$top" p50) - $(field "direct|$top" p50) )); added99=$(( $(field "tollgate|$top" p99) - $(field "direct|$top" p99) ))
fi
ratio=$(awk -v a="$(field 'tollgate|max' rps)" -v b="$(field 'direct|max' rps)" 'BEGIN{printf "%.0f", 100*a/b}')
# The Mean column of SqliteLedgerWrite, in ns (BenchmarkDotNet picks ns, us/μs or ms per table).
ledger_ns=$(awk -F'|' '/^\| Method/ { for (i = 1; i <= NF; i++) if ($i ~ /^ *Mean *$/) col = i }
  /^\| SqliteLedgerWrite/ && col { v = $col; gsub(/[ ,]/, "", v); f = v ~ /ms$/ ? 1e6 : v ~ /(us|μs)$/ ? 1e3 : 1; sub(/[^0-9.]+$/, "", v); print v * f; exit }' "$micro" 2>/dev/null)
goal() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(awk -v ok="$4" 'BEGIN{print ok ? "met" : "**not met**"}')"; }
echo
echo "| goal (issue 5) | target | this run | |"
echo "|---|---|---|---|"
goal "added latency p50 at ${top}/s" "≤ 50 µs" "$added50 µs" "$([ "$added50" -le 50 ] && echo 1 || echo 0)"
goal "added latency p99 at ${top}/s" "≤ 500 µs" "$added99 µs" "$([ "$added99" -le 500 ] && echo 1 || echo 0)"
goal "throughput vs direct (closed loop)" "≥ 60 %" "$ratio %" "$([ "$ratio" -ge 60 ] && echo 1 || echo 0)"
if [ -n "${result[portkey|max]:-}" ]; then
  x=$(awk -v a="$(field 'tollgate|max' rps)" -v b="$(field 'portkey|max' rps)" 'BEGIN{printf "%.1f", a/b}')
  goal "throughput vs Portkey (closed loop)" "≥ 3 ×" "$x ×" "$(awk -v x="$x" 'BEGIN{print (x >= 3) ? 1 : 0}')"
fi
if [ -n "$ledger_ns" ]; then
  per_s=$(awk -v ns="$ledger_ns" 'BEGIN{printf "%.0f", 1e9/ns}')
  goal "SQLite ledger (SqliteLedgerWrite)" "≥ 20,000 records/s" "$per_s records/s" "$([ "$per_s" -ge 20000 ] && echo 1 || echo 0)"
fi
rss=$(field 'tollgate|max' rss)
goal "Tollgate peak RSS under load" "≤ 150 MB" "$rss MB" "$([ "$rss" -le 150 ] && echo 1 || echo 0)"

# Issue 16: the exact-match cache's hit path beside the proxied call, and the memory the embedding model costs (a
# semantic policy loads it; without one the gateway never does).
rss_now() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
rss_before=$(rss_now "$gw_pid")
admin POST /admin/cache-policies "{\"scope\":\"key\",\"subject\":\"$key_id\",\"semantic\":{\"enabled\":true}}" >/dev/null
for _ in $(seq 1 100); do sleep 0.2; [ "$(rss_now "$gw_pid")" -gt $((rss_before + 50)) ] && break; done; sleep 1
rss_after=$(rss_now "$gw_pid")
hit50=$(field "tollgate-cache-hit|$top" p50); proxied50=$(field "tollgate|$top" p50)
hit_rps=$(field 'tollgate-cache-hit|max' rps); proxied_rps=$(field 'tollgate|max' rps)
echo
echo "| goal (issue 16) | target | this run | |"
echo "|---|---|---|---|"
goal "exact hit vs proxied call, p50 at ${top}/s" "hit below proxied" "$hit50 µs vs $proxied50 µs" "$([ "$hit50" -lt "$proxied50" ] && echo 1 || echo 0)"
goal "exact hit vs proxied call, closed loop" "hit above proxied" "$(printf '%.0f' "$hit_rps") vs $(printf '%.0f' "$proxied_rps") calls/s" "$(awk -v a="$hit_rps" -v b="$proxied_rps" 'BEGIN{print (a > b) ? 1 : 0}')"
echo
echo "Gateway RSS before a semantic policy: $rss_before MB; with the embedding model loaded: $rss_after MB."

# The smoke run fails if Tollgate answered anything but 200 or recorded nothing.
tg_errors=$(( $(field 'tollgate|max' errors) + $(field "tollgate|$top" errors) ))
recorded=$(curl -sf "http://127.0.0.1:$gw_port/admin/usage?group_by=key" -H "Authorization: Bearer tg-bench-master" | grep -o '"requests":[0-9]*' | head -1 | cut -d: -f2)
echo
echo "tollgate: $recorded usage records, $tg_errors errors"
[ "$tg_errors" = "0" ] && [ "${recorded:-0}" -gt 0 ]
