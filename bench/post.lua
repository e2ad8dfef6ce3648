-- wrk script for bench/run: POST a recovery of db1 and tally the answers.
--   wrk -t2 -c8 -d30s -s bench/post.lua http://127.0.0.1:PORT/servers/db1/operations -- IDS_DIR
-- Each thread counts 202s, 5xx and other statuses, and appends the IDs of
-- accepted operations to IDS_DIR/ids-<thread>.txt; done prints one line:
--   STATUS accepted=N 5xx=N other=N
wrk.method = "POST"
wrk.body = '{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh -p 22 -o BatchMode=yes postgres@db1-new", "destination_directory": "/var/lib/postgresql/restore"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  accepted, server_errors, other = 0, 0, 0
  local dir = args[1] or "."
  ids = io.open(dir .. "/ids-" .. tid .. ".txt", "w")
  ids:setvbuf("line")
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
    local id = body:match('"operation_id":%s*"([^"]+)"')
    ids:write(id or "NO-ID-IN-BODY", "\n")
  elseif status >= 500 then
    server_errors = server_errors + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, s, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    s = s + t:get("server_errors")
    o = o + t:get("other")
  end
  io.write(string.format("STATUS accepted=%d 5xx=%d other=%d\n", a, s, o))
end
