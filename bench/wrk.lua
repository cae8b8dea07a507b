-- wrk script for bench/run.sh and bench/compare.sh: sends one fixed request
-- and counts the responses whose status is not the one the scenario expects,
-- so a scenario that silently answers 400 or 429 instead of 200 (or 401, 403)
-- shows up.
--
--   wrk ... -s bench/wrk.lua URL -- EXPECTED_STATUS [METHOD [BODY_FILE [vary-token]]]
--
-- With `vary-token`, every request's bearer token differs from all others in
-- eight characters inside its signature (never the last ones, whose spare
-- bits a strict decoder checks): a server cannot answer it from what it
-- remembers of an earlier token, as with a stream of new forgeries.
--
-- Headers come from wrk's -H flags. wrk gives every thread its own Lua state,
-- so counts are kept per thread and summed in done().

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

function init(args)
   expected = tonumber(args[1])
   if args[2] then wrk.method = args[2] end
   if args[3] then
      local file = assert(io.open(args[3], "rb"))
      wrk.body = file:read("*a")
      file:close()
   end
   if args[4] == "vary-token" then
      local auth = assert(wrk.headers["Authorization"], "vary-token needs an Authorization header")
      auth_head, auth_tail = auth:sub(1, -21), auth:sub(-12)
      sent = 0
      request = varied_request
   end
   matched, unexpected, last_unexpected = 0, 0, 0
   -- Every status seen, with its count: a scenario may allow a known few others.
   statuses = {}
end

function varied_request()
   sent = sent + 1
   wrk.headers["Authorization"] = string.format("%s%02x%06x%s", auth_head, thread_id, sent % 0x1000000, auth_tail)
   return wrk.format()
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == expected then
      matched = matched + 1
   else
      unexpected = unexpected + 1
      last_unexpected = status
   end
end

function done(summary, latency, requests)
   local ok, bad, status, counts = 0, 0, 0, {}
   for _, thread in ipairs(threads) do
      ok = ok + thread:get("matched")
      bad = bad + thread:get("unexpected")
      local last = thread:get("last_unexpected")
      if last ~= 0 then status = last end
      for code, count in pairs(thread:get("statuses")) do
         counts[code] = (counts[code] or 0) + count
      end
   end
   local codes = {}
   for code in pairs(counts) do table.insert(codes, code) end
   table.sort(codes)
   for i, code in ipairs(codes) do codes[i] = code .. ":" .. counts[code] end
   -- One machine-readable line for the scripts; wrk's own report is above it.
   io.write(string.format("BENCH expected=%d matched=%d unexpected=%d last_unexpected=%d " ..
      "socket_errors=%d rps=%.1f p50_us=%d p99_us=%d requests=%d duration_us=%d statuses=%s\n",
      threads[1]:get("expected"), ok, bad, status,
      -- Non-2xx answers are expected in two scenarios; the status count above covers them.
      summary.errors.connect + summary.errors.read + summary.errors.write +
         summary.errors.timeout,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99),
      summary.requests, summary.duration, table.concat(codes, ",")))
end
