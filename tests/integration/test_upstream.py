"""Upstream failures: status mapping, secrets kept out, timeouts, refused
connections, malformed and truncated upstream data (whole and mid-stream)."""

import time

import pytest

ERR400 = "openai__error_400_unsupported_parameter.json"


@pytest.mark.parametrize("model", ["sim/error-429", "openai/error-429"])
def test_upstream_429_passes_retry_after(gw, H, model):
    r = gw.post({"model": model, "input": "hi"})
    H.assert_error(r, 429)
    assert r.headers.get("retry-after") == "7", r.headers


@pytest.mark.parametrize("model,key", [("sim/error-401", "SIM_KEY"),
                                       ("openai/error-401", "OPENAI_KEY")])
def test_upstream_401_is_502_without_secrets(gw, sim, H, model, key):
    mark = gw.log_mark()
    r = gw.post({"model": model, "input": "hi"})
    err = H.assert_error(r, 502, "upstream_auth_failed")
    assert b"sk-test" not in r.body, \
        "the error body leaks (part of) the provider key: %r" % r.body
    msg = err["message"].lower()
    assert any(w in msg for w in ("credential", "key", "auth")), err
    q = sim.requests()[0]
    assert q["headers"]["authorization"] == "Bearer " + getattr(H, key)
    log = gw.error_log_since(mark)
    for secret in H.SECRETS:
        assert secret not in log, "error_log contains a provider key"


def test_upstream_500_is_502(gw, H):
    r = gw.post({"model": "sim/error-500", "input": "hi"})
    H.assert_error(r, 502, "upstream_error")


def test_upstream_400_passed_on(gw, H):
    want = H.fixture_json(ERR400)["error"]
    r = gw.post({"model": "sim/error-400", "input": "hi"})
    err = H.assert_error(r, 400, want["code"], param=want["param"],
                         etype=want["type"])
    assert want["message"] in err["message"], \
        "the upstream's message must reach the client: %r" % err


def test_upstream_404_passed_on(gw, H):
    r = gw.post({"model": "sim/no-such-scenario", "input": "hi"})
    err = H.assert_error(r, 404, "model_not_found")
    assert "simulator" in err["message"], \
        "the upstream's own message should be passed on: %r" % err


def test_first_byte_timeout_is_504(gw, H):
    """A stream request whose upstream does not start answering: 504 before
    any event (nothing was sent yet, so a plain HTTP error)."""
    t0 = time.time()
    r = gw.post({"model": "sim/slow-first-byte", "input": "hi",
                 "stream": True}, timeout=10)
    elapsed = time.time() - t0
    H.assert_error(r, 504, "upstream_timeout")
    assert 1.3 <= elapsed < 4.0, \
        "AuraFirstByteTimeout is 1.5 s; answered after %.2f s" % elapsed


def test_first_byte_timeout_does_not_cut_non_streaming(gw, H):
    """Without streaming the first byte is the whole answer (a reasoning
    model may think for minutes): only AuraTotalTimeout (30 s) applies."""
    t0 = time.time()
    r = gw.post({"model": "sim/slow-first-byte", "input": "hi"}, timeout=15)
    elapsed = time.time() - t0
    assert r.status == 200, r
    assert elapsed >= 4.5, "answered after %.2f s, before the upstream" % \
        elapsed


def test_stall_mid_stream_fails_the_stream(gw, H):
    t0 = time.time()
    res = gw.stream({"model": "sim/stall", "input": "hi"}, timeout=12)
    elapsed = time.time() - t0
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    errs = res.of_type("error")
    assert len(errs) == 1, res.types()
    assert errs[0].data["error"]["code"] == "upstream_timeout"
    assert res.types()[-2] == "error", \
        "the error event must come right before response.failed"
    assert final["status"] == "failed"
    assert final["error"]["code"] == "upstream_timeout"
    assert elapsed < 6, "AuraIdleTimeout is 1.5 s; stream took %.1f s" % elapsed


def test_connection_refused_is_502(gw, H):
    t0 = time.time()
    r = gw.post({"model": "dead/text", "input": "hi"}, timeout=10)
    H.assert_error(r, 502, "upstream_unreachable")
    assert time.time() - t0 < 4


@pytest.mark.parametrize("model", ["sim/malformed", "openai/malformed"])
def test_malformed_upstream_body_is_502(gw, H, model):
    r = gw.post({"model": model, "input": "hi"})
    H.assert_error(r, 502, "upstream_bad_response")


@pytest.mark.parametrize("model", ["sim/malformed", "openai/malformed"])
def test_malformed_upstream_stream(gw, H, model):
    res = gw.stream({"model": model, "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    errs = res.of_type("error")
    assert [e.data["error"]["code"] for e in errs] == \
        ["upstream_bad_response"], res.types()
    assert res.types()[-2] == "error"
    assert final["error"]["code"] == "upstream_bad_response"


@pytest.mark.parametrize("model", ["sim/truncated", "openai/truncated"])
def test_truncated_upstream_stream(gw, H, model):
    res = gw.stream({"model": model, "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    errs = res.of_type("error")
    assert [e.data["error"]["code"] for e in errs] == \
        ["upstream_stream_truncated"], res.types()
    assert final["error"]["code"] == "upstream_stream_truncated"
    # what did arrive was streamed before the failure
    assert res.of_type("response.output_text.delta"), res.types()


def test_gateway_recovers_after_failures(gw, H):
    """After timeouts and broken upstreams the next request is fine (no
    poisoned keep-alive connection)."""
    for _ in range(3):
        doc = gw.respond({"model": "sim/text", "input": "hi"})
        assert doc["status"] == "completed"
        doc = gw.respond({"model": "openai/text", "input": "hi"})
        assert doc["status"] == "completed"


def test_no_secret_in_any_log(gw):
    text = gw.error_log() + gw.access_log()
    for secret in ("sk-test-openai-0000", "sk-test-sim-0000"):
        assert secret not in text, "a provider key was written to a log"
