"""POST /v1/chat/completions through the real gateway (issue 5): OpenAI
Chat Completions in and out, routed to any provider, with the same
enrichment (usage.cost_usd, the top-level `aura` object) as /v1/responses.

Scenarios (tests/sim/README.md and tests/sim/providers/*.py):
  sim/text            chat upstream, plain text (streamed: the .sse fixture)
  sim/tools-parallel  chat upstream, two parallel calls
  sim/json            chat upstream, the text answer (checks the request)
  openai/text         OpenAI Responses API upstream
  anth/text, anth/tool-single   Anthropic Messages upstream
  gem/tool-single     Gemini upstream: thought + functionCall "now"
"""

import json
import re

import pytest

PATH = "/v1/chat/completions"
CHAT_JSON = "openai__chat_nonstream_text.json"
CHAT_SSE = "openai__chat_stream_text_usage_done.sse"
PARALLEL_JSON = "openai__chat_nonstream_parallel_tool_calls.json"
PARALLEL_SSE = "openai__chat_stream_parallel_tool_calls_usage_done.sse"

WEATHER = {"type": "function", "function": {
    "name": "GetWeatherArgs", "description": "Weather for a city",
    "parameters": {"type": "object",
                   "properties": {"city": {"type": "string"},
                                  "country": {"type": "string"},
                                  "units": {"type": "string"}},
                   "required": ["city"]},
    "strict": True}}
STOCK = {"type": "function", "function": {
    "name": "get_stock_price", "description": "A stock price",
    "parameters": {"type": "object",
                   "properties": {"ticker": {"type": "string"},
                                  "exchange": {"type": "string"}}}}}
NOW = {"type": "function", "function": {
    "name": "now", "description": "The current date and time",
    "parameters": {"type": "object", "properties": {}}}}
ANTH_WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a location",
    "parameters": {"type": "object",
                   "properties": {"location": {"type": "string"},
                                  "units": {"type": "string"}},
                   "required": ["location"]}}}

USER = [{"role": "user", "content": "What's the weather in San Francisco?"}]


def chat_body(model, **kw):
    body = {"model": model, "messages": USER}
    body.update(kw)
    return body


# ---- shape checks -----------------------------------------------------------

def check_usage(u):
    for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert isinstance(u[k], int), u
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    assert isinstance(u["prompt_tokens_details"]["cached_tokens"], int), u
    assert isinstance(u["completion_tokens_details"]["reasoning_tokens"],
                      int), u
    assert "cost_usd" in u, u


def check_aura(doc, resp_headers, provider):
    a = doc["aura"]
    assert a["request_id"] == resp_headers["x-aura-request-id"], a
    assert a["provider"] == provider, a
    for k in ("model", "latency_ms", "gateway_overhead_us", "attempts",
              "cache", "agentic"):
        assert k in a, "aura lacks %s: %r" % (k, a)
    return a


def check_completion(resp, provider):
    """A chat.completion with every standard key; returns (doc, message)."""
    assert resp.status == 200, resp
    assert resp.headers["content-type"].startswith("application/json")
    doc = resp.json
    assert re.match(r"^chatcmpl-\w+$", doc["id"]), doc["id"]
    assert doc["object"] == "chat.completion"
    assert isinstance(doc["created"], int) and doc["created"] > 1.6e9
    assert doc["system_fingerprint"] is None
    (choice,) = doc["choices"]
    assert choice["index"] == 0 and choice["logprobs"] is None
    msg = choice["message"]
    assert msg["role"] == "assistant"
    assert "content" in msg and "refusal" in msg, msg
    check_usage(doc["usage"])
    check_aura(doc, resp.headers, provider)
    return doc, msg


def check_chunks(res, include_usage=False):
    """The chat stream rules; returns the chunks (error chunks included)."""
    assert res.status == 200, res.body[:500]
    assert res.headers["content-type"].startswith("text/event-stream")
    assert res.done, "no data: [DONE]"
    assert res.body.endswith(b"data: [DONE]\n\n"), res.body[-80:]
    assert not res.after_done
    chunks = [e.data for e in res.events]
    for e in res.events:
        assert e.event is None, "chat streams have no event: lines"
        assert isinstance(e.data, dict), e.raw
    body = [c for c in chunks if "error" not in c]
    ids = {c["id"] for c in body}
    assert len(ids) == 1 and re.match(r"^chatcmpl-\w+$", ids.pop())
    for c in body:
        assert c["object"] == "chat.completion.chunk", c
        assert isinstance(c["created"], int) and c["system_fingerprint"] is None
        assert ("usage" in c) == include_usage, c
    first = body[0]["choices"][0]
    assert first["delta"]["role"] == "assistant" and \
        first["delta"]["content"] == "", first
    return chunks


def finish_chunk(chunks):
    fins = [c for c in chunks if c.get("choices")
            and c["choices"][0]["finish_reason"] is not None]
    assert len(fins) == 1, "want one finish chunk: %r" % fins
    assert "aura" in fins[0], "the finish chunk carries aura"
    return fins[0]


def stream_text(chunks):
    return "".join(c["choices"][0]["delta"].get("content") or ""
                   for c in chunks if c.get("choices"))


def stream_calls(chunks):
    """{index: [id, name, arguments]} from tool_calls deltas."""
    calls = {}
    for c in chunks:
        for tc in (c.get("choices") or [{}])[0].get("delta", {}).get(
                "tool_calls") or []:
            if "id" in tc:
                assert tc["index"] not in calls, "a call announced twice"
                assert tc["type"] == "function"
                calls[tc["index"]] = [tc["id"], tc["function"]["name"],
                                      tc["function"]["arguments"]]
            else:
                calls[tc["index"]][2] += tc["function"]["arguments"]
    return calls


# ---- plain and streaming ----------------------------------------------------

def test_plain(gw, sim, H):
    resp = gw.post(chat_body("sim/text", temperature=0.2, max_tokens=50),
                   path=PATH)
    doc, msg = check_completion(resp, "sim")
    want = H.fixture_json(CHAT_JSON)
    assert msg["content"] == want["choices"][0]["message"]["content"]
    assert msg["refusal"] is None and "tool_calls" not in msg
    assert doc["choices"][0]["finish_reason"] == "stop"
    assert doc["model"] == "sim/text"
    assert doc["usage"]["prompt_tokens"] == want["usage"]["prompt_tokens"]
    assert doc["usage"]["completion_tokens"] == \
        want["usage"]["completion_tokens"]
    sent = sim.one_request("text", PATH)["body"]
    assert sent["messages"][-1]["role"] == "user"
    assert H.content_text(sent["messages"][-1]["content"]) == \
        USER[0]["content"]
    assert sent["temperature"] == 0.2


def test_stream_without_usage(gw, H):
    res = gw.stream(chat_body("sim/text", stream=True), path=PATH)
    chunks = check_chunks(res)
    want = H.chat_stream_text(H.chat_sse_chunks(CHAT_SSE))
    assert stream_text(chunks) == want
    fin = finish_chunk(chunks)
    assert fin["choices"][0]["finish_reason"] == "stop"
    assert fin["aura"]["request_id"] == res.headers["x-aura-request-id"]
    assert not [c for c in chunks if c.get("choices") == []], \
        "no usage chunk unless asked for"


def test_stream_with_usage(gw, H):
    res = gw.stream(chat_body("sim/text", stream=True,
                              stream_options={"include_usage": True}),
                    path=PATH)
    chunks = check_chunks(res, include_usage=True)
    assert stream_text(chunks) == H.chat_stream_text(
        H.chat_sse_chunks(CHAT_SSE))
    last = chunks[-1]
    assert last["choices"] == [], "the usage chunk is last"
    check_usage(last["usage"])
    want = H.chat_stream_usage(H.chat_sse_chunks(CHAT_SSE))
    assert last["usage"]["prompt_tokens"] == want["prompt_tokens"]
    assert last["usage"]["completion_tokens"] == want["completion_tokens"]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert finish_chunk(chunks) is chunks[-2]


# ---- tools ------------------------------------------------------------------

def test_parallel_tools(gw, sim, H):
    want = H.fixture_json(PARALLEL_JSON)["choices"][0]["message"]["tool_calls"]
    resp = gw.post(chat_body("sim/tools-parallel", tools=[WEATHER, STOCK],
                             tool_choice="auto", parallel_tool_calls=True),
                   path=PATH)
    doc, msg = check_completion(resp, "sim")
    assert doc["choices"][0]["finish_reason"] == "tool_calls"
    assert msg["content"] is None
    assert [(c["id"], c["type"], c["function"]["name"],
             c["function"]["arguments"]) for c in msg["tool_calls"]] == \
        [(c["id"], "function", c["function"]["name"],
          c["function"]["arguments"]) for c in want]
    assert doc["aura"]["agentic"]["requires_action"] is True
    assert doc["aura"]["agentic"]["tool_calls_count"] == 2
    sent = sim.one_request("tools-parallel", PATH)["body"]
    assert [t["function"]["name"] for t in sent["tools"]] == \
        ["GetWeatherArgs", "get_stock_price"]
    assert sent["tools"][0]["function"]["strict"] is True


def test_parallel_tools_stream(gw, H):
    want = H.chat_sse_chunks(PARALLEL_SSE)
    want_calls = stream_calls(want)
    res = gw.stream(chat_body("sim/tools-parallel", tools=[WEATHER, STOCK],
                              stream=True), path=PATH)
    chunks = check_chunks(res)
    calls = stream_calls(chunks)
    assert sorted(calls) == [0, 1], "indices 0 and 1 among calls"
    assert calls == want_calls
    assert finish_chunk(chunks)["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_round_trip(gw, sim, H):
    call = H.fixture_json(PARALLEL_JSON)["choices"][0]["message"][
        "tool_calls"][0]
    messages = USER + [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"],
         "content": "{\"temp_c\": 11, \"sky\": \"drizzle\"}"}]
    resp = gw.post({"model": "sim/text", "messages": messages,
                    "tools": [WEATHER]}, path=PATH)
    check_completion(resp, "sim")
    sent = sim.one_request("text", PATH)["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    (tc,) = sent[1]["tool_calls"]
    assert tc["id"] == call["id"]
    assert tc["function"]["name"] == call["function"]["name"]
    assert json.loads(tc["function"]["arguments"]) == \
        json.loads(call["function"]["arguments"])
    assert sent[2]["tool_call_id"] == call["id"]
    assert H.content_text(sent[2]["content"]) == \
        "{\"temp_c\": 11, \"sky\": \"drizzle\"}"


# ---- other providers, same shape --------------------------------------------

def test_responses_upstream(gw, sim, H):
    """The equivalent Open Responses request goes to a Responses upstream:
    system and user messages as input items, max_tokens as
    max_output_tokens, user as safety_identifier, no Chat keys."""
    resp = gw.post({"model": "openai/text", "max_tokens": 64, "user": "u1",
                    "messages": [{"role": "system", "content": "Be terse."}]
                    + USER}, path=PATH)
    doc, msg = check_completion(resp, "openai")
    assert msg["content"] == H.output_text(
        H.fixture_json("openai__responses_nonstream_text.json"))
    sent = sim.one_request("text", "/v1/responses")["body"]
    assert [(i["type"], i["role"]) for i in sent["input"]] == \
        [("message", "system"), ("message", "user")]
    assert sent["input"][0]["content"] == [{"type": "input_text",
                                            "text": "Be terse."}]
    assert sent["max_output_tokens"] == 64
    assert sent["safety_identifier"] == "u1"
    for k in ("messages", "max_tokens", "user", "stream_options"):
        assert k not in sent, k


def test_anthropic_text(gw, sim):
    resp = gw.post({"model": "anth/text", "max_completion_tokens": 256,
                    "messages": [{"role": "system", "content": "Be terse."}]
                    + USER}, path=PATH)
    doc, msg = check_completion(resp, "anth")
    assert isinstance(msg["content"], str) and msg["content"]
    assert doc["choices"][0]["finish_reason"] == "stop"
    sent = sim.one_request("text", "/anthropic/v1/messages")["body"]
    assert sent["max_tokens"] == 256
    assert "Be terse." in json.dumps(sent["system"])


def test_anthropic_tool_stream(gw):
    res = gw.stream({"model": "anth/tool-single", "stream": True,
                     "stream_options": {"include_usage": True},
                     "messages": USER, "tools": [ANTH_WEATHER]}, path=PATH)
    chunks = check_chunks(res, include_usage=True)
    calls = stream_calls(chunks)
    assert list(calls) == [0]
    cid, name, args = calls[0]
    assert name == "get_weather" and cid
    json.loads(args)
    assert finish_chunk(chunks)["choices"][0]["finish_reason"] == "tool_calls"
    check_usage(chunks[-1]["usage"])


def test_gemini_tool_call(gw, sim):
    resp = gw.post({"model": "gem/tool-single", "messages": USER,
                    "tools": [NOW]}, path=PATH)
    doc, msg = check_completion(resp, "gem")
    assert doc["choices"][0]["finish_reason"] == "tool_calls"
    (tc,) = msg["tool_calls"]
    assert tc["type"] == "function" and tc["function"]["name"] == "now"
    assert tc["id"]
    json.loads(tc["function"]["arguments"])
    assert doc["aura"]["agentic"]["requires_action"] is True


# ---- response_format ----------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"temp": {"type": "number"}},
          "required": ["temp"], "additionalProperties": False}


def test_json_schema(gw, sim):
    resp = gw.post(chat_body("sim/json", response_format={
        "type": "json_schema", "json_schema": {
            "name": "weather", "schema": SCHEMA, "strict": True}}), path=PATH)
    check_completion(resp, "sim")
    rf = sim.one_request("json", PATH)["body"]["response_format"]
    assert rf["type"] == "json_schema"
    assert rf["json_schema"]["name"] == "weather"
    assert rf["json_schema"]["schema"] == SCHEMA
    assert rf["json_schema"]["strict"] is True


def test_json_object(gw, sim):
    resp = gw.post(chat_body("sim/json",
                             response_format={"type": "json_object"}),
                   path=PATH)
    check_completion(resp, "sim")
    rf = sim.one_request("json", PATH)["body"]["response_format"]
    assert rf == {"type": "json_object"}


# ---- errors -------------------------------------------------------------------

def test_bad_json(gw, H):
    H.assert_error(gw.post("{\"model\":", path=PATH,
                           headers={"Content-Type": "application/json"}),
                   400, "invalid_json", None, "invalid_request_error")


@pytest.mark.parametrize("extra,code,param", [
    ({"n": 2}, "unsupported_value", "n"),
    ({"stop": ["\n"]}, "unsupported_parameter", "stop"),
    ({"frobnicate": 1}, "unknown_parameter", "frobnicate"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "ftp://x"}}]}]},
     "invalid_value", "messages[0].content[0].image_url.url"),
    ({"messages": USER + [{"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]},
     "missing_required_parameter", "messages[1].tool_calls[0].id"),
])
def test_bad_request(gw, sim, H, extra, code, param):
    body = chat_body("sim/text")
    body.update(extra)
    H.assert_error(gw.post(body, path=PATH), 400, code, param,
                   "invalid_request_error")
    assert sim.requests() == [], "nothing went upstream"


def test_unknown_model(gw, H):
    H.assert_error(gw.post(chat_body("nosuch/model"), path=PATH), 404,
                   "model_not_found")


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_error_before_answer(gw, H, stream):
    """An upstream 429 before any byte is an HTTP error in OpenAI's shape,
    Retry-After passed on, streamed or not."""
    resp = gw.post(chat_body("sim/error-429", stream=stream), path=PATH)
    err = H.assert_error(resp, 429, "insufficient_quota")
    assert err["type"] == "rate_limit_error"
    assert resp.headers.get("retry-after") == "7"


def test_upstream_error_stream(gw):
    """A stream that fails mid-way ends with OpenAI's error chunk (carrying
    aura) and [DONE]; no finish chunk."""
    res = gw.stream(chat_body("sim/malformed", stream=True), path=PATH)
    assert res.status == 200
    chunks = [e.data for e in res.events]
    errs = [c for c in chunks if "error" in c]
    assert len(errs) == 1 and errs[0] is chunks[-1], chunks[-3:]
    err = errs[0]["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert errs[0]["aura"]["request_id"] == res.headers["x-aura-request-id"]
    assert res.done
