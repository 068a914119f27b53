#!/usr/bin/python3
"""bench/lib/callgrind.py - instructions per request, the stable measure.

    callgrind.py CONFIG.json      (written by bench/run --callgrind)

Wall-clock figures on a shared 2-core VM move by tens of percent; the
number of instructions a request costs does not. For each variant this
runs `httpd -X` (one process, the template's event MPM) under
`valgrind --tool=callgrind --separate-threads=yes` as the httpd user,
sends it N1 and then, in a fresh process, N2 identical requests at c=1 on
one keep-alive connection, stops it with SIGTERM (callgrind writes its
files at exit) and takes (cost(N2) - cost(N1)) / (N2 - N1): start-up,
the first request's cold caches, a keyed variant's one key lookup in
PostgreSQL and shutdown are in both runs and cancel out. User space only
(callgrind counts the instructions the process executes).

The threads are split in two: the child's background worker (the thread
whose file contains worker_main, mod_aura_worker.c; ingester_run before
the worker existed), which moves usage records into PostgreSQL and
reloads credentials, is reported on its own, per record it moved;
everything else (listener, workers, main) is the request path. The difference between the keyed and the anonymous
variant is broken down by function (self cost) and by object.

No request is sent before the counted ones: readiness is the listening
socket in /proc/net/tcp, not a probe request whose count would vary.
Standard library only.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

# ---------------------------------------------------------------- parsing

NAME_RE = re.compile(r"^\((\d+)\)(?: (.*))?$")
RECURSION = re.compile(r"'\d+$")     # callgrind's f'2: f called by itself
COMPRESSED = ("ob", "fl", "fi", "fe", "fn", "cob", "cfi", "cfl", "cfn")


def parse(path):
    """One callgrind file -> (total Ir, {fn: self Ir}, {object: self Ir},
    {fn: inclusive Ir}, names seen). Positions are line numbers (the
    default), one event (Ir)."""
    names = {k: {} for k in ("ob", "fl", "fn")}
    self_fn, self_ob, incl = {}, {}, {}
    fn, ob, total, after_call = "?", "?", None, False
    with open(path, errors="replace") as f:
        for line in f:
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                ir = int(parts[1]) if len(parts) > 1 else 0
                if after_call:
                    incl[fn] = incl.get(fn, 0) + ir
                    after_call = False
                else:
                    self_fn[fn] = self_fn.get(fn, 0) + ir
                    self_ob[ob] = self_ob.get(ob, 0) + ir
                continue
            key, _, val = line.rstrip("\n").partition("=")
            if key in COMPRESSED:
                kind = {"cob": "ob", "cfi": "fl", "cfl": "fl", "fi": "fl",
                        "fe": "fl", "cfn": "fn"}.get(key, key)
                m = NAME_RE.match(val)
                if m:
                    if m.group(2) is not None:
                        names[kind][m.group(1)] = m.group(2)
                    val = names[kind].get(m.group(1), "?" + m.group(1))
                if key == "fn":
                    # a symbol-less address means nothing without its object
                    val = RECURSION.sub("", val)
                    fn = f"{ob}:{val}" if val.startswith("0x") else val
                elif key == "ob":
                    ob = os.path.basename(val)
                continue
            if key == "calls":
                after_call = True
            elif line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    for k, v in self_fn.items():
        incl[k] = incl.get(k, 0) + v
    if total is None:
        total = sum(self_fn.values())
    return total, self_fn, self_ob, incl, set(names["fn"].values())


def collect(prefix):
    """Sum a run's thread files into request path and ingester."""
    d, base = os.path.split(prefix)
    out = {"request": zero(), "ingester": zero(), "threads": 0}
    for name in sorted(os.listdir(d)):
        if not name.startswith(base + "-") and name != base:
            continue
        total, sf, so, inc, fns = parse(os.path.join(d, name))
        background = "worker_main" in fns or "ingester_run" in fns
        part = out["ingester" if background else "request"]
        part["total"] += total
        add(part["fn"], sf)
        add(part["ob"], so)
        add(part["incl"], inc)
        out["threads"] += 1
    return out


def zero():
    return {"total": 0, "fn": {}, "ob": {}, "incl": {}}


def add(a, b, k=1):
    for n, v in b.items():
        a[n] = a.get(n, 0) + k * v


def per_req(big, small, n):
    """(big - small) / n for a part: totals and per-function dicts."""
    r = {"total": (big["total"] - small["total"]) / n}
    for key in ("fn", "ob", "incl"):
        d = {}
        add(d, big[key])
        add(d, small[key], -1)
        r[key] = {k: v / n for k, v in d.items() if v}
    return r


# ---------------------------------------------------------------- running

def listening(port):
    """Is 127.0.0.1:port in LISTEN state (no connection, no request)?"""
    want = ":%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                p = line.split()
                if p[1].endswith(want) and p[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def run_once(cfg, v, n, prefix):
    for name in os.listdir(os.path.dirname(prefix)):
        if name.startswith(os.path.basename(prefix)):
            os.unlink(os.path.join(os.path.dirname(prefix), name))
    # setpriv execs (su would stay as a parent): the pid is httpd's own.
    cmd = ["setpriv", f"--reuid={cfg['user']}", f"--regid={cfg['user']}",
           "--clear-groups", "valgrind", "--tool=callgrind", "-q",
           "--separate-threads=yes", f"--callgrind-out-file={prefix}",
           cfg["httpd"], "-X", "-f", os.path.join(v["root"], "httpd.conf")]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=open(prefix + ".log", "w"))
    try:
        deadline = time.monotonic() + 120
        while not listening(v["port"]):
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{v['id']}: httpd -X under callgrind did "
                                   f"not come up (see {prefix}.log)")
            time.sleep(0.2)
        send(cfg, v, n)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(180)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return collect(prefix)


def send(cfg, v, n):
    """n requests at c=1 on one keep-alive connection; each must be 200,
    with the tenant in the answer exactly when the variant sends a key."""
    h = {"Content-Type": "application/json"}
    for line in v["headers"]:
        k, val = line.split(":", 1)
        h[k.strip()] = val.strip()
    conn = None
    for i in range(n):
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", v["port"],
                                              timeout=120)
        conn.request("POST", v["path"], body=cfg["body"], headers=h)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"{v['id']}: HTTP {r.status}: {data[:200]!r}")
        if i == 0:
            has = b'"tenant"' in data
            if has != bool(v.get("expect_tenant")):
                raise RuntimeError(f"{v['id']}: tenant {'missing' if not has else 'unexpected'}"
                                   f" in the answer: {data[:300]!r}")
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


# ---------------------------------------------------------------- report

def top(d, k=8):
    return sorted(d.items(), key=lambda x: -abs(x[1]))[:k]


def diff(a, b):
    """(a - b) for the per-function, per-object and inclusive dicts."""
    out = {}
    for key in ("fn", "ob", "incl"):
        d = {}
        add(d, a[key])
        add(d, b[key], -1)
        out[key] = d
    return out


def report(cfg, res):
    n1, n2 = cfg["counts"]
    L = [f"mod_aura {cfg['rev']}, {cfg['date']}: callgrind, httpd -X, "
         f"({n2} - {n1} requests) / {n2 - n1}, user space only",
         f"request: POST <path> /v1/responses JSON, model {cfg['model']} "
         f"(Chat Completions upstream, the mock)", ""]
    L.append(f"{'variant':<34} {'request path':>14} {'ingester':>10}")
    for v in cfg["variants"]:
        r = res[v["id"]]
        L.append(f"{v['label']:<34} {r['request']['total']:>14,.0f} "
                 f"{r['ingester']['total']:>10,.0f}")
    if "key" in res and "anon" in res:
        k, a = res["key"]["request"], res["anon"]["request"]
        d = diff(k, a)
        L += ["", f"keyed - anonymous, request path: {k['total'] - a['total']:+,.0f} "
              "instructions/request", "", "by object (self):"]
        L += [f"  {v:>+9,.0f}  {n}" for n, v in top(d["ob"], 10) if abs(v) >= 1]
        L += ["", "by function (self):"]
        L += [f"  {v:>+9,.0f}  {n}" for n, v in top(d["fn"], 15) if abs(v) >= 1]
        L += ["", "inclusive (keyed / anonymous / difference):"]
        for fn in cfg["inclusive"]:
            ki, ai = k["incl"].get(fn, 0), a["incl"].get(fn, 0)
            L.append(f"  {ki:>9,.0f} {ai:>9,.0f} {ki - ai:>+9,.0f}  {fn}")
        pq = sum(v for n, v in k["ob"].items() if n.startswith("libpq"))
        L += ["", f"libpq on the request path, per keyed request: {pq:,.1f} "
              "instructions (the key is warm: no query)"]
        ing = res["key"]["ingester"]
        L += ["", f"ingester (background thread), per keyed request: "
              f"{ing['total']:,.0f}; by function (self):"]
        L += [f"  {v:>9,.0f}  {n}" for n, v in top(ing["fn"], 10) if abs(v) >= 1]
    if "anon" in res and "plain" in res:
        a, p = res["anon"]["request"], res["plain"]["request"]
        d = diff(a, p)
        L += ["", f"anonymous (tenancy on) - no tenancy, request path: "
              f"{a['total'] - p['total']:+,.0f} instructions/request; by function (self):"]
        L += [f"  {v:>+9,.0f}  {n}" for n, v in top(d["fn"], 10) if abs(v) >= 1]
    return "\n".join(L) + "\n"


def main():
    # bench/run's cleanup sends SIGTERM: leave through the finally blocks,
    # which stop the httpd under valgrind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cfg = json.load(open(sys.argv[1]))
    n1, n2 = cfg["counts"]
    os.makedirs(cfg["out"], exist_ok=True)
    res = {}
    for v in cfg["variants"]:
        runs = []
        for n in (n1, n2):
            print(f"==> callgrind {v['id']}: {n} requests", file=sys.stderr,
                  flush=True)
            t0 = time.monotonic()
            runs.append(run_once(cfg, v, n, os.path.join(
                cfg["out"], f"callgrind.{v['id']}.{n}")))
            print(f"    {time.monotonic() - t0:.0f} s, {runs[-1]['threads']} "
                  f"thread files", file=sys.stderr, flush=True)
        res[v["id"]] = {p: per_req(runs[1][p], runs[0][p], n2 - n1)
                        for p in ("request", "ingester")}
    text = report(cfg, res)
    with open(cfg["result"], "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
