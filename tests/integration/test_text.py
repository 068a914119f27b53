"""Plain text answers through both upstream APIs, streamed and not, with the
enrichment keys and the upstream request the gateway made."""

import re

CHAT_JSON = "openai__chat_nonstream_text.json"
CHAT_SSE = "openai__chat_stream_text_usage_done.sse"
RESP_JSON = "openai__responses_nonstream_text.json"
AGENT = "openai__responses_stream_reasoning_function_call_chunks.txt"

QUESTION = "What's the weather in San Francisco?"


def chat_fixture_text(H):
    return H.fixture_json(CHAT_JSON)["choices"][0]["message"]["content"]


def resp_fixture_text(H):
    return H.output_text(H.fixture_json(RESP_JSON))


def assert_usage(usage, inp, out, total, cached=0, reasoning=0):
    assert usage["input_tokens"] == inp, usage
    assert usage["output_tokens"] == out, usage
    assert usage["total_tokens"] == total, usage
    assert usage["input_tokens_details"]["cached_tokens"] == cached, usage
    assert usage["output_tokens_details"]["reasoning_tokens"] == reasoning, usage


def assert_aura(doc, provider, model, upstream_model):
    a = doc["aura"]
    assert re.match(r"^req_\w+$", a["request_id"]), a
    assert a["provider"] == provider, a
    assert a["model"] == model, a
    assert a["upstream_model"] == upstream_model, a
    assert isinstance(a["latency_ms"], int) and a["latency_ms"] >= 0, a
    assert isinstance(a["gateway_overhead_us"], int) and \
        a["gateway_overhead_us"] >= 0, a
    assert a["attempts"] == 1, a
    assert a["cache"] == "miss", a
    assert a["cost_status"] in ("priced", "unknown_price"), a
    ag = a["agentic"]
    for k in ("has_tool_calls", "tool_calls_count", "tools_used",
              "requires_action", "has_reasoning", "reasoning_tokens"):
        assert k in ag, "aura.agentic lacks %s: %r" % (k, ag)
    return a


def assert_no_agentic_activity(doc):
    ag = doc["aura"]["agentic"]
    assert ag["has_tool_calls"] is False, ag
    assert ag["tool_calls_count"] == 0, ag
    assert ag["tools_used"] == [], ag
    assert ag["requires_action"] is False, ag
    assert ag["has_reasoning"] is False, ag
    assert ag["reasoning_tokens"] == 0, ag


def assert_single_message(doc, text):
    msgs = [i for i in doc["output"] if i["type"] == "message"]
    assert len(doc["output"]) == 1 and len(msgs) == 1, doc["output"]
    m = msgs[0]
    assert m["role"] == "assistant" and m["status"] == "completed", m
    assert m["content"][0]["type"] == "output_text"
    assert m["content"][0]["text"] == text


def test_chat_upstream_nonstream_text(gw, sim, H):
    doc = gw.respond({"model": "sim/text", "input": QUESTION})
    assert doc["status"] == "completed"
    assert doc["object"] == "response"
    assert doc["id"].startswith("resp_")
    assert doc["model"] == "sim/text"
    assert isinstance(doc["completed_at"], int)
    assert_single_message(doc, chat_fixture_text(H))
    assert_usage(doc["usage"], 14, 37, 51)
    assert_aura(doc, "sim", "sim/text", "text")
    assert_no_agentic_activity(doc)
    q = sim.one_request("text", "/v1/chat/completions")
    assert q["headers"]["authorization"] == "Bearer " + H.SIM_KEY
    assert q["headers"]["content-type"].startswith("application/json")
    msgs = q["body"]["messages"]
    assert msgs[-1]["role"] == "user"
    assert H.content_text(msgs[-1]["content"]) == QUESTION
    assert not q["body"].get("stream")


def test_chat_upstream_stream_text(gw, sim, H):
    chunks = H.chat_sse_chunks(CHAT_SSE)
    want = H.chat_stream_text(chunks)
    res = gw.stream({"model": "sim/text", "input": QUESTION})
    final = H.check_stream(res)
    types = res.types()
    middle = [t for t in types[2:-1] if t != "response.output_text.delta"]
    assert middle == ["response.output_item.added",
                      "response.content_part.added",
                      "response.output_text.done",
                      "response.content_part.done",
                      "response.output_item.done"], types
    assert H.stream_text(res) == want
    assert res.of_type("response.output_text.done")[0].data["text"] == want
    assert res.of_type("response.content_part.done")[0].data["part"]["text"] \
        == want
    done_item = res.of_type("response.output_item.done")[0].data["item"]
    assert H.output_text({"output": [done_item]}) == want
    assert done_item["status"] == "completed"
    assert_single_message(final, want)
    u = H.chat_stream_usage(chunks)
    assert_usage(final["usage"], u["prompt_tokens"], u["completion_tokens"],
                 u["total_tokens"])
    assert_aura(final, "sim", "sim/text", "text")
    assert_no_agentic_activity(final)
    q = sim.one_request("text", "/v1/chat/completions")
    assert q["body"]["stream"] is True


def test_responses_upstream_nonstream_text(gw, sim, H):
    doc = gw.respond({"model": "openai/text", "input": QUESTION})
    assert doc["status"] == "completed"
    assert_single_message(doc, resp_fixture_text(H))
    assert_usage(doc["usage"], 14, 50, 64)
    assert_aura(doc, "openai", "openai/text", "text")
    assert_no_agentic_activity(doc)
    q = sim.one_request("text", "/v1/responses")
    assert q["headers"]["authorization"] == "Bearer " + H.OPENAI_KEY
    body = q["body"]
    assert body["model"] == "text"
    inp = body["input"]
    if isinstance(inp, str):
        assert inp == QUESTION
    else:
        assert inp[-1]["role"] == "user"
        assert H.content_text(inp[-1]["content"]) == QUESTION
    assert not sim.requests(path="/v1/chat/completions")


def test_responses_upstream_stream_text(gw, sim, H):
    src = H.responses_streams(AGENT)[3]
    want = "".join(e["delta"] for e in src
                   if e["type"] == "response.output_text.delta")
    res = gw.stream({"model": "openai/text", "input": QUESTION})
    final = H.check_stream(res)
    assert H.stream_text(res) == want == "The final result is **570**."
    assert_single_message(final, want)
    u = src[-1]["response"]["usage"]
    assert_usage(final["usage"], u["input_tokens"], u["output_tokens"],
                 u["total_tokens"])
    assert_aura(final, "openai", "openai/text", "text")
    q = sim.one_request("text", "/v1/responses")
    assert q["body"]["stream"] is True


def test_openai_provider_with_chat_api(gw, sim, H):
    doc = gw.respond({"model": "oa-chat-text", "input": QUESTION})
    assert_single_message(doc, chat_fixture_text(H))
    assert_usage(doc["usage"], 14, 37, 51)
    assert_aura(doc, "openai", "oa-chat-text", "text-chat")
    q = sim.one_request("text-chat", "/v1/chat/completions")
    assert q["headers"]["authorization"] == "Bearer " + H.OPENAI_KEY
    assert not sim.requests(path="/v1/responses")


def test_openai_provider_with_chat_api_stream(gw, sim, H):
    want = H.chat_stream_text(H.chat_sse_chunks(CHAT_SSE))
    res = gw.stream({"model": "oa-chat-text", "input": QUESTION})
    final = H.check_stream(res)
    assert H.stream_text(res) == want
    assert final["aura"]["model"] == "oa-chat-text"
    q = sim.one_request("text-chat", "/v1/chat/completions")
    assert q["body"]["stream_options"]["include_usage"] is True


def test_request_ids_are_unique(gw):
    ids = set()
    for _ in range(3):
        r = gw.post({"model": "sim/text", "input": "hi"})
        assert r.status == 200
        ids.add(r.headers["x-aura-request-id"])
        assert r.json["aura"]["request_id"] == r.headers["x-aura-request-id"]
    assert len(ids) == 3


def test_registry_alias_resolves_to_canonical_model(gw, sim):
    doc = gw.respond({"model": "priced-chat-alias", "input": "hi"})
    assert doc["aura"]["model"] == "priced-chat"
    assert doc["aura"]["provider"] == "sim"
    assert doc["aura"]["upstream_model"] == "usage-details"
    sim.one_request("usage-details", "/v1/chat/completions")


def test_registry_prefix_routes_bare_name(gw, sim, H):
    doc = gw.respond({"model": "tools-parallel", "input": "hi"})
    assert doc["aura"]["provider"] == "sim"
    assert doc["aura"]["upstream_model"] == "tools-parallel"
    q = sim.one_request("tools-parallel", "/v1/chat/completions")
    assert q["headers"]["authorization"] == "Bearer " + H.SIM_KEY


def test_length_finish_maps_to_incomplete(gw, sim, H):
    doc = gw.respond({"model": "sim/length", "input": "hi"})
    assert doc["status"] == "incomplete", doc["status"]
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
    assert doc["output"][-1]["status"] == "incomplete"


def test_length_finish_stream_ends_incomplete(gw, H):
    res = gw.stream({"model": "sim/length", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.incomplete")
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    # tgi__chat_stream_usage_chunks.json: 40 prompt, 10 completion tokens
    assert final["usage"]["input_tokens"] == 40
    assert final["usage"]["output_tokens"] == 10


def test_responses_upstream_incomplete(gw, H):
    doc = gw.respond({"model": "openai/length", "input": "hi"})
    assert doc["status"] == "incomplete"
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}


def test_json_content_type_with_charset_accepted(gw, sim):
    r = gw.post(b'{"model": "sim/text", "input": "hi"}',
                headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 200, r
    sim.one_request("text", "/v1/chat/completions")
