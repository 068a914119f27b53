"""The admin console's defences (docs/admin.md "Who may do what"), against
the real httpd + aura-admin CGI + PostgreSQL (`tgw`):

- CSRF: an HTML POST without the right `csrf` token is refused with 403
  and changes nothing; the JSON API takes writes only as application/json;
- injection: SQL metacharacters are stored and returned verbatim, HTML
  metacharacters are escaped on every page that shows them;
- scope: an org admin sees and changes only its own org (anything else
  answers 404, as if it did not exist) and cannot create orgs;
- secrets: a key's secret exists only in its creation answer, a provider
  credential's never leaves the database (sealed); neither reaches a page,
  the API, the audit log or httpd's logs;
- headers: CSP, X-Frame-Options and Cache-Control: no-store everywhere.
"""

import csv
import html.parser
import io
import json
import re
import urllib.parse
import uuid

import pytest

from admin_util import uniq, ok
from conftest import basic_auth, raw_request

PAGES = ["/", "/orgs", "/teams", "/projects", "/end-users", "/keys",
         "/credentials", "/budgets", "/limits", "/costs", "/costs.csv",
         "/requests", "/audit", "/admins"]
XSS = "<script>alert(1)</script>"
ATTR = '" onmouseover="alert(2)'
SQLI = "x'); DROP TABLE organizations;--"
LIKE = "%_\\"


class _ById(html.parser.HTMLParser):
    """Text inside the element with a given id."""

    def __init__(self, wanted):
        super().__init__()
        self.wanted, self.depth, self.text = wanted, 0, None

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.wanted:
            self.depth, self.text = 1, ""

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text += data


def text_of(page_html, element_id):
    p = _ById(element_id)
    p.feed(page_html)
    return p.text.strip() if p.text is not None else None


def org_names(pg):
    return {r[0] for r in pg.query("SELECT name FROM organizations")}


# --------------------------------------------------------------------------
# CSRF
# --------------------------------------------------------------------------

@pytest.mark.parametrize("token", [False, "", "0" * 64, "forged-token"])
def test_form_post_without_the_right_token_is_refused(tgw, token):
    name = uniq("csrf")
    r = tgw.page("POST", "/orgs", {"name": name}, csrf=token)
    assert r.status == 403, "POST /orgs with csrf=%r: %r" % (token, r)
    assert name not in org_names(tgw.pg)


def test_another_users_token_is_refused(tgw):
    peer = uniq("peer")     # an org admin: its pages have forms
    tgw.add_admin(peer, "org_admin", tgw.new_org()["id"])
    theirs = tgw.csrf_token(peer)
    assert theirs and theirs != tgw.csrf_token("admin")
    name = uniq("csrf")
    r = tgw.page("POST", "/orgs", {"name": name}, csrf=theirs)
    assert r.status == 403, r
    assert name not in org_names(tgw.pg)


def test_csrf_guards_edits_and_actions(tgw):
    org = tgw.new_org()
    key, _ = tgw.new_key(org_id=org["id"])
    for path, form in [("/orgs/%d" % org["id"], {"name": uniq("renamed")}),
                       ("/orgs/%d/archive" % org["id"], {}),
                       ("/keys/%d/revoke" % key["id"], {}),
                       ("/keys/%d/rotate" % key["id"], {})]:
        for token in (False, "bad"):
            r = tgw.page("POST", path, form, csrf=token)
            assert r.status == 403, (path, token, r)
    o = ok(tgw.api("GET", "/orgs/%d" % org["id"]))
    assert (o["name"], o["status"]) == (org["name"], "active"), o
    k = ok(tgw.api("GET", "/keys/%d" % key["id"]))
    assert k["status"] == "active", k
    assert tgw.pg.scalar("SELECT count(*) FROM virtual_keys WHERE org_id "
                         "= %s", (org["id"],)) == 1


def test_form_post_with_the_token_works(tgw):
    """The positive control for the tests above: 303 to the list."""
    name = uniq("form")
    r = tgw.page("POST", "/orgs", {"name": name})
    assert r.status == 303, r
    assert (r.location or "").endswith("/aura-admin/orgs"), r.headers
    assert name in org_names(tgw.pg)


@pytest.mark.parametrize("ctype", ["text/plain",
                                   "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
def test_api_writes_need_json_content_type(tgw, H, ctype):
    """What a cross-site form can send must not write through the API."""
    name = uniq("ctype")
    hdrs = {"Authorization": H.basic_auth("admin", tgw.passwords["admin"])}
    if ctype:
        hdrs["Content-Type"] = ctype
    r = H.raw_request(tgw.port, "POST", "/aura-admin/api/orgs",
                      ('{"name": "%s"}' % name).encode(), hdrs)
    assert r.status in (400, 403, 415), "POST /api/orgs as %r: %r" % (
        ctype, r)
    assert name not in org_names(tgw.pg)


# --------------------------------------------------------------------------
# injection
# --------------------------------------------------------------------------

def test_sql_metacharacters_are_data(tgw):
    pg = tgw.pg
    org = ok(tgw.api("POST", "/orgs", {"name": SQLI + uniq("")}), 201)
    assert org["name"].startswith(SQLI), org
    assert ok(tgw.api("GET", "/orgs/%d" % org["id"]))["name"] == org["name"]
    team = ok(tgw.api("POST", "/teams", {"org_id": org["id"],
                                         "name": LIKE}), 201)
    assert team["name"] == LIKE, team
    key, _ = tgw.new_key(org_id=org["id"], name="k'\"; --" + LIKE)
    assert ok(tgw.api("GET", "/keys/%d" % key["id"]))["name"] == \
        "k'\"; --" + LIKE
    assert pg.scalar("SELECT to_regclass('organizations')::text") == \
        "organizations"
    assert pg.scalar("SELECT name FROM teams WHERE id = %s",
                     (team["id"],)) == LIKE
    # a LIKE wildcard in a filter is a literal, never "match anything"
    assert ok(tgw.api("GET", "/audit?actor=%25"))["data"] == []
    assert ok(tgw.api("GET", "/requests?model=%25"))["data"] == []
    r = tgw.api("GET", "/keys?org_id=1%20OR%201=1")
    assert r.status in (400, 404) or r.json()["data"] == [], r


def hostile_tenant(tgw):
    org = ok(tgw.api("POST", "/orgs", {"name": XSS + uniq("")}), 201)
    team = ok(tgw.api("POST", "/teams", {"org_id": org["id"],
                                         "name": ATTR}), 201)
    proj = ok(tgw.api("POST", "/projects", {"team_id": team["id"],
                                            "name": XSS}), 201)
    ok(tgw.api("POST", "/end-users", {"org_id": org["id"],
                                      "external_id": XSS, "name": ATTR}),
       201)
    key, _ = tgw.new_key(org_id=org["id"], team_id=team["id"],
                         project_id=proj["id"], name=XSS)
    return org, team, proj, key


def test_html_metacharacters_are_escaped_everywhere(tgw):
    org, team, proj, key = hostile_tenant(tgw)
    o = org["id"]
    pages = PAGES + ["/orgs/%d" % o, "/teams/%d" % team["id"],
                     "/projects/%d" % proj["id"], "/keys/%d" % key["id"],
                     "/teams?org_id=%d" % o, "/keys?org_id=%d" % o,
                     "/end-users?org_id=%d" % o, "/audit?org_id=%d" % o,
                     "/costs?group=org", "/orgs?status=all"]
    escaped_seen = set()
    for p in pages:
        r = tgw.page("GET", p)
        assert r.status in (200, 404), (p, r)
        if r.status != 200:
            continue
        assert XSS not in r.text, "raw %s on %s" % (XSS, p)
        assert ATTR not in r.text, "raw %r on %s" % (ATTR, p)
        if p.endswith(".csv"):
            continue
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text:
            escaped_seen.add(p.split("?")[0])
    for must in ("/orgs", "/keys", "/projects"):
        assert must in escaped_seen, "the hostile name is not shown " \
            "(escaped) on %s; seen on %s" % (must, sorted(escaped_seen))


def test_error_page_escapes_input(tgw):
    """A re-rendered form keeps the values, escaped."""
    r = tgw.page("POST", "/orgs", {"name": XSS + "x" * 300})
    assert r.status == 400, r
    assert XSS not in r.text and "&lt;script&gt;" in r.text
    assert 'class="error"' in r.text or "class='error'" in r.text or \
        re.search(r'class="[^"]*\berror\b', r.text), r.text[:2000]


# --------------------------------------------------------------------------
# org admins stay in their org
# --------------------------------------------------------------------------

@pytest.fixture
def two_orgs(tgw):
    """(org admin's user name, own objects, the other org's objects)."""
    def objects():
        org = tgw.new_org()
        team = ok(tgw.api("POST", "/teams", {"org_id": org["id"],
                                             "name": uniq("t")}), 201)
        proj = ok(tgw.api("POST", "/projects", {"team_id": team["id"],
                                                "name": uniq("p")}), 201)
        eu = ok(tgw.api("POST", "/end-users", {"org_id": org["id"],
                                               "external_id": uniq("u")}),
                201)
        key, _ = tgw.new_key(org_id=org["id"])
        cred = ok(tgw.api("POST", "/credentials", {
            "provider": "acme-test", "org_id": org["id"],
            "secret": "sk-iso-" + uuid.uuid4().hex}), 201)
        budget = ok(tgw.api("POST", "/budgets", {
            "scope_type": "org", "scope_id": org["id"], "amount_usd": 10,
            "period": "month"}), 201)
        limit = ok(tgw.api("POST", "/limits", {
            "scope_type": "org", "scope_id": org["id"],
            "requests_per_min": 100}), 201)
        return dict(org=org, team=team, project=proj, end_user=eu, key=key,
                    credential=cred, budget=budget, limit=limit)
    mine, theirs = objects(), objects()
    user = uniq("orgadmin")
    tgw.add_admin(user, "org_admin", mine["org"]["id"])
    return user, mine, theirs


def snapshot(pg, org_id):
    q = {t: "SELECT * FROM %s WHERE org_id = %%s ORDER BY id" % t
         for t in ("teams", "projects", "end_users", "virtual_keys",
                   "provider_credentials", "budgets", "rate_limits")}
    out = {t: pg.query(sql, (org_id,)) for t, sql in q.items()}
    out["org"] = pg.query("SELECT * FROM organizations WHERE id = %s",
                          (org_id,))
    return out


COLL = {"org": "orgs", "team": "teams", "project": "projects",
        "end_user": "end-users", "key": "keys", "credential": "credentials",
        "budget": "budgets", "limit": "limits"}


def foreign_requests(theirs):
    """Every read and write of the other org's objects."""
    out = []
    for kind, obj in theirs.items():
        base = "/%s/%d" % (COLL[kind], obj["id"])
        if kind != "credential":
            out.append(("GET", base, None))
        if kind not in ("credential",):
            patch = {"name": uniq("x")}
            if kind == "budget":
                patch = {"amount_usd": 1}
            elif kind == "limit":
                patch = {"requests_per_min": 1}
            out.append(("PATCH", base, patch))
        if kind == "key":
            out += [("POST", base + "/revoke", None),
                    ("POST", base + "/rotate", None)]
        else:
            out.append(("POST", base + "/archive", None))
    return out


def test_org_admin_sees_only_its_org(tgw, two_orgs):
    user, mine, theirs = two_orgs
    me = ok(tgw.api("GET", "/me", user=user))
    assert me == {"username": user, "role": "org_admin",
                  "org_id": mine["org"]["id"]}, me
    for kind in COLL:
        rows = ok(tgw.api("GET", "/" + COLL[kind], user=user))["data"]
        orgs = {r.get("org_id", r.get("id")) for r in rows}
        assert theirs["org"]["id"] not in orgs, \
            "%s lists the other org's rows" % COLL[kind]
        if kind == "org":
            assert {r["id"] for r in rows} == {mine["org"]["id"]}, rows
        else:
            assert mine[kind]["id"] in {r["id"] for r in rows}, (kind, rows)
    for q in ("/keys?org_id=%d", "/teams?org_id=%d", "/audit?org_id=%d",
              "/requests?org_id=%d", "/reports/costs?group=org&org_id=%d",
              "/overview?org_id=%d"):
        r = tgw.api("GET", q % theirs["org"]["id"], user=user)
        if r.status == 200:
            d = r.json()
            rows = d.get("data", []) if isinstance(d, dict) else d
            assert all(x.get("org_id") in (None, mine["org"]["id"])
                       for x in rows if isinstance(x, dict)), (q, d)
        else:
            assert r.status in (403, 404), (q, r)


def test_org_admin_cannot_touch_another_org_api(tgw, two_orgs):
    user, mine, theirs = two_orgs
    before = snapshot(tgw.pg, theirs["org"]["id"])
    for method, path, body in foreign_requests(theirs):
        r = tgw.api(method, path, body, user=user)
        assert r.status == 404, "%s %s as org admin of another org: %r" % (
            method, path, r)
        assert r.json()["error"]["type"] == "not_found"
    assert snapshot(tgw.pg, theirs["org"]["id"]) == before


def test_org_admin_cannot_touch_another_org_html(tgw, two_orgs):
    user, mine, theirs = two_orgs
    before = snapshot(tgw.pg, theirs["org"]["id"])
    for method, path, body in foreign_requests(theirs):
        if method == "PATCH":       # HTML edits are POSTs to /<kind>/{id}
            method = "POST"
        r = tgw.page(method, path, body, user=user)
        assert r.status == 404, "HTML %s %s as org admin of another org: " \
            "%r" % (method, path, r)
    assert snapshot(tgw.pg, theirs["org"]["id"]) == before


def test_org_admin_cannot_create_in_another_org(tgw, two_orgs):
    user, mine, theirs = two_orgs
    t = theirs["org"]["id"]
    before = snapshot(tgw.pg, t)
    for path, body in [
            ("/teams", {"org_id": t, "name": uniq("t")}),
            ("/projects", {"team_id": theirs["team"]["id"],
                           "name": uniq("p")}),
            ("/end-users", {"org_id": t, "external_id": uniq("u")}),
            ("/keys", {"org_id": t, "name": uniq("k")}),
            ("/keys", {"org_id": mine["org"]["id"], "name": uniq("k"),
                       "team_id": theirs["team"]["id"]}),
            ("/credentials", {"org_id": t, "provider": "acme-test",
                              "secret": "sk-nope-" + uuid.uuid4().hex}),
            ("/budgets", {"scope_type": "org", "scope_id": t,
                          "amount_usd": 1, "period": "day"}),
            ("/budgets", {"scope_type": "key",
                          "scope_id": theirs["key"]["id"],
                          "amount_usd": 1, "period": "day"}),
            ("/limits", {"scope_type": "team",
                         "scope_id": theirs["team"]["id"],
                         "requests_per_min": 1})]:
        r = tgw.api("POST", path, body, user=user)
        assert r.status in (400, 403, 404), (path, body, r)
    assert snapshot(tgw.pg, t) == before
    # nor a credential for every org, nor an org, nor admins
    before_orgs = org_names(tgw.pg)
    r = tgw.api("POST", "/orgs", {"name": uniq("mine")}, user=user)
    assert r.status == 403 and r.json()["error"]["type"] == "forbidden", r
    assert org_names(tgw.pg) == before_orgs
    r = tgw.api("POST", "/credentials", {"provider": "acme-test",
                                         "secret": "sk-g-" + uuid.uuid4().hex},
                user=user)
    assert r.status in (400, 403), r
    r = tgw.api("POST", "/admins", {"username": uniq("u"),
                                    "role": "superadmin"}, user=user)
    assert r.status == 403, r
    r = tgw.page("POST", "/orgs", {"name": uniq("mine")}, user=user)
    assert r.status == 403, r


def test_org_admin_can_work_in_its_org(tgw, two_orgs):
    user, mine, theirs = two_orgs
    o = mine["org"]["id"]
    t = ok(tgw.api("POST", "/teams", {"org_id": o, "name": uniq("t")},
                   user=user), 201)
    key, secret = tgw.new_key(org_id=o, team_id=t["id"], user=user)
    assert key["created_by"] == user
    ok(tgw.api("POST", "/keys/%d/revoke" % key["id"], user=user))


# --------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------

def everything_visible(tgw):
    """Every page and API answer a console user can fetch, and the logs."""
    out = []
    for p in PAGES:
        out.append(("page " + p, tgw.page("GET", p).text))
    for p in ("/keys", "/credentials", "/audit?limit=500", "/requests",
              "/overview", "/orgs", "/admins"):
        out.append(("api " + p, tgw.api("GET", p).text))
    out.append(("error_log", tgw.error_log()))
    out.append(("access_log", tgw.access_log()))
    return out


def test_key_secret_exists_only_once(tgw):
    org = tgw.new_org()
    key, secret = tgw.new_key(org_id=org["id"])
    # and one made with the HTML form: the answer page shows it once
    name = uniq("form-key")
    r = tgw.page("POST", "/keys", {"name": name, "org_id": str(org["id"])})
    assert r.status in (200, 201), r
    assert "no-store" in r.headers.get("cache-control", ""), r.headers
    secret2 = text_of(r.text, "new-key-secret")
    assert secret2 and secret2.startswith("sk-aura-"), r.text[:3000]
    assert secret2 not in (r.location or "")
    tail, tail2 = secret.rsplit("-", 1)[1], secret2.rsplit("-", 1)[1]
    for what, text in everything_visible(tgw) + [
            ("api /keys/%d" % key["id"],
             tgw.api("GET", "/keys/%d" % key["id"]).text),
            ("page /keys/%d" % key["id"],
             tgw.page("GET", "/keys/%d" % key["id"]).text)]:
        for s in (secret, secret2, tail, tail2):
            assert s not in text, "a key secret is visible in %s" % what


def test_credential_secret_never_leaves(tgw):
    org = tgw.new_org()
    s1 = "sk-live-" + uuid.uuid4().hex
    r = tgw.api("POST", "/credentials", {"provider": "acme-test",
                                         "secret": s1, "org_id": org["id"]})
    assert r.status == 201 and s1 not in r.text, r
    s2 = "sk-form-" + uuid.uuid4().hex
    r = tgw.page("POST", "/credentials", {"provider": "acme-form",
                                          "secret": s2,
                                          "org_id": str(org["id"])})
    assert r.status == 303 and s2 not in r.text, r
    assert s2 not in (r.location or "")
    for what, text in everything_visible(tgw):
        for s in (s1, s2, s1[8:], s2[8:]):
            assert s not in text, "a credential secret is visible in %s" \
                % what
    for (sealed,) in tgw.pg.query("SELECT sealed FROM provider_credentials"):
        assert s1[8:] not in sealed and s2[8:] not in sealed
    for (detail,) in tgw.pg.query("SELECT detail::text FROM audit_log"):
        assert s1[8:] not in detail and s2[8:] not in detail


def test_gateway_logs_hold_no_key(tgw):
    key, secret = tgw.new_key()
    for header in ("authorization", "x-api-key", "api-key"):
        tgw.responses({"model": "priced-chat", "input": "hi"}, secret,
                      header=header)
    tgw.responses({"model": "priced-chat", "input": "hi"},
                  secret[:-3] + "zzz")
    tail = secret.rsplit("-", 1)[1]
    for what, text in (("error_log", tgw.error_log()),
                       ("access_log", tgw.access_log())):
        assert tail not in text, "the key secret is in " + what


# --------------------------------------------------------------------------
# spreadsheet exports: CSV cells a spreadsheet would split or run
# --------------------------------------------------------------------------

FORMULA_START = "=+-@\t\r"
CSV_SEPARATORS = ",;\t\r\n"     # a spreadsheet may split on any of them
HOSTILE_NAMES = ["a;b", "a\tb", 'x;=HYPERLINK("http://evil.example","y")',
                 "x\t+1", "x;@SUM(A1)", "-2+3", "=1+1", "a,-1", "a\r\n@b"]


def csv_guarded(s):
    """s as the CSV export must show it: a ' before a formula start at the
    start of the cell and right after every separator inside it."""
    out, after_sep = [], True
    for ch in s:
        if after_sep and ch in FORMULA_START:
            out.append("'")
        out.append(ch)
        after_sep = ch in CSV_SEPARATORS
    return "".join(out)


def csv_report(tgw, models):
    """/costs.csv grouped by model for a fresh org whose ledger holds one
    request per (model, cost) of `models`: (raw text, rows by model)."""
    org = tgw.new_org()
    for model, cost in models:
        tgw.pg.execute(
            "INSERT INTO usage_ledger (request_id, created_at, org_id, "
            "front, model, provider, input_tokens, output_tokens, "
            "cost_total, cost_status, http_status, status) VALUES (%s, "
            "now(), %s, 'responses', %s, 'csv', 1, 1, %s, 'priced', 200, "
            "'completed')", (uuid.uuid4().hex, org["id"], model, cost))
    r = tgw.page("GET", "/costs.csv?group=model&org_id=%d" % org["id"])
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/csv"), r.headers
    rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
    return r.text, {row["group_name"]: row for row in rows}


def test_csv_quotes_cells_with_any_separator(tgw):
    names = [n + " " + uniq("q") for n in HOSTILE_NAMES]
    raw, rows = csv_report(tgw, [(n, "0.5") for n in names])
    for n in names:
        cell = csv_guarded(n).replace('"', '""')
        if any(ch in CSV_SEPARATORS + '"' for ch in n):
            cell = '"%s"' % cell
        assert "," + cell + "," in raw, "%r not quoted as %r in %r" % (
            n, cell, raw)


def test_csv_neutralises_formulas_after_separators(tgw):
    names = [n + " " + uniq("f") for n in HOSTILE_NAMES]
    raw, rows = csv_report(tgw, [(n, "0.5") for n in names])
    for n in names:
        shown = csv_guarded(n)
        assert shown in rows, "%r: no row %r in %r" % (n, shown, rows)
    # a spreadsheet that splits on ; or tab instead of , sees cells that
    # begin after each of those: none may begin with a formula
    for sep in (";", "\t"):
        for piece in raw.split(sep)[1:]:
            first = piece.lstrip('"')[:1]
            assert not first or first not in FORMULA_START, \
                "a cell after %r starts a formula: %r" % (sep, piece[:40])


def test_csv_keeps_gateway_numbers_plain(tgw):
    credit, priced = uniq("credit"), uniq("priced")
    raw, rows = csv_report(tgw, [(credit, "-0.25"), (priced, "1.5")])
    assert rows[credit]["cost_usd"] == "-0.25", rows[credit]
    assert rows[priced]["cost_usd"] == "1.5", rows[priced]
    for row in (rows[credit], rows[priced]):
        assert (row["requests"], row["input_tokens"], row["output_tokens"],
                row["unpriced_requests"]) == ("1", "1", "1", "0"), row
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["bucket"]), row


# --------------------------------------------------------------------------
# request bodies over the console's limit
# --------------------------------------------------------------------------

BODY_MAX = 1024 * 1024          # ADM_BODY_MAX, docs/admin.md


def json_body(name, size):
    """A JSON POST /orgs body of exactly `size` bytes (padded with spaces,
    which JSON ignores)."""
    b = json.dumps({"name": name}).encode()
    return b + b" " * (size - len(b))


def assert_413_shape(r, kind):
    assert r.status == 413, r
    ct = r.headers.get("content-type", "")
    if kind == "api":
        assert ct.startswith("application/json"), r.headers
        e = r.json()["error"]
        assert e["status"] == 413 and e["type"] == "invalid_request", e
        assert "1 MiB" in e["message"], e
    else:
        assert ct.startswith("text/html"), r.headers
        assert 'class="error"' in r.text and "1 MiB" in r.text, r.text[:800]
    assert "frame-ancestors 'none'" in \
        r.headers.get("content-security-policy", ""), r.headers
    assert "no-store" in r.headers.get("cache-control", ""), r.headers


@pytest.mark.parametrize("size", [BODY_MAX + 1, 4 * BODY_MAX])
def test_api_body_over_the_limit_is_answered_413(tgw, size):
    name = uniq("big")
    r = tgw.api("POST", "/orgs", json_body(name, size))
    assert_413_shape(r, "api")
    assert name not in org_names(tgw.pg)


@pytest.mark.parametrize("size", [BODY_MAX + 1, 4 * BODY_MAX])
def test_form_body_over_the_limit_is_answered_413(tgw, size):
    name = uniq("big")
    form = {"name": name, "csrf": tgw.csrf_token()}
    base = len(urllib.parse.urlencode(form)) + len("&pad=")
    form["pad"] = "x" * (size - base)
    assert len(urllib.parse.urlencode(form)) == size
    r = tgw.page("POST", "/orgs", form)
    assert_413_shape(r, "page")
    assert name not in org_names(tgw.pg)


def chunks(data, size=65536):
    """data as an iterator of pieces: http.client sends it chunked."""
    return iter([data[i:i + size] for i in range(0, len(data), size)])


def form_chunked(tgw, form):
    """POST /orgs as a chunked urlencoded form (no Content-Length)."""
    hdrs = {"Authorization": basic_auth("admin", tgw.passwords["admin"]),
            "Content-Type": "application/x-www-form-urlencoded"}
    return raw_request(tgw.port, "POST", "/aura-admin/orgs",
                       chunks(urllib.parse.urlencode(form).encode()), hdrs)


def test_chunked_body_over_the_limit_is_answered_413(tgw):
    name = uniq("bigc")
    assert_413_shape(tgw.api("POST", "/orgs",
                             chunks(json_body(name, BODY_MAX + 1))), "api")
    form = {"name": name, "csrf": tgw.csrf_token(), "pad": "x" * BODY_MAX}
    assert_413_shape(form_chunked(tgw, form), "page")
    assert name not in org_names(tgw.pg)


def test_chunked_body_is_served(tgw):
    name = uniq("chunked")
    ok(tgw.api("POST", "/orgs", chunks(json_body(name, BODY_MAX), 1000)),
       201)
    assert name in org_names(tgw.pg)
    name = uniq("chunked")
    r = form_chunked(tgw, {"name": name, "csrf": tgw.csrf_token()})
    assert r.status == 303, r
    assert name in org_names(tgw.pg)


def test_body_at_the_limit_is_served(tgw):
    name = uniq("max")
    ok(tgw.api("POST", "/orgs", json_body(name, BODY_MAX)), 201)
    assert name in org_names(tgw.pg)
    name = uniq("max")
    form = {"name": name, "csrf": tgw.csrf_token()}
    base = len(urllib.parse.urlencode(form)) + len("&pad=")
    form["pad"] = "x" * (BODY_MAX - base)
    r = tgw.page("POST", "/orgs", form)
    assert r.status == 303, r
    assert name in org_names(tgw.pg)


# --------------------------------------------------------------------------
# headers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind,path", [("page", p) for p in
                                       ["/", "/keys", "/costs", "/nope"]]
                         + [("api", "/me"), ("api", "/keys"),
                            ("api", "/nope")])
def test_security_headers(tgw, kind, path):
    r = tgw.page("GET", path) if kind == "page" else tgw.api("GET", path)
    h = r.headers
    csp = h.get("content-security-policy", "")
    assert csp, "no Content-Security-Policy on %s %s: %r" % (kind, path, h)
    assert "frame-ancestors 'none'" in csp or \
        h.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN"), h
    assert h.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN"), h
    assert "no-store" in h.get("cache-control", ""), h
    assert "'unsafe-eval'" not in csp, csp
