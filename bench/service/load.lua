-- wrk script of the service benchmark: every request picks a random port and host from the
-- targets file and either binds them (POST /v1/ports/{id}/bindings) or asks for the decision
-- only (POST /v1/explain). Arguments: targets file, "bind" or "explain", bearer token.
-- At the end one line "vifbind-load {json}" carries the counts and latency percentiles.

local ports, hosts = {}, {}
local mode, headers
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  for line in io.lines(args[1]) do
    local kind, value = line:match("^(%a+) (.+)$")
    if kind == "port" then ports[#ports + 1] = value end
    if kind == "host" then hosts[#hosts + 1] = value end
  end
  mode = args[2]
  headers = { ["Authorization"] = "Bearer " .. args[3], ["Content-Type"] = "application/json" }
  math.randomseed(seed or 1)
end

function request()
  local port = ports[math.random(#ports)]
  local host = hosts[math.random(#hosts)]
  if mode == "bind" then
    return wrk.format("POST", "/v1/ports/" .. port .. "/bindings", headers,
      '{"host":"' .. host .. '"}')
  end
  return wrk.format("POST", "/v1/explain", headers,
    '{"port_id":"' .. port .. '","host":"' .. host .. '"}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'vifbind-load {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
