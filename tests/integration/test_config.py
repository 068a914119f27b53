"""Per-directory configuration (.htaccess, <Location>), the server-only
scope of credentials and endpoints, and the conf/aura.conf drift check."""

import glob
import os
import re
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_htaccess_alias_works_in_its_directory(gw, sim):
    r = gw.post({"model": "house", "input": "hi"}, path="/team-a/responses")
    assert r.status == 200, r
    doc = r.json
    assert doc["aura"]["provider"] == "sim"
    assert doc["aura"]["upstream_model"] == "text"
    q = sim.one_request("text", "/v1/chat/completions")
    assert q["headers"]["authorization"] == "Bearer sk-test-sim-0000"


def test_htaccess_default_model(gw, sim):
    r = gw.post({"input": "hi"}, path="/team-a/responses")
    assert r.status == 200, r
    assert r.json["aura"]["provider"] == "sim"
    assert r.json["aura"]["upstream_model"] == "text"
    sim.one_request("text", "/v1/chat/completions")


def test_htaccess_alias_does_not_leak_to_other_locations(gw, sim, H):
    r = gw.post({"model": "house", "input": "hi"})
    H.assert_error(r, 404, "model_not_found", param="model")
    assert sim.requests() == []


@pytest.mark.parametrize("d,directive", [("evil", "AuraProvider"),
                                         ("evil-key", "AuraProviderKey"),
                                         ("big-body", "AuraMaxBodySize")])
def test_htaccess_cannot_set_endpoints_or_keys(gw, sim, d, directive):
    mark = gw.log_mark()
    r = gw.post({"model": "sim/text", "input": "hi"}, path="/%s/responses" % d)
    assert r.status == 500, \
        "%s in .htaccess must be refused (HTTP 500), got %d" % (directive,
                                                               r.status)
    log = gw.error_log_since(mark)
    assert "not allowed here" in log, log[-2000:]
    assert directive in log, log[-2000:]
    assert sim.requests() == [], "a refused .htaccess still sent upstream"


def test_location_allow_models(gw, sim, H):
    r = gw.post({"model": "sim/text", "input": "hi"},
                path="/restricted/responses")
    assert r.status == 200, r
    for model in ("sim/tools-parallel", "priced-chat"):
        r = gw.post({"model": model, "input": "hi"},
                    path="/restricted/responses")
        H.assert_error(r, 403, "model_not_allowed", param="model")
    assert [q["body"]["model"] for q in sim.requests()] == ["text"]


def test_allow_models_does_not_apply_outside_its_location(gw):
    r = gw.post({"model": "sim/tools-parallel", "input": "hi"})
    assert r.status == 200, r


# --------------------------------------------------------------------------
# module-wide settings: one object behind every server's config
# --------------------------------------------------------------------------

TENANCY_DIRECTIVES = [("AuraDatabase", '"dbname=aura"'),
                      ("AuraMasterKeyFile", "master.key"),
                      ("AuraKeyCache", "shmcb"),
                      ("AuraKeyCacheTTL", "30"),
                      ("AuraKeyNegativeTTL", "5"),
                      ("AuraUsageSpool", "spool"),
                      ("AuraUsageFlushInterval", "1000"),
                      ("AuraCredentialRefresh", "60")]


def vhost_gateway(H, sim, workdir, name, inside):
    """A gateway whose conf.d/vhost.conf adds a <VirtualHost> on a second
    port holding `inside`; returns (gateway, vhost port)."""
    port = H.free_port()
    g = H.Gateway(os.path.join(workdir, "root-" + name), H.free_port(),
                  sim.port, H.free_port())
    g.extra_conf["vhost.conf"] = ("Listen 127.0.0.1:%d\n"
                                  "<VirtualHost 127.0.0.1:%d>\n%s"
                                  "</VirtualHost>\n" % (port, port, inside))
    return g, port


@pytest.mark.parametrize("directive,arg", TENANCY_DIRECTIVES)
def test_module_wide_directive_refused_in_virtualhost(H, sim, workdir,
                                                      directive, arg):
    """One key store, key cache, spool and ingester per httpd: the
    tenancy directives set module-wide settings and a <VirtualHost> that
    names one is refused, with httpd's own message (configtest too)."""
    g, _ = vhost_gateway(H, sim, workdir, "vhost-" + directive,
                         "    %s %s\n" % (directive, arg))
    g.write_config(H.module_path())
    p = subprocess.run([H.APACHE, "-t", "-f",
                        os.path.join(g.root, "httpd.conf")],
                       capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert "%s cannot occur within <VirtualHost> section" % directive \
        in out, out


def test_virtualhost_shares_module_wide_settings(H, sim, workdir):
    """AuraRequireKey On inside a <VirtualHost> is recorded in the
    module-wide settings the main server checks at startup (the warning
    names the vhost's file), and the vhost serves with the main server's
    providers."""
    g, port = vhost_gateway(H, sim, workdir, "vhost-shared",
                            "    <Location /keyed>\n"
                            "        SetHandler aura\n"
                            "        Require all granted\n"
                            "        AuraRequireKey On\n"
                            "    </Location>\n")
    g.start(H.module_path())
    try:
        log = g.error_log()
        assert "AuraRequireKey On" in log and "vhost.conf" in log and \
            "without AuraDatabase" in log, log[-2000:]
        r = H.http_request(port, "POST", "/keyed/v1/responses",
                           {"model": "sim/text", "input": "hi"})
        assert r.status == 200, r
    finally:
        g.stop()


def declared_directives():
    names = set()
    # mod_aura/<component>/*.c|h since the layout by component
    for path in glob.glob(os.path.join(REPO, "mod_aura", "**", "*.[ch]"),
                          recursive=True):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        names.update(re.findall(r'AP_INIT_[A-Z0-9_]+\(\s*"([A-Za-z]+)"', text))
        # entries made through a wrapper macro, e.g. TIMEOUT("AuraIdleTimeout",
        # ...): the first string argument of each call in a command_rec table
        for table in re.findall(r"command_rec\s+\w+\s*\[\s*\]\s*=\s*\{(.*?)\n\};",
                                text, re.S):
            names.update(re.findall(r'\(\s*"([A-Z][A-Za-z0-9]+)"', table))
    return names


def test_aura_conf_documents_every_directive():
    """conf/aura.conf is the directive reference: every directive the
    module declares must appear in it (as a directive or commented)."""
    names = declared_directives()
    if not names:
        pytest.skip("no AP_INIT_*(\"Name\" directive declarations in "
                    "mod_aura/*.c yet")
    ref = os.path.join(REPO, "conf", "aura.conf")
    assert os.path.exists(ref), "conf/aura.conf is missing; it must " \
        "document %s" % sorted(names)
    with open(ref, encoding="utf-8") as f:
        text = f.read()
    missing = sorted(n for n in names
                     if not re.search(r"(?m)^[#\s]*%s\b" % re.escape(n), text))
    assert not missing, "directives declared in mod_aura/*.c but not " \
        "documented in conf/aura.conf: %s" % missing


def test_aura_conf_documents_no_phantom_directive():
    """The reverse drift: every Aura* directive conf/aura.conf shows at the
    start of a line exists in the code."""
    names = declared_directives()
    ref = os.path.join(REPO, "conf", "aura.conf")
    if not names or not os.path.exists(ref):
        pytest.skip("module directives or conf/aura.conf not written yet")
    with open(ref, encoding="utf-8") as f:
        shown = set(re.findall(r"(?m)^[#\s]*(Aura[A-Z][A-Za-z]+)\b", f.read()))
    phantom = sorted(shown - names)
    assert not phantom, "conf/aura.conf documents directives the module " \
        "does not declare: %s" % phantom
