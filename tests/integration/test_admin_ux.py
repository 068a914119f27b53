"""Defects a walkthrough of the console found (docs/admin.md):

- a refreshed "Key created" page (create and rotate answer 201 at the POST
  URL) must not make a second key: the forms carry a one-time form_id;
- the /credentials form must not make a credential global by default;
- the cost report by end-user (team, project) over every org tells
  same-named rows of different orgs apart;
- /requests and /audit show times as the other pages do.

Through the real httpd, the aura-admin CGI and PostgreSQL (`tgw`).
"""

import re
import uuid

from admin_util import uniq

FORM_ID = re.compile(r'name="form_id" value="([0-9a-f]{32})"')


def key_form(org_id, form_id, **fields):
    form = {"name": uniq("ux-key"), "org_id": str(org_id), "team_id": "",
            "project_id": "", "allowed_models": "", "expires_at": "",
            "budget.amount_usd": "", "budget.period": "month",
            "budget.rolling_seconds": "", "limit.requests_per_min": "",
            "form_id": form_id}
    form.update(fields)
    return form


def keys_of(tgw, org_id):
    r = tgw.api("GET", "/keys?org_id=%d" % org_id)
    assert r.status == 200, r
    return r.json()["data"]


def form_ids(text):
    return FORM_ID.findall(text)


def create_form_id(tgw):
    """The create form's form_id: the last on /keys, after the list's
    rotate buttons."""
    fids = form_ids(tgw.page("GET", "/keys?status=revoked").text)
    assert fids, "the create form has no form_id"
    return fids[-1]


# ---------------------------------------------------------- one-time forms

def test_key_form_refreshed_makes_no_second_key(tgw):
    org = tgw.new_org()
    fid = create_form_id(tgw)
    form = key_form(org["id"], fid, **{"budget.amount_usd": "3"})
    r = tgw.page("POST", "/keys", form)
    assert r.status == 201 and 'id="new-key-secret"' in r.text, r
    [key] = keys_of(tgw, org["id"])

    again = tgw.page("POST", "/keys", form)         # the browser's refresh
    assert again.status == 409, again
    assert "already submitted" in again.text
    assert key["prefix"] in again.text
    assert 'href="/aura-admin/keys/%d"' % key["id"] in again.text
    assert "cannot be shown again" in again.text
    assert "sk-aura-" + key["key_id"] + "-" not in again.text
    assert 'id="new-key-secret"' not in again.text
    assert len(keys_of(tgw, org["id"])) == 1
    assert tgw.pg.scalar("SELECT count(*) FROM budgets WHERE scope_type = "
                         "'key' AND org_id = %s", (org["id"],)) == 1
    detail = tgw.pg.scalar("SELECT detail FROM audit_log WHERE action = "
                           "'key.create' AND object_id = %s",
                           (str(key["id"]),))
    assert detail["form_id"] == fid, detail

    # a fresh form (a new form_id) makes another key, as it should
    fid2 = create_form_id(tgw)
    assert fid2 != fid
    r = tgw.page("POST", "/keys", key_form(org["id"], fid2))
    assert r.status == 201, r
    assert len(keys_of(tgw, org["id"])) == 2


def test_form_id_is_per_actor_and_checked(tgw):
    org = tgw.new_org()
    r = tgw.page("POST", "/keys", key_form(org["id"], "not-hex"))
    assert r.status == 400 and "form_id" in r.text, r
    assert keys_of(tgw, org["id"]) == []
    # without form_id (a script posting the form) nothing is deduplicated
    for _ in range(2):
        form = key_form(org["id"], "")
        del form["form_id"]
        assert tgw.page("POST", "/keys", form).status == 201
    assert len(keys_of(tgw, org["id"])) == 2


def test_api_ignores_form_id(tgw):
    org = tgw.new_org()
    fid = uuid.uuid4().hex
    for _ in range(2):
        r = tgw.api("POST", "/keys", {"name": uniq("api"),
                                      "org_id": org["id"], "form_id": fid})
        assert r.status == 201, r
    assert len(keys_of(tgw, org["id"])) == 2


def test_rotate_refreshed_makes_no_second_key(tgw):
    org = tgw.new_org()
    key, _ = tgw.new_key(org["id"])
    page = tgw.page("GET", "/keys/%d" % key["id"]).text
    fids = form_ids(page)
    assert fids, "the rotate form has no form_id"
    form = {"form_id": fids[-1]}
    r = tgw.page("POST", "/keys/%d/rotate" % key["id"], form)
    assert r.status == 201 and 'id="new-key-secret"' in r.text, r
    live = [k for k in keys_of(tgw, org["id"]) if k["status"] == "active"]
    [new] = live

    again = tgw.page("POST", "/keys/%d/rotate" % key["id"], form)
    assert again.status == 409, again
    assert "already submitted" in again.text and new["prefix"] in again.text
    assert 'href="/aura-admin/keys/%d"' % new["id"] in again.text
    assert len(keys_of(tgw, org["id"])) == 2

    # an old page's rotate button (another form_id, or none) on the
    # revoked key: 409 naming its successor
    for form in ({}, {"form_id": uuid.uuid4().hex}):
        r = tgw.page("POST", "/keys/%d/rotate" % key["id"], form)
        assert r.status == 409, r
        assert "already rotated" in r.text and new["prefix"] in r.text, r
    r = tgw.api("POST", "/keys/%d/rotate" % key["id"])
    assert r.status == 409 and new["prefix"] in r.json()["error"]["message"]
    assert len(keys_of(tgw, org["id"])) == 2


def test_list_rotate_buttons_carry_form_ids(tgw):
    org = tgw.new_org()
    tgw.new_key(org["id"])
    tgw.new_key(org["id"])
    fids = form_ids(tgw.page("GET", "/keys?org_id=%d" % org["id"]).text)
    # two rotate buttons and the create form, each its own
    assert len(fids) == 3 and len(set(fids)) == 3, fids


# ---------------------------------------------------------- credentials

def org_select(text):
    m = re.search(r'<select id="f-org_id" name="org_id"[^>]*>(.*?)</select>',
                  text, re.S)
    assert m, "no org_id select"
    return m.group(0)


def test_credential_form_has_no_global_default(tgw):
    sel = org_select(tgw.page("GET", "/credentials").text)
    first = re.search(r"<option[^>]*>[^<]*</option>", sel).group(0)
    assert first.startswith('<option value="">') and "choose" in first, sel
    assert 'value="*"' in sel and "every organization" in sel
    assert " required" in sel and "selected" not in sel

    provider = uniq("ux-prov")[:60]
    secret = "sk-ux-" + uuid.uuid4().hex
    r = tgw.page("POST", "/credentials", {"provider": provider,
                                          "secret": secret, "org_id": ""})
    assert r.status == 400 and "org_id" in r.text, r
    assert secret not in r.text
    assert tgw.pg.scalar("SELECT count(*) FROM provider_credentials WHERE "
                         "provider = %s", (provider,)) == 0

    r = tgw.page("POST", "/credentials", {"provider": provider,
                                          "secret": secret, "org_id": "*"})
    assert r.status == 303, r
    assert tgw.pg.query("SELECT org_id FROM provider_credentials WHERE "
                        "provider = %s", (provider,)) == [(None,)]


def test_org_admin_credential_form_keeps_its_org(tgw):
    org = tgw.new_org()
    user = uniq("ux-oa")
    tgw.add_admin(user, "org_admin", org["id"])
    sel = org_select(tgw.page("GET", "/credentials", user=user).text)
    assert 'value="*"' not in sel and "choose" not in sel, sel
    assert 'value="%d"' % org["id"] in sel
    provider = uniq("ux-prov")[:60]
    for org_id, status in ((str(org["id"]), 303), ("*", 403)):
        r = tgw.page("POST", "/credentials",
                     {"provider": provider, "org_id": org_id,
                      "secret": "sk-ux-" + uuid.uuid4().hex}, user=user)
        assert r.status == status, r


# ---------------------------------------------------------- cost report

def ledger(tgw, org_id, end_user_id, cost):
    tgw.pg.execute(
        "INSERT INTO usage_ledger (request_id, created_at, org_id, "
        "end_user_id, front, model, provider, input_tokens, output_tokens, "
        "cost_total, cost_status, http_status, status) VALUES (%s, now(), "
        "%s, %s, 'responses', 'ux-model', 'ux', 1, 1, %s, 'priced', 200, "
        "'completed')", (uuid.uuid4().hex, org_id, end_user_id, cost))


def test_end_user_report_names_the_org_across_orgs(tgw):
    ext = uniq("alice")
    rows = []
    for _ in range(2):
        org = tgw.new_org()
        r = tgw.api("POST", "/end-users", {"org_id": org["id"],
                                           "external_id": ext})
        assert r.status == 201, r
        ledger(tgw, org["id"], r.json()["id"], "0.5")
        rows.append((org, r.json()))

    data = tgw.api("GET", "/reports/costs?group=end_user").json()["data"]
    mine = {d["group_id"]: d["group_name"] for d in data
            if d["group_name"] and d["group_name"].startswith(ext)}
    assert mine == {u["id"]: "%s (org %s)" % (ext, o["name"])
                    for o, u in rows}, mine

    csv = tgw.page("GET", "/costs.csv?group=end_user").text
    html = tgw.page("GET", "/costs?group=end_user").text
    for o, _ in rows:
        assert "%s (org %s)" % (ext, o["name"]) in csv
        assert "%s (org %s)" % (ext, o["name"]) in html

    # one org's report: plain names
    o, u = rows[0]
    data = tgw.api("GET", "/reports/costs?group=end_user&org_id=%d"
                   % o["id"]).json()["data"]
    assert [d["group_name"] for d in data if d["group_id"] == u["id"]] \
        == [ext], data


# ---------------------------------------------------------- times

HTML_TIME = re.compile(r"<td[^>]*>(\d{4}-\d{2}-\d{2} \d{2}:\d{2})</td>")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def test_logs_show_times_like_other_pages(tgw):
    org = tgw.new_org()
    ledger(tgw, org["id"], None, "0.1")
    for path in ("/requests?org_id=%d" % org["id"],
                 "/audit?org_id=%d" % org["id"]):
        text = tgw.page("GET", path).text
        assert HTML_TIME.search(text), path
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
        assert not [c for c in cells if ISO.fullmatch(c)], (path, cells)
    for path in ("/requests?org_id=%d" % org["id"],
                 "/audit?org_id=%d" % org["id"]):
        rows = tgw.api("GET", path).json()["data"]
        assert rows
        for row in rows:
            t = row.get("created_at") or row.get("at")
            assert ISO.fullmatch(t), row
