"""Tenancy in the gateway: virtual keys (three headers, every refusal in
each front door's shape), the key's model policy, the `tenant` member of
`aura` on bodies and streams, the usage ledger (spool → PostgreSQL, also
across a PostgreSQL outage), provider credentials from the database, and
no key ever in a log.

Keys are made with SQL here (org, team, project, key rows and the key's
SHA-256, exactly what the admin console stores), so these tests depend on
the module and the schema only; revocation and credentials also go
through the admin API once, as an operator would do it."""

import hashlib
import json
import os
import secrets
import string
import subprocess
import time

import pytest

KEY_ALPHABET = string.ascii_lowercase + string.digits
SECRET_ALPHABET = string.ascii_letters + string.digits
CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
RESPONSES = "/v1/responses"

# Every secret handed out in this module: none may reach a log.
SECRETS_SEEN = []


# --------------------------------------------------------------------------
# tenants and keys, straight into the database
# --------------------------------------------------------------------------

def new_secret():
    key_id = "".join(secrets.choice(KEY_ALPHABET) for _ in range(12))
    rest = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))
    key = "sk-aura-%s-%s" % (key_id, rest)
    SECRETS_SEEN.append(key)
    return key_id, key


_n = [0]


def uniq(prefix):
    _n[0] += 1
    return "%s-%d-%s" % (prefix, _n[0], secrets.token_hex(3))


class Tenant:
    """An org (with a team and a project when asked) and keys in it."""

    def __init__(self, pg, team=False, project=False):
        self.pg = pg
        self.org = uniq("org")
        self.org_id = pg.scalar("INSERT INTO organizations (name) "
                                "VALUES (%s) RETURNING id", (self.org,))
        self.team = self.team_id = self.project = self.project_id = None
        if team or project:
            self.team = uniq("team")
            self.team_id = pg.scalar(
                "INSERT INTO teams (org_id, name) VALUES (%s, %s) "
                "RETURNING id", (self.org_id, self.team))
        if project:
            self.project = uniq("project")
            self.project_id = pg.scalar(
                "INSERT INTO projects (org_id, team_id, name) "
                "VALUES (%s, %s, %s) RETURNING id",
                (self.org_id, self.team_id, self.project))

    def key(self, allowed=None, expires_sql=None, scope=True):
        """(key_id, secret); allowed: list or None; expires_sql: an SQL
        expression such as "now() - interval '1 hour'"."""
        key_id, key = new_secret()
        h = hashlib.sha256(key.encode()).digest()
        self.pg.execute(
            "INSERT INTO virtual_keys (key_id, secret_hash, name, org_id, "
            "team_id, project_id, allowed_models, expires_at) VALUES "
            "(%%s, %%s, %%s, %%s, %%s, %%s, %%s, %s)"
            % (expires_sql or "NULL"),
            (key_id, h, uniq("key"), self.org_id,
             self.team_id if scope else None,
             self.project_id if scope else None, allowed))
        return key_id, key

    def expect(self, key_id, end_user=None):
        return {"org_id": self.org_id, "org": self.org,
                "team_id": self.team_id, "team": self.team,
                "project_id": self.project_id, "project": self.project,
                "key_id": key_id, "end_user": end_user}


@pytest.fixture(scope="module")
def acme(pg):
    return Tenant(pg, team=True, project=True)


@pytest.fixture(scope="module")
def acme_key(acme):
    return acme.key()


# --------------------------------------------------------------------------
# requests
# --------------------------------------------------------------------------

def bearer(key):
    return {"Authorization": "Bearer " + key}


def body_for(path, model="sim/text", end_user=None, **kw):
    if path == CHAT:
        b = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        if end_user:
            b["user"] = end_user
    elif path == MESSAGES:
        b = {"model": model, "max_tokens": 256,
             "messages": [{"role": "user", "content": "hi"}]}
        if end_user:
            b["metadata"] = {"user_id": end_user}
    else:
        b = {"model": model, "input": "hi"}
        if end_user:
            b["safety_identifier"] = end_user
    b.update(kw)
    return b


def post(tgw, path, key, header="authorization", **kw):
    return tgw.responses(body_for(path, **kw), key, header=header, path=path)


def stream(tgw, H, path, key, **kw):
    b = dict(body_for(path, **kw), stream=True)
    return H.stream_request(tgw.port, b, path,
                            headers=bearer(key) if key else {})


def terminal_aura(path, res):
    """`aura` of a stream's terminal event, per front door."""
    if path == RESPONSES:
        return res.terminal.data["response"]["aura"]
    if path == CHAT:
        fins = [e.data for e in res.events if isinstance(e.data, dict)
                and e.data.get("aura")]
        return fins[-1]["aura"]
    return res.of_type("message_delta")[-1].data["aura"]


def error_of(path, r, status, code, message=None):
    """The error in the front door's shape; returns its message."""
    assert r.status == status, r
    doc = r.json
    if path == MESSAGES:
        assert doc["type"] == "error", doc
        assert doc["error"]["type"] == ("authentication_error"
                                        if status == 401 else
                                        "permission_error" if status == 403
                                        else doc["error"]["type"]), doc
        msg = doc["error"]["message"]
    else:
        e = doc["error"]
        assert set(e) >= {"message", "type", "param", "code"}, e
        assert e["code"] == code, e
        msg = e["message"]
    if message:
        assert message in msg, msg
    if status == 401:
        assert r.headers.get("www-authenticate", "").startswith(
            'Bearer realm="mod_aura"'), r.headers
    assert "x-aura-request-id" in r.headers
    return msg


def wait_for(pred, timeout, step=0.1):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


# --------------------------------------------------------------------------
# identity
# --------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["authorization", "x-api-key", "api-key"])
def test_key_in_each_header(tgw, acme, acme_key, header):
    key_id, key = acme_key
    r = post(tgw, RESPONSES, key, header=header)
    assert r.status == 200, r
    assert r.json["aura"]["tenant"] == acme.expect(key_id)


@pytest.mark.parametrize("path", [RESPONSES, CHAT, MESSAGES])
def test_tenant_on_json_body(tgw, acme, acme_key, path):
    key_id, key = acme_key
    r = post(tgw, path, key, end_user="user-%s" % path.split("/")[-1])
    assert r.status == 200, r
    assert r.json["aura"]["tenant"] == acme.expect(
        key_id, "user-%s" % path.split("/")[-1])


@pytest.mark.parametrize("path", [RESPONSES, CHAT, MESSAGES])
def test_tenant_on_stream_terminal_event(tgw, H, acme, acme_key, path):
    key_id, key = acme_key
    res = stream(tgw, H, path, key, end_user="streamer")
    assert res.status == 200, res.body[:500]
    assert terminal_aura(path, res)["tenant"] == acme.expect(key_id,
                                                             "streamer")


def test_tenant_without_team_or_project(tgw, pg):
    t = Tenant(pg)
    key_id, key = t.key()
    r = post(tgw, RESPONSES, key)
    assert r.status == 200, r
    ten = r.json["aura"]["tenant"]
    assert ten == t.expect(key_id)
    assert ten["team_id"] is None and ten["project"] is None


@pytest.mark.parametrize("path", [RESPONSES, CHAT, MESSAGES])
def test_missing_key(tgw, sim, path):
    r = post(tgw, path, None)
    error_of(path, r, 401, "missing_api_key")
    assert sim.requests() == []


@pytest.mark.parametrize("path", [RESPONSES, CHAT, MESSAGES])
@pytest.mark.parametrize("kind", ["garbage", "unknown", "wrong-secret",
                                  "not-bearer"])
def test_invalid_keys(tgw, sim, acme_key, path, kind):
    key_id, key = acme_key
    if kind == "garbage":
        bad, header = "sk-not-a-virtual-key", "authorization"
    elif kind == "unknown":
        bad, header = new_secret()[1], "x-api-key"
    elif kind == "wrong-secret":
        bad = key[:-1] + ("a" if key[-1] != "a" else "b")
        header = "api-key"
    else:
        bad, header = None, None
    if header:
        r = post(tgw, path, bad, header=header)
    else:   # Basic credentials are not a key: as if none were sent
        r = tgw.responses(body_for(path), None, path=path,
                          headers={"Authorization": "Basic YTpi"})
    code = "missing_api_key" if kind == "not-bearer" else "invalid_api_key"
    msg = error_of(path, r, 401, code,
                   None if kind == "not-bearer" else "Invalid API key.")
    if bad:
        assert bad not in r.text and bad[8:] not in msg
    assert sim.requests() == []


def test_garbage_key_costs_no_database_query(tgw, pg):
    """A token that is not shaped like a virtual key is refused before
    any lookup."""
    before = pg.scalar("SELECT sum(xact_commit) FROM pg_stat_database")
    for _ in range(20):
        post(tgw, RESPONSES, "Bearer-garbage-%d" % _)
    time.sleep(0.6)     # pg_stat is updated lazily
    after = pg.scalar("SELECT sum(xact_commit) FROM pg_stat_database")
    # The ingester and credential refreshes run meanwhile: a few commits,
    # never one per request.
    assert after - before < 20, (before, after)


def test_get_models_and_count_tokens_need_a_key(tgw, H, acme_key):
    r = get(H, tgw, "/v1/models", None)
    error_of(RESPONSES, r, 401, "missing_api_key")
    r = get(H, tgw, "/v1/models", acme_key[1])
    assert r.status == 200, r
    r = tgw.responses({"model": "sim/text", "messages": [
        {"role": "user", "content": "hi"}]}, None,
        path="/v1/messages/count_tokens")
    error_of(MESSAGES, r, 401, "missing_api_key")
    r = tgw.responses({"model": "sim/text", "messages": [
        {"role": "user", "content": "hi"}]}, acme_key[1],
        path="/v1/messages/count_tokens")
    assert r.status == 200, r
    assert r.json["aura"]["tenant"]["key_id"] == acme_key[0]


def get(H, tgw, path, key, headers=None):
    h = bearer(key) if key else {}
    h.update(headers or {})
    return H.raw_request(tgw.port, "GET", path, b"", h)


def test_htaccess_cannot_switch_keys_off(tgw):
    d = os.path.join(tgw.root, "htdocs", "nokey")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    with open(os.path.join(d, ".htaccess"), "w") as f:
        f.write("SetHandler aura\nAuraRequireKey Off\n")
    os.chmod(os.path.join(d, ".htaccess"), 0o644)
    mark = tgw.log_mark()
    r = post(tgw, "/nokey/responses", None)
    assert r.status == 500, r
    log = tgw.error_log_since(mark)
    assert "AuraRequireKey" in log and "not allowed here" in log, log[-2000:]


def test_htaccess_location_requires_a_key(tgw, acme_key):
    r = post(tgw, "/team-a/responses", None, model="house")
    error_of(RESPONSES, r, 401, "missing_api_key")
    r = post(tgw, "/team-a/responses", acme_key[1], model="house")
    assert r.status == 200, r


# --------------------------------------------------------------------------
# AuraRequireKey Off: a second tenant gateway with an anonymous location
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def open_gw(H, sim, workdir, pg, tgw):
    class OpenGateway(H.TenantGateway):
        def tenancy_conf(self):
            return super().tenancy_conf() + (
                "<Location /open>\n    SetHandler aura\n"
                "    AuraRequireKey Off\n</Location>\n")
    g = OpenGateway(os.path.join(workdir, "troot-open"), H.free_port(),
                    sim.port, H.free_port(), pg, pg.admin)
    g.start(H.module_path())
    yield g
    g.stop()


def test_require_key_off_serves_anonymously(open_gw, pg, acme, acme_key):
    r = post(open_gw, "/open/responses", None)
    assert r.status == 200, r
    assert "tenant" not in r.json["aura"], "no key: no tenant member"
    # another service's token is not a virtual key: ignored there
    r = open_gw.responses(body_for(RESPONSES), None, path="/open/responses",
                          headers={"Authorization": "Bearer client-token"})
    assert r.status == 200, r
    time.sleep(1.0)
    assert pg.scalar("SELECT count(*) FROM usage_ledger WHERE request_id "
                     "= %s", (r.headers["x-aura-request-id"],)) == 0, \
        "anonymous requests are not in the ledger"
    # a virtual key sent there is still checked and attributed
    key_id, key = acme_key
    r = post(open_gw, "/open/responses", key)
    assert r.status == 200, r
    assert r.json["aura"]["tenant"] == acme.expect(key_id)
    assert open_gw.ledger(r.headers["x-aura-request-id"], timeout=5)
    error_of(RESPONSES, post(open_gw, "/open/responses", new_secret()[1]),
             401, "invalid_api_key")
    # elsewhere on the same server keys are required
    error_of(RESPONSES, post(open_gw, RESPONSES, None), 401,
             "missing_api_key")


def test_database_without_socache_is_a_config_error(H, workdir):
    d = os.path.join(workdir, "nocache")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write("ServerRoot %s\nServerName 127.0.0.1\nListen 127.0.0.1:%d\n"
                "PidFile %s/pid\nErrorLog %s/error_log\n"
                "LoadModule mpm_event_module %s/mod_mpm_event.so\n"
                "LoadModule aura_module %s\n"
                'AuraDatabase "host=/nonexistent dbname=x"\n'
                % (d, H.free_port(), d, d, H.MODDIR, H.module_path()))
    p = subprocess.run([H.APACHE, "-t", "-f", conf], capture_output=True,
                       text=True, timeout=30)
    log = p.stderr + p.stdout
    if os.path.exists(os.path.join(d, "error_log")):
        log += open(os.path.join(d, "error_log")).read()
    assert p.returncode != 0, log
    assert "socache_shmcb_module" in log, log


# --------------------------------------------------------------------------
# refusals of known keys
# --------------------------------------------------------------------------

def refused_within(tgw, key, message, timeout):
    """Polls until the key is refused with message; returns seconds."""
    t0 = time.time()
    while True:
        r = post(tgw, RESPONSES, key)
        if r.status == 401:
            error_of(RESPONSES, r, 401, "invalid_api_key", message)
            return time.time() - t0
        assert r.status == 200, r
        assert time.time() - t0 < timeout, "still served after %.1f s" % (
            time.time() - t0)
        time.sleep(0.2)


@pytest.mark.parametrize("path", [RESPONSES, CHAT, MESSAGES])
def test_revoked_key_refused_within_ttl(tgw, pg, path):
    t = Tenant(pg)
    key_id, key = t.key()
    assert post(tgw, path, key).status == 200       # cached now
    pg.execute("UPDATE virtual_keys SET status = 'revoked', "
               "revoked_at = now() WHERE key_id = %s", (key_id,))
    t0 = time.time()
    while True:
        r = post(tgw, path, key)
        if r.status == 401:
            break
        assert r.status == 200 and time.time() - t0 < 3.0, \
            "revoked key still served after %.1f s (TTL 2)" % (
                time.time() - t0)
        time.sleep(0.2)
    error_of(path, r, 401, "invalid_api_key",
             "This API key has been revoked.")


def test_revoke_through_admin_api(tgw):
    k, secret = tgw.new_key()
    SECRETS_SEEN.append(secret)
    r = post(tgw, RESPONSES, secret)
    assert r.status == 200, r
    assert r.json["aura"]["tenant"]["key_id"] == k["key_id"]
    r = tgw.api("POST", "/keys/%d/revoke" % k["id"])
    assert r.status == 200, r
    refused_within(tgw, secret, "This API key has been revoked.", 3.0)


@pytest.mark.parametrize("path", [RESPONSES, CHAT, MESSAGES])
def test_expired_key(tgw, pg, path):
    t = Tenant(pg)
    _, key = t.key(expires_sql="now() - interval '1 minute'")
    error_of(path, post(tgw, path, key), 401, "invalid_api_key",
             "This API key has expired.")


def test_key_expires_while_cached(tgw, pg):
    t = Tenant(pg)
    _, key = t.key(expires_sql="now() + interval '1.5 seconds'")
    assert post(tgw, RESPONSES, key).status == 200
    time.sleep(1.6)
    # The record is still cached (TTL 2 s); its expiry is checked anyway.
    error_of(RESPONSES, post(tgw, RESPONSES, key), 401, "invalid_api_key",
             "This API key has expired.")


def test_archived_org(tgw, pg):
    t = Tenant(pg)
    _, key = t.key()
    pg.execute("UPDATE organizations SET status = 'archived' WHERE id = %s",
               (t.org_id,))
    error_of(RESPONSES, post(tgw, RESPONSES, key), 401, "invalid_api_key",
             "organization has been archived")


def test_unknown_key_becomes_valid_after_negative_ttl(tgw, pg):
    """An unknown key id is remembered as unknown for AuraKeyNegativeTTL
    (1 s here), not longer."""
    t = Tenant(pg)
    key_id, key = new_secret()
    error_of(RESPONSES, post(tgw, RESPONSES, key), 401, "invalid_api_key")
    pg.execute("INSERT INTO virtual_keys (key_id, secret_hash, name, org_id)"
               " VALUES (%s, %s, 'late', %s)",
               (key_id, hashlib.sha256(key.encode()).digest(), t.org_id))
    assert wait_for(lambda: post(tgw, RESPONSES, key).status == 200, 2.5)


# --------------------------------------------------------------------------
# the key's model policy
# --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [RESPONSES, CHAT, MESSAGES])
def test_allowed_models(tgw, sim, pg, path):
    t = Tenant(pg)
    _, key = t.key(allowed=["sim/text", "priced-*"])
    assert post(tgw, path, key, model="sim/text").status == 200
    assert post(tgw, path, key, model="priced-chat").status == 200
    assert post(tgw, path, key, model="priced-chat-alias").status == 200, \
        "a registry alias of an allowed model is allowed"
    sim.clear()
    r = post(tgw, path, key, model="sim/tools-parallel")
    msg = error_of(path, r, 403, "model_not_allowed")
    assert "sim/text" in msg and "priced-*" in msg, msg
    if path != MESSAGES:
        assert r.json["error"]["param"] == "model"
    assert sim.requests() == []


def test_allowed_models_by_provider(tgw, pg):
    """"provider/*" allows every model that provider serves, whatever the
    name it is asked by."""
    t = Tenant(pg)
    _, key = t.key(allowed=["sim/*"])
    assert post(tgw, RESPONSES, key, model="priced-chat").status == 200
    assert post(tgw, RESPONSES, key, model="unpriced-text").status == 200
    r = post(tgw, RESPONSES, key, model="priced-responses")   # openai
    error_of(RESPONSES, r, 403, "model_not_allowed")


def test_empty_allowed_list_allows_nothing(tgw, pg):
    t = Tenant(pg)
    _, key = t.key(allowed=[])
    error_of(RESPONSES, post(tgw, RESPONSES, key), 403, "model_not_allowed")


def test_models_list_filtered_by_key(tgw, H, pg, acme_key):
    t = Tenant(pg)
    _, key = t.key(allowed=["priced-chat", "unpriced-*"])
    r = get(H, tgw, "/v1/models", key)
    assert r.status == 200, r
    ids = sorted(m["id"] for m in r.json["data"])
    assert ids == ["priced-chat", "unpriced-text"], ids
    r = get(H, tgw, "/v1/models", key, {"anthropic-version": "2023-06-01"})
    assert sorted(m["id"] for m in r.json["data"]) == ids
    full = get(H, tgw, "/v1/models", acme_key[1])
    assert len(full.json["data"]) > len(ids), "unrestricted key sees all"


# --------------------------------------------------------------------------
# the usage ledger
# --------------------------------------------------------------------------

def test_ledger_row(tgw, pg, acme, acme_key):
    key_id, key = acme_key
    r = post(tgw, RESPONSES, key, model="priced-chat", end_user="ledger-u1")
    assert r.status == 200, r
    doc = r.json
    row = tgw.ledger(doc["aura"]["request_id"], timeout=5)
    assert row is not None, "no ledger row within 5 s"
    assert (row["org_id"], row["team_id"], row["project_id"]) == (
        acme.org_id, acme.team_id, acme.project_id)
    assert row["key_id"] == key_id
    assert row["front"] == "responses" and row["stream"] is False
    assert row["model"] == "priced-chat" and row["provider"] == "sim"
    assert row["upstream_model"] == "usage-details"
    u = doc["usage"]
    assert row["input_tokens"] == u["input_tokens"]
    assert row["output_tokens"] == u["output_tokens"]
    assert row["cached_input_tokens"] == \
        u["input_tokens_details"]["cached_tokens"]
    assert row["reasoning_tokens"] == \
        u["output_tokens_details"]["reasoning_tokens"]
    assert row["cost_status"] == "priced"
    assert abs(float(row["cost_total"]) - u["cost_usd"]["total"]) < 1e-9
    assert abs(float(row["cost_output"]) - u["cost_usd"]["output"]) < 1e-9
    assert row["http_status"] == 200 and row["status"] == "completed"
    assert row["latency_ms"] is not None and row["overhead_us"] is not None
    eu = pg.query("SELECT id, org_id, last_seen_at FROM end_users "
                  "WHERE org_id = %s AND external_id = %s",
                  (acme.org_id, "ledger-u1"))
    assert len(eu) == 1, "end-user not registered"
    assert row["end_user_id"] == eu[0][0]
    assert eu[0][2] is not None
    used = pg.scalar("SELECT last_used_at FROM virtual_keys "
                     "WHERE key_id = %s", (key_id,))
    assert used is not None, "last_used_at not set"


@pytest.mark.parametrize("path,front", [(CHAT, "chat"),
                                        (MESSAGES, "messages")])
def test_ledger_row_per_front_and_stream(tgw, H, acme_key, path, front):
    key_id, key = acme_key
    res = stream(tgw, H, path, key, model="priced-chat")
    assert res.status == 200, res.body[:300]
    rid = res.headers["x-aura-request-id"]
    row = tgw.ledger(rid, timeout=5)
    assert row is not None, "no ledger row for the stream"
    assert row["front"] == front and row["stream"] is True
    assert row["status"] == "completed" and row["input_tokens"] > 0
    assert row["cost_total"] is not None


def test_ledger_unknown_price_is_null(tgw, acme_key):
    r = post(tgw, RESPONSES, acme_key[1], model="unpriced-text")
    assert r.status == 200
    row = tgw.ledger(r.headers["x-aura-request-id"], timeout=5)
    assert row is not None
    assert row["cost_status"] == "unknown_price"
    assert row["cost_total"] is None and row["cost_input"] is None


def test_ledger_upstream_error(tgw, acme_key):
    r = post(tgw, RESPONSES, acme_key[1], model="sim/error-400")
    assert r.status == 400, r
    row = tgw.ledger(r.headers["x-aura-request-id"], timeout=5)
    assert row is not None, "an upstream error is in the ledger too"
    assert row["status"] == "failed" and row["http_status"] == 400
    assert row["input_tokens"] == 0


def test_no_ledger_row_for_refused_requests(tgw, pg, acme_key):
    r = post(tgw, RESPONSES, None)
    assert r.status == 401
    r2 = post(tgw, RESPONSES, acme_key[1], model="nope/nothing")
    assert r2.status >= 400
    time.sleep(1.0)
    for rid in (r.headers["x-aura-request-id"],
                r2.headers["x-aura-request-id"]):
        assert pg.scalar("SELECT count(*) FROM usage_ledger "
                         "WHERE request_id = %s", (rid,)) == 0


def test_end_user_shared_across_requests(tgw, pg):
    t = Tenant(pg)
    _, key = t.key()
    rids = [post(tgw, p, key, end_user="same-person").headers[
        "x-aura-request-id"] for p in (RESPONSES, CHAT, MESSAGES)]
    rows = [tgw.ledger(rid, timeout=5) for rid in rids]
    assert all(rows), rows
    ids = {row["end_user_id"] for row in rows}
    assert len(ids) == 1 and None not in ids, ids
    assert pg.scalar("SELECT count(*) FROM end_users WHERE org_id = %s",
                     (t.org_id,)) == 1


def test_spool_is_emptied(tgw, acme_key):
    r = post(tgw, RESPONSES, acme_key[1])
    assert tgw.ledger(r.headers["x-aura-request-id"], timeout=5)

    def settled():
        names = os.listdir(tgw.spool)
        assert not [n for n in names if n.endswith(".bad")], names
        # one live (empty or nearly) file per child at most
        big = [n for n in names
               if os.path.getsize(os.path.join(tgw.spool, n)) > 0]
        return not big
    assert wait_for(settled, 3), os.listdir(tgw.spool)


def test_dead_child_spool_file_is_ingested(tgw, acme, acme_key):
    """A spool file nobody holds (a child that died) is moved by any
    ingester; a torn last line is skipped."""
    key_id, _ = acme_key
    rid = "req_deadchild%s" % secrets.token_hex(6)
    rec = {"request_id": rid, "created_at": "2024-01-02T03:04:05.000006Z",
           "org_id": acme.org_id, "team_id": None, "project_id": None,
           "key_id": key_id, "end_user": None, "front": "responses",
           "stream": False, "model": "m", "provider": "sim",
           "upstream_model": "m", "input_tokens": 3,
           "cached_input_tokens": 0, "cache_write_tokens": 0,
           "output_tokens": 4, "reasoning_tokens": 0, "cost_input": None,
           "cost_cached_input": None, "cost_cache_write": None,
           "cost_output": None, "cost_reasoning": None, "cost_total": None,
           "cost_status": "unknown_price", "latency_ms": 5,
           "overhead_us": 6, "http_status": 200, "status": "completed",
           "cache_hit": False}
    path = os.path.join(tgw.spool, "aura-999999-1.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps(rec) + "\n" + '{"request_id": "req_torn", "cr')
    row = tgw.ledger(rid, timeout=5)
    assert row is not None, "leftover file not ingested"
    assert row["input_tokens"] == 3
    assert wait_for(lambda: not os.path.exists(path), 3)
    assert tgw.ledger("req_torn", timeout=0) is None
    assert "incomplete line" in tgw.error_log()


# --------------------------------------------------------------------------
# provider credentials from the database
# --------------------------------------------------------------------------

OPENAI_KEY = "sk-test-openai-0000"      # the simulator accepts both
SIM_KEY = "sk-test-sim-0000"


def upstream_auth(sim, key):
    """The Authorization the provider got for one request with key (None
    when the request was not answered 200)."""
    sim.clear()
    if post_any(key).status != 200:
        return None
    reqs = sim.requests("text")
    assert len(reqs) == 1, reqs
    return reqs[0]["headers"].get("authorization")


_tgw = {}


def post_any(key):
    return post(_tgw["g"], RESPONSES, key)


def test_credentials_from_database(tgw, sim, pg):
    _tgw["g"] = tgw
    a, b = Tenant(pg), Tenant(pg)
    _, ka = a.key()
    _, kb = b.key()
    assert upstream_auth(sim, ka) == "Bearer " + SIM_KEY, "configured key"
    r = tgw.api("POST", "/credentials", {"provider": "sim", "org_id":
                                         a.org_id, "secret": OPENAI_KEY})
    assert r.status == 201, r
    cred_a = r.json()["id"]
    try:
        # AuraCredentialRefresh 1: within a couple of seconds
        assert wait_for(lambda: upstream_auth(sim, ka) ==
                        "Bearer " + OPENAI_KEY, 4), "org credential not used"
        assert upstream_auth(sim, kb) == "Bearer " + SIM_KEY, \
            "another org's credential leaked"
    finally:
        r = tgw.api("POST", "/credentials/%d/archive" % cred_a)
        assert r.status == 200, r
    assert wait_for(lambda: upstream_auth(sim, ka) == "Bearer " + SIM_KEY,
                    4), "archived credential still used"


def test_global_credential_and_refused_upstream(tgw, sim, pg):
    """A credential for every org is used where the org has none; one the
    provider refuses is a 502 that never shows the credential."""
    _tgw["g"] = tgw
    t = Tenant(pg)
    _, key = t.key()
    bad = "sk-db-credential-" + secrets.token_hex(8)
    SECRETS_SEEN.append(bad)
    r = tgw.api("POST", "/credentials", {"provider": "sim", "secret": bad})
    assert r.status == 201, r
    cid = r.json()["id"]
    try:
        def refused():
            sim.clear()
            r = post(tgw, RESPONSES, key)
            q = sim.requests("text")
            return r if q and q[0]["headers"].get(
                "authorization") == "Bearer " + bad else None
        r = wait_for(refused, 4)
        assert r is not None, "global credential not used"
        assert r.status == 502, r
        assert r.json["error"]["code"] == "upstream_auth_failed"
        assert bad not in r.text
    finally:
        r = tgw.api("POST", "/credentials/%d/archive" % cid)
        assert r.status == 200, r
    assert wait_for(lambda: upstream_auth(sim, key) == "Bearer " + SIM_KEY,
                    4)


def test_unopenable_credential_refuses_its_org(tgw, sim, pg):
    """A row that does not open (another master key, tampered) refuses
    its org's requests to its provider: never the every-org credential or
    the configured key in its place. Other orgs are not affected."""
    _tgw["g"] = tgw
    t, other = Tenant(pg), Tenant(pg)
    _, key = t.key()
    _, other_key = other.key()
    mark = tgw.log_mark()
    cid = pg.scalar("INSERT INTO provider_credentials (org_id, provider, "
                    "sealed, hint) VALUES (%s, 'sim', %s, 'zzzz') "
                    "RETURNING id", (t.org_id, "v1.AAAA.BBBB.CCCC.DDDD"))
    try:
        def refused():
            sim.clear()
            r = post(tgw, RESPONSES, key)
            return r if r.status == 503 else None
        r = wait_for(refused, 4)
        assert r is not None, "the org's requests still go upstream"
        msg = error_of(RESPONSES, r, 503, "credentials_unavailable")
        assert "'sim'" in msg and "v1.AAAA" not in r.text, msg
        assert not sim.requests("text"), "a refused request went upstream"
        assert upstream_auth(sim, other_key) == "Bearer " + SIM_KEY
        log = tgw.error_log_since(mark)
        assert "credential id %d" % cid in log and "refused" in log, \
            log[-2000:]
        assert "v1.AAAA" not in log
    finally:
        pg.execute("UPDATE provider_credentials SET status = 'archived' "
                   "WHERE id = %s", (cid,))
    assert wait_for(lambda: upstream_auth(sim, key) == "Bearer " + SIM_KEY,
                    4), "the org was not served again after the archive"


# --------------------------------------------------------------------------
# PostgreSQL down
# --------------------------------------------------------------------------

def test_postgres_down(tgw, pg, acme_key):
    if not hasattr(pg, "down"):
        pytest.skip("the pg fixture cannot stop PostgreSQL")
    t = Tenant(pg)
    _, cold = t.key()
    _, warm = acme_key
    assert post(tgw, RESPONSES, warm).status == 200      # cached (TTL 2 s)
    with pg.down():
        r = post(tgw, RESPONSES, warm, model="priced-chat")
        assert r.status == 200, "a warm key must not need PostgreSQL: %r" % r
        rid = r.headers["x-aura-request-id"]
        r = post(tgw, RESPONSES, cold)
        error_of(RESPONSES, r, 503, "tenant_store_unavailable")
        time.sleep(0.5)     # the ingester fails at least once
    row = tgw.ledger(rid, timeout=10)
    assert row is not None, "the spooled record did not arrive after " \
        "PostgreSQL came back"
    assert row["cost_total"] is not None
    # cold keys work again
    assert wait_for(lambda: post(tgw, RESPONSES, cold).status == 200, 5)


# --------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------

def test_zz_no_key_in_any_log(tgw):
    """Runs last in this module: every key used above, valid or not."""
    logs = tgw.error_log() + tgw.access_log()
    assert SECRETS_SEEN
    for k in SECRETS_SEEN:
        assert k not in logs, "a key is in the logs"
        assert k[8 + 12 + 1:] not in logs, "a key's secret part is in the logs"
    spool_text = ""
    for n in os.listdir(tgw.spool):
        with open(os.path.join(tgw.spool, n), errors="replace") as f:
            spool_text += f.read()
    for k in SECRETS_SEEN:
        assert k not in spool_text
