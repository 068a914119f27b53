"""AWS Bedrock (Converse / ConverseStream) through the gateway: the issue-4
matrix (text, stream, tool call, parallel calls, tool round trip,
reasoning, max tokens, usage and cost, 429, 5xx, malformed) against
tests/sim/providers/bedrock.py, which verifies every SigV4 signature itself
and replays tests/fixtures/bedrock/ (binary event stream frames; the
decoded-event captures framed again). Expected values come from those
files; prices from conf/models/bedrock.json."""

import base64
import json
import struct
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "tests" / "fixtures" / "bedrock"
KEYS = Path(__file__).resolve().parent / "providers"
REGISTRY = REPO / "conf" / "models" / "bedrock.json"

TEXT_JSON = "bedrock__converse_text.json"
REASON_JSON = "bedrock__converse_reasoning.json"
TEXT_EV = "bedrock__converse_stream_text_events.txt"
REASON_EV = "bedrock__converse_stream_reasoning_events.txt"
CACHE_B64 = "bedrock__converse_stream_prompt_cache_read.eventstream.b64"

CLAUDE = "us.anthropic.%s-v1:0"
TOOLS = [{"type": "function", "name": "get_weather",
          "description": "Weather for a city",
          "parameters": {"type": "object",
                         "properties": {"city": {"type": "string"}},
                         "required": ["city"]}},
         {"type": "function", "name": "get_quote",
          "parameters": {"type": "object",
                         "properties": {"ticker": {"type": "string"}}}}]
# the arguments the DERIVED tool scenarios carry (see SOURCES.md)
ARGS = [{"city": "Edinburgh", "country": "GB", "units": "c"},
        {"ticker": "AAPL", "exchange": "NASDAQ"}]


def fx(name):
    return json.loads((FIX / name).read_bytes())


def events(name):
    out = []
    for line in (FIX / name).read_text().split("\n"):
        if line.strip():
            (t, p), = json.loads(line).items()
            out.append((t, p))
    return out


def recorded_frames():
    """(event type, payload) of the binary capture, parsed here."""
    data = base64.b64decode((FIX / CACHE_B64).read_bytes())
    out, pos = [], 0
    while pos < len(data):
        total, hlen = struct.unpack(">II", data[pos:pos + 8])
        h, end, etype = pos + 12, pos + 12 + hlen, None
        while h < end:
            n = data[h]
            name = data[h + 1:h + 1 + n].decode()
            vlen = struct.unpack(">H", data[h + 2 + n:h + 4 + n])[0]
            val = data[h + 4 + n:h + 4 + n + vlen].decode()
            if name == ":event-type":
                etype = val
            h += 4 + n + vlen
        out.append((etype, json.loads(data[end:pos + total - 4])))
        pos += total
    return out


def usage4(u):
    return (u["input_tokens"], u["input_tokens_details"]["cached_tokens"],
            u["output_tokens"], u["output_tokens_details"]["reasoning_tokens"])


def calls_of(doc):
    return [i for i in doc["output"] if i["type"] == "function_call"]


def upstream(sim, model, stream=False):
    """The one request the simulator got for that model id."""
    path = "/bedrock/model/%s/%s" % (model.replace(":", "%3A"),
                                     "converse-stream" if stream
                                     else "converse")
    qs = [q for q in sim.requests() if q["path"] == path]
    assert len(qs) == 1, (path, [q["path"] for q in sim.requests()])
    return qs[0]


def assert_sigv4(sim, q):
    key_id = (KEYS / "aws-access-key-id").read_text().strip()
    auth = q["headers"]["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=%s/" % key_id), auth
    assert "/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date," \
        in auth, auth
    assert q["headers"]["x-amz-date"][:8] in auth
    assert not [e for e in sim.events()
                if e["kind"] == "bedrock_bad_signature"]


# ---- text ------------------------------------------------------------------

def test_bedrock_text(gw, sim, H):
    model = CLAUDE % "text"
    doc = gw.respond({"model": "aws/" + model, "input": "Count the r's",
                      "instructions": "Be brief.", "temperature": 0.2,
                      "max_output_tokens": 300})
    want = fx(TEXT_JSON)["output"]["message"]["content"][0]["text"]
    assert doc["status"] == "completed"
    assert H.output_text(doc) == want
    assert usage4(doc["usage"]) == (22, 0, 57, 0)
    assert doc["aura"]["provider"] == "aws"
    q = upstream(sim, model)
    assert_sigv4(sim, q)
    assert q["body"] == {
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user",
                      "content": [{"text": "Count the r's"}]}],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.2}}


def test_bedrock_stream(gw, sim, H):
    model = CLAUDE % "text"
    res = gw.stream({"model": "aws/" + model, "input": "Count the r's"})
    final = H.check_stream(res, billed=False)
    want = "".join(p["delta"]["text"] for t, p in events(TEXT_EV)
                   if t == "contentBlockDelta")
    assert H.stream_text(res) == want, "a delta was lost"
    assert len(res.of_type("response.output_text.delta")) == len(
        [1 for t, p in events(TEXT_EV) if t == "contentBlockDelta"])
    assert H.output_text(final) == want
    assert usage4(final["usage"]) == (22, 0, 55, 0)
    assert_sigv4(sim, upstream(sim, model, stream=True))


def test_bedrock_stream_recorded_frames(gw, sim, H):
    """The real binary capture, in its real network chunks (frames
    straddle them): every delta and token count arrives."""
    model = "global.anthropic.cache-v1:0"
    res = gw.stream({"model": "aws/" + model, "input": "hi"})
    final = H.check_stream(res, billed=False)
    frames = recorded_frames()
    want = "".join(p["delta"]["text"] for t, p in frames
                   if t == "contentBlockDelta")
    assert want == "Hello there!"
    assert H.stream_text(res) == want
    u = frames[-1][1]["usage"]
    assert usage4(final["usage"]) == (
        u["inputTokens"] + u["cacheReadInputTokens"]
        + u["cacheWriteInputTokens"], u["cacheReadInputTokens"],
        u["outputTokens"], 0)


# ---- authentication variants -------------------------------------------------

def test_bedrock_session_token(gw, sim, H):
    model = CLAUDE % "text"
    doc = gw.respond({"model": "awss/" + model, "input": "hi"})
    assert doc["status"] == "completed"
    q = upstream(sim, model)
    assert q["headers"]["x-amz-security-token"] == \
        (KEYS / "aws-session-token").read_text().strip()
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in \
        q["headers"]["authorization"]


def test_bedrock_api_key(gw, sim, H):
    model = CLAUDE % "text"
    doc = gw.respond({"model": "awsk/" + model, "input": "hi"})
    assert doc["status"] == "completed"
    q = upstream(sim, model)
    assert q["headers"]["authorization"] == "Bearer " + H.SIM_KEY
    assert "x-amz-date" not in q["headers"]


def test_bedrock_bad_signature(gw, sim, H):
    """A wrong secret: the simulator's own SigV4 check refuses it (403
    InvalidSignatureException); the client sees a gateway problem, and no
    secret anywhere."""
    mark = gw.log_mark()
    r = gw.post({"model": "awsx/" + CLAUDE % "text", "input": "hi"})
    H.assert_error(r, 502, "upstream_auth_failed")
    assert [e for e in sim.events() if e["kind"] == "bedrock_bad_signature"]
    log = gw.error_log_since(mark)
    for f in ("aws-secret-access-key", "aws-wrong-secret",
              "aws-session-token"):
        secret = (KEYS / f).read_text().strip()
        assert secret not in r.body.decode() and secret not in log


# ---- tools -----------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_bedrock_tool_call(gw, sim, H, stream):
    model = CLAUDE % "tool-single"
    body = {"model": "aws/" + model, "input": "Weather in Edinburgh?",
            "tools": TOOLS, "tool_choice": "required"}
    final = H.check_stream(gw.stream(body), billed=False) if stream \
        else gw.respond(body)
    calls = calls_of(final)
    assert [(c["call_id"], c["name"], json.loads(c["arguments"]))
            for c in calls] == [("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                                 "get_weather", ARGS[0])]
    assert final["status"] == "completed"
    assert final["aura"]["agentic"]["requires_action"] is True
    cfg = upstream(sim, model, stream)["body"]["toolConfig"]
    assert cfg == {"tools": [
        {"toolSpec": {"name": "get_weather",
                      "description": "Weather for a city",
                      "inputSchema": {"json": TOOLS[0]["parameters"]}}},
        {"toolSpec": {"name": "get_quote",
                      "inputSchema": {"json": TOOLS[1]["parameters"]}}}],
        "toolChoice": {"any": {}}}


def test_bedrock_tool_call_llama(gw, sim, H):
    """Llama takes toolChoice auto only: "required" is not sent (the
    simulator, like Bedrock, answers 400 to toolChoice any on Meta)."""
    model = "us.meta.tool-single-v1:0"
    doc = gw.respond({"model": "aws/" + model, "input": "Weather?",
                      "tools": TOOLS, "tool_choice": "required"})
    assert [c["name"] for c in calls_of(doc)] == ["get_weather"]
    assert "toolChoice" not in upstream(sim, model)["body"]["toolConfig"]


@pytest.mark.parametrize("stream", [False, True])
def test_bedrock_parallel_tool_calls(gw, sim, H, stream):
    model = CLAUDE % "tools-parallel"
    body = {"model": "aws/" + model, "input": "Weather and AAPL",
            "tools": TOOLS}
    final = H.check_stream(gw.stream(body), billed=False) if stream \
        else gw.respond(body)
    calls = calls_of(final)
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == \
        [("get_weather", ARGS[0]), ("get_quote", ARGS[1])]
    assert len({c["call_id"] for c in calls}) == 2
    assert final["aura"]["agentic"]["tool_calls_count"] == 2
    assert "toolChoice" not in upstream(sim, model, stream)["body"][
        "toolConfig"]


def test_bedrock_tool_round_trip(gw, sim, H):
    """Bedrock's own call and one made on another provider (an id Converse
    would refuse), both answered: the upstream gets toolUse blocks in the
    assistant turn and toolResult blocks in one user turn, ids consistent."""
    model = CLAUDE % "tool-single"
    first = gw.respond({"model": "aws/" + model, "input": "Weather?",
                        "tools": TOOLS})
    call = calls_of(first)[0]
    sim.clear()
    foreign = {"type": "function_call", "call_id": "call_gemini_0/x.y",
               "name": "get_quote", "arguments": "{\"ticker\": \"AAPL\"}"}
    doc = gw.respond({"model": "aws/" + CLAUDE % "text", "tools": TOOLS,
                      "input": [
                          {"role": "user", "content": "Weather?"}, call,
                          foreign,
                          {"type": "function_call_output",
                           "call_id": call["call_id"], "output": "12C"},
                          {"type": "function_call_output",
                           "call_id": foreign["call_id"],
                           "output": "{\"price\": 200}"}]})
    assert doc["status"] == "completed"
    msgs = upstream(sim, CLAUDE % "text")["body"]["messages"]
    assert len(msgs) == 3
    uses = [b["toolUse"] for b in msgs[1]["content"]]
    results = [b["toolResult"] for b in msgs[2]["content"]]
    assert msgs[1]["role"] == "assistant" and msgs[2]["role"] == "user"
    assert uses[0] == {"toolUseId": call["call_id"], "name": "get_weather",
                       "input": ARGS[0]}
    assert uses[1]["name"] == "get_quote"
    assert uses[1]["input"] == {"ticker": "AAPL"}
    assert uses[1]["toolUseId"].startswith("aura_")
    assert results == [
        {"toolUseId": call["call_id"], "content": [{"text": "12C"}]},
        {"toolUseId": uses[1]["toolUseId"],
         "content": [{"text": "{\"price\": 200}"}]}]


# ---- reasoning -------------------------------------------------------------

def test_bedrock_reasoning(gw, sim, H):
    model = CLAUDE % "reasoning"
    doc = gw.respond({"model": "aws/" + model, "input": "r's in strawberry?",
                      "reasoning": {"effort": "low"}, "temperature": 0.3})
    rs = fx(REASON_JSON)["output"]["message"]["content"]
    item = doc["output"][0]
    assert item["type"] == "reasoning"
    assert item["content"][0]["text"] == rs[0]["reasoningContent"][
        "reasoningText"]["text"]
    assert item["encrypted_content"] == "aura:bedrock:" + rs[0][
        "reasoningContent"]["reasoningText"]["signature"]
    assert H.output_text(doc) == rs[1]["text"]
    assert doc["aura"]["agentic"]["has_reasoning"] is True
    assert usage4(doc["usage"]) == (51, 0, 78, 0)
    body = upstream(sim, model)["body"]
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert body["inferenceConfig"] == {"maxTokens": 2048 + 8192}, \
        "temperature is not sent with thinking on"
    # the reasoning item goes back as reasoningContent with its signature
    sim.clear()
    gw.respond({"model": "aws/" + CLAUDE % "text", "input": [
        {"role": "user", "content": "r's in strawberry?"}, item,
        doc["output"][1], {"role": "user", "content": "And in raspberry?"}]})
    msgs = upstream(sim, CLAUDE % "text")["body"]["messages"]
    assert msgs[1]["content"][0] == {"reasoningContent": {"reasoningText": {
        "text": item["content"][0]["text"],
        "signature": rs[0]["reasoningContent"]["reasoningText"]["signature"]}}}


def test_bedrock_reasoning_stream(gw, H):
    res = gw.stream({"model": "aws/" + CLAUDE % "reasoning",
                     "input": "r's in strawberry?",
                     "reasoning": {"effort": "medium"}})
    final = H.check_stream(res, billed=False)
    ev = events(REASON_EV)
    thought = "".join(p["delta"]["reasoningContent"].get("text", "")
                      for t, p in ev if t == "contentBlockDelta"
                      and "reasoningContent" in p["delta"])
    sig = [p["delta"]["reasoningContent"]["signature"] for t, p in ev
           if t == "contentBlockDelta"
           and "signature" in p["delta"].get("reasoningContent", {})][0]
    got = "".join(e.data["delta"] for e in
                  res.of_type("response.reasoning.delta"))
    assert got == thought, "a thinking delta was lost"
    assert final["output"][0]["content"][0]["text"] == thought
    assert final["output"][0]["encrypted_content"] == "aura:bedrock:" + sig
    assert usage4(final["usage"]) == (51, 0, 94, 0)


# ---- cut-offs ----------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_bedrock_max_tokens(gw, sim, H, stream):
    model = CLAUDE % "length"
    body = {"model": "aws/" + model, "input": "hi", "max_output_tokens": 55}
    final = H.check_stream(gw.stream(body),
                           expect_terminal="response.incomplete",
                           billed=False) if stream else gw.respond(body)
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["output"][0]["status"] == "incomplete"
    assert H.output_text(final)
    assert upstream(sim, model, stream)["body"]["inferenceConfig"] == {
        "maxTokens": 55}


def test_bedrock_content_filter(gw, H):
    res = gw.stream({"model": "aws/" + CLAUDE % "guardrail", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.incomplete",
                           billed=False)
    assert final["incomplete_details"] == {"reason": "content_filter"}


# ---- usage and cost ----------------------------------------------------------

def test_bedrock_usage_cost(gw, sim, H):
    """conf/models/bedrock.json's Claude Haiku 4.5 served by "aws" (the
    recorded prompt-cache stream is a Haiku 4.5 capture): Bedrock's
    inputTokens excludes the cache, so input = 9 + 4508 cache reads."""
    res = gw.stream({"model": "bedrock-claude-haiku-4-5", "input": "hi"},
                    path="/bedrock-priced/v1/responses")
    final = H.check_stream(res)
    u = recorded_frames()[-1][1]["usage"]
    counts = (u["inputTokens"] + u["cacheReadInputTokens"]
              + u["cacheWriteInputTokens"], u["cacheReadInputTokens"],
              u["outputTokens"], 0)
    assert counts == (4517, 4508, 6, 0)
    assert usage4(final["usage"]) == counts
    assert final["usage"]["total_tokens"] == u["totalTokens"]
    price = json.loads(REGISTRY.read_text())["models"][
        "bedrock-claude-haiku-4-5"]["price"]
    want = H.expected_cost(counts, price)
    for part in ("input", "cached_input", "output", "reasoning", "total"):
        H.assert_close(final["usage"]["cost_usd"][part], want[part],
                       "cost_usd." + part)
    assert final["aura"]["cost_status"] == "priced"
    assert final["aura"]["provider"] == "aws"
    upstream(sim, "global.anthropic.cache-v1:0", stream=True)


# ---- errors ------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_bedrock_rate_limit_429(gw, H, stream):
    body = {"model": "aws/" + CLAUDE % "error-429", "input": "hi"}
    r = gw.post(dict(body, stream=stream))
    err = H.assert_error(r, 429)
    assert "Too many requests" in err["message"]
    assert r.headers.get("retry-after") == "7", r.headers


def test_bedrock_overloaded_5xx(gw, H):
    r = gw.post({"model": "aws/" + CLAUDE % "overloaded", "input": "hi"})
    H.assert_error(r, 503, "upstream_overloaded")
    r = gw.post({"model": "aws/" + CLAUDE % "error-500", "input": "hi"})
    err = H.assert_error(r, 502, "upstream_error")
    assert "internal error" in err["message"]
    res = gw.stream({"model": "aws/" + CLAUDE % "overloaded", "input": "hi"})
    assert res.status == 503, (res.status, res.body[:300])


def test_bedrock_malformed(gw, H):
    r = gw.post({"model": "aws/" + CLAUDE % "malformed", "input": "hi"})
    H.assert_error(r, 502, "upstream_bad_response")
    res = gw.stream({"model": "aws/" + CLAUDE % "malformed", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_bad_response"
    assert "CRC" in final["error"]["message"]
    want = "".join(p["delta"]["text"] for t, p in events(TEXT_EV)[1:4])
    assert H.stream_text(res) == want, "the frames before the bad one"


def test_bedrock_truncated_stream(gw, H):
    res = gw.stream({"model": "aws/" + CLAUDE % "truncated", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_stream_truncated"


def test_bedrock_stream_exception(gw, H):
    """An exception frame mid-stream (throttlingException) ends the
    response as failed, with Bedrock's message."""
    res = gw.stream({"model": "aws/" + CLAUDE % "stream-exception",
                     "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "rate_limit_exceeded"
    assert "throttlingException: Too many tokens" in final["error"]["message"]
    assert H.stream_text(res) == "".join(
        p["delta"]["text"] for t, p in events(TEXT_EV)[1:4])


def test_bedrock_validation_error(gw, H):
    """A 400 from Bedrock ({"message"} + x-amzn-ErrorType) reaches the
    client as a 400 with Bedrock's message."""
    r = gw.post({"model": "aws/" + CLAUDE % "error-400", "input": "hi"})
    err = H.assert_error(r, 400)
    assert "model identifier is invalid" in err["message"]


# ---- the simulator itself ------------------------------------------------------

HI = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def test_bedrock_sim_replays_capture_verbatim(sim, H):
    """The recorded frames leave the simulator byte for byte."""
    r = H.http_request(sim.port, "POST", "/bedrock/model/global.anthropic."
                       "cache-v1%3A0/converse-stream", HI,
                       {"Authorization": "Bearer " + H.SIM_KEY})
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert r.body == base64.b64decode((FIX / CACHE_B64).read_bytes())


def test_bedrock_sim_checks_signatures(sim, H):
    """Unsigned, badly signed and unknown-key requests get AWS's 403s."""
    path = "/bedrock/model/us.anthropic.text-v1%3A0/converse"
    r = H.http_request(sim.port, "POST", path, HI, {"Authorization": ""})
    assert r.status == 403 and r.headers["x-amzn-errortype"].startswith(
        "MissingAuthenticationTokenException"), r
    key_id = (KEYS / "aws-access-key-id").read_text().strip()
    auth = ("AWS4-HMAC-SHA256 Credential=%s/20260101/us-east-1/bedrock/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=" % key_id
            + "0" * 64)
    r = H.http_request(sim.port, "POST", path, HI, {
        "Authorization": auth, "X-Amz-Date": "20260101T000000Z"})
    assert r.status == 403 and r.json["message"].startswith(
        "Signature expired"), r
    r = H.http_request(sim.port, "POST", path, HI, {
        "Authorization": auth.replace(key_id, "AKIDNOTKNOWN00000000"),
        "X-Amz-Date": "20260101T000000Z"})
    assert r.status == 403 and r.headers["x-amzn-errortype"].startswith(
        "UnrecognizedClientException"), r
