"""AURA_TRANSLATE configured where mod_aura did not put it (issue 11,
Security 3): `SetOutputFilter AURA_TRANSLATE` or `AddOutputFilter
AURA_TRANSLATE .txt` in an .htaccess over static files. The filter has no
exchange there; it must step aside, not crash the child."""

import http.client
import os
import time

import pytest

CONTENT = b"".join(b"line %04d of a static file, left as it is\n" % i
                   for i in range(200))

HTACCESS = {
    "filter-set": "SetOutputFilter AURA_TRANSLATE\n",
    "filter-add": "AddOutputFilter AURA_TRANSLATE .txt\n",
    # the gateway itself, with a second, configured AURA_TRANSLATE in front
    # of the one the handler adds
    "filter-gw": "SetHandler aura\nSetOutputFilter AURA_TRANSLATE\n",
}
STATIC = ("filter-add", "filter-set")

CRASH = "exit signal Segmentation fault"


@pytest.fixture(scope="module")
def static_dirs(gw):
    for d, text in HTACCESS.items():
        path = os.path.join(gw.root, "htdocs", d)
        os.makedirs(path, exist_ok=True)
        for name, data in ((".htaccess", text.encode()),
                           ("file.txt", CONTENT)):
            with open(os.path.join(path, name), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(path, name), 0o644)
        os.chmod(path, 0o755)
    return STATIC


def crashes_since(gw, mark):
    # The parent logs a dead child when it reaps it, within a second.
    return gw.error_log_since(mark, settle=1.5).count(CRASH)


@pytest.mark.parametrize("d", STATIC)
def test_configured_filter_passes_static_file_through(gw, static_dirs, d):
    mark = gw.log_mark()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        sock = None
        for i in range(5):
            try:
                conn.request("GET", "/%s/file.txt" % d)
                r = conn.getresponse()
                body = r.read()
            except (http.client.HTTPException, OSError) as e:
                pytest.fail("request %d on one connection to /%s failed "
                            "(%r): the child died?" % (i, d, e))
            assert r.status == 200, (r.status, body[:300])
            assert body == CONTENT, "static file altered: %r" % body[:300]
            assert r.getheader("Connection", "").lower() != "close"
            # the same keep-alive connection, so the same child, serves all
            assert sock is None or conn.sock is sock, "connection re-opened"
            sock = conn.sock
    finally:
        conn.close()
    assert crashes_since(gw, mark) == 0, gw.error_log()[mark:][-2000:]


def test_gateway_still_answers_after_configured_filter(gw, sim, static_dirs):
    mark = gw.log_mark()
    for d in static_dirs:
        r = gw.request("GET", "/%s/file.txt" % d)
        assert r.status == 200 and r.body == CONTENT, r
    doc = gw.respond({"model": "sim/text", "input": "hi"})
    assert doc["status"] == "completed"
    assert crashes_since(gw, mark) == 0, gw.error_log()[mark:][-2000:]


def test_gateway_with_a_configured_filter_in_front(gw, sim, static_dirs, H):
    mark = gw.log_mark()
    doc = gw.respond({"model": "sim/text", "input": "hi"},
                     path="/filter-gw/responses")
    assert doc["status"] == "completed"
    H.check_stream(gw.stream({"model": "sim/text", "input": "hi"},
                             path="/filter-gw/responses"))
    r = gw.post({"model": "no/such-model", "input": "hi"},
                path="/filter-gw/responses")
    H.assert_error(r, 404)
    assert crashes_since(gw, mark) == 0, gw.error_log()[mark:][-2000:]
