-- wrk script of scripts/bench/http: GET /api/v1/ip/{ip}, half the
-- addresses drawn from the relays listed in $RELAYS (one per line), half
-- uniformly from the IPv4 space. Prints p50/p99 in ms at the end.
local relays = {}
local f = io.open(os.getenv("RELAYS") or "", "r")
if f then
  for line in f:lines() do
    if #line > 0 then relays[#relays + 1] = line end
  end
  f:close()
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local ip
  if #relays > 0 and math.random() < 0.5 then
    ip = relays[math.random(#relays)]
  else
    ip = string.format("%d.%d.%d.%d", math.random(1, 223), math.random(0, 255),
      math.random(0, 255), math.random(1, 254))
  end
  return wrk.format("GET", "/api/v1/ip/" .. ip)
end

function done(summary, latency, requests)
  io.write(string.format("p50_ms %.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("p99_ms %.3f\n", latency:percentile(99) / 1000))
  io.write(string.format("max_ms %.3f\n", latency.max / 1000))
end
