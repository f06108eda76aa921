-- wrk script: POST a non-streaming chat completion (or Responses call). Environment:
--   BENCH_MODEL (model name as the target expects it), BENCH_KEY (bearer key, optional),
--   BENCH_EXTRA_HEADERS ("Name: value|Name: value", e.g. Portkey's routing headers), BENCH_API (chat|responses),
--   BENCH_DELAY_MS: each connection waits this long before its next request, which paces the load at about
--   connections * 1000 / BENCH_DELAY_MS requests/s (wrk2's constant rate is not packaged in Debian).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
local extra = os.getenv("BENCH_EXTRA_HEADERS") or ""
for pair in string.gmatch(extra, "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end
local model = os.getenv("BENCH_MODEL") or "echo"
if os.getenv("BENCH_API") == "responses" then
  wrk.body = '{"model":"' .. model .. '","max_output_tokens":16,"input":"How much does this call cost?"}'
else
  wrk.body = '{"model":"' .. model .. '","max_tokens":16,"messages":[{"role":"user","content":"How much does this call cost?"}]}'
end

local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if pace > 0 then
  delay = function() return pace end
end

-- One machine-readable line: requests/s, latency percentiles in microseconds, errors.
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50=%d p99=%d p999=%d requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    summary.requests, errors))
end
