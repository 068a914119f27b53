"""A virtual key's own budgets and rate limits (docs/admin.md): created with
the key (POST /api/keys "budget"/"limit", the /keys form's "budget.*" and
"limit.*" fields) in the key's transaction, shown by GET /api/keys/{id}
and on the key page, added and archived from the key page, whose forms
post to /budgets and /limits with next=/keys/{id}.

Through the real httpd, the aura-admin CGI and PostgreSQL (`tgw`); every
test makes its own orgs.
"""

import html.parser
import re

import pytest

from admin_util import uniq, ok, audit_mark, audit_since

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BUDGET_FIELDS = {"id", "org_id", "scope_type", "scope_id", "amount_usd",
                 "period", "rolling_seconds", "status", "created_at",
                 "updated_at"}
LIMIT_FIELDS = {"id", "org_id", "scope_type", "scope_id", "requests_per_min",
                "tokens_per_min", "concurrency", "status", "created_at",
                "updated_at"}


def api_error(r, status, field):
    assert r.status == status, "HTTP %d, want %d: %r" % (
        r.status, status, r.body[:600])
    e = r.json()["error"]
    assert e["status"] == status and e["type"] == "invalid_request", e
    assert e["field"] == field, "error field %r, want %r: %r" % (
        e["field"], field, e)
    assert isinstance(e["message"], str) and e["message"], e
    return e


def org_rows(pg, table, org_id):
    return pg.query("SELECT id, status FROM %s WHERE org_id = %%s "
                    "ORDER BY id" % table, (org_id,))


def key_rows(tgw, org_id):
    return ok(tgw.api("GET", "/keys?org_id=%d" % org_id))["data"]


class Forms(html.parser.HTMLParser):
    """Every <form> of a page: action, method, its inputs (name → value),
    select names and button labels; and the error paragraphs."""

    def __init__(self, text):
        super().__init__()
        self.forms, self.errors = [], []
        self._form = self._err = self._button = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action"),
                          "method": (a.get("method") or "get").lower(),
                          "inputs": {}, "selects": set(), "buttons": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            self._form["inputs"][a.get("name")] = a.get("value", "")
        elif tag == "select" and self._form is not None:
            self._form["selects"].add(a.get("name"))
        elif tag == "button" and self._form is not None:
            self._button = ""
        elif tag == "p" and "error" in (a.get("class") or "").split():
            self._err = {"field": a.get("data-field"), "text": ""}
            self.errors.append(self._err)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "button" and self._button is not None:
            self._form["buttons"].append(self._button.strip())
            self._button = None
        elif tag == "p":
            self._err = None

    def handle_data(self, data):
        if self._button is not None:
            self._button += data
        if self._err is not None:
            self._err["text"] += data

    def posting(self, action):
        return [f for f in self.forms if f["method"] == "post"
                and f["action"] == "/aura-admin" + action]


def key_page(tgw, key_id, user="admin", status=200):
    r = tgw.page("GET", "/keys/%d" % key_id, user=user)
    assert r.status == status, r
    return r


def new_key(tgw, org_id, user="admin", **fields):
    body = {"name": uniq("k"), "org_id": org_id}
    body.update(fields)
    return ok(tgw.api("POST", "/keys", body, user=user), 201)


# --------------------------------------------------------------------------
# the JSON API
# --------------------------------------------------------------------------

def test_key_created_with_budget_and_limit(tgw):
    pg = tgw.pg
    org = tgw.new_org()
    mark = audit_mark(pg)
    d = new_key(tgw, org["id"],
                budget={"amount_usd": "12.5", "period": "day"},
                limit={"requests_per_min": 60, "tokens_per_min": 10000})
    assert set(d) == {"key", "secret"}, d
    kid = d["key"]["id"]

    got = ok(tgw.api("GET", "/keys/%d" % kid))
    assert {k: v for k, v in got.items()
            if k not in ("budgets", "limits")} == d["key"]
    [b] = got["budgets"]
    [lim] = got["limits"]
    assert set(b) == BUDGET_FIELDS and set(lim) == LIMIT_FIELDS, (b, lim)
    assert (b["org_id"], b["scope_type"], b["scope_id"], b["amount_usd"],
            b["period"], b["rolling_seconds"], b["status"]) == \
        (org["id"], "key", kid, 12.5, "day", None, "active"), b
    assert (lim["org_id"], lim["scope_type"], lim["scope_id"],
            lim["requests_per_min"], lim["tokens_per_min"],
            lim["concurrency"], lim["status"]) == \
        (org["id"], "key", kid, 60, 10000, None, "active"), lim
    assert TS.match(b["created_at"]) and TS.match(lim["created_at"])
    # the same objects as /api/budgets and /api/limits
    assert got["budgets"] == ok(tgw.api(
        "GET", "/budgets?scope_type=key&scope_id=%d" % kid))["data"]
    assert got["limits"] == ok(tgw.api(
        "GET", "/limits?scope_type=key&scope_id=%d" % kid))["data"]

    rows = audit_since(pg, mark)
    acts = [(r["action"], r["object_id"]) for r in rows]
    assert ("key.create", str(kid)) in acts, acts
    assert ("budget.create", str(b["id"])) in acts, acts
    assert ("limit.create", str(lim["id"])) in acts, acts
    for r in rows:
        assert r["actor"] == "admin" and r["org_id"] == org["id"], r
        assert d["secret"] not in str(r["detail"]), r


def test_key_created_with_rolling_budget_only(tgw):
    org = tgw.new_org()
    d = new_key(tgw, org["id"], budget={"amount_usd": 1, "period": "rolling",
                                        "rolling_seconds": 3600},
                limit=None)
    got = ok(tgw.api("GET", "/keys/%d" % d["key"]["id"]))
    [b] = got["budgets"]
    assert (b["amount_usd"], b["period"], b["rolling_seconds"]) == \
        (1, "rolling", 3600), b
    assert got["limits"] == []


def test_key_without_policy_lists_none(tgw):
    org = tgw.new_org()
    d = new_key(tgw, org["id"])
    got = ok(tgw.api("GET", "/keys/%d" % d["key"]["id"]))
    assert got["budgets"] == [] and got["limits"] == [], got
    # other answers stay "the key"
    patched = ok(tgw.api("PATCH", "/keys/%d" % d["key"]["id"],
                         {"name": uniq("k")}))
    assert "budgets" not in patched and "limits" not in patched, patched


GOOD_BUDGET = {"amount_usd": "5", "period": "month"}


@pytest.mark.parametrize("extra,field", [
    ({"budget": {"amount_usd": "0", "period": "day"}}, "budget.amount_usd"),
    ({"budget": {"amount_usd": "abc", "period": "day"}},
     "budget.amount_usd"),
    ({"budget": {"amount_usd": 1.0000001, "period": "day"}},
     "budget.amount_usd"),
    ({"budget": {"period": "day"}}, "budget.amount_usd"),
    ({"budget": {}}, "budget.amount_usd"),
    ({"budget": {"amount_usd": 1, "period": "fortnight"}}, "budget.period"),
    ({"budget": {"amount_usd": 1}}, "budget.period"),
    ({"budget": {"amount_usd": 1, "period": "rolling"}},
     "budget.rolling_seconds"),
    ({"budget": {"amount_usd": 1, "period": "day", "rolling_seconds": 60}},
     "budget.rolling_seconds"),
    ({"budget": "5"}, "budget"),
    ({"budget": GOOD_BUDGET, "limit": {}}, "limit.requests_per_min"),
    ({"budget": GOOD_BUDGET, "limit": {"requests_per_min": 0}},
     "limit.requests_per_min"),
    ({"budget": GOOD_BUDGET, "limit": {"tokens_per_min": -5}},
     "limit.tokens_per_min"),
    ({"budget": GOOD_BUDGET, "limit": {"concurrency": "x"}},
     "limit.concurrency"),
    ({"limit": [60]}, "limit"),
])
def test_bad_policy_creates_no_key(tgw, extra, field):
    pg = tgw.pg
    org = tgw.new_org()
    mark = audit_mark(pg)
    body = {"name": uniq("k"), "org_id": org["id"]}
    body.update(extra)
    e = api_error(tgw.api("POST", "/keys", body), 400, field)
    assert field.split(".")[0] in e["message"], e
    assert key_rows(tgw, org["id"]) == []
    assert org_rows(pg, "virtual_keys", org["id"]) == []
    assert org_rows(pg, "budgets", org["id"]) == []
    assert org_rows(pg, "rate_limits", org["id"]) == []
    assert audit_since(pg, mark) == []


def test_bad_key_with_good_budget_creates_nothing(tgw):
    org = tgw.new_org()
    api_error(tgw.api("POST", "/keys", {"name": "", "org_id": org["id"],
                                        "budget": GOOD_BUDGET}), 400, "name")
    assert org_rows(tgw.pg, "budgets", org["id"]) == []


# --------------------------------------------------------------------------
# the /keys form
# --------------------------------------------------------------------------

def key_form(org_id, **fields):
    form = {"name": uniq("form-key"), "org_id": str(org_id),
            "team_id": "", "project_id": "", "allowed_models": "",
            "expires_at": "", "budget.amount_usd": "",
            "budget.period": "month", "budget.rolling_seconds": "",
            "limit.requests_per_min": ""}
    form.update(fields)
    return form


def key_named(tgw, org_id, name):
    return [k for k in key_rows(tgw, org_id) if k["name"] == name]


def test_create_form_offers_budget_and_limit(tgw):
    f = Forms(tgw.page("GET", "/keys").text).posting("/keys")
    assert len(f) == 1, f
    assert {"budget.amount_usd", "budget.rolling_seconds",
            "limit.requests_per_min"} <= set(f[0]["inputs"]), f
    assert "budget.period" in f[0]["selects"], f


def test_key_form_with_budget_and_limit(tgw):
    org = tgw.new_org()
    form = key_form(org["id"], **{"budget.amount_usd": "7.25",
                                  "budget.period": "week",
                                  "limit.requests_per_min": "30"})
    r = tgw.page("POST", "/keys", form)
    assert r.status == 201, r
    assert 'id="new-key-secret"' in r.text
    [key] = key_named(tgw, org["id"], form["name"])
    got = ok(tgw.api("GET", "/keys/%d" % key["id"]))
    [b] = got["budgets"]
    [lim] = got["limits"]
    assert (b["amount_usd"], b["period"], b["scope_id"]) == \
        (7.25, "week", key["id"]), b
    assert (lim["requests_per_min"], lim["tokens_per_min"],
            lim["concurrency"]) == (30, None, None), lim

    page = key_page(tgw, key["id"]).text
    assert "Budgets and limits" in page
    assert "7.25" in page and "week" in page and ">30<" in page, page


def test_key_form_without_budget(tgw):
    org = tgw.new_org()
    form = key_form(org["id"])            # period "month" as a browser sends
    r = tgw.page("POST", "/keys", form)
    assert r.status == 201, r
    [key] = key_named(tgw, org["id"], form["name"])
    got = ok(tgw.api("GET", "/keys/%d" % key["id"]))
    assert got["budgets"] == [] and got["limits"] == [], got


@pytest.mark.parametrize("fields,field", [
    ({"budget.amount_usd": "-1"}, "budget.amount_usd"),
    ({"budget.amount_usd": "1", "budget.period": "rolling"},
     "budget.rolling_seconds"),
    ({"budget.rolling_seconds": "600"}, "budget.amount_usd"),
    ({"limit.requests_per_min": "lots"}, "limit.requests_per_min"),
])
def test_key_form_bad_policy(tgw, fields, field):
    org = tgw.new_org()
    form = key_form(org["id"], **fields)
    r = tgw.page("POST", "/keys", form)
    assert r.status == 400, r
    p = Forms(r.text)
    assert field in {e["field"] for e in p.errors}, p.errors
    [f] = p.posting("/keys")
    assert f["inputs"]["name"] == form["name"], f       # values kept
    for k, v in fields.items():
        if k in f["inputs"]:
            assert f["inputs"][k] == v, (k, f["inputs"])
    assert key_named(tgw, org["id"], form["name"]) == []
    assert org_rows(tgw.pg, "budgets", org["id"]) == []
    assert org_rows(tgw.pg, "rate_limits", org["id"]) == []


# --------------------------------------------------------------------------
# the key page
# --------------------------------------------------------------------------

def policy_forms(text, key_id):
    """The key page's add forms for budgets and limits."""
    p = Forms(text)
    out = {}
    for kind in ("budgets", "limits"):
        fs = p.posting("/" + kind)
        assert len(fs) == 1, (kind, p.forms)
        ins = fs[0]["inputs"]
        assert ins["scope_type"] == "key" and \
            ins["scope_id"] == str(key_id) and \
            ins["next"] == "/keys/%d" % key_id, ins
        assert ins.get("csrf"), ins
        out[kind] = fs[0]
    return out


def archive_forms(text, kind):
    return [f for f in Forms(text).forms if f["method"] == "post"
            and re.fullmatch(r"/aura-admin/%s/\d+/archive" % kind,
                             f["action"] or "")]


@pytest.mark.parametrize("kind,values,check", [
    ("budgets", {"amount_usd": "3", "period": "day", "rolling_seconds": ""},
     lambda x: x["amount_usd"] == 3 and x["period"] == "day"),
    ("limits", {"requests_per_min": "", "tokens_per_min": "5000",
                "concurrency": "4"},
     lambda x: x["tokens_per_min"] == 5000 and x["concurrency"] == 4
     and x["requests_per_min"] is None),
])
def test_key_page_adds_and_archives(tgw, kind, values, check):
    pg = tgw.pg
    org = tgw.new_org()
    kid = new_key(tgw, org["id"])["key"]["id"]
    page = key_page(tgw, kid).text
    assert "Budgets and limits" in page
    form = policy_forms(page, kid)[kind]
    assert set(values) <= set(form["inputs"]) | form["selects"], form

    mark = audit_mark(pg)
    post = dict(form["inputs"], **values)
    del post["csrf"]
    r = tgw.page("POST", "/" + kind, post)
    assert r.status == 303, r
    assert r.location == "/aura-admin/keys/%d" % kid, r.headers
    [row] = ok(tgw.api("GET", "/keys/%d" % kid))[kind]
    assert row["scope_type"] == "key" and row["scope_id"] == kid, row
    assert check(row), row
    noun = kind[:-1]
    assert (noun + ".create", str(row["id"])) in [
        (a["action"], a["object_id"]) for a in audit_since(pg, mark)]

    page = key_page(tgw, kid).text
    [arch] = archive_forms(page, kind)
    assert arch["action"] == "/aura-admin/%s/%d/archive" % (kind, row["id"])
    assert arch["inputs"]["next"] == "/keys/%d" % kid, arch
    r = tgw.page("POST", "/%s/%d/archive" % (kind, row["id"]),
                 {"next": arch["inputs"]["next"]})
    assert r.status == 303 and r.location == "/aura-admin/keys/%d" % kid, r
    assert ok(tgw.api("GET", "/keys/%d" % kid))[kind] == []
    assert ok(tgw.api("GET", "/%s/%d" % (kind, row["id"])))[
        "status"] == "archived"
    assert archive_forms(key_page(tgw, kid).text, kind) == []


def test_without_next_the_list_as_before(tgw):
    org = tgw.new_org()
    kid = new_key(tgw, org["id"])["key"]["id"]
    r = tgw.page("POST", "/budgets", {"scope_type": "key",
                                      "scope_id": str(kid),
                                      "amount_usd": "2", "period": "day"})
    assert r.status == 303 and r.location == "/aura-admin/budgets", r
    bid = ok(tgw.api("GET", "/keys/%d" % kid))["budgets"][0]["id"]
    r = tgw.page("POST", "/budgets/%d/archive" % bid, {})
    assert r.status == 303 and r.location == "/aura-admin/budgets", r


HOSTILE = ["https://evil.example/", "//evil", "//evil.example/keys/1",
           "/keys/1/../../x", "/keys/../budgets", "/keys/", "/keys/0",
           "/keys/1?x=1", "/keys/1#x", "/keys/1/", " /keys/1", "/keys/1 ",
           "/keys/-1", "/keys/1%2f..", "\\\\evil", "/\\evil",
           "javascript:alert(1)", "/keys/１", "/Keys/1", "/orgs",
           "/keys/1234567890123456789"]


@pytest.mark.parametrize("nxt", HOSTILE)
def test_hostile_next_is_ignored(tgw, nxt):
    org = tgw.new_org()
    kid = new_key(tgw, org["id"])["key"]["id"]
    base = {"scope_type": "key", "scope_id": str(kid), "next": nxt}
    r = tgw.page("POST", "/budgets", dict(base, amount_usd="2",
                                          period="day"))
    assert r.status == 303 and r.location == "/aura-admin/budgets", \
        (nxt, r.headers)
    r = tgw.page("POST", "/limits", dict(base, requests_per_min="9"))
    assert r.status == 303 and r.location == "/aura-admin/limits", \
        (nxt, r.headers)
    lid = ok(tgw.api("GET", "/keys/%d" % kid))["limits"][0]["id"]
    r = tgw.page("POST", "/limits/%d/archive" % lid, {"next": nxt})
    assert r.status == 303 and r.location == "/aura-admin/limits", \
        (nxt, r.headers)
    # refused input with it: the list page again, not a key page
    r = tgw.page("POST", "/budgets", dict(base, amount_usd="x",
                                          period="day"))
    assert r.status == 400, r
    assert "Budgets and limits" not in r.text
    assert "evil" not in (r.location or ""), r.headers


def test_next_on_an_api_write_is_ignored(tgw):
    org = tgw.new_org()
    kid = new_key(tgw, org["id"])["key"]["id"]
    r = tgw.api("POST", "/budgets", {"scope_type": "key", "scope_id": kid,
                                     "amount_usd": 1, "period": "day",
                                     "next": "/keys/%d" % kid})
    b = ok(r, 201)
    assert "location" not in r.headers and b["scope_id"] == kid, r


@pytest.mark.parametrize("kind,values,field", [
    ("budgets", {"amount_usd": "abc", "period": "day"}, "amount_usd"),
    ("budgets", {"amount_usd": "1", "period": "rolling"}, "rolling_seconds"),
    ("limits", {"requests_per_min": "", "tokens_per_min": ""},
     "requests_per_min"),
    ("limits", {"concurrency": "0"}, "concurrency"),
])
def test_key_page_form_refused_shows_key_page(tgw, kind, values, field):
    org = tgw.new_org()
    kid = new_key(tgw, org["id"])["key"]["id"]
    post = {"scope_type": "key", "scope_id": str(kid),
            "next": "/keys/%d" % kid}
    post.update(values)
    r = tgw.page("POST", "/" + kind, post)
    assert r.status == 400, r
    assert "Budgets and limits" in r.text, r.text[:1500]   # the key page
    p = Forms(r.text)
    assert [e["field"] for e in p.errors] == [field], p.errors
    forms = policy_forms(r.text, kid)
    for k, v in values.items():                        # values kept
        if k in forms[kind]["inputs"]:
            assert forms[kind]["inputs"][k] == v, forms[kind]["inputs"]
    assert ok(tgw.api("GET", "/keys/%d" % kid))[kind] == []


def test_revoked_key_takes_no_budget(tgw):
    org = tgw.new_org()
    kid = new_key(tgw, org["id"],
                  budget={"amount_usd": 4, "period": "day"})["key"]["id"]
    ok(tgw.api("POST", "/keys/%d/revoke" % kid))
    page = key_page(tgw, kid).text
    assert ">4<" in page, page
    p = Forms(page)
    assert p.posting("/budgets") == [] and p.posting("/limits") == []
    assert len(archive_forms(page, "budgets")) == 1     # still archivable
    r = tgw.page("POST", "/budgets", {"scope_type": "key",
                                      "scope_id": str(kid),
                                      "amount_usd": "1", "period": "day",
                                      "next": "/keys/%d" % kid})
    assert r.status == 400, r
    assert [e["field"] for e in Forms(r.text).errors] == ["scope_id"], \
        r.text[:2000]
    assert len(ok(tgw.api("GET", "/keys/%d" % kid))["budgets"]) == 1


# --------------------------------------------------------------------------
# who may
# --------------------------------------------------------------------------

@pytest.fixture
def org_admin(tgw):
    """(user, own org, own key id, other org, other org's key id)."""
    mine, theirs = tgw.new_org(), tgw.new_org()
    my_key = new_key(tgw, mine["id"])["key"]["id"]
    their_key = new_key(tgw, theirs["id"],
                        budget={"amount_usd": 9, "period": "day"})["key"]["id"]
    user = uniq("orgadmin")
    tgw.add_admin(user, "org_admin", mine["id"])
    return user, mine, my_key, theirs, their_key


def test_org_admin_cannot_attach_to_another_orgs_key(tgw, org_admin):
    user, mine, my_key, theirs, their_key = org_admin
    pg = tgw.pg
    before = [org_rows(pg, t, theirs["id"])
              for t in ("virtual_keys", "budgets", "rate_limits")]
    r = tgw.api("POST", "/budgets", {"scope_type": "key",
                                     "scope_id": their_key,
                                     "amount_usd": 1, "period": "day"},
                user=user)
    assert r.status in (400, 404), r
    for kind, vals in (("budgets", {"amount_usd": "1", "period": "day"}),
                       ("limits", {"requests_per_min": "5"})):
        r = tgw.page("POST", "/" + kind,
                     dict(vals, scope_type="key", scope_id=str(their_key),
                          next="/keys/%d" % their_key), user=user)
        assert r.status in (400, 404), r
        assert r.status != 303 and not r.location, r.headers
        assert "sk-aura-" not in r.text, r.text[:1000]
    # nor a key (with a budget) in the other org
    r = tgw.api("POST", "/keys", {"name": uniq("k"), "org_id": theirs["id"],
                                  "budget": {"amount_usd": 1,
                                             "period": "day"}}, user=user)
    assert r.status in (400, 404), r
    # nor see the other org's key or its budgets
    assert tgw.api("GET", "/keys/%d" % their_key, user=user).status == 404
    assert tgw.page("GET", "/keys/%d" % their_key, user=user).status == 404
    after = [org_rows(pg, t, theirs["id"])
             for t in ("virtual_keys", "budgets", "rate_limits")]
    assert after == before


def test_org_admin_works_on_its_own_key(tgw, org_admin):
    user, mine, my_key, theirs, their_key = org_admin
    d = new_key(tgw, mine["id"], user=user,
                budget={"amount_usd": "0.5", "period": "hour"},
                limit={"concurrency": 2})
    assert len(ok(tgw.api("GET", "/keys/%d" % d["key"]["id"],
                          user=user))["budgets"]) == 1
    page = key_page(tgw, my_key, user=user).text
    policy_forms(page, my_key)
    r = tgw.page("POST", "/budgets", {"scope_type": "key",
                                      "scope_id": str(my_key),
                                      "amount_usd": "1", "period": "day",
                                      "next": "/keys/%d" % my_key},
                 user=user)
    assert r.status == 303 and r.location == "/aura-admin/keys/%d" % my_key
    assert len(ok(tgw.api("GET", "/keys/%d" % my_key,
                          user=user))["budgets"]) == 1


def test_viewer_sees_the_section_without_forms(tgw):
    org = tgw.new_org()
    kid = new_key(tgw, org["id"], budget={"amount_usd": "8.5",
                                          "period": "year"},
                  limit={"requests_per_min": 77})["key"]["id"]
    viewer = uniq("viewer")
    tgw.add_admin(viewer, "viewer", org["id"])
    r = key_page(tgw, kid, user=viewer)
    assert "Budgets and limits" in r.text
    assert "8.5" in r.text and "year" in r.text and ">77<" in r.text
    posts = [f for f in Forms(r.text).forms if f["method"] == "post"]
    assert posts == [], posts
    assert 'name="csrf"' not in r.text
    got = ok(tgw.api("GET", "/keys/%d" % kid, user=viewer))
    assert len(got["budgets"]) == 1 and len(got["limits"]) == 1, got
    # and a viewer's post is refused
    bid = got["budgets"][0]["id"]
    r = tgw.page("POST", "/budgets/%d/archive" % bid,
                 {"next": "/keys/%d" % kid}, user=viewer, csrf=False)
    assert r.status == 403, r
    assert ok(tgw.api("GET", "/budgets/%d" % bid))["status"] == "active"


# --------------------------------------------------------------------------
# rotation keeps the caps; the form's models; confirmation of actions
# --------------------------------------------------------------------------

def test_rotation_moves_budget_and_limits_to_the_new_key(tgw):
    """Rotating a key (after a leak, say) must not lift its spending cap:
    its live budgets and limits follow it to the successor, audited."""
    pg = tgw.pg
    org = tgw.new_org()
    d = new_key(tgw, org["id"], budget={"amount_usd": "5.25",
                                        "period": "month"},
                limit={"requests_per_min": 60})
    old = d["key"]["id"]
    before = ok(tgw.api("GET", "/keys/%d" % old))
    mark = audit_mark(pg)
    rot = ok(tgw.api("POST", "/keys/%d/rotate" % old), 201)
    new = rot["key"]["id"]
    got = ok(tgw.api("GET", "/keys/%d" % new))
    assert [b["id"] for b in got["budgets"]] == \
        [b["id"] for b in before["budgets"]], got
    assert [l["id"] for l in got["limits"]] == \
        [l["id"] for l in before["limits"]], got
    assert got["budgets"][0]["scope_id"] == new
    assert got["budgets"][0]["amount_usd"] == 5.25
    assert got["limits"][0]["requests_per_min"] == 60
    gone = ok(tgw.api("GET", "/keys/%d" % old))
    assert gone["status"] == "revoked" and gone["budgets"] == [] and \
        gone["limits"] == [], gone
    acts = {(r["action"], r["object_id"]) for r in audit_since(pg, mark)}
    assert ("budget.update", str(before["budgets"][0]["id"])) in acts, acts
    assert ("limit.update", str(before["limits"][0]["id"])) in acts, acts


def test_key_form_models_split_on_commas_only(tgw):
    """The form takes "a, b" as two models; a name with a space inside is
    refused as the API refuses it, never split into two models."""
    org = tgw.new_org()
    form = key_form(org["id"], allowed_models=" priced-chat ,sim/* ")
    r = tgw.page("POST", "/keys", form)
    assert r.status == 201, r
    [key] = key_named(tgw, org["id"], form["name"])
    assert ok(tgw.api("GET", "/keys/%d" % key["id"]))["allowed_models"] == \
        ["priced-chat", "sim/*"]

    form = key_form(org["id"], allowed_models="gpt-4o mini")
    r = tgw.page("POST", "/keys", form)
    assert r.status == 400, r
    assert 'class="error"' in r.text and "gpt-4o mini" in r.text, r.text
    assert key_named(tgw, org["id"], form["name"]) == [], "key created"


def test_destructive_buttons_ask_first(tgw):
    """Revoke, rotate and archive cannot be undone: each button only
    unfolds a second one (HTML <details>, no script) that posts."""
    org = tgw.new_org()
    d = new_key(tgw, org["id"], budget={"amount_usd": "1", "period": "day"})
    kid = d["key"]["id"]
    for path, actions in (("/keys", ("revoke", "rotate")),
                          ("/keys/%d" % kid, ("revoke", "rotate")),
                          ("/budgets", ("archive",))):
        text = tgw.page("GET", path).text
        for act in actions:
            forms = re.findall(
                r'(<details class="confirm"><summary>[^<]*</summary>)?'
                r'<form class="inline" method="post" action="[^"]*/%s"'
                % act, text)
            assert forms, "no %s form on %s" % (act, path)
            assert all(f for f in forms), \
                "a %s form on %s posts without a confirmation step" % (
                    act, path)
