-- bench/lib/post.lua - wrk script for bench/run: POST a fixed body with
-- fixed headers, stop each thread after a fixed number of responses, and
-- print one JSON line of results.
--
-- Environment:
--   BENCH_BODY      file holding the request body (JSON)
--   BENCH_HEADERS   extra headers, one "Name: value" per line
--   BENCH_REQS      responses per wrk thread before it stops (0 = until -d)
--   BENCH_THREADS   number of wrk threads (-t)
--   BENCH_DONEFILE  scratch file the threads count themselves done in
--
-- wrk's main thread sleeps for the whole -d even after every thread has
-- called wrk.thread:stop(), and then divides by that time. So the last
-- thread to finish sends wrk SIGINT (wrk's own early-stop signal), which
-- makes the run, and wrk's duration, end when the requests are done.

local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
   local k, v = line:match("^([^:]+):%s*(.-)%s*$")
   if k then wrk.headers[k] = v end
end

local limit = tonumber(os.getenv("BENCH_REQS") or "0") or 0
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1") or 1
local donefile = os.getenv("BENCH_DONEFILE") or ""
local n, stopped = 0, false

local function finish()
   stopped = true
   wrk.thread:stop()
   if donefile ~= "" then
      -- io.popen, not os.execute: system() ignores SIGINT while it waits.
      local sh = io.popen(string.format(
         "echo x >> '%s'; [ \"$(wc -l < '%s')\" -ge %d ] && kill -INT $PPID",
         donefile, donefile, nthreads))
      sh:close()
   end
end

function response(status, headers, body)
   if stopped then return end
   n = n + 1
   if limit > 0 and n >= limit then finish() end
end

function done(summary, latency, requests)
   local e = summary.errors
   local p = {}
   for _, q in ipairs({50, 90, 99, 99.9}) do
      p[#p + 1] = string.format('"%s":%d', tostring(q), latency:percentile(q))
   end
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"max":%d,"stdev":%.1f,%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.max, latency.stdev, table.concat(p, ",")))
end
