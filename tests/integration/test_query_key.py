"""A key in the URL query string (issue 11, Security 7): refused with 400
credential_in_query in the front door's own error shape, telling where
the key goes, never repeated, never sent upstream, never written to a log;
and the logs themselves are not world-readable."""

import os
import stat
import time
import urllib.parse

import pytest

KEY = "sk-aura-0123456789ab-QueryStringSecretDoNotLog42"
ANTHROPIC = {"anthropic-version": "2023-06-01"}

BODIES = {
    "/v1/responses": {"model": "sim/text", "input": "hi"},
    "/v1/chat/completions": {"model": "sim/text",
                             "messages": [{"role": "user", "content": "hi"}]},
    "/v1/messages": {"model": "sim/text", "max_tokens": 64,
                     "messages": [{"role": "user", "content": "hi"}]},
}

# name=value pairs that carry a key: by name (any spelling), by shape
QUERIES = [
    "key=" + KEY,                                   # Gemini's clients
    "api_key=" + KEY,
    "API-Key=" + KEY,
    "access_token=" + KEY,
    "x-api-key=" + urllib.parse.quote(KEY, safe=""),
    "beta=true&token=" + KEY,
    "beta=true&q=" + KEY,                           # by the value alone
    "q=" + KEY.replace("-", "%2D"),                 # encoded
    KEY,                                            # bare
]


def error_of(path, r):
    """The error object, checked against the front door's shape."""
    doc = r.json
    if path == "/v1/messages":
        assert doc["type"] == "error" and set(doc) == {"type", "error"}, doc
        assert set(doc["error"]) == {"type", "message"}, doc
        return doc["error"]
    err = doc["error"]
    assert err["code"] == "credential_in_query", err
    assert err["param"] is None, err
    return err


def refused(gw, path, query, sim):
    r = gw.post(BODIES[path], path=path + "?" + query, headers=ANTHROPIC)
    assert r.status == 400, (path, query, r)
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers.get("x-aura-request-id", "").startswith("req_")
    err = error_of(path, r)
    assert err["type"] == "invalid_request_error", err
    assert "Authorization: Bearer" in err["message"], err
    assert "query string" in err["message"], err
    assert KEY not in r.body.decode(), r.body
    assert sim.requests() == [], "a key in the query string went upstream"
    return r


def assert_not_logged(gw, secret):
    time.sleep(0.3)                   # the access log line is written last
    for name, text in (("error_log", gw.error_log()),
                       ("access_log", gw.access_log())):
        assert secret not in text, "the key is in " + name
        assert secret.split("-")[-1] not in text, "the key's tail in " + name


@pytest.mark.parametrize("path", sorted(BODIES))
def test_key_in_query_is_refused(gw, sim, path):
    for q in QUERIES:
        refused(gw, path, q, sim)
    assert_not_logged(gw, KEY)


def test_key_in_query_refused_on_every_gateway_path(gw, sim):
    # GET .../models, and a Gemini-style call under /v1 that has no route:
    # the key is refused before the route is looked at.
    for method, path in (("GET", "/v1/models?key=" + KEY),
                         ("POST", "/v1/models/gemini-2.0-flash:"
                                  "generateContent?key=" + KEY),
                         ("POST", "/v1/models/x:generateContent?key=abc")):
        r = gw.request(method, path, {"contents": []})
        assert r.status == 400, (path, r)
        assert r.json["error"]["code"] == "credential_in_query", r.json
        assert KEY not in r.body.decode()
    assert sim.requests() == []
    assert_not_logged(gw, KEY)


def test_key_in_query_outside_the_gateway_is_not_logged(gw, sim):
    # Gemini's own path (/v1beta) is not the gateway's: httpd answers 404,
    # and the shipped LogFormat (%U) keeps the key out of access_log.
    r = gw.post({"contents": []}, path="/v1beta/models/gemini-2.0-flash:"
                                       "generateContent?key=" + KEY)
    assert r.status == 404, r
    assert sim.requests() == []
    assert_not_logged(gw, KEY)


def test_harmless_query_still_works(gw, sim, H):
    # Claude Code sends ?beta=true on /v1/messages; Azure's clients
    # api-version: neither is a credential.
    r = gw.post(BODIES["/v1/messages"], path="/v1/messages?beta=true",
                headers=ANTHROPIC)
    assert r.status == 200, r
    doc = gw.respond(BODIES["/v1/responses"],
                     path="/v1/responses?api-version=2024-10-21")
    assert doc["status"] == "completed"
    assert len(sim.requests()) == 2
    r = gw.post(BODIES["/v1/chat/completions"], path="/v1/chat/completions")
    assert r.status == 200, r


def test_access_log_has_no_query_string(gw, sim):
    mark = len(gw.access_log())
    r = gw.post(BODIES["/v1/responses"],
                path="/v1/responses?trace=visible-marker")
    assert r.status == 200, r
    time.sleep(0.3)
    line = [l for l in gw.access_log()[mark:].splitlines()
            if r.headers["x-aura-request-id"] in l]
    assert line and '"POST /v1/responses HTTP/1.1" 200' in line[0], line
    assert "visible-marker" not in gw.access_log()


def test_log_files_are_not_world_readable(gw):
    gw.request("GET", "/v1/models")
    logs = os.path.join(gw.root, "logs")
    assert stat.S_IMODE(os.stat(logs).st_mode) == 0o750, oct(
        os.stat(logs).st_mode)
    for name in ("error_log", "access_log", "stdout.log"):
        mode = stat.S_IMODE(os.stat(os.path.join(logs, name)).st_mode)
        assert mode == 0o640, "%s is %o" % (name, mode)
