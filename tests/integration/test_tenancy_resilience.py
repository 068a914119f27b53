"""Tenancy when PostgreSQL misbehaves: a database host that vanishes
without closing anything (a TCP proxy in this file swallows the traffic),
provider credentials that have not loaded or do not open (requests are
refused, never sent with another credential), and spool files with
damage in them (NUL bytes, a short write's fragment).

Uses the `pg` and `tgw` fixtures of conftest.py and the tenants of
test_tenancy.py; the vanishing-host tests run a second tenant gateway
whose AuraDatabase goes through the proxy."""

import json
import os
import secrets
import socket
import threading
import time

import pytest

from test_tenancy import (RESPONSES, OPENAI_KEY, SIM_KEY, Tenant, error_of,
                          post, wait_for)


# --------------------------------------------------------------------------
# a database host that vanishes: a proxy that can swallow everything
# --------------------------------------------------------------------------

class BlackholeProxy:
    """Forwards 127.0.0.1:port to PostgreSQL's TCP port. blackhole():
    from then on nothing goes through, nothing is closed, new connections
    are accepted and ignored (a host gone from the network). heal():
    traffic flows again; connections whose data was swallowed are reset,
    as a rebooted host would."""

    def __init__(self, target_port):
        self.target = target_port
        self.holing = threading.Event()
        self.lock = threading.Lock()
        self.pairs = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            pair = {"socks": [c], "poisoned": self.holing.is_set()}
            if not pair["poisoned"]:
                try:
                    pair["socks"].append(socket.create_connection(
                        ("127.0.0.1", self.target), timeout=5))
                    pair["socks"][1].settimeout(None)
                except OSError:
                    c.close()
                    continue
            with self.lock:
                self.pairs.append(pair)
            socks = pair["socks"]
            if len(socks) == 2:
                for a, b in ((socks[0], socks[1]), (socks[1], socks[0])):
                    threading.Thread(target=self._pump, args=(a, b, pair),
                                     daemon=True).start()
            else:
                threading.Thread(target=self._pump, args=(c, None, pair),
                                 daemon=True).start()

    def _pump(self, a, b, pair):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if self.holing.is_set() or b is None:
                    pair["poisoned"] = True
                    continue
                b.sendall(d)
        except OSError:
            pass
        self._close(pair)

    @staticmethod
    def _close(pair):
        for s in pair["socks"]:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def blackhole(self):
        self.holing.set()

    def heal(self):
        self.holing.clear()
        with self.lock:
            bad = [p for p in self.pairs if p["poisoned"]]
            self.pairs = [p for p in self.pairs if not p["poisoned"]]
        for p in bad:
            self._close(p)

    def close(self):
        self.closed = True
        self.heal()
        self.sock.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for p in pairs:
            self._close(p)


@pytest.fixture(scope="module")
def bh(H, sim, workdir, pg, tgw):
    """(proxy, gateway): a tenant gateway whose AuraDatabase goes through
    a BlackholeProxy; keys stay cached for a minute, so a key used once
    is warm for the whole test."""
    proxy = BlackholeProxy(pg.port)
    through = "host=127.0.0.1 port=%d user=aura dbname=aura" % proxy.port

    class ProxiedGateway(H.TenantGateway):
        def tenancy_conf(self):
            conf = super().tenancy_conf()
            conf = conf.replace('AuraDatabase "%s"' % self.pg.conninfo,
                                'AuraDatabase "%s"' % through)
            conf = conf.replace("AuraKeyCacheTTL 2\n",
                                "AuraKeyCacheTTL 60\n")
            # Both children from the start, so that the tests below meet
            # children that loaded credentials themselves.
            return conf + "StartServers 2\n"

    g = ProxiedGateway(os.path.join(workdir, "troot-blackhole"),
                       H.free_port(), sim.port, H.free_port(), pg, pg.admin)
    g.master_key = tgw.master_key       # the rows tgw's tests sealed open
    assert through in g.tenancy_conf()
    g.start(H.module_path())
    time.sleep(1.0)                     # both children loaded credentials
    yield proxy, g
    proxy.heal()
    g.stop()
    proxy.close()


def timed_post(g, key, timeout=20.0):
    t0 = time.time()
    r = g.responses({"model": "sim/text", "input": "hi"}, key,
                    timeout=timeout)
    return r, time.time() - t0


def test_vanished_database_host(bh, pg):
    """Cold keys get 503 within ~4 s while the host is gone (before: the
    request hung on its pooled connection for minutes), warm keys keep
    answering, and everything works again once the host is back."""
    proxy, g = bh
    t = Tenant(pg)
    _, warm = t.key()
    cold = [t.key()[1] for _ in range(5)]
    r, _ = timed_post(g, warm)
    assert r.status == 200, r           # and a pooled connection exists
    proxy.blackhole()
    try:
        r, took = timed_post(g, cold[0])
        error_of(RESPONSES, r, 503, "tenant_store_unavailable")
        assert r.headers.get("retry-after"), r.headers
        assert took < 4.0, "cold key took %.1f s" % took

        # a burst of cold keys, warm requests alongside
        results, warm_results = {}, []

        def cold_one(k):
            results[k] = timed_post(g, k)
        threads = [threading.Thread(target=cold_one, args=(k,))
                   for k in cold[1:]]
        for th in threads:
            th.start()
        end = time.time() + 3
        while time.time() < end:
            warm_results.append(timed_post(g, warm))
        for th in threads:
            th.join(30)
        for k, (r, took) in results.items():
            error_of(RESPONSES, r, 503, "tenant_store_unavailable")
            assert took < 6.5, "cold key in a burst took %.1f s" % took
        assert warm_results
        for r, took in warm_results:
            assert r.status == 200, r
            assert took < 1.5, "warm key took %.1f s" % took
        rid = warm_results[0][0].headers["x-aura-request-id"]
    finally:
        proxy.heal()
    assert wait_for(lambda: timed_post(g, cold[0])[0].status == 200, 8), \
        "cold keys do not work again after the host came back"
    assert g.ledger(rid, timeout=20) is not None, \
        "a record spooled while the host was gone never arrived"
    log = g.error_log()
    assert "no answer in time" in log or "timeout" in log, log[-3000:]


# --------------------------------------------------------------------------
# provider credentials: never another credential in their place
# --------------------------------------------------------------------------

def upstream_of(tgw, sim, key):
    """(status, Authorization the provider got or None) for one request."""
    sim.clear()
    r = post(tgw, RESPONSES, key)
    q = sim.requests("text")
    return r.status, (q[0]["headers"].get("authorization") if q else None)


def ledger_rec(org_id, rid):
    return {"request_id": rid, "created_at": "2024-01-02T03:04:05Z",
            "org_id": org_id, "front": "responses", "model": "m",
            "provider": "sim", "cost_status": "unknown_price",
            "http_status": 200, "status": "completed"}


def tenant_with_credential(tgw, pg):
    """A new org with a key, and its own credential for the provider
    "sim" (OPENAI_KEY): (tenant, key, credential id)."""
    t = Tenant(pg)
    _, key = t.key()
    r = tgw.api("POST", "/credentials", {"provider": "sim",
                                         "org_id": t.org_id,
                                         "secret": OPENAI_KEY})
    assert r.status == 201, r
    return t, key, r.json()["id"]


def lock_table(pg, table):
    c = pg.connect()
    c.autocommit = False
    c.cursor().execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % table)
    return c


def test_org_credential_while_ingest_is_stuck(H, tgw, sim, pg):
    """A spool backlog whose ingestion is stuck (a lock on usage_ledger)
    must not delay the first credentials load after a restart: the org's
    requests carry the org's credential (before: the configured key)."""
    t, key, cid = tenant_with_credential(tgw, pg)
    try:
        assert wait_for(lambda: upstream_of(tgw, sim, key)[1] ==
                        "Bearer " + OPENAI_KEY, 5)
        c = lock_table(pg, "usage_ledger")
        try:
            path = os.path.join(tgw.spool, "aura-999998-1.jsonl")
            with open(path, "w") as f:
                f.write(json.dumps(ledger_rec(
                    t.org_id, "req_stuck_" + secrets.token_hex(6))) + "\n")
            tgw.stop()
            tgw.start(H.module_path())
            time.sleep(1.0)
            seen = [upstream_of(tgw, sim, key) for _ in range(3)]
            for status, auth in seen:
                assert auth != "Bearer " + SIM_KEY, \
                    "org %d's request went upstream with the configured " \
                    "key: %r" % (t.org_id, seen)
                assert status == 200 and auth == "Bearer " + OPENAI_KEY, \
                    seen
        finally:
            c.rollback()
            c.close()
    finally:
        tgw.api("POST", "/credentials/%d/archive" % cid)
    assert wait_for(lambda: not os.path.exists(path), 15)


def test_credentials_never_loaded_refuse(H, tgw, sim, pg):
    """With a master key, until the credentials table has loaded once a
    request is refused (503 credentials_unavailable, Retry-After), not
    sent with the configured key."""
    t = Tenant(pg)
    _, key = t.key()
    c = lock_table(pg, "provider_credentials")
    try:
        tgw.stop()
        mark = tgw.log_mark()
        tgw.start(H.module_path())
        sim.clear()
        r = post(tgw, RESPONSES, key)
        msg = error_of(RESPONSES, r, 503, "credentials_unavailable")
        assert "credentials" in msg, msg
        assert r.headers.get("retry-after"), r.headers
        assert not sim.requests("text"), "the request went upstream"
    finally:
        c.rollback()
        c.close()
    assert wait_for(lambda: upstream_of(tgw, sim, key) ==
                    (200, "Bearer " + SIM_KEY), 8)
    assert "provider credentials not loaded" in tgw.error_log()[mark:]


# --------------------------------------------------------------------------
# damaged spool files
# --------------------------------------------------------------------------

def test_spool_file_with_nul_bytes(tgw, pg):
    """A zero-filled region (what some filesystems leave after a crash)
    costs the lines it covers only: the records after it arrive (before:
    everything after the first NUL was silently dropped). A short write's
    fragment is cut off by the next record's leading newline."""
    t = Tenant(pg)
    rids = ["req_nul%d_%s" % (i, secrets.token_hex(5)) for i in range(4)]
    lines = [json.dumps(ledger_rec(t.org_id, rid)) for rid in rids]
    mark = tgw.log_mark()
    path = os.path.join(tgw.spool, "aura-999997-1.jsonl")
    with open(path, "wb") as f:
        f.write(("\n" + lines[0] + "\n").encode())
        f.write(b"\0" * 4096)
        f.write(("\n" + lines[1] + "\n").encode())
        f.write(b'\n{"request_id": "req_nul_fragment", "crea')     # short write
        f.write(("\n" + lines[2] + "\n").encode())
        f.write(("\n" + lines[3] + "\n").encode())
    for rid in rids:
        assert tgw.ledger(rid, timeout=8) is not None, \
            "%s (after the NUL region) did not arrive" % rid
    assert tgw.ledger("req_nul_fragment", timeout=0) is None
    assert wait_for(lambda: not os.path.exists(path), 3)
    log = tgw.error_log_since(mark)
    assert "NUL bytes skipped" in log and "incomplete line" in log, log


# --------------------------------------------------------------------------
# AuraRequireKey On without AuraDatabase
# --------------------------------------------------------------------------

def test_require_key_without_database_warns(H, sim, workdir):
    g = H.Gateway(os.path.join(workdir, "root-keyed"), H.free_port(),
                  sim.port, H.free_port())
    g.extra_conf["keyed.conf"] = ("<Location /keyed>\n    SetHandler aura\n"
                                  "    AuraRequireKey On\n</Location>\n")
    g.start(H.module_path())
    try:
        log = g.error_log()
        assert "AuraRequireKey On" in log and "keyed.conf" in log and \
            "without AuraDatabase" in log, log[-2000:]
    finally:
        g.stop()


def child_pids(parent):
    """The processes whose parent is `parent` (httpd's children)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            out.append(int(d))
    return out


def test_child_forked_while_database_is_down_keeps_credentials(H, bh, tgw,
                                                              sim, pg):
    """The parent loads the credentials at (re)start and every child
    starts from that copy: a child forked while PostgreSQL is down serves
    a warm key with its org's credential (before: 503
    credentials_unavailable from every new child until the database came
    back)."""
    _, g = bh
    t, key, cid = tenant_with_credential(tgw, pg)
    try:
        g.stop()
        g.start(H.module_path())          # the parent loads the credential
        assert wait_for(lambda: upstream_of(g, sim, key) ==
                        (200, "Bearer " + OPENAI_KEY), 8)   # key now warm
        with pg.down():
            old = child_pids(g.proc.pid)
            assert old, "no httpd children found"
            for pid in old:
                os.kill(pid, 9)
            assert wait_for(lambda: [p for p in child_pids(g.proc.pid)
                                     if p not in old], 10), \
                "httpd started no new child"
            seen = []

            def answered():
                try:
                    seen.append(upstream_of(g, sim, key))
                except OSError:             # the new child not listening yet
                    return False
                return True

            assert wait_for(answered, 10), "no child answered"
            assert seen[-1] == (200, "Bearer " + OPENAI_KEY), \
                "a child forked while PostgreSQL was down: %r" % (seen[-1],)
    finally:
        tgw.api("POST", "/credentials/%d/archive" % cid)
