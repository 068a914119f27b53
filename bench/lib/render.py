#!/usr/bin/python3
"""bench/lib/render.py - results JSON -> Markdown report + SVG plot.

    render.py RESULTS.json OUT.md OUT.svg SVG_HREF [WALL_SECONDS]

Standard library only, so docs/performance.md can be regenerated from the
committed bench/results/latest.json without re-running the benchmark.
"""

import json
import math
import os
import sys

TARGET_PROXY_RATIO = 0.9
TARGET_PORTKEY_RATIO = 10
TARGET_ADD_P50 = 100
TARGET_ADD_P99 = 500
TARGET_TTFE = 1000
FLAT_KB_PER_100K = 100      # < ~1 byte per request
SOAK_MIN = 1000000

ENDPOINT = {"chat": "POST /v1/chat/completions", "responses": "POST /v1/responses"}


def fmt(x, unit=""):
    if x is None:
        return "–"
    if isinstance(x, float) and not x.is_integer():
        x = round(x, 1)
    if isinstance(x, float):
        x = int(x)
    return f"{x:,}{unit}"


def by_id(res):
    return {r["id"]: r for r in res["rows"]}


def direct_for(rows, r):
    k = "sse" if r["stream"] else "json"
    d = rows.get(f"direct_{'chat' if r['upstream'] == 'chat' else 'resp'}_{k}")
    return d if d and d.get("status") == "ok" else None


def added(rows, r):
    d = direct_for(rows, r)
    if not d or "c1" not in r:
        return None, None
    return (r["c1"]["p50_us"] - d["c1"]["p50_us"], r["c1"]["p99_us"] - d["c1"]["p99_us"])


def describe(r):
    s = ENDPOINT[r["api"]] + (" SSE" if r["stream"] else " JSON")
    if r["server"] in ("aura", "aura_t"):
        s += ", upstream " + ("Chat Completions" if r["upstream"] == "chat" else "Responses")
    return s


def table(res):
    rows = by_id(res)
    out = ["| server | request | c=1 req/s | c=1 p50 | c=1 p99 | added p50 / p99 vs direct (c=1) "
           "| c=64 req/s | c=64 p50 | c=64 p99 | peak RSS |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    order = ["direct", "proxy", "aura", "aura_t", "portkey"]
    for srv in order:
        for r in res["rows"]:
            if r["server"] != srv:
                continue
            label = r["label"]
            if r.get("status") != "ok":
                out.append(f"| {label} | {describe(r)} | {r['note']} | | | | | | | |")
                continue
            c1, c64 = r.get("c1", {}), r.get("c64", {})
            a50, a99 = added(rows, r) if srv != "direct" else (None, None)
            add = "–" if a50 is None else f"{fmt(a50)} / {fmt(a99)} µs"
            rss = res["rss"].get(srv, {}).get("peak_rss_kb")
            flag = lambda m: " ⚠" if m.get("errors") else ""
            out.append(
                f"| {label} | {describe(r)} | {fmt(c1.get('rps'))}{flag(c1)} | "
                f"{fmt(c1.get('p50_us'))} µs | {fmt(c1.get('p99_us'))} µs | {add} | "
                f"{fmt(c64.get('rps'))}{flag(c64)} | {fmt(c64.get('p50_us'))} µs | "
                f"{fmt(c64.get('p99_us'))} µs | "
                f"{fmt(round(rss / 1024, 1)) + ' MiB' if rss else '–'} |")
    return "\n".join(out)


def targets(res):
    rows = by_id(res)
    T = []
    aura_json = [r for r in res["rows"] if r["server"] == "aura" and not r["stream"]
                 and r.get("status") == "ok"]
    proxy, pk = rows.get("proxy_chat_json"), rows.get("portkey_chat_json")

    def ratio_target(name, ref, factor):
        if not ref or ref.get("status") != "ok" or not aura_json:
            return (name, "not measured", "reference row missing")
        figs, ok = [], True
        for r in aura_json:
            q = r["c64"]["rps"] / ref["c64"]["rps"]
            ok &= q >= factor
            figs.append(f"{describe(r)}: {fmt(r['c64']['rps'])} req/s = {q:.2f}×")
        return (name, "met" if ok else "missed",
                f"reference {fmt(ref['c64']['rps'])} req/s; " + "; ".join(figs))

    T.append(ratio_target(f"non-streaming throughput at c=64 ≥ {TARGET_PROXY_RATIO} × mod_proxy_http",
                          proxy, TARGET_PROXY_RATIO))
    T.append(ratio_target(f"non-streaming throughput at c=64 ≥ {TARGET_PORTKEY_RATIO} × Portkey",
                          pk, TARGET_PORTKEY_RATIO))
    figs, ok50, ok99 = [], True, True
    for r in aura_json:
        a50, a99 = added(rows, r)
        if a50 is None:
            continue
        ok50 &= a50 <= TARGET_ADD_P50
        ok99 &= a99 <= TARGET_ADD_P99
        figs.append(f"{describe(r)}: +{fmt(a50)} / +{fmt(a99)} µs")
    T.append((f"added latency vs direct at c=1, p50 ≤ {TARGET_ADD_P50} µs (non-streaming)",
              "met" if ok50 and figs else "missed", "; ".join(figs) + " (p50 / p99)"))
    T.append((f"added latency vs direct at c=1, p99 ≤ {TARGET_ADD_P99} µs (non-streaming)",
              "met" if ok99 and figs else "missed", "; ".join(figs) + " (p50 / p99)"))
    tt = {t["id"]: t for t in res["ttfe"]}
    figs, ok, ok99 = [], True, True
    pace = res["params"]["paced_mock"]["pace_us"]
    for aid, did in (("aura_resp_chatup", "direct_chat"), ("aura_resp_respup", "direct_resp"),
                     ("aura_chat", "direct_chat")):
        a, d = tt.get(aid), tt.get(did)
        if not a or not d or a["p50_us"] is None or d["p50_us"] is None:
            continue
        dp50 = a["p50_us"] - d["p50_us"]
        dp99 = a["p99_us"] - d["p99_us"]
        unbuffered = a["gap_p50_us"] is not None and a["gap_p50_us"] >= 0.5 * pace
        ok &= dp50 <= TARGET_TTFE and unbuffered
        ok99 &= dp99 <= TARGET_TTFE
        figs.append(f"{a['label']}: +{fmt(dp50)} µs p50, +{fmt(dp99)} µs p99 "
                    f"after direct; next delta {fmt(a['gap_p50_us'])} µs later "
                    f"(mock paces {pace} µs: {'not buffered' if unbuffered else 'BUFFERED'})")
    verdict = "missed" if not (ok and figs) else \
        "met" if ok99 else "met at p50, missed at p99"
    T.append((f"streaming: first event ≤ {TARGET_TTFE} µs after the upstream's, no buffering",
              verdict, "; ".join(figs)))
    s = res.get("soak")
    if not s:
        T.append(("RSS flat over ≥ 1M requests", "not measured", "soak disabled"))
    else:
        g = late_growth(s)
        flat = g is not None and g <= FLAT_KB_PER_100K
        verdict = ("met" if flat else "missed") if s["requests"] >= SOAK_MIN else \
            f"not checked (soak of {fmt(s['requests'])} < 1M requests)" + \
            ("; flat so far" if flat else "; growing")
        T.append(("RSS flat over ≥ 1M requests", verdict,
                  f"{fmt(s['requests'])} requests: start {fmt(s['start_kb'])} kB, "
                  f"peak {fmt(s['peak_kb'])} kB, end {fmt(s['end_kb'])} kB; "
                  f"growth over the second half {fmt(g)} kB per 100k requests "
                  f"(after the first step: {fmt(s['growth_kb_per_100k'])}; "
                  f"flat = ≤ {FLAT_KB_PER_100K} kB per 100k, under 1 byte per request)"))
    return T


def late_growth(s):
    """RSS growth (kB per 100k requests, least squares) over the second half
    of the soak: the first half includes the warm-up (threads, arenas)."""
    half = s["requests"] / 2
    pts = [(x["requests"], x["rss_kb"]) for x in s["samples"] if x["requests"] >= half]
    if len(pts) < 2:
        return s["growth_kb_per_100k"]
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / sxx * 100000, 1) if sxx else 0.0


# ---------------------------------------------------------------- SVG

COLORS = ["#444444", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
          "#e377c2", "#17becf", "#bcbd22", "#ff7f0e", "#7f7f7f", "#aec7e8",
          "#98df8a", "#ff9896", "#c5b0d5", "#c49c94"]
PCTS = [("p50_us", "50"), ("p90_us", "90"), ("p99_us", "99"), ("p999_us", "99.9")]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(res):
    ok = [r for r in res["rows"] if r.get("status") == "ok" and "c1" in r]
    PW, PH, L, TOP, GAP = 370, 360, 85, 60, 80
    W = L + 2 * PW + GAP + 40
    H = TOP + PH + 50 + 18 * ((len(ok) + 1) // 2) + 40
    panels = [("c1", "c=1 (latency)"), ("c64", "c=64 (throughput)")]
    vals = [r[k][p] for r in ok for k, _ in panels if k in r for p, _ in PCTS if r[k][p] > 0]
    lo = 10 ** math.floor(math.log10(max(1, min(vals))))
    hi = 10 ** math.ceil(math.log10(max(vals)))
    ly = lambda v: TOP + PH - (math.log10(max(v, lo)) - math.log10(lo)) / \
        (math.log10(hi) - math.log10(lo)) * PH
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W/2}" y="24" text-anchor="middle" font-size="16">'
         f'Latency percentiles (µs, log scale) — {esc(res["meta"]["command"])}, '
         f'{esc(res["meta"]["date"])}</text>']
    for pi, (key, title) in enumerate(panels):
        x0 = L + pi * (PW + GAP)
        o.append(f'<text x="{x0 + PW/2}" y="{TOP - 10}" text-anchor="middle" '
                 f'font-size="14">{title}</text>')
        o.append(f'<rect x="{x0}" y="{TOP}" width="{PW}" height="{PH}" fill="none" stroke="#999"/>')
        d = lo
        while d <= hi:
            for m in (1, 2, 5):
                v = d * m
                if v > hi:
                    break
                y = ly(v)
                o.append(f'<line x1="{x0}" x2="{x0+PW}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="{"#ddd" if m == 1 else "#f2f2f2"}"/>')
                if pi == 0 or m == 1:
                    o.append(f'<text x="{x0-6}" y="{y+4:.1f}" text-anchor="end" '
                             f'fill="#555">{int(v):,}</text>')
            d *= 10
        xs = [x0 + 20 + i * (PW - 40) / (len(PCTS) - 1) for i in range(len(PCTS))]
        for x, (_, lab) in zip(xs, PCTS):
            o.append(f'<text x="{x:.1f}" y="{TOP+PH+18}" text-anchor="middle">p{lab}</text>')
        for ci, r in enumerate(ok):
            if key not in r:
                continue
            pts = " ".join(f"{x:.1f},{ly(r[key][p]):.1f}" for x, (p, _) in zip(xs, PCTS))
            c = COLORS[ci % len(COLORS)]
            dash = ' stroke-dasharray="5,3"' if r["stream"] else ""
            o.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
            for x, (p, _) in zip(xs, PCTS):
                o.append(f'<circle cx="{x:.1f}" cy="{ly(r[key][p]):.1f}" r="2.5" fill="{c}"/>')
    for ci, r in enumerate(ok):
        c = COLORS[ci % len(COLORS)]
        lx = 20 + (ci % 2) * (W / 2)
        y = TOP + PH + 45 + (ci // 2) * 18
        dash = ' stroke-dasharray="5,3"' if r["stream"] else ""
        o.append(f'<line x1="{lx}" x2="{lx+24}" y1="{y}" y2="{y}" stroke="{c}" '
                 f'stroke-width="2"{dash}/>')
        short = describe(r).replace("POST ", "").replace(", upstream ", " ← ")
        o.append(f'<text x="{lx+30}" y="{y+4}" font-size="11">{esc(r["label"])}: '
                 f'{esc(short)}</text>')
    o.append(f'<text x="{W/2}" y="{H-14}" text-anchor="middle" fill="#555">'
             f'dashed = SSE stream (time to the last byte). c=1: all processes on CPU 0; '
             f'c=64: server on CPU 1, wrk + mock on CPU 0.</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------- Markdown

def identity(res):
    """The tenancy section: keyed vs anonymous, and what PostgreSQL saw."""
    rows = by_id(res)
    anon, key = rows.get("aura_t_resp_chatup_json_anon"), rows.get("aura_t_resp_chatup_json_key")
    plain = rows.get("aura_resp_chatup_json")
    t = res.get("tenancy")
    if not (anon and key and t):
        return ""
    L = ["### Identity and the usage ledger (virtual keys, issue 6)\n",
         "A second httpd + mod_aura from the same template, with tenancy on: "
         "`AuraDatabase` (a throwaway PostgreSQL on a unix socket, migrated, "
         "one org and one key made by `aura-admin`), `AuraMasterKeyFile`, "
         "`AuraKeyCache shmcb`, a usage spool. The same `/v1/responses` JSON "
         "request (Chat Completions upstream) goes to `/anon/v1/responses`, "
         "a `<Location>` with `AuraRequireKey Off` (no key: no tenant, no "
         "ledger record), and to `/v1/responses` with `Authorization: Bearer "
         "sk-aura-…`. That key is warm: the cache is filled by the probe "
         f"before the warm-up and `AuraKeyCacheTTL` is {fmt(t['key_cache_ttl_s'])} s "
         "for the bench (default 30 s), so every measured keyed request is "
         "a socache hit, a SHA-256 and a compare; it gets `aura.tenant` and "
         "appends one ledger line to the spool. **The keyed row measures "
         "identity + ledger.** A background thread per child (the ingester) "
         "moves the spool into PostgreSQL every second.\n"]
    if anon.get("status") == "ok" and key.get("status") == "ok":
        a1, k1, a64, k64 = anon["c1"], key["c1"], anon["c64"], key["c64"]
        L.append("| | c=1 p50 | c=1 p99 | c=64 req/s | c=64 p50 |")
        L.append("|---|--:|--:|--:|--:|")
        if plain and plain.get("status") == "ok":
            L.append(f"| mod_aura without tenancy (same request, table above) | {fmt(plain['c1']['p50_us'])} µs | "
                     f"{fmt(plain['c1']['p99_us'])} µs | {fmt(plain['c64']['rps'])} | "
                     f"{fmt(plain['c64']['p50_us'])} µs |")
        for lab, r in (("tenancy, anonymous", anon), ("tenancy, virtual key", key)):
            L.append(f"| {lab} | {fmt(r['c1']['p50_us'])} µs | {fmt(r['c1']['p99_us'])} µs | "
                     f"{fmt(r['c64']['rps'])} | {fmt(r['c64']['p50_us'])} µs |")
        L.append(f"| **key − anonymous** | **{fmt(k1['p50_us'] - a1['p50_us'])} µs** | "
                 f"{fmt(k1['p99_us'] - a1['p99_us'])} µs | "
                 f"{k64['rps'] / a64['rps']:.2f}× | {fmt(k64['p50_us'] - a64['p50_us'])} µs |")
        L.append("")
        L.append("Wall-clock differences of a few µs are within this VM's noise; "
                 "the stable figure is the instruction count under "
                 "*Hot-path work* below (callgrind, `bench/run --callgrind`).\n")
    pg = t.get("pg_statements")
    n = fmt(t["measured_keyed_requests"])
    if pg is None:
        L.append("PostgreSQL's statements were not counted (no `pg_stat_statements`).")
    else:
        L.append(f"**Nothing on the request path waits for PostgreSQL.** While the "
                 f"rows were measured ({n} keyed requests at c=1 and c=64), "
                 f"PostgreSQL's `pg_stat_statements` saw **{fmt(pg['key_lookups'])} "
                 f"key lookups**, {fmt(pg['ledger_batches'])} ledger batches (one "
                 f"`INSERT … SELECT … json_to_recordset` per spool file, from the "
                 f"ingester threads) and {fmt(pg['other'])} other statements"
                 + (": " + "; ".join(f"`{q.partition(' ')[2]}…` × {q.partition(' ')[0]}"
                                     for q in pg["other_queries"])
                    if pg.get("other_queries") else "") + ".")
    ok = t["ledger_rows"] == t["keyed_requests_served"] and not t["bad_spool_files"]
    L.append(f"Ledger: {fmt(t['ledger_rows'])} `usage_ledger` rows for "
             f"{fmt(t['keyed_requests_served'])} keyed requests answered 200 "
             f"(access log, probe and warm-up included) when checked after the "
             f"c=64 runs" + (f" (after waiting {t['waited_s']} s for the ingesters)"
                             if t["waited_s"] else "") +
             f"; {t['bad_spool_files']} spool files refused{'' if ok else ' ⚠'}.\n")
    return "\n".join(L)


def markdown(res, svg_href, wall):
    m, P = res["meta"], res["params"]
    rows = by_id(res)
    L = []
    A = L.append
    A("# Performance\n")
    A("<!-- Generated by bench/lib/render.py from bench/results/latest.json; "
      "re-run bench/run to refresh. -->\n")
    A("mod_aura's reason to exist is that it costs almost nothing on the request "
      "path. `bench/run` measures it side by side with the floor (the mock "
      "upstream directly), Apache `mod_proxy_http` (the limit for any "
      "Apache-hosted gateway) and the Portkey gateway, in one run on one "
      "machine, against the same mock and payloads"
      + ("; and, with tenancy on, the same request anonymous and with a "
         "virtual key, to show what identity and the usage ledger cost"
         if res.get("tenancy") else "") + ".\n")
    A("## How to run\n")
    A("```sh\nbench/run              # full run: this page, its plot and bench/results/latest.json\n"
      "bench/run --quick      # ~1 minute smoke run into bench/results/quick.*\n"
      "bench/run --soak N     # soak length in requests (default 1,000,000; 0 = none)\n"
      "bench/run --profile    # perf profile of mod_aura under load: bench/results/profile.txt\n"
      "bench/run --callgrind  # instructions per request (no tenancy, anonymous, virtual key):\n"
      "                       # bench/results/callgrind.txt\n```\n")
    A("As root on Debian, from a clean clone: it installs what is missing (wrk, "
      "gcc, node/npm, the build deps; `npm ci` of the Portkey gateway pinned in "
      "`bench/package-lock.json`), builds mod_aura and the mock, starts every "
      "server on 127.0.0.1 (and a throwaway PostgreSQL on a unix socket in a "
      "temporary directory) and stops them on exit. Every load is bounded by a "
      "request count and a duration.\n")
    A("## This run\n")
    A(f"- command: `{m['command']}` ({m['date']}"
      + (f", {wall} s wall" if wall else "") + ")")
    A(f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, Linux {m['kernel']}, {m['os']}")
    A(f"- httpd {m['httpd']}, {m['mpm']}; mod_aura {m['mod_aura']}; wrk {m['wrk']}; "
      f"node {m['node']}; Portkey gateway {m['portkey']}; libcurl {m['curl']}")
    A(f"- load: wrk with a fixed number of requests ({fmt(P['c1_requests'])} at c=1, "
      f"{fmt(P['c64_requests'])} at c=64 with 2 threads), each run capped at "
      f"{P['cap_s']} s; {fmt(P['warmup'])} warm-up requests per row first")
    A(f"- mock upstream: {P['mock_words']}-word answers, no added latency; "
      f"first-event timing against a second mock that sends the events up to "
      f"the first delta at once, then paces the rest {P['paced_mock']['pace_us']} µs apart\n")
    A("## Results\n")
    A(table(res) + "\n")
    A("Latency is wrk's, from request sent to the last byte of the answer (for "
      "SSE rows: of the whole stream). *Added* is the p50 / p99 difference at "
      "c=1 against the direct row of the API the gateway speaks upstream. Peak "
      "RSS is the largest sampled sum of VmRSS over all processes of the server "
      "(httpd parent + children; node) during the load runs "
      "(sum of per-process VmHWM: "
      + ", ".join(f"{k} {fmt(round(v['hwm_sum_kb']/1024, 1))} MiB" for k, v in res["rss"].items())
      + "). ⚠ marks a run with errors or non-2xx answers.\n")
    px, pk = rows.get("proxy_chat_json"), rows.get("portkey_chat_json")
    aj = rows.get("aura_resp_chatup_json")
    if aj and aj.get("status") == "ok":
        ratios = []
        if px and px.get("status") == "ok":
            ratios.append(f"mod_aura / mod_proxy_http = **{aj['c64']['rps']/px['c64']['rps']:.2f}**")
        if pk and pk.get("status") == "ok":
            ratios.append(f"mod_aura / Portkey = **{aj['c64']['rps']/pk['c64']['rps']:.1f}**")
        A("Throughput ratios at c=64 (mod_aura `/v1/responses` JSON, Chat "
          "Completions upstream): " + ", ".join(ratios) + ".\n")
    ident = identity(res)
    if ident:
        A(ident)
    A(f"![latency percentiles]({svg_href})\n")
    A("### Time to first event (streams)\n")
    A("From the request's last byte sent to the arrival of the first content "
      "delta (`choices[].delta.content` / `response.output_text.delta`), "
      f"{fmt(P['ttfe_samples'])} samples each, one keep-alive connection, "
      "Python `time.perf_counter_ns`. *Next delta* is when the second delta "
      "arrived after the first: the mock sends it "
      f"{P['paced_mock']['pace_us']} µs later, so a value near that shows "
      "nothing buffers.\n")
    A("| path | samples | p50 | p99 | next delta (p50) |")
    A("|---|--:|--:|--:|--:|")
    for t in res["ttfe"]:
        A(f"| {t['label']} | {t['samples']} | {fmt(t['p50_us'])} µs | "
          f"{fmt(t['p99_us'])} µs | +{fmt(t['gap_p50_us'])} µs |")
    A("")
    s = res.get("soak")
    if s:
        A("### Soak (RSS over a long run)\n")
        A(f"mod_aura `/v1/responses` JSON at c=64: {fmt(s['requests'])} requests in "
          f"{s['seconds']} s ({fmt(s['rps'])} req/s, {s['errors']} errors). RSS of "
          f"all httpd processes: start {fmt(s['start_kb'])} kB, after the first "
          f"step {fmt(s['after_first_step_kb'])} kB, peak {fmt(s['peak_kb'])} kB, "
          f"end {fmt(s['end_kb'])} kB; growth (least squares) after the first step "
          f"{fmt(s['growth_kb_per_100k'])} kB per 100k requests, over the second "
          f"half **{fmt(late_growth(s))} kB per 100k requests**.\n")
        A("| requests | RSS kB | req/s of the step |")
        A("|--:|--:|--:|")
        for x in s["samples"]:
            A(f"| {fmt(x['requests'])} | {fmt(x['rss_kb'])} | {fmt(x.get('rps'))} |")
        A("")
    A("## Targets (issue 3)\n")
    A("| target | verdict | figures |")
    A("|---|---|---|")
    for name, verdict, figs in targets(res):
        A(f"| {name} | **{verdict}** | {figs} |")
    A("")
    prof = res.get("profile_txt")
    if prof:
        A("## Profile of mod_aura (`bench/run --profile`)\n")
        A("httpd + mod_aura under `/v1/responses` JSON load at c=64, "
          "`perf record --call-graph dwarf`, summarized by "
          "`bench/lib/perfsum.py` (shares of all sampled httpd CPU time):\n")
        A("```\n" + prof.rstrip() + "\n```\n")
    hot = res.get("hotpath_md")
    if hot:
        A(hot.rstrip() + "\n")
    A("## Method and caveats\n")
    A("- **Two cores, shared.** The load generator and the mock run on the "
      "same machine as the server under test. A wake-up across cores costs "
      "~100 µs on this VM (direct to the mock at c=1: p50 ~30 µs with wrk and "
      "the mock on one core, ~140 µs on two), which would swamp the "
      "per-request cost being measured. So, for every server alike: at c=1 "
      "and for first-event timing every process runs on CPU 0 (the figure is "
      "the work done on the path, handoffs included); at c=64 and in the "
      "soak, the server under test has CPU 1 to itself and wrk + mock share "
      "CPU 0 (for the direct row the mock is the server). Affinity is set with "
      "`sched_setaffinity` on every thread of every process of each server.")
    A("- **Same bytes.** Direct, mod_proxy_http and Portkey get the same Chat "
      "Completions body; mod_aura gets the Open Responses body of the same "
      "prompt (and, once the front door exists, the same Chat Completions "
      "body) and sends the mock Chat Completions (`mock/…`, "
      "`openai-compatible`) or Responses (`mockr/…`, `openai`) requests. "
      "mod_aura's answers are checked for `usage` and the `aura` object "
      "before a row is measured.")
    A("- **mod_proxy_http** is a second httpd from the same template "
      "(`conf/httpd.conf.in` less mod_aura: same event MPM settings, "
      "keep-alive, access log), with `ProxyPass /v1/ http://127.0.0.1:MOCK/v1/ "
      "keepalive=On`; backend connections are reused.")
    if res.get("tenancy"):
        A("- **Tenancy** is a third httpd + mod_aura from the same template with "
          "`AuraDatabase`, `AuraMasterKeyFile`, `AuraKeyCache shmcb`, "
          f"`AuraKeyCacheTTL {res['tenancy']['key_cache_ttl_s']}` and `AuraUsageSpool`; its "
          "`/v1` needs a key, its `/anon/v1` is `AuraRequireKey Off`. PostgreSQL runs on "
          "CPU 0 with the load; `pg_stat_statements` is reset after the warm-up and "
          "read after the c=64 runs. The rows without tenancy are unchanged "
          "(that httpd has no `AuraDatabase`).")
    A("- **Portkey** runs `build/start-server.js --headless` with "
      "NODE_ENV=production, preloaded with `bench/lib/loopback.cjs` so it "
      "listens on 127.0.0.1 only (it binds every interface otherwise), and is "
      "addressed with `x-portkey-provider: openai`, `x-portkey-custom-host` "
      "and `Authorization: Bearer x`. It is single-threaded, as deployed by "
      "its own docs.")
    A("- **wrk** stops each thread after its share of the requests "
      "(`bench/lib/post.lua`); the last thread to finish sends wrk SIGINT so "
      "that the duration, and so requests/s, end with the requests (wrk "
      "otherwise sleeps the whole `-d`). Rows marked n/a were probed and did "
      "not answer 200 with a metered answer; they fill in by themselves when "
      "they do.")
    A("- Throughput includes wrk's Lua response callback on every answer, "
      "for every row alike.")
    return "\n".join(L) + "\n"


def main():
    res = json.load(open(sys.argv[1]))
    prof = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "profile.txt")
    if os.path.exists(prof):
        res["profile_txt"] = open(prof).read()
    hot = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "hotpath.md")
    if os.path.exists(hot):
        res["hotpath_md"] = open(hot).read()
    md_path, svg_path, href = sys.argv[2], sys.argv[3], sys.argv[4]
    wall = sys.argv[5] if len(sys.argv) > 5 else None
    with open(svg_path, "w") as f:
        f.write(svg(res))
    with open(md_path, "w") as f:
        f.write(markdown(res, href, wall))


if __name__ == "__main__":
    main()
