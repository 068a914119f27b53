"""Anthropic Messages through the gateway: the issue 4 matrix against the
simulator (tests/sim/providers/anthropic.py), which replays the recorded
transcripts of tests/fixtures/anthropic and checks requests the way
Anthropic does (x-api-key, anthropic-version, alternating turns, every
tool_result answering a tool_use)."""

import json
import os

import pytest

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "fixtures", "anthropic")
PATH = "/anthropic/v1/messages"

TOOLS = [{"type": "function", "name": "get_weather",
          "description": "Weather for a location",
          "parameters": {"type": "object",
                         "properties": {"location": {"type": "string"},
                                        "units": {"type": "string"}},
                         "required": ["location"]}}]


def fixture_json(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return json.loads(f.read())


def stream_payloads(name):
    """The data payloads of a fixture, .sse or framing-stripped lines."""
    with open(os.path.join(FIX, name), "rb") as f:
        text = f.read().decode()
    if name.endswith(".txt"):
        return [json.loads(l) for l in text.split("\n") if l.strip()]
    return [json.loads(l[6:]) for l in text.split("\n")
            if l.startswith("data: ")]


def upstream(sim, scenario):
    q = sim.one_request(scenario, PATH)
    return q["headers"], q["body"]


def text_of(doc):
    return "".join(c["text"] for i in doc["output"] if i["type"] == "message"
                   for c in i["content"] if c["type"] == "output_text")


def calls_of(doc):
    return [(i["call_id"], i["name"], json.loads(i["arguments"]))
            for i in doc["output"] if i["type"] == "function_call"]


# ---- text and stream -----------------------------------------------------

def test_anthropic_text(gw, sim, H):
    want = fixture_json("anthropic__messages_nonstream_text.json")
    doc = gw.respond({"model": "anth/text", "instructions": "Be terse.",
                      "input": [{"role": "developer", "content": "JSON only."},
                                {"role": "user", "content": "Green tea x2"}]})
    assert doc["status"] == "completed"
    assert text_of(doc) == want["content"][0]["text"]
    u = doc["usage"]
    assert (u["input_tokens"], u["output_tokens"]) == (249, 26)
    assert doc["aura"]["provider"] == "anth"
    hdr, body = upstream(sim, "text")
    assert hdr["x-api-key"] == H.SIM_KEY
    assert hdr["anthropic-version"] == "2023-06-01"
    assert "authorization" not in hdr, "Anthropic takes x-api-key only"
    assert body["system"] == [{"type": "text", "text": "Be terse."},
                              {"type": "text", "text": "JSON only."}]
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "Green tea x2"}]}]
    assert body["max_tokens"] == 4096, "max_tokens is always sent"
    assert "stream" not in body


def test_anthropic_beta_header_passed_on(gw, sim, H):
    r = gw.post({"model": "anth/text", "input": "hi"},
                headers={"anthropic-beta": "context-1m-2025-08-07"})
    assert r.status == 200, r
    hdr, _ = upstream(sim, "text")
    assert hdr["anthropic-beta"] == "context-1m-2025-08-07"


def test_anthropic_stream(gw, sim, H):
    deltas = [p["delta"]["text"] for p in
              stream_payloads("anthropic__messages_stream_text_ping.sse")
              if p["type"] == "content_block_delta" and p["delta"]["text"]]
    res = gw.stream({"model": "anth/text", "input": "Two numbers"})
    final = H.check_stream(res)
    got = [e.data["delta"] for e in res.of_type("response.output_text.delta")]
    assert got == deltas, "every text_delta, in order, none merged or lost"
    assert H.stream_text(res) == "[12345,67890]"
    assert final["usage"]["input_tokens"] == 135
    assert final["usage"]["output_tokens"] == 10
    _, body = upstream(sim, "text")
    assert body["stream"] is True


def test_anthropic_json_schema(gw, sim, H):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}},
              "required": ["n"], "additionalProperties": False}
    gw.respond({"model": "anth/text", "input": "n?",
                "text": {"format": {"type": "json_schema", "name": "n",
                                    "schema": schema, "strict": True}}})
    _, body = upstream(sim, "text")
    assert body["output_config"] == {"format": {"type": "json_schema",
                                                "schema": schema}}


# ---- tools ---------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_anthropic_tool_call(gw, sim, H, stream):
    body = {"model": "anth/tool-single", "input": "Weather in SF?",
            "tools": TOOLS, "tool_choice": "required"}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    want_id = ("toolu_018acGYLtfR52q9yDbWaEdQZ" if stream
               else "toolu_01A9HHF5Ezy3oBrKmSgfASm9")
    assert calls_of(doc) == [(want_id, "get_weather",
                              {"location": "San Francisco, CA",
                               "units": "f"})]
    assert doc["aura"]["agentic"]["requires_action"] is True
    assert doc["usage"]["input_tokens"] == 656
    _, up = upstream(sim, "tool-single")
    assert up["tools"] == [{"name": "get_weather",
                            "description": "Weather for a location",
                            "input_schema": TOOLS[0]["parameters"]}]
    assert up["tool_choice"] == {"type": "any"}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_anthropic_parallel_tool_calls(gw, sim, H, stream):
    body = {"model": "anth/tools-parallel", "input": "SF and NY?",
            "tools": TOOLS, "parallel_tool_calls": True}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    calls = calls_of(doc)
    assert len(calls) == 2, doc["output"]
    assert calls[0][0] != calls[1][0], "distinct call ids"
    assert all(c[1] == "get_weather" for c in calls)
    assert doc["aura"]["agentic"]["tool_calls_count"] == 2
    _, up = upstream(sim, "tools-parallel")
    assert "tool_choice" not in up, "parallel allowed: Anthropic's default"


def test_anthropic_no_parallel_tool_calls(gw, sim, H):
    gw.respond({"model": "anth/tool-single", "input": "SF?", "tools": TOOLS,
                "parallel_tool_calls": False})
    _, up = upstream(sim, "tool-single")
    assert up["tool_choice"] == {"type": "auto",
                                 "disable_parallel_tool_use": True}


def test_anthropic_tool_round_trip(gw, sim, H):
    """The recorded call goes back with its output: one assistant turn with
    the tool_use, then a user turn whose first block is the tool_result
    (the simulator refuses anything else, as Anthropic does)."""
    first = gw.respond({"model": "anth/tool-single", "input": "SF?",
                        "tools": TOOLS})
    call = [i for i in first["output"] if i["type"] == "function_call"][0]
    sim.clear()
    doc = gw.respond({"model": "anth/text", "tools": TOOLS, "input": [
        {"role": "user", "content": "SF?"}, call,
        {"type": "function_call_output", "call_id": call["call_id"],
         "output": "{\"temp\": 61}"},
        {"role": "user", "content": "Thanks. In C?"}]})
    assert doc["status"] == "completed"
    _, up = upstream(sim, "text")
    assert up["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "SF?"}]},
        {"role": "assistant", "content": [{
            "type": "tool_use", "id": call["call_id"], "name": "get_weather",
            "input": {"location": "San Francisco, CA", "units": "f"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call["call_id"],
             "content": "{\"temp\": 61}"},
            {"type": "text", "text": "Thanks. In C?"}]}]


def test_anthropic_foreign_call_ids(gw, sim, H):
    """A call made on another provider (an id Anthropic's pattern refuses)
    is answered here: call and output are mapped alike."""
    doc = gw.respond({"model": "anth/text", "tools": TOOLS, "input": [
        {"role": "user", "content": "SF?"},
        {"type": "function_call", "call_id": "fc:1/gemini", "name":
         "get_weather", "arguments": "{\"location\": \"SF\"}"},
        {"type": "function_call_output", "call_id": "fc:1/gemini",
         "output": "61F"}]})
    assert doc["status"] == "completed"
    _, up = upstream(sim, "text")
    use = up["messages"][1]["content"][0]
    res = up["messages"][2]["content"][0]
    assert use["id"] == res["tool_use_id"] == "fc_1_gemini"


# ---- reasoning -----------------------------------------------------------

def test_anthropic_reasoning(gw, sim, H):
    want = fixture_json("anthropic__messages_nonstream_thinking.json")
    sig = want["content"][0]["signature"]
    doc = gw.respond({"model": "anth/reasoning", "input": "925 / 5?",
                      "reasoning": {"effort": "medium"}})
    rs, msg = doc["output"]
    assert rs["type"] == "reasoning"
    assert rs["content"][0]["text"] == "925 divided by 5 = 185"
    assert rs["encrypted_content"] == "aura:anthropic:" + sig
    assert text_of(doc) == "925 \u00f7 5 = 185"
    assert doc["aura"]["agentic"]["has_reasoning"] is True
    _, up = upstream(sim, "reasoning")
    assert up["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert up["max_tokens"] > 2048
    # the next turn carries the thinking block back, signature intact
    sim.clear()
    gw.respond({"model": "anth/reasoning", "reasoning": {"effort": "medium"},
                "input": [{"role": "user", "content": "925 / 5?"}, rs, msg,
                          {"role": "user", "content": "And / 37?"}]})
    _, up = upstream(sim, "reasoning")
    assert up["messages"][1]["content"][0] == {
        "type": "thinking", "thinking": "925 divided by 5 = 185",
        "signature": sig}


@pytest.mark.parametrize("scenario", ["reasoning", "reasoning-45"])
def test_anthropic_reasoning_stream(gw, sim, H, scenario):
    name = {"reasoning": "anthropic__messages_stream_thinking_signature.sse",
            "reasoning-45": "anthropic__messages_stream_thinking_signature_"
                            "chunks.txt"}[scenario]
    pl = stream_payloads(name)
    think = "".join(p["delta"].get("thinking", "") for p in pl
                    if p["type"] == "content_block_delta")
    sig = "".join(p["delta"].get("signature", "") for p in pl
                  if p["type"] == "content_block_delta")
    res = gw.stream({"model": "anth/" + scenario, "input": "math",
                     "reasoning": {"effort": "low"}})
    final = H.check_stream(res)
    got = "".join(e.data["delta"] for e in
                  res.of_type("response.reasoning.delta"))
    assert got == think
    assert final["output"][0]["encrypted_content"] == "aura:anthropic:" + sig
    assert final["output"][1]["type"] == "message"


# ---- limits, usage, cost -------------------------------------------------

@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_anthropic_max_tokens(gw, sim, H, stream):
    body = {"model": "anth/length", "input": "hi", "max_output_tokens": 26}
    if stream:
        doc = H.check_stream(gw.stream(body),
                             expect_terminal="response.incomplete")
    else:
        doc = gw.respond(body)
    assert doc["status"] == "incomplete"
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
    assert doc["output"][-1]["status"] == "incomplete"
    _, up = upstream(sim, "length")
    assert up["max_tokens"] == 26


def registry_price(model):
    reg = os.path.join(os.path.dirname(FIX), "..", "..", "conf", "models",
                       "anthropic.json")
    with open(reg) as f:
        return json.load(f)["models"][model]["price"]


def expected_cost(price, inp, cached, written, out):
    return {"input": (inp - cached - written) * price["input"] / 1e6,
            "cached_input": cached * price["cached_input"] / 1e6,
            "cache_write": written * price["cache_write"] / 1e6,
            "output": out * price["output"] / 1e6}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_anthropic_usage_cost(gw, sim, H, stream):
    """claude-haiku-4-5 (conf/models/anthropic.json, routed to the
    simulator): the warm-cache body (11 + 16522 cache-read input tokens)
    and the cache-write stream (6 + 3337 written + 6289 read)."""
    body = {"model": "claude-haiku-4-5", "input": "OK?"}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    u = doc["usage"]
    inp, cached, written, out = ((9632, 6289, 3337, 198) if stream
                                 else (16533, 16522, 0, 4))
    assert (u["input_tokens"], u["input_tokens_details"]["cached_tokens"],
            u["output_tokens"]) == (inp, cached, out)
    assert doc["aura"]["cache_write_tokens"] == written
    assert doc["aura"]["cost_status"] == "priced"
    want = expected_cost(registry_price("claude-haiku-4-5"), inp, cached,
                         written, out)
    for part, v in want.items():
        H.assert_close(u["cost_usd"][part], v, "cost_usd." + part)
    H.assert_close(u["cost_usd"]["total"], sum(want.values()), "total")
    _, up = upstream(sim, "claude-haiku-4-5")
    assert up["max_tokens"] == 64000, "the registry's max output"


# ---- failures ------------------------------------------------------------

def test_anthropic_rate_limit_429(gw, sim, H):
    msg = fixture_json("anthropic__error_429_rate_limit_error.json")
    r = gw.post({"model": "anth/error-429", "input": "hi"})
    err = H.assert_error(r, 429)
    assert r.headers.get("retry-after") == "7", r.headers
    assert "rate limit" in err["message"]
    assert msg["error"]["message"][:40] in err["message"]


def test_anthropic_overloaded_5xx(gw, sim, H):
    r = gw.post({"model": "anth/overloaded", "input": "hi"})
    err = H.assert_error(r, 503, "upstream_overloaded")
    assert "Overloaded" in err["message"]
    r = gw.post({"model": "anth/error-500", "input": "hi"})
    H.assert_error(r, 502, "upstream_error")


def test_anthropic_overloaded_event(gw, sim, H):
    """Anthropic's mid-stream `error` event (overloaded_error) on a 200."""
    res = gw.stream({"model": "anth/overloaded-stream", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert [e.data["error"]["code"] for e in res.of_type("error")] == \
        ["upstream_overloaded"]
    assert final["error"]["code"] == "upstream_overloaded"
    assert "Overloaded" in final["error"]["message"]
    # after some text: what arrived was streamed, then the failure
    res = gw.stream({"model": "anth/overloaded-mid", "input": "hi"})
    H.check_stream(res, expect_terminal="response.failed", billed=False)
    assert H.stream_text(res) == "[12"
    assert res.types()[-2] == "error"


def test_anthropic_malformed(gw, sim, H):
    r = gw.post({"model": "anth/malformed", "input": "hi"})
    H.assert_error(r, 502, "upstream_bad_response")
    res = gw.stream({"model": "anth/malformed", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert [e.data["error"]["code"] for e in res.of_type("error")] == \
        ["upstream_bad_response"]
    assert final["error"]["code"] == "upstream_bad_response"


def test_anthropic_truncated(gw, sim, H):
    res = gw.stream({"model": "anth/truncated", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_stream_truncated"
    assert res.of_type("response.output_text.delta")


def test_anthropic_upstream_400_passed_on(gw, sim, H):
    want = fixture_json("anthropic__error_400_invalid_request_error.json")
    r = gw.post({"model": "anth/error-400", "input": "hi"})
    err = H.assert_error(r, 400, etype="invalid_request_error")
    assert want["error"]["message"] in err["message"]


# ---- the simulator speaks Anthropic's wire -------------------------------

def test_anthropic_simulator_wire(sim, H):
    """Streams replay the recorded bytes exactly; auth and version are
    checked as Anthropic checks them, with its error shape."""
    req = {"model": "text", "max_tokens": 10, "stream": True,
           "messages": [{"role": "user", "content": "hi"}]}
    ok = {"x-api-key": H.SIM_KEY, "anthropic-version": "2023-06-01"}
    r = H.http_request(sim.port, "POST", PATH, req, ok)
    with open(os.path.join(FIX, "anthropic__messages_stream_text_ping.sse"),
              "rb") as f:
        assert r.body == f.read(), "dechunked body != the .sse fixture"
    assert r.headers["content-type"].startswith("text/event-stream")
    r = H.http_request(sim.port, "POST", PATH, req, {"x-api-key": "nope",
                       "anthropic-version": "2023-06-01"})
    assert (r.status, r.json["error"]["type"]) == (401,
                                                   "authentication_error")
    r = H.http_request(sim.port, "POST", PATH, req,
                       {"x-api-key": H.SIM_KEY})
    assert r.status == 400 and r.json["type"] == "error"
    bad = dict(req, messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_x", "content": "1"}]}])
    r = H.http_request(sim.port, "POST", PATH, bad, ok)
    assert r.status == 400 and "tool_use_id" in r.json["error"]["message"]
