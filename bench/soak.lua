-- wrk script for bench/soak.sh: mixed traffic against one generated server in
-- session mode, counted per kind of request, signing key and status.
--
--   wrk -t T -c C ... -s bench/soak.lua URL/mcp -- TOKENS_FILE SWITCH_FILE CALL_SESSIONS_FILE LOAD_SECONDS
--
-- Each thread repeats this cycle of 11 requests (8 units), in this order:
--
--   call       tools/call list_todos in one of the thread's long-lived sessions   200
--   call                                                                          200
--   no_token   tools/call without a token                                        401
--   call                                                                          200
--   no_scope   tools/call with a token lacking todo:read, no session             403
--   call                                                                          200
--   forged     tools/call with a forged token (known kid, bad signature)         401
--   session    a session opened and closed, 4 requests, each sent once the
--              previous one is answered:
--     open         initialize                                                    200
--     initialized  notifications/initialized                                     202
--     in_session   tools/call list_todos                                         200
--     close        DELETE                                                        202
--
-- wrk tells the script neither which connection sends a request nor which
-- request a response answers: every request carries its own X-Request-Id,
-- which the server echoes, and that finds the request (and so the session) a
-- response belongs to. A session's next step goes out on the next connection
-- free, before any new unit, so a thread holds at most one open session per
-- connection.
--
-- Principals (tokens from TOKENS_FILE, `name token` lines, bench/standin.mjs):
-- thread N sends its calls as `calls-N`, on the sessions of CALL_SESSIONS_FILE
-- (`calls-N ID` lines) opened before the run, and opens its short sessions as
-- `sessions-N`, so no principal nears the server's cap of 100 sessions.
--
-- Once SWITCH_FILE exists (bench/soak.sh writes it after the key rotation and
-- after the server accepted a token of the new key), every request is sent
-- with its tokens instead: the new key's. After LOAD_SECONDS a thread starts
-- no new session; once its open ones are closed, it stops.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("index", #threads)
end

-- The `name token` lines of a file, as a table; nil while it does not exist.
local function read_tokens(path)
   local file = io.open(path, "r")
   if not file then return nil end
   local tokens = {}
   for line in file:lines() do
      local name, token = line:match("^(%S+) (%S+)$")
      if name then tokens[name] = token end
   end
   file:close()
   return tokens
end

local expected = {
   call = 200, no_token = 401, no_scope = 403, forged = 401,
   open = 200, initialized = 202, in_session = 200, close = 202,
}
local cycle = { "call", "call", "no_token", "call", "no_scope", "call", "forged", "session" }
local protocol = "2025-11-25"
local bodies = {
   call = '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_todos","arguments":{}}}',
   open = '{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":"' .. protocol ..
      '","capabilities":{},"clientInfo":{"name":"soak","version":"1"}}}',
   initialized = '{"jsonrpc":"2.0","method":"notifications/initialized"}',
}
-- The step that follows each step of a session.
local next_step = { open = "initialized", initialized = "in_session", in_session = "close" }

function init(args)
   switch_file = args[2]
   tokens = assert(read_tokens(args[1]), "cannot read " .. args[1])
   key = 1
   load_until = os.time() + tonumber(args[4])
   calls_principal = "calls-" .. index
   sessions_principal = "sessions-" .. index
   call_sessions = {}
   for line in io.lines(args[3]) do
      local principal, id = line:match("^(%S+) (%S+)$")
      if principal == calls_principal then table.insert(call_sessions, id) end
   end
   assert(#call_sessions > 0, "no sessions for " .. calls_principal .. " in " .. args[3])
   seq, unit, next_call_session = 0, 0, 0
   -- Requests sent and not answered yet, by request id.
   pending = {}
   -- Short sessions whose next step can go, as { id, step }; how many are
   -- open (their initialize sent, their DELETE not answered); the ids of those
   -- the server opened and did not close, and the initializes not answered,
   -- which done() reports.
   ready, open_sessions, open_ids, opening = {}, 0, {}, 0
   draining = false
   -- "kind key status" -> responses; the 200s of tool calls without the tool's answer.
   counts, wrong_answers, unmatched = {}, 0, 0
end

-- A request of KIND with TOKEN (nil: none), on SESSION (nil: none).
local function build(kind, token, session, method, body)
   seq = seq + 1
   local id = index .. "-" .. seq
   local headers = {
      ["X-Request-Id"] = id,
      ["MCP-Protocol-Version"] = protocol,
   }
   if body then
      headers["Content-Type"] = "application/json"
      headers["Accept"] = "application/json, text/event-stream"
   end
   if token then headers["Authorization"] = "Bearer " .. token end
   if session then headers["Mcp-Session-Id"] = session end
   pending[id] = { kind = kind, key = key, session = session }
   return wrk.format(method, nil, headers, body)
end

local function session_step(session, step)
   local token = tokens["read:" .. sessions_principal]
   if step == "close" then return build(step, token, session, "DELETE", nil) end
   local body = step == "in_session" and bodies.call or bodies[step]
   return build(step, token, session, "POST", string.format(body, seq + 1))
end

function request()
   -- wrk calls this once in its main Lua state, without init, to check the
   -- request parses: any well-formed request does.
   if not tokens then return wrk.format("POST") end
   if key == 1 and seq % 256 == 0 then
      local switched = read_tokens(switch_file)
      if switched then tokens, key = switched, 2 end
   end
   if not draining and os.time() >= load_until then draining = true end
   local step = table.remove(ready, 1)
   if step then return session_step(step[1], step[2]) end

   unit = unit % #cycle + 1
   local kind = cycle[unit]
   if kind == "session" and draining then kind = "call" end
   local body = string.format(bodies.call, seq + 1)
   if kind == "call" then
      next_call_session = next_call_session % #call_sessions + 1
      return build(kind, tokens["read:" .. calls_principal], call_sessions[next_call_session], "POST", body)
   elseif kind == "no_token" then
      return build(kind, nil, nil, "POST", body)
   elseif kind == "no_scope" or kind == "forged" then
      return build(kind, tokens[kind], nil, "POST", body)
   end
   open_sessions, opening = open_sessions + 1, opening + 1
   return session_step(nil, "open")
end

function response(status, headers, body)
   local id = headers["x-request-id"]
   local sent = id and pending[id]
   if not sent then
      unmatched = unmatched + 1
      return
   end
   pending[id] = nil
   local count_key = sent.kind .. " " .. sent.key .. " " .. status
   counts[count_key] = (counts[count_key] or 0) + 1
   if (sent.kind == "call" or sent.kind == "in_session") and status == 200
      and not body:find("is not implemented yet", 1, true) then
      wrong_answers = wrong_answers + 1
   end

   -- A session goes on to its next step whatever the answer, so it is always
   -- closed; only an initialize that opened none ends it early.
   local session = sent.session
   if sent.kind == "open" then
      opening = opening - 1
      session = status == 200 and headers["mcp-session-id"]
      if session then open_ids[session] = true else open_sessions = open_sessions - 1 end
   end
   if session and next_step[sent.kind] then
      table.insert(ready, { session, next_step[sent.kind] })
   elseif sent.kind == "close" then
      open_sessions = open_sessions - 1
      if status == 202 then open_ids[session] = nil end
   end
   if draining and open_sessions == 0 then wrk.thread:stop() end
end

function done(summary, latency, requests)
   local totals, wrong, unknown, unanswered, errors = {}, 0, 0, 0, summary.errors
   for _, thread in ipairs(threads) do
      for count_key, count in pairs(thread:get("counts")) do
         totals[count_key] = (totals[count_key] or 0) + count
      end
      wrong = wrong + thread:get("wrong_answers")
      unknown = unknown + thread:get("unmatched")
      -- Sessions left open: their ids, and initializes never answered.
      local principal = thread:get("sessions_principal")
      for session_id in pairs(thread:get("open_ids")) do
         io.write(string.format("SOAK_OPEN %s %s\n", principal, session_id))
      end
      unanswered = unanswered + thread:get("opening")
   end
   -- Machine-readable lines for bench/soak.sh; wrk's own report is above them.
   for count_key, count in pairs(totals) do
      local kind, key, status = count_key:match("^(%S+) (%S+) (%S+)$")
      io.write(string.format("SOAK_COUNT %s %s %s %s %d\n", kind, expected[kind], key, status, count))
   end
   io.write(string.format("SOAK requests=%d duration_us=%d socket_errors=%d wrong_answers=%d unmatched=%d " ..
      "unanswered_opens=%d p50_us=%d p99_us=%d\n", summary.requests, summary.duration,
      errors.connect + errors.read + errors.write + errors.timeout, wrong, unknown, unanswered,
      latency:percentile(50), latency:percentile(99)))
end
