"""The admin console in a real browser: tests/clients/admin_browser.mjs
drives Debian's chromium (headless, through playwright-core from
tests/clients/node_modules) against the tenant gateway: sign in with Basic
auth, the overview, a key made with the HTML form (its secret read from
#new-key-secret), the key list, the cost report's chart. Screenshots are
kept in the test's temp dir.

The secret the browser read must work as a key on /v1/responses: that
proves the page showed the real thing, once.

Skips without node, chromium or node_modules, unless AURA_REQUIRE_CLIENTS
is set (scripts/test sets it): then it fails, so CI cannot pass by
skipping.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / "tests" / "clients"
SCRIPT = CLIENTS / "admin_browser.mjs"
CHROMIUM = os.environ.get("AURA_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser_env():
    node = shutil.which("node")
    missing = []
    if not node:
        missing.append("node is not installed")
    if not (CLIENTS / "node_modules" / "playwright-core").is_dir():
        missing.append("playwright-core is not installed (run "
                       "tests/clients/install.sh)")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append("%s is missing (apt-get install chromium)" % CHROMIUM)
    if missing:
        why = "; ".join(missing)
        if os.environ.get("AURA_REQUIRE_CLIENTS"):
            pytest.fail("AURA_REQUIRE_CLIENTS is set but " + why)
        pytest.skip("browser test: " + why)
    return node


def run_browser(node, tgw, outdir, org_id):
    home = outdir / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": str(home), "LANG": "C.UTF-8", "CHROMIUM": CHROMIUM,
           "NO_PROXY": "127.0.0.1,localhost",
           "no_proxy": "127.0.0.1,localhost"}
    base = "http://127.0.0.1:%d/aura-admin" % tgw.port
    try:
        p = subprocess.run([node, str(SCRIPT), base, "admin",
                            tgw.passwords["admin"], str(outdir), str(org_id)],
                           cwd=str(CLIENTS), env=env, capture_output=True,
                           text=True, timeout=180, stdin=subprocess.DEVNULL,
                           start_new_session=True)
    except subprocess.TimeoutExpired as e:
        pytest.fail("admin_browser.mjs did not finish in 180 s: %s" % (
            e.stderr or b"")[-2000:])
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    assert p.returncode == 0 and lines, \
        "admin_browser.mjs exited %d:\n%s\n%s" % (p.returncode, p.stdout,
                                                  p.stderr[-3000:])
    return json.loads(lines[-1])


def test_console_in_a_browser(tgw, browser_env, tmp_path):
    # data for the report first: one keyed request, metered
    org = tgw.new_org()
    key, secret = tgw.new_key(org_id=org["id"])
    r = tgw.responses({"model": "priced-chat", "input": "Say hello."},
                      secret)
    assert r.status == 200, r
    assert tgw.ledger(r.headers["x-aura-request-id"], timeout=5), \
        "the request never reached usage_ledger"

    seen = run_browser(browser_env, tgw, tmp_path, org["id"])
    assert "error" not in seen, "the browser script failed: %s\n%s" % (
        seen["error"], json.dumps(seen)[:2000])
    assert seen["overview"]["status"] == 200, seen
    assert seen["overview"]["spend_chart"], \
        "no svg#spend-chart on the overview: %s" % seen["overview"]
    created = seen["created"]
    assert "error" not in created, created
    assert created["status"] in (200, 201) and not created["errors"], \
        created
    secret2 = created["secret"]
    assert secret2 and secret2.startswith("sk-aura-"), created
    assert seen["keys"]["status"] == 200 and seen["keys"]["listed"], \
        "the new key %s is not on /keys: %s" % (seen["key_name"], seen)
    assert not seen["keys"]["secret_shown"], "/keys shows the secret"
    costs = seen["costs"]
    assert costs["status"] == 200 and costs["chart"] and \
        costs["chart_visible"], "svg#cost-chart missing: %s" % costs
    assert costs["chart_marks"] >= 1, "the cost chart draws nothing: %s" % (
        costs,)
    # a strict CSP must not break the console's own pages
    assert not seen["page_errors"], seen["page_errors"]
    csp = [e for e in seen["console_errors"]
           if "Content Security Policy" in e]
    assert not csp, csp
    assert not seen["http_errors"], seen["http_errors"]
    for f in seen["screenshots"]:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n", f

    # the secret the page showed is a working key, in the chosen org
    r = tgw.responses({"model": "priced-chat", "input": "hi"}, secret2)
    assert r.status == 200, r
    assert r.json["aura"]["tenant"]["org_id"] == org["id"], r.json["aura"]
    rows = tgw.api("GET", "/keys?org_id=%d" % org["id"]).json["data"]
    assert seen["key_name"] in {k["name"] for k in rows}, rows
