-- wrk script of the tracking-lookup benchmark (bench/tracking.sh): every request asks for one
-- tracking number drawn at random from the file TRACK_IDS (one a line), at the path
-- TRACK_PREFIX .. id, with `Authorization: Bearer TRACK_TOKEN` when that is set. At the end
-- it prints one line for the script to read:
--   RESULT requests/s p50_ms p90_ms p99_ms max_ms requests non2xx socket_errors
local ids = {}
local prefix = os.getenv("TRACK_PREFIX") or "/api/v1/tracking/"
local token = os.getenv("TRACK_TOKEN")
local headers = {}
if token and token ~= "" then
  headers["Authorization"] = "Bearer " .. token
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  for line in io.lines(os.getenv("TRACK_IDS")) do
    ids[#ids + 1] = line
  end
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  return wrk.format("GET", prefix .. ids[math.random(#ids)], headers)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT %.0f %.2f %.2f %.2f %.2f %d %d %d\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
