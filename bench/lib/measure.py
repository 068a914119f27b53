#!/usr/bin/python3
"""bench/lib/measure.py - the measuring half of bench/run.

bench/run installs, builds and starts the servers; this script loads them
with wrk, measures time to first event with its own client, samples RSS,
runs the soak and writes the results JSON. Standard library only.

    measure.py CONFIG.json   (written by bench/run; see there)

CPU placement (2 cores here; see docs/performance.md):
  c=1 and time to first event: every process on CPU 0 (load, mock, server):
      on this VM a wake-up across cores costs ~100 us, which would swamp
      the per-request cost being measured, for every server alike.
  c=64 and soak: the server under test alone on CPU 1; wrk and the mock
      on CPU 0 (for the direct row the mock is the server under test).
  PostgreSQL (the tenancy httpd's key store and ledger) stays on CPU 0.

Tenancy (issue 6): the rows of server "aura_t" (httpd + mod_aura with
AuraDatabase) are measured like the others; besides, PostgreSQL's own
pg_stat_statements is reset after the warm-up and read after the c=64
runs (what did the gateway ask while it was measured?), and the ledger is
checked against the access log (one usage row per keyed request).
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "post.lua")

# ---------------------------------------------------------------- payloads

SYSTEM = "You are a helpful assistant."
USER = "What is the weather like in San Francisco today?"


def chat_body(model, stream):
    b = {"model": model,
         "messages": [{"role": "system", "content": SYSTEM},
                      {"role": "user", "content": USER}],
         "max_tokens": 64}
    if stream:
        b["stream"] = True
        b["stream_options"] = {"include_usage": True}
    return json.dumps(b, separators=(",", ":"))


def resp_body(model, stream):
    b = {"model": model, "instructions": SYSTEM, "input": USER,
         "max_output_tokens": 64}
    if stream:
        b["stream"] = True
    return json.dumps(b, separators=(",", ":"))


# ---------------------------------------------------------------- processes

def proc_children():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    kids, out, todo = proc_children(), [], [pid]
    while todo:
        p = todo.pop()
        if os.path.exists(f"/proc/{p}"):
            out.append(p)
            todo.extend(kids.get(p, []))
    return out


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(root):
    return sum(status_kb(p, "VmRSS") for p in tree(root))


def hwm_kb(root):
    return sum(status_kb(p, "VmHWM") for p in tree(root))


def pin(root, cpus):
    """Set the CPU affinity of every thread of every process under root."""
    for p in tree(root):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tids:
            try:
                os.sched_setaffinity(int(t), cpus)
            except OSError:
                pass


class RssSampler(threading.Thread):
    """Peak of the summed VmRSS of each server's process tree."""

    def __init__(self, roots, interval=0.5):
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak = {n: 0 for n in roots}
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def sample(self):
        for n, pid in self.roots.items():
            self.peak[n] = max(self.peak[n], rss_kb(pid))

    def stop(self):
        self.stop_ev.set()
        self.join(5)
        self.sample()


# ---------------------------------------------------------------- wrk

def run_wrk(cfg, url, body, headers, conns, threads, total, cap_s, cpus):
    tmp = cfg["tmpdir"]
    bfile = os.path.join(tmp, "body.json")
    with open(bfile, "w") as f:
        f.write(body)
    done = os.path.join(tmp, "wrk.done")
    if os.path.exists(done):
        os.unlink(done)
    env = dict(os.environ, BENCH_BODY=bfile, BENCH_HEADERS="\n".join(headers),
               BENCH_REQS=str(max(1, total // threads)),
               BENCH_THREADS=str(threads), BENCH_DONEFILE=done)
    cmd = ["taskset", "-c", ",".join(map(str, sorted(cpus))), "wrk",
           f"-t{threads}", f"-c{conns}", f"-d{int(cap_s)}s", "--timeout", "10s",
           "--latency", "-s", LUA, url]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=cap_s + 30)
    m = re.search(r"^BENCHJSON (.*)$", p.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk failed: {p.stdout}\n{p.stderr}")
    r = json.loads(m.group(1))
    dur = r["duration_us"] / 1e6
    lat = r["latency_us"]
    errs = r["errors"]
    return {"requests": r["requests"], "seconds": round(dur, 3),
            "rps": round(r["requests"] / dur, 1) if dur else 0,
            "p50_us": lat["50"], "p90_us": lat["90"], "p99_us": lat["99"],
            "p999_us": lat["99.9"], "mean_us": lat["mean"], "max_us": lat["max"],
            "errors": sum(errs.values()), "non2xx": errs["status"],
            "capped": r["requests"] < total * 0.99}


# ---------------------------------------------------------------- probe

def http_post(port, path, body, headers, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json"}
    for line in headers:
        k, v = line.split(":", 1)
        h[k.strip()] = v.strip()
    c.request("POST", path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type", ""), data


def probe(row):
    """One request: does this path answer, and with a metered answer?"""
    try:
        st, ctype, data = http_post(row["port"], row["path"], row["body"],
                                    row["headers"])
    except (OSError, http.client.HTTPException) as e:
        return False, f"no answer ({e})"
    text = data.decode("utf-8", "replace")
    if st == 404 and row.get("na_on_404"):
        return False, row["na_on_404"]
    if st != 200:
        note = row.get("na_on_error")
        snippet = re.sub(r"\s+", " ", text)[:160]
        return False, (note + f" [HTTP {st}: {snippet}]") if note else \
            f"HTTP {st}: {snippet}"
    if row["stream"]:
        if "text/event-stream" not in ctype:
            return False, f"not a stream (Content-Type {ctype})"
        if "usage" not in text:
            return False, "stream without usage"
    else:
        try:
            obj = json.loads(text)
        except ValueError:
            return False, "invalid JSON"
        if "usage" not in obj:
            return False, "answer without usage"
    if row["server"] in ("aura", "aura_t") and '"aura"' not in text:
        return False, "answer without the aura enrichment"
    if "tenant" in row and ('"tenant"' in text) != row["tenant"]:
        return False, "answer without aura.tenant" if row["tenant"] else \
            "anonymous answer with aura.tenant"
    return True, ""


# ---------------------------------------------------------------- first event

CHAT_DELTA = re.compile(rb'"delta":\s*\{[^{}]*"content":\s*"[^"]')
RESP_DELTA = re.compile(rb'"type":\s*"response\.output_text\.delta"')


def ttfe(port, path, body, headers, api, samples, cap_s):
    """Time from the request's last byte sent to the arrival of the first
    content delta (and of the second: the gap shows that nothing buffers)."""
    pat = CHAT_DELTA if api == "chat" else RESP_DELTA
    hdr = "".join(f"{h}\r\n" for h in headers)
    req = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
           f"Content-Type: application/json\r\n{hdr}"
           f"Content-Length: {len(body)}\r\n\r\n{body}").encode()
    firsts, gaps, sock = [], [], None
    deadline = time.monotonic() + cap_s
    for _ in range(samples):
        if time.monotonic() > deadline:
            break
        if sock is None:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        t0 = time.perf_counter_ns()
        sock.sendall(req)
        t1 = t2 = None
        while True:
            chunk = sock.recv(65536)
            now = time.perf_counter_ns()
            if not chunk:
                sock.close()
                sock = None
                break
            buf += chunk
            if t2 is None:
                n = len(pat.findall(buf))
                if n >= 1 and t1 is None:
                    t1 = now
                if n >= 2:
                    t2 = now
            if buf.endswith(b"\r\n0\r\n\r\n"):
                break
        if t1 is not None:
            firsts.append((t1 - t0) / 1000)
            if t2 is not None:
                gaps.append((t2 - t1) / 1000)
        if sock is not None and b"connection: close" in buf[:2048].lower():
            sock.close()
            sock = None
    if sock is not None:
        sock.close()
    return {"samples": len(firsts), "p50_us": pct(firsts, 50),
            "p99_us": pct(firsts, 99), "min_us": min(firsts) if firsts else None,
            "gap_p50_us": pct(gaps, 50)}


def pct(xs, q):
    if not xs:
        return None
    s = sorted(xs)
    i = min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))
    return round(s[i], 1)


# ---------------------------------------------------------------- rows

def rows_for(cfg):
    m = cfg["mock"]["port"]
    px = cfg["servers"]["proxy"]["port"]
    au = cfg["servers"]["aura"]["port"]
    pk = cfg["servers"]["portkey"]["port"]
    pk_h = ["x-portkey-provider: openai",
            f"x-portkey-custom-host: http://127.0.0.1:{m}/v1",
            "Authorization: Bearer x"]
    fd = "n/a (front door not built yet)"
    R = []

    def row(id_, server, label, port, path, body, api, stream, up=None,
            headers=(), **kw):
        R.append(dict(id=id_, server=server, label=label, port=port, path=path,
                      body=body, api=api, stream=stream, upstream=up,
                      headers=list(headers), **kw))

    for s in (False, True):
        k = "sse" if s else "json"
        row(f"direct_chat_{k}", "direct", "direct to mock", m,
            "/v1/chat/completions", chat_body("gpt-bench", s), "chat", s, "chat")
        row(f"direct_resp_{k}", "direct", "direct to mock", m,
            "/v1/responses", resp_body("gpt-bench", s), "responses", s, "responses")
        row(f"proxy_chat_{k}", "proxy", "mod_proxy_http", px,
            "/v1/chat/completions", chat_body("gpt-bench", s), "chat", s, "chat")
        row(f"aura_resp_chatup_{k}", "aura", "mod_aura", au, "/v1/responses",
            resp_body("mock/gpt-bench", s), "responses", s, "chat")
        row(f"aura_resp_respup_{k}", "aura", "mod_aura", au, "/v1/responses",
            resp_body("mockr/gpt-bench", s), "responses", s, "responses")
        row(f"aura_chat_{k}", "aura", "mod_aura", au, "/v1/chat/completions",
            chat_body("mock/gpt-bench", s), "chat", s, "chat", na_on_404=fd)
        if not s and "aura_t" in cfg["servers"]:
            # Identity + ledger: the same request to the tenancy httpd,
            # without a key where AuraRequireKey is Off, and with one.
            at = cfg["servers"]["aura_t"]["port"]
            row("aura_t_resp_chatup_json_anon", "aura_t",
                "mod_aura + tenancy, anonymous", at, "/anon/v1/responses",
                resp_body("mock/gpt-bench", s), "responses", s, "chat",
                tenant=False)
            row("aura_t_resp_chatup_json_key", "aura_t",
                "mod_aura + tenancy, virtual key", at, "/v1/responses",
                resp_body("mock/gpt-bench", s), "responses", s, "chat",
                headers=[f"Authorization: Bearer {cfg['tenancy']['key']}"],
                tenant=True)
        row(f"portkey_chat_{k}", "portkey", "Portkey", pk,
            "/v1/chat/completions", chat_body("gpt-bench", s), "chat", s, "chat",
            headers=pk_h, na_on_error="n/a (Portkey failed)" if not s else
            "n/a (Portkey 1.15.2 streaming fails on Node: 'TypeError: "
            "immutable', Portkey-AI/gateway#1550)")
    return R


# ---------------------------------------------------------------- tenancy

KEY_LOOKUP = "%FROM virtual_keys k JOIN organizations%"   # mod_aura_auth.c
LEDGER_BATCH = "%json_to_recordset%"                      # mod_aura_ledger.c


def psql(cfg, sql):
    p = subprocess.run(cfg["tenancy"]["psql"] + ["-c", sql],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"psql: {p.stderr.strip()}")
    return p.stdout.strip()


def pg_reset(cfg):
    if cfg.get("tenancy", {}).get("pgss"):
        psql(cfg, "SELECT pg_stat_statements_reset()")


def pg_statements(cfg):
    """What the gateway asked PostgreSQL since pg_reset, by kind."""
    if not cfg["tenancy"]["pgss"]:
        return None
    k, b = KEY_LOOKUP, LEDGER_BATCH
    v = psql(cfg, f"""SELECT coalesce(sum(calls) FILTER (WHERE query LIKE '{k}'), 0),
        coalesce(sum(calls) FILTER (WHERE query LIKE '{b}'), 0),
        coalesce(sum(calls) FILTER (WHERE query NOT LIKE '{k}'
            AND query NOT LIKE '{b}' AND query NOT LIKE '%pg_stat_statements%'), 0)
        FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())""")
    lookups, batches, other = (int(x) for x in v.split("|"))
    texts = psql(cfg, f"""SELECT calls || ' ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 70)
        FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query NOT LIKE '{k}' AND query NOT LIKE '{b}'
          AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC""")
    return {"key_lookups": lookups, "ledger_batches": batches, "other": other,
            "other_queries": [x for x in texts.splitlines() if x]}


def ledger_check(cfg):
    """Every keyed request answered (access log of the tenancy httpd: /v1
    there is keyed only) should be one usage_ledger row once the
    ingesters have moved the spool (AuraUsageFlushInterval, 1 s)."""
    t = cfg["tenancy"]
    with open(t["access_log"], errors="replace") as f:
        served = sum(1 for line in f if '"POST /v1/responses ' in line
                     and '" 200 ' in line)
    t0 = time.monotonic()
    while True:
        rows = int(psql(cfg, "SELECT count(*) FROM usage_ledger"))
        if rows >= served or time.monotonic() - t0 > 15:
            break
        time.sleep(0.5)
    bad = [f for f in os.listdir(t["spool"]) if f.endswith(".bad")]
    return {"keyed_requests_served": served, "ledger_rows": rows,
            "waited_s": round(time.monotonic() - t0, 1),
            "bad_spool_files": len(bad)}


def server_root(cfg, name):
    if name == "direct":
        return cfg["mock"]["pid"]
    return cfg["servers"][name]["pid"]


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def main():
    cfg = json.load(open(sys.argv[1]))
    P = cfg["params"]
    load_cpu, srv_cpu = {0}, {1} if os.cpu_count() > 1 else {0}
    os.sched_setaffinity(0, load_cpu)
    roots = {"mock": cfg["mock"]["pid"], "mock_paced": cfg["mock_paced"]["pid"]}
    for n, s in cfg["servers"].items():
        roots[n] = s["pid"]
    if "tenancy" in cfg:
        roots["postgres"] = cfg["tenancy"]["pg_pid"]
    everything = list(roots.values())
    gateways = [n for n in ("proxy", "aura", "aura_t", "portkey") if n in roots]
    sampler = RssSampler({n: roots[n] for n in gateways})
    sampler.start()

    rows = rows_for(cfg)
    for r in rows:
        ok, note = probe(r)
        r["status"] = "ok" if ok else "n/a"
        r["note"] = note
        if not ok:
            log(f"{r['id']}: {note}")

    # warm-up (JIT, thread pools, upstream keep-alive), all on one core
    for p in everything:
        pin(p, load_cpu)
    for r in rows:
        if r["status"] != "ok":
            continue
        run_wrk(cfg, f"http://127.0.0.1:{r['port']}{r['path']}", r["body"],
                r["headers"], 8, 1, P["warmup"], 20, load_cpu)
    pg_reset(cfg)

    log(f"c=1: {P['c1_requests']} requests per row (all processes on CPU 0)")
    for r in rows:
        if r["status"] != "ok":
            continue
        r["c1"] = run_wrk(cfg, f"http://127.0.0.1:{r['port']}{r['path']}",
                          r["body"], r["headers"], 1, 1, P["c1_requests"],
                          P["cap_s"], load_cpu)
        log(f"  {r['id']:<24} {r['c1']['rps']:>9.0f} req/s  p50 {r['c1']['p50_us']} us"
            f"  p99 {r['c1']['p99_us']} us")

    log("time to first event (paced mock, all on CPU 0)")
    mp = cfg["mock_paced"]["port"]
    au = cfg["servers"]["aura"]["port"]
    tt = [("direct_chat", "direct to mock (Chat Completions)", mp,
           "/v1/chat/completions", chat_body("gpt-bench", True), "chat"),
          ("direct_resp", "direct to mock (Responses)", mp, "/v1/responses",
           resp_body("gpt-bench", True), "responses"),
          ("aura_resp_chatup", "mod_aura /v1/responses, Chat Completions upstream",
           au, "/v1/responses", resp_body("mockp/gpt-bench", True), "responses"),
          ("aura_resp_respup", "mod_aura /v1/responses, Responses upstream",
           au, "/v1/responses", resp_body("mockpr/gpt-bench", True), "responses")]
    fdoor = next(r for r in rows if r["id"] == "aura_chat_sse")
    if fdoor["status"] == "ok":
        tt.append(("aura_chat", "mod_aura /v1/chat/completions", au,
                   "/v1/chat/completions", chat_body("mockp/gpt-bench", True), "chat"))
    ttfe_res = []
    for id_, label, port, path, body, api in tt:
        t = ttfe(port, path, body, [], api, P["ttfe_samples"], P["cap_s"])
        t.update(id=id_, label=label)
        ttfe_res.append(t)
        log(f"  {id_:<18} first delta p50 {t['p50_us']} us p99 {t['p99_us']} us"
            f" (next delta +{t['gap_p50_us']} us)")

    log(f"c=64: {P['c64_requests']} requests per row (server on CPU 1, wrk+mock on CPU 0)")
    for r in rows:
        if r["status"] != "ok":
            continue
        for p in everything:
            pin(p, load_cpu)
        pin(server_root(cfg, r["server"]), srv_cpu)
        r["c64"] = run_wrk(cfg, f"http://127.0.0.1:{r['port']}{r['path']}",
                           r["body"], r["headers"], 64, 2, P["c64_requests"],
                           P["cap_s"], load_cpu)
        log(f"  {r['id']:<24} {r['c64']['rps']:>9.0f} req/s  p50 {r['c64']['p50_us']} us"
            f"  p99 {r['c64']['p99_us']} us")
    tenancy = None
    if "tenancy" in cfg:
        key = next(r for r in rows if r["id"] == "aura_t_resp_chatup_json_key")
        tenancy = {"key_cache_ttl_s": cfg["tenancy"]["key_cache_ttl_s"],
                   "measured_keyed_requests": sum(key.get(k, {}).get("requests", 0)
                                                  for k in ("c1", "c64")),
                   "pg_statements": pg_statements(cfg)}
        tenancy.update(ledger_check(cfg))
        log(f"tenancy: {tenancy}")
    sampler.stop()
    rss = {n: {"peak_rss_kb": sampler.peak[n], "hwm_sum_kb": hwm_kb(roots[n]),
               "processes": len(tree(roots[n]))}
           for n in gateways}
    rss["direct"] = {"peak_rss_kb": rss_kb(roots["mock"]),
                     "hwm_sum_kb": hwm_kb(roots["mock"]), "processes": 1}

    soak = run_soak(cfg, roots, load_cpu, srv_cpu) if P["soak"] > 0 else None

    for r in rows:
        for k in ("port", "headers"):
            r.pop(k, None)
    out = {"meta": cfg["meta"], "params": P, "rows": rows, "ttfe": ttfe_res,
           "rss": rss, "soak": soak, "tenancy": tenancy}
    with open(cfg["out"], "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    log(f"wrote {cfg['out']}")


def run_soak(cfg, roots, load_cpu, srv_cpu):
    P = cfg["params"]
    total = P["soak"]
    step = max(10000, min(100000, total // 10))
    au = cfg["servers"]["aura"]["port"]
    body = resp_body("mock/gpt-bench", False)
    for p in roots.values():
        pin(p, load_cpu)
    pin(roots["aura"], srv_cpu)
    log(f"soak: {total} requests to mod_aura /v1/responses at c=64, RSS after every {step}")
    start_kb = rss_kb(roots["aura"])
    samples = [{"requests": 0, "rss_kb": start_kb, "t": 0.0}]
    sampler = RssSampler({"aura": roots["aura"]}, interval=2.0)
    sampler.start()
    t0, done, errors, deadline = time.monotonic(), 0, 0, time.monotonic() + P["soak_cap_s"]
    while done < total and time.monotonic() < deadline:
        n = min(step, total - done)
        r = run_wrk(cfg, f"http://127.0.0.1:{au}/v1/responses", body, [], 64, 2,
                    n, max(10, deadline - time.monotonic()), load_cpu)
        done += r["requests"]
        errors += r["errors"]
        samples.append({"requests": done, "rss_kb": rss_kb(roots["aura"]),
                        "t": round(time.monotonic() - t0, 2), "rps": r["rps"]})
        log(f"  {done:>9} requests  RSS {samples[-1]['rss_kb']} kB  {r['rps']:.0f} req/s")
    sampler.stop()
    elapsed = time.monotonic() - t0
    # growth after warm-up: least squares over the samples after the first step
    pts = [(s["requests"], s["rss_kb"]) for s in samples[1:]]
    slope = None
    if len(pts) >= 2:
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        sxx = sum((x - mx) ** 2 for x, _ in pts)
        slope = sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else 0.0
    return {"requests": done, "errors": errors, "seconds": round(elapsed, 1),
            "rps": round(done / elapsed, 1) if elapsed else 0,
            "start_kb": start_kb, "peak_kb": max(sampler.peak["aura"],
                                                 max(s["rss_kb"] for s in samples)),
            "end_kb": samples[-1]["rss_kb"],
            "after_first_step_kb": samples[1]["rss_kb"] if len(samples) > 1 else None,
            "growth_kb_per_100k": round(slope * 100000, 1) if slope is not None else None,
            "samples": samples}


if __name__ == "__main__":
    main()
