"""The Anthropic Messages front door (POST /v1/messages, .../count_tokens)
through the real gateway: to a non-Anthropic upstream (sim/*, OpenAI Chat
wire format) and to the Anthropic simulator (anth/*), plain and streaming,
tool round trips, thinking signatures across turns, usage as Anthropic
counts it, count_tokens, and errors in Anthropic's shape."""

import json
import os
import re

PATH = "/v1/messages"
ANTH_PATH = "/anthropic/v1/messages"
VERSION = {"anthropic-version": "2023-06-01"}
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "fixtures")

TOOLS = [{"name": "GetWeatherArgs", "description": "Weather in a city",
          "input_schema": {"type": "object",
                           "properties": {"city": {"type": "string"}}}},
         {"name": "get_stock_price",
          "input_schema": {"type": "object",
                           "properties": {"ticker": {"type": "string"}}}}]
ANTH_TOOLS = [{"name": "get_weather", "description": "Weather",
               "input_schema": {"type": "object",
                                "properties": {"location": {"type": "string"},
                                               "units": {"type": "string"}},
                                "required": ["location"]}}]


def fixture(sub, name):
    with open(os.path.join(FIX, sub, name), "rb") as f:
        return json.loads(f.read())


def user(text):
    return {"role": "user", "content": text}


def body(model, messages, **kw):
    b = {"model": model, "max_tokens": 1024, "messages": messages}
    b.update(kw)
    return b


def post(gw, b, headers=None, path=PATH):
    return gw.post(b, path=path, headers=dict(VERSION, **(headers or {})))


def message(gw, b, headers=None):
    """POST expecting a 200 Anthropic message; checks its shape."""
    r = post(gw, b, headers)
    assert r.status == 200, "HTTP %d: %r" % (r.status, r.body[:800])
    m = r.json
    assert list(m)[:4] == ["id", "type", "role", "model"], list(m)
    assert re.match(r"^msg_\w+$", m["id"]), m["id"]
    assert (m["type"], m["role"]) == ("message", "assistant")
    assert m["stop_sequence"] is None
    assert set(m["usage"]) >= {"input_tokens", "output_tokens",
                               "cache_creation_input_tokens",
                               "cache_read_input_tokens"}, m["usage"]
    assert m["aura"]["request_id"] == r.headers["x-aura-request-id"]
    return m


def stream(gw, H, b, headers=None):
    """Stream and check Anthropic's framing; returns the events."""
    res = H.stream_request(gw.port, dict(b, stream=True), PATH,
                           headers=dict(VERSION, **(headers or {})))
    assert res.status == 200, (res.status, res.body[:600])
    assert res.headers["content-type"].startswith("text/event-stream")
    assert not res.done and b"[DONE]" not in res.body, \
        "Anthropic streams have no [DONE]"
    for e in res.events:
        assert isinstance(e.data, dict) and e.event == e.data["type"], e.raw
    return res


def check_sequence(res, ok=True):
    """message_start, blocks (start, deltas, stop; one open at a time,
    indices 0..n-1), message_delta, message_stop."""
    types = res.types()
    assert types[0] == "message_start", types
    if not ok:
        return
    assert types[-2:] == ["message_delta", "message_stop"], types
    open_, nxt = None, 0
    for e in res.events[1:-2]:
        t, d = e.type, e.data
        if t == "ping":
            continue
        if t == "content_block_start":
            assert open_ is None and d["index"] == nxt, types
            open_, nxt = d["index"], nxt + 1
        elif t == "content_block_delta":
            assert d["index"] == open_, types
        else:
            assert t == "content_block_stop" and d["index"] == open_, types
            open_ = None
    assert open_ is None, "a block was left open"


def accumulate(res):
    """The content blocks as an SDK accumulates them."""
    blocks = []
    for e in res.events:
        d = e.data
        if e.type == "content_block_start":
            b = dict(d["content_block"])
            b["_json"] = ""
            blocks.append(b)
        elif e.type == "content_block_delta":
            b, dl = blocks[d["index"]], d["delta"]
            kind = dl["type"]
            if kind == "text_delta":
                b["text"] += dl["text"]
            elif kind == "input_json_delta":
                b["_json"] += dl["partial_json"]
            elif kind == "thinking_delta":
                b["thinking"] += dl["thinking"]
            elif kind == "signature_delta":
                b["signature"] = dl["signature"]
    for b in blocks:
        j = b.pop("_json")
        if b["type"] == "tool_use":
            b["input"] = json.loads(j) if j else {}
    return blocks


def final(res):
    return res.of_type("message_delta")[-1].data


# ---- to a non-Anthropic upstream (OpenAI Chat wire format) ----------------

def test_text_to_chat_upstream(gw, sim):
    want = fixture("openai", "openai__chat_nonstream_text.json")
    m = message(gw, body("sim/text", [user("Weather?")],
                         system="Be brief.", temperature=0.5, top_k=5))
    assert m["content"] == [{"type": "text", "text":
                             want["choices"][0]["message"]["content"]}]
    assert m["stop_reason"] == "end_turn"
    u = want["usage"]
    assert (m["usage"]["input_tokens"], m["usage"]["output_tokens"]) == (
        u["prompt_tokens"], u["completion_tokens"])
    assert m["aura"]["provider"] == "sim"
    assert "cost_usd" in m["usage"]
    sent = sim.one_request("text", "/v1/chat/completions")["body"]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"}], sent["messages"]
    assert sent["temperature"] == 0.5
    assert "top_k" not in sent, "top_k has no equivalent: not sent"
    assert 1024 in (sent.get("max_completion_tokens"),
                    sent.get("max_tokens")), sent


def test_stream_text_to_chat_upstream(gw, sim, H):
    res = stream(gw, H, body("sim/text", [user("Weather?")]))
    check_sequence(res)
    blocks = accumulate(res)
    assert len(blocks) == 1 and blocks[0]["type"] == "text"
    chunks = H.chat_sse_chunks("openai__chat_stream_text_usage_done.sse")
    assert blocks[0]["text"] == H.chat_stream_text(chunks)
    assert len(res.of_type("content_block_delta")) > 1, "not streamed"
    start = res.events[0].data["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    end = final(res)
    assert end["delta"] == {"stop_reason": "end_turn",
                            "stop_sequence": None}
    u = H.chat_stream_usage(chunks)
    assert (end["usage"]["input_tokens"], end["usage"]["output_tokens"]) == (
        u["prompt_tokens"], u["completion_tokens"])
    assert end["aura"]["request_id"] == res.headers["x-aura-request-id"]
    assert end["aura"]["provider"] == "sim"
    assert sim.one_request("text", "/v1/chat/completions")["body"][
        "stream"] is True


def test_parallel_tools_to_chat_upstream(gw, sim):
    m = message(gw, body("sim/tools-parallel", [user("Weather and AAPL")],
                         tools=TOOLS, tool_choice={
                             "type": "any",
                             "disable_parallel_tool_use": False}))
    calls = [b for b in m["content"] if b["type"] == "tool_use"]
    assert [c["name"] for c in calls] == ["GetWeatherArgs",
                                          "get_stock_price"]
    assert all(isinstance(c["input"], dict) and c["input"] for c in calls)
    assert m["stop_reason"] == "tool_use"
    assert m["aura"]["agentic"]["requires_action"] is True
    sent = sim.one_request("tools-parallel", "/v1/chat/completions")["body"]
    assert [t["function"]["name"] for t in sent["tools"]] == [
        "GetWeatherArgs", "get_stock_price"]
    assert sent["tools"][0]["function"]["parameters"] == \
        TOOLS[0]["input_schema"]
    assert sent["tool_choice"] == "required"


def test_stream_parallel_tools_to_chat_upstream(gw, H):
    res = stream(gw, H, body("sim/tools-parallel", [user("Weather and AAPL")],
                             tools=TOOLS))
    check_sequence(res)
    blocks = accumulate(res)
    assert [b["type"] for b in blocks] == ["tool_use", "tool_use"]
    assert [b["name"] for b in blocks] == ["GetWeatherArgs",
                                           "get_stock_price"]
    for e in res.of_type("content_block_start"):
        assert e.data["content_block"]["input"] == {}
        assert e.data["content_block"]["id"].startswith("call_")
    assert blocks[1]["input"].get("ticker") == "AAPL"
    assert final(res)["delta"]["stop_reason"] == "tool_use"
    assert final(res)["aura"]["agentic"]["tool_calls_count"] == 2


def test_tool_round_trip_to_chat_upstream(gw, sim):
    first = message(gw, body("sim/tools-parallel", [user("Weather and AAPL")],
                             tools=TOOLS))
    calls = [b for b in first["content"] if b["type"] == "tool_use"]
    history = [user("Weather and AAPL"),
               {"role": "assistant", "content": first["content"]},
               {"role": "user", "content": [
                   {"type": "tool_result", "tool_use_id": calls[0]["id"],
                    "content": "12C, rain"},
                   {"type": "tool_result", "tool_use_id": calls[1]["id"],
                    "is_error": True,
                    "content": [{"type": "text", "text": "market closed"}]},
                   {"type": "text", "text": "Summarize."}]}]
    sim.clear()
    m = message(gw, body("sim/text", history, tools=TOOLS))
    assert m["content"][0]["type"] == "text"
    msgs = sim.one_request("text", "/v1/chat/completions")["body"]["messages"]
    roles = [x["role"] for x in msgs]
    assert roles == ["user", "assistant", "tool", "tool", "user"], msgs
    sent_calls = msgs[1]["tool_calls"]
    assert [c["id"] for c in sent_calls] == [c["id"] for c in calls]
    assert [json.loads(c["function"]["arguments"]) for c in sent_calls] == \
        [c["input"] for c in calls]
    assert msgs[2]["tool_call_id"] == calls[0]["id"]
    assert H_text(msgs[2]["content"]) == "12C, rain"
    assert msgs[3]["tool_call_id"] == calls[1]["id"]
    assert H_text(msgs[3]["content"]) == "Error: market closed"


def H_text(content):
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content)


def test_max_tokens_one_is_raised(gw, sim):
    """Claude Code probes with max_tokens 1; the request model's minimum
    is 16."""
    message(gw, body("sim/text", [user("quota")], max_tokens=1))
    sent = sim.one_request("text", "/v1/chat/completions")["body"]
    assert 16 in (sent.get("max_completion_tokens"), sent.get("max_tokens"))


# ---- to Anthropic --------------------------------------------------------

def test_thinking_signature_round_trip(gw, sim):
    want = fixture("anthropic", "anthropic__messages_nonstream_thinking.json")
    think = {"type": "enabled", "budget_tokens": 2000}
    m = message(gw, body("anth/reasoning", [user("925/5?")], max_tokens=4000,
                         thinking=think))
    assert m["content"] == [
        {"type": "thinking", "thinking": want["content"][0]["thinking"],
         "signature": want["content"][0]["signature"]},
        {"type": "text", "text": want["content"][1]["text"]}]
    first = sim.one_request("reasoning", ANTH_PATH)["body"]
    assert first["thinking"]["type"] == "enabled"
    sim.clear()
    history = [user("925/5?"), {"role": "assistant", "content": m["content"]},
               user("And times 2?")]
    message(gw, body("anth/reasoning", history, max_tokens=4000,
                     thinking=think))
    sent = sim.one_request("reasoning", ANTH_PATH)["body"]["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["content"][0] == {
        "type": "thinking", "thinking": want["content"][0]["thinking"],
        "signature": want["content"][0]["signature"]}, sent[1]


def test_stream_thinking_signature(gw, sim, H):
    res = stream(gw, H, body("anth/reasoning", [user("15*3?")],
                             max_tokens=4000,
                             thinking={"type": "enabled",
                                       "budget_tokens": 1024}))
    check_sequence(res)
    blocks = accumulate(res)
    assert [b["type"] for b in blocks] == ["thinking", "text"]
    with open(os.path.join(FIX, "anthropic",
                           "anthropic__messages_stream_thinking_signature.sse")
              ) as f:
        up = [json.loads(l[6:]) for l in f.read().split("\n")
              if l.startswith("data: ")]
    sig = [e["delta"]["signature"] for e in up
           if e["type"] == "content_block_delta"
           and e["delta"]["type"] == "signature_delta"][0]
    thinking = "".join(e["delta"]["thinking"] for e in up
                       if e["type"] == "content_block_delta"
                       and e["delta"]["type"] == "thinking_delta")
    assert blocks[0]["signature"] == sig
    assert blocks[0]["thinking"] == thinking
    start = res.events[0].data["message"]["usage"]
    assert start["input_tokens"] == up[0]["message"]["usage"]["input_tokens"]


def test_stream_usage_as_anthropic_counts(gw, H):
    """Cache writes and reads come back in Anthropic's own fields, in
    message_start (the upstream's first report) and message_delta."""
    with open(os.path.join(
            FIX, "anthropic",
            "anthropic__messages_stream_cache_creation_server_tools_chunks.txt")
              ) as f:
        up = [json.loads(l) for l in f.read().split("\n") if l.strip()]
    keys = ("input_tokens", "cache_creation_input_tokens",
            "cache_read_input_tokens", "output_tokens")
    res = stream(gw, H, body("anth/cache", [user("run it")]))
    check_sequence(res)
    start = res.events[0].data["message"]["usage"]
    u0 = up[0]["message"]["usage"]
    assert [start[k] for k in keys] == [u0[k] for k in keys], start
    end = final(res)["usage"]
    u1 = [e for e in up if e["type"] == "message_delta"][0]["usage"]
    assert [end[k] for k in keys] == [u1[k] for k in keys], end
    assert final(res)["aura"]["cache_write_tokens"] == \
        u1["cache_creation_input_tokens"]


def test_body_usage_cache_read(gw):
    want = fixture("anthropic", "anthropic__messages_nonstream_cache_read.json")
    m = message(gw, body("anth/cache", [user("again")]))
    for k in ("input_tokens", "cache_read_input_tokens", "output_tokens",
              "cache_creation_input_tokens"):
        assert m["usage"][k] == want["usage"][k], (k, m["usage"])


def test_tool_round_trip_to_anthropic(gw, sim):
    want = fixture("anthropic", "anthropic__messages_nonstream_tool_use.json")
    m = message(gw, body("anth/tool-single", [user("Weather in SF?")],
                         tools=ANTH_TOOLS,
                         tool_choice={"type": "auto",
                                      "disable_parallel_tool_use": True}))
    assert m["content"] == [{"type": "tool_use", "id": want["content"][0]["id"],
                             "name": "get_weather",
                             "input": want["content"][0]["input"]}]
    sent = sim.one_request("tool-single", ANTH_PATH)["body"]
    assert sent["tools"] == ANTH_TOOLS
    assert sent["tool_choice"] == {"type": "auto",
                                   "disable_parallel_tool_use": True}
    sim.clear()
    history = [user("Weather in SF?"),
               {"role": "assistant", "content": m["content"]},
               {"role": "user", "content": [
                   {"type": "tool_result", "tool_use_id": m["content"][0]["id"],
                    "content": [{"type": "text", "text": "64F"}]}]}]
    m2 = message(gw, body("anth/text", history, tools=ANTH_TOOLS))
    assert m2["stop_reason"] == "end_turn"
    msgs = sim.one_request("text", ANTH_PATH)["body"]["messages"]
    assert msgs[1]["content"] == [{"type": "tool_use",
                                   "id": want["content"][0]["id"],
                                   "name": "get_weather",
                                   "input": want["content"][0]["input"]}]
    assert msgs[2]["content"][0]["type"] == "tool_result"
    assert msgs[2]["content"][0]["tool_use_id"] == want["content"][0]["id"]


def test_beta_header_reaches_anthropic(gw, sim):
    beta = "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
    message(gw, body("anth/text", [user("hi")]),
            headers={"anthropic-beta": beta})
    q = sim.one_request("text", ANTH_PATH)
    assert q["headers"]["anthropic-beta"] == beta
    assert q["headers"]["anthropic-version"] == "2023-06-01"


def test_system_blocks_and_cache_control(gw, sim):
    system = [{"type": "text", "text": "You are Claude Code.",
               "cache_control": {"type": "ephemeral"}},
              {"type": "text", "text": "Be terse."}]
    message(gw, body("anth/text", [
        {"role": "user", "content": [{"type": "text", "text": "hi",
                                      "cache_control": {"type": "ephemeral"}}]}],
        system=system, metadata={"user_id": "u" * 100}))
    sent = sim.one_request("text", ANTH_PATH)["body"]
    assert sent["system"] in ("You are Claude Code.\n\nBe terse.", [
        {"type": "text", "text": "You are Claude Code.\n\nBe terse."}])
    uid = sent["metadata"]["user_id"]
    assert re.match(r"^[0-9a-f]{64}$", uid), uid


def test_stream_error_event(gw, H):
    res = stream(gw, H, body("anth/overloaded-mid", [user("hi")]))
    types = res.types()
    assert types[-1] == "error", types
    assert "message_stop" not in types
    err = res.events[-1].data
    assert err["error"]["type"] == "overloaded_error", err
    assert err["error"]["message"]


# ---- count_tokens ----------------------------------------------------------

def test_count_tokens_estimate(gw, sim):
    r = post(gw, {"model": "sim/text", "system": "Be brief.",
                  "messages": [user("How many tokens is this?")],
                  "tools": TOOLS}, path=PATH + "/count_tokens")
    assert r.status == 200, r
    doc = r.json
    assert isinstance(doc["input_tokens"], int) and doc["input_tokens"] > 0
    assert doc["aura"]["estimate"] is True
    assert doc["aura"]["request_id"] == r.headers["x-aura-request-id"]
    assert sim.requests() == [], "count_tokens must not call the provider"


# ---- errors in Anthropic's shape -------------------------------------------

def anthropic_error(r, status, etype, needle=None):
    assert r.status == status, (r.status, r.body[:500])
    assert r.headers["content-type"].startswith("application/json")
    assert re.match(r"^req_\w+", r.headers.get("x-aura-request-id", ""))
    doc = r.json
    assert doc["type"] == "error" and set(doc) == {"type", "error"}, doc
    assert set(doc["error"]) == {"type", "message"}, doc
    assert doc["error"]["type"] == etype, doc
    if needle:
        assert needle in doc["error"]["message"], doc
    return doc["error"]


def test_error_bad_json(gw):
    r = gw.post('{"model": "sim/text", "max_tokens": ', path=PATH,
                headers=dict(VERSION, **{"Content-Type": "application/json"}))
    anthropic_error(r, 400, "invalid_request_error", "not valid JSON")


def test_error_missing_max_tokens(gw):
    r = post(gw, {"model": "sim/text", "messages": [user("hi")]})
    anthropic_error(r, 400, "invalid_request_error",
                    "max_tokens: Field required")


def test_error_field_path(gw):
    r = post(gw, body("sim/text", [user("a"), {"role": "user", "content": [
        {"type": "image", "source": {"type": "base64"}}]}]))
    anthropic_error(r, 400, "invalid_request_error",
                    "messages.1.content.0.source.media_type: Field required")


def test_error_builtin_tool(gw):
    r = post(gw, body("sim/text", [user("a")],
                      tools=[{"type": "text_editor_20250124",
                              "name": "str_replace_editor"}]))
    anthropic_error(r, 400, "invalid_request_error", "tools.0.type")


def test_error_unknown_model(gw, sim):
    r = post(gw, body("nosuch/model", [user("hi")]))
    anthropic_error(r, 404, "not_found_error", "nosuch/model")
    assert sim.requests() == []


def test_error_upstream_rate_limit(gw):
    r = post(gw, body("anth/error-429", [user("hi")]))
    anthropic_error(r, 429, "rate_limit_error")
    assert r.headers.get("retry-after") == "7"


def test_text_to_responses_upstream(gw, sim):
    """To OpenAI's Responses API: a Responses body, nothing of Anthropic's
    shape (that encoder passes unknown keys of the body on)."""
    m = message(gw, body("openai/text", [user("Weather?")], system="Brief.",
                         temperature=0.25, top_k=3, stop_sequences=[],
                         metadata={"user_id": "u-1"},
                         thinking={"type": "disabled"}))
    assert m["content"][0]["type"] == "text" and m["content"][0]["text"]
    sent = sim.one_request("text", "/v1/responses")["body"]
    for k in ("messages", "max_tokens", "system", "top_k", "stop_sequences",
              "thinking", "metadata"):
        assert k not in sent, "%s sent to a Responses upstream: %r" % (k, sent)
    assert sent["instructions"] == "Brief."
    assert sent["max_output_tokens"] == 1024
    assert sent["temperature"] == 0.25
    assert sent["safety_identifier"] == "u-1"
    assert sent["input"] == [{"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "Weather?"}]}]


def test_openai_reasoning_state_round_trip(gw, sim):
    """Another provider's reasoning state rides in the thinking signature
    (aura:rs:<item id>:<state>) and goes back to it unchanged."""
    want = [o for o in fixture(
        "openai", "openai__responses_nonstream_reasoning.json")["output"]
        if o["type"] == "reasoning"][0]
    think = {"type": "enabled", "budget_tokens": 4096}
    m = message(gw, body("openai/reasoning", [user("12+7, x3, x10?")],
                         max_tokens=8000, thinking=think))
    blk = m["content"][0]
    assert blk["type"] == "thinking", m["content"]
    assert blk["thinking"] == want["summary"][0]["text"]
    assert blk["signature"] == "aura:rs:%s:%s" % (want["id"],
                                                  want["encrypted_content"])
    first = sim.one_request("reasoning", "/v1/responses")["body"]
    assert first["reasoning"] == {"effort": "medium"}
    sim.clear()
    message(gw, body("openai/reasoning", [
        user("12+7, x3, x10?"), {"role": "assistant", "content": m["content"]},
        user("Now /2?")], max_tokens=8000, thinking=think))
    items = sim.one_request("reasoning", "/v1/responses")["body"]["input"]
    rs = [i for i in items if i["type"] == "reasoning"]
    assert len(rs) == 1, items
    assert rs[0]["id"] == want["id"]
    assert rs[0]["encrypted_content"] == want["encrypted_content"]
    assert rs[0]["summary"] == [{"type": "summary_text",
                                 "text": want["summary"][0]["text"]}]
