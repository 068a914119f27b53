"""Bad client input: every case answers with the error shape, the right
status, code and param, and an x-aura-request-id; none reaches upstream."""

import json

import pytest


@pytest.fixture(autouse=True)
def nothing_reaches_upstream(sim):
    yield
    assert sim.requests() == [], \
        "a rejected request must not be sent upstream"


def test_malformed_json(gw, H):
    r = gw.post(b'{"model": "sim/text", "input": ',
                headers={"Content-Type": "application/json"})
    H.assert_error(r, 400, "invalid_json", etype="invalid_request_error")


def test_body_not_an_object(gw, H):
    r = gw.post(b'["sim/text"]', headers={"Content-Type": "application/json"})
    assert r.status == 400
    H.assert_error(r, 400)


def test_wrong_type(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi", "temperature": "hot"})
    H.assert_error(r, 400, "invalid_type", param="temperature",
                   etype="invalid_request_error")


def test_wrong_type_stream_flag(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi", "stream": "yes"})
    H.assert_error(r, 400, "invalid_type", param="stream")


def test_bad_value_max_output_tokens(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi", "max_output_tokens": 5})
    H.assert_error(r, 400, "invalid_value", param="max_output_tokens")


def test_bad_value_truncation(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi", "truncation": "sometimes"})
    H.assert_error(r, 400, "invalid_value", param="truncation")


def test_missing_tool_name(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi",
                 "tools": [{"type": "function"}]})
    H.assert_error(r, 400, "missing_required_parameter", param="tools[0].name")


def test_unknown_top_level_key(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi", "modle": "x"})
    err = H.assert_error(r, 400, "unknown_parameter")
    assert err["param"] == "modle" or "modle" in err["message"], err


def test_no_model_and_no_default(gw, H):
    r = gw.post({"input": "hi"})
    H.assert_error(r, 400, "missing_required_parameter", param="model")


def test_unknown_model(gw, H):
    r = gw.post({"model": "no-such-model-xyz", "input": "hi"})
    err = H.assert_error(r, 404, "model_not_found", param="model")
    assert "no-such-model-xyz" in err["message"]


def test_unknown_provider_prefix(gw, H):
    r = gw.post({"model": "nosuchprovider/text", "input": "hi"})
    H.assert_error(r, 404, "model_not_found", param="model")


def test_body_too_large(gw, H):
    big = {"model": "sim/text", "input": "x" * 70000}
    r = gw.post(big)
    H.assert_error(r, 413, "request_too_large")


def test_body_just_under_limit_is_accepted(gw, sim, H):
    body = {"model": "sim/text", "input": ""}
    pad = 65536 - len(json.dumps(body)) - 100
    body["input"] = "y" * pad
    r = gw.post(body)
    assert r.status == 200, r
    sim.clear()   # this one does go upstream


def test_wrong_content_type(gw, H):
    r = gw.post(json.dumps({"model": "sim/text", "input": "hi"}),
                headers={"Content-Type": "text/plain"})
    H.assert_error(r, 415, "unsupported_content_type")


def test_get_not_allowed(gw, H):
    r = gw.request("GET", "/v1/responses")
    H.assert_error(r, 405, "method_not_allowed")


def test_background_refused(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi", "background": True})
    err = H.assert_error(r, 400, "unsupported_parameter")
    assert err["param"] == "background", err


def test_error_type_is_invalid_request_error_for_400s(gw, H):
    r = gw.post({"model": "sim/text", "input": "hi", "top_p": []})
    err = H.assert_error(r, 400, "invalid_type", param="top_p")
    assert err["type"] == "invalid_request_error"
