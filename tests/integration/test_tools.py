"""Tool calls (single, parallel, streamed), the tool-output round trip,
json_schema output, and the request translation the upstream sees."""

import json

PARALLEL_JSON = "openai__chat_nonstream_parallel_tool_calls.json"
PARALLEL_SSE = "openai__chat_stream_parallel_tool_calls_usage_done.sse"
MISTRAL_JSON = "mistral__chat_nonstream_tool_call.json"
AGENT = "openai__responses_stream_reasoning_function_call_chunks.txt"

TOOLS = [
    {"type": "function", "name": "GetWeatherArgs",
     "description": "Weather for a city",
     "parameters": {"type": "object",
                    "properties": {"city": {"type": "string"},
                                   "country": {"type": "string"},
                                   "units": {"type": "string",
                                             "enum": ["c", "f"]}},
                    "required": ["city", "country", "units"],
                    "additionalProperties": False},
     "strict": True},
    {"type": "function", "name": "get_stock_price",
     "description": "Price of a stock",
     "parameters": {"type": "object",
                    "properties": {"ticker": {"type": "string"},
                                   "exchange": {"type": "string"}},
                    "required": ["ticker", "exchange"]}},
]

SCHEMA = {"type": "object",
          "properties": {"city": {"type": "string"},
                         "forecast": {"type": "string"}},
          "required": ["city", "forecast"],
          "additionalProperties": False}

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAA" \
      "DUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def calls_of(doc):
    return [i for i in doc["output"] if i["type"] == "function_call"]


def fixture_calls(H, name):
    msg = H.fixture_json(name)["choices"][0]["message"]
    return [(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in msg["tool_calls"]]


def sse_calls(H, name):
    """(id, name, joined arguments) per tool call index of a chat stream."""
    calls = {}
    for c in H.chat_sse_chunks(name):
        for ch in c.get("choices", []):
            for tc in ch["delta"].get("tool_calls") or []:
                cur = calls.setdefault(tc["index"], ["", "", ""])
                if tc.get("id"):
                    cur[0] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    cur[1] = fn["name"]
                cur[2] += fn.get("arguments") or ""
    return [tuple(calls[i]) for i in sorted(calls)]


def assert_requires_action(doc, names, count):
    ag = doc["aura"]["agentic"]
    assert ag["has_tool_calls"] is True, ag
    assert ag["tool_calls_count"] == count, ag
    assert sorted(ag["tools_used"]) == sorted(set(names)), ag
    assert ag["requires_action"] is True, ag


def test_parallel_tool_calls_nonstream(gw, sim, H):
    want = fixture_calls(H, PARALLEL_JSON)
    doc = gw.respond({"model": "sim/tools-parallel", "input": "Weather and AAPL",
                      "tools": TOOLS})
    calls = calls_of(doc)
    assert [(c["call_id"], c["name"], c["arguments"]) for c in calls] == want
    for c in calls:
        assert c["status"] == "completed", c
        assert c["id"], c
    assert len({c["id"] for c in calls}) == 2, "item ids must differ"
    assert H.output_text(doc) == ""
    assert doc["usage"]["input_tokens"] == 149
    assert doc["usage"]["output_tokens"] == 60
    assert_requires_action(doc, [w[1] for w in want], 2)
    q = sim.one_request("tools-parallel", "/v1/chat/completions")
    sent = q["body"]["tools"]
    assert [t["type"] for t in sent] == ["function", "function"]
    assert [t["function"]["name"] for t in sent] == ["GetWeatherArgs",
                                                     "get_stock_price"]
    assert sent[0]["function"]["parameters"] == TOOLS[0]["parameters"]
    assert sent[0]["function"].get("strict") is True


def test_parallel_tool_calls_stream(gw, H):
    want = sse_calls(H, PARALLEL_SSE)
    assert len(want) == 2
    res = gw.stream({"model": "sim/tools-parallel", "input": "Weather and AAPL",
                     "tools": TOOLS})
    final = H.check_stream(res)
    added = [e.data for e in res.of_type("response.output_item.added")
             if e.data["item"]["type"] == "function_call"]
    assert len(added) == 2
    indices = [a["output_index"] for a in added]
    assert len(set(indices)) == 2, "each call needs its own output_index"
    for (cid, name, args), a in zip(want, added):
        oi = a["output_index"]
        assert a["item"]["call_id"] == cid
        assert a["item"]["name"] == name
        assert a["item"]["arguments"] == ""
        deltas = "".join(e.data["delta"] for e in res.of_type(
            "response.function_call_arguments.delta")
            if e.data["output_index"] == oi)
        assert deltas == args, "argument deltas for %s" % name
        done = [e.data for e in res.of_type(
            "response.function_call_arguments.done")
            if e.data["output_index"] == oi]
        assert len(done) == 1 and done[0]["arguments"] == args
        assert done[0]["item_id"] == a["item"]["id"]
        idone = [e.data for e in res.of_type("response.output_item.done")
                 if e.data["output_index"] == oi]
        assert idone[0]["item"]["arguments"] == args
        assert idone[0]["item"]["status"] == "completed"
    fc = calls_of(final)
    assert [(c["call_id"], c["name"], c["arguments"]) for c in fc] == want
    assert_requires_action(final, [w[1] for w in want], 2)


def test_single_tool_call_without_type_field(gw, H):
    (cid, name, args), = fixture_calls(H, MISTRAL_JSON)
    doc = gw.respond({"model": "sim/tool-single", "input": "weather in SF?",
                      "tools": [{"type": "function", "name": "weather",
                                 "parameters": {"type": "object"}}]})
    calls = calls_of(doc)
    assert [(c["call_id"], c["name"], c["arguments"]) for c in calls] == \
        [(cid, name, args)]
    assert_requires_action(doc, [name], 1)
    assert doc["usage"]["input_tokens"] == 124
    assert doc["usage"]["output_tokens"] == 22


def test_single_tool_call_stream_one_chunk(gw, H):
    (cid, name, args), = fixture_calls(H, MISTRAL_JSON)
    res = gw.stream({"model": "sim/tool-single", "input": "weather in SF?",
                     "tools": [{"type": "function", "name": "weather"}]})
    final = H.check_stream(res)
    fc = calls_of(final)
    assert [(c["call_id"], c["name"], c["arguments"]) for c in fc] == \
        [(cid, name, args)]
    assert res.of_type("response.function_call_arguments.done")[0] \
        .data["arguments"] == args
    assert final["usage"]["input_tokens"] == 124


def test_responses_upstream_reasoning_then_tool_call_stream(gw, H):
    src = H.responses_streams(AGENT)[0]
    fc_src = [e["item"] for e in src if e["type"] == "response.output_item.done"
              and e["item"]["type"] == "function_call"][0]
    res = gw.stream({"model": "openai/reasoning-tool", "input": "12+7, *3, *10",
                     "tools": [{"type": "function", "name": "calculator"}]})
    final = H.check_stream(res)
    kinds = [i["type"] for i in final["output"]]
    assert kinds == ["reasoning", "function_call"], kinds
    fc = final["output"][1]
    assert (fc["call_id"], fc["name"], fc["arguments"]) == \
        (fc_src["call_id"], "calculator", fc_src["arguments"])
    summary = "".join(e.data["delta"] for e in res.of_type(
        "response.reasoning_summary_text.delta"))
    assert summary == "".join(e["delta"] for e in src if e["type"] ==
                              "response.reasoning_summary_text.delta")
    ag = final["aura"]["agentic"]
    assert ag["has_reasoning"] is True
    assert ag["requires_action"] is True
    assert ag["tools_used"] == ["calculator"]


def test_tools_used_names_the_called_tool(gw, sim):
    doc = gw.respond({"model": "sim/echo-tools", "input": "go",
                      "tools": [{"type": "function", "name": "lookup_order"}]})
    (call,) = [i for i in doc["output"] if i["type"] == "function_call"]
    assert call["name"] == "lookup_order"
    assert doc["aura"]["agentic"]["tools_used"] == ["lookup_order"]


def round_trip_input():
    return [
        {"type": "message", "role": "user",
         "content": "What's the weather in Edinburgh?"},
        {"type": "function_call", "call_id": "call_fdNz3vOBKYgOIpMdWotB9MjY",
         "name": "GetWeatherArgs",
         "arguments": "{\"city\": \"Edinburgh\", \"country\": \"GB\", "
                      "\"units\": \"c\"}"},
        {"type": "function_call_output",
         "call_id": "call_fdNz3vOBKYgOIpMdWotB9MjY",
         "output": "{\"temp_c\": 11, \"sky\": \"drizzle\"}"},
    ]


def test_tool_output_round_trip_chat_upstream(gw, sim, H):
    doc = gw.respond({"model": "sim/text", "input": round_trip_input(),
                      "tools": TOOLS[:1]})
    assert doc["status"] == "completed"
    msgs = sim.one_request("text", "/v1/chat/completions")["body"]["messages"]
    roles = [m["role"] for m in msgs]
    assert roles == ["user", "assistant", "tool"], roles
    asst = msgs[1]
    (tc,) = asst["tool_calls"]
    assert tc["id"] == "call_fdNz3vOBKYgOIpMdWotB9MjY"
    assert tc["type"] == "function"
    assert tc["function"]["name"] == "GetWeatherArgs"
    assert json.loads(tc["function"]["arguments"]) == \
        {"city": "Edinburgh", "country": "GB", "units": "c"}
    tool = msgs[2]
    assert tool["tool_call_id"] == "call_fdNz3vOBKYgOIpMdWotB9MjY"
    assert H.content_text(tool["content"]) == \
        "{\"temp_c\": 11, \"sky\": \"drizzle\"}"


def test_tool_output_round_trip_responses_upstream(gw, sim):
    gw.respond({"model": "openai/text", "input": round_trip_input(),
                "tools": TOOLS[:1]})
    inp = sim.one_request("text", "/v1/responses")["body"]["input"]
    types = [i.get("type", "message") for i in inp]
    assert types == ["message", "function_call", "function_call_output"], types
    assert inp[1]["call_id"] == inp[2]["call_id"] == \
        "call_fdNz3vOBKYgOIpMdWotB9MjY"
    assert inp[1]["name"] == "GetWeatherArgs"
    assert inp[2]["output"] == "{\"temp_c\": 11, \"sky\": \"drizzle\"}"


def json_schema_body(model):
    return {"model": model, "input": "Weather in SF as JSON",
            "text": {"format": {"type": "json_schema", "name": "weather",
                                "description": "a forecast",
                                "schema": SCHEMA, "strict": True}}}


def test_json_schema_chat_upstream(gw, sim):
    doc = gw.respond(json_schema_body("sim/json"))
    fmt = doc["text"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["name"] == "weather"
    assert fmt["schema"] is None, "the spec only allows schema: null here"
    assert fmt["strict"] is True
    rf = sim.one_request("json", "/v1/chat/completions")["body"][
        "response_format"]
    assert rf["type"] == "json_schema"
    assert rf["json_schema"]["name"] == "weather"
    assert rf["json_schema"]["schema"] == SCHEMA
    assert rf["json_schema"].get("strict") is True


def test_json_schema_responses_upstream(gw, sim):
    doc = gw.respond(json_schema_body("openai/json"))
    assert doc["text"]["format"]["type"] == "json_schema"
    assert doc["text"]["format"]["schema"] is None
    fmt = sim.one_request("json", "/v1/responses")["body"]["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "weather"
    assert fmt["schema"] == SCHEMA


def translation_body(model):
    return {
        "model": model,
        "instructions": "Be terse.",
        "temperature": 0.3,
        "top_p": 0.9,
        "max_output_tokens": 100,
        "input": [
            {"type": "message", "role": "developer",
             "content": "Use metric units."},
            {"type": "message", "role": "system",
             "content": [{"type": "input_text", "text": "You are a weather bot."}]},
            {"type": "message", "role": "assistant",
             "content": "Earlier answer."},
            {"type": "message", "role": "user",
             "content": [{"type": "input_text", "text": "What is in this image?"},
                         {"type": "input_image", "image_url": PNG,
                          "detail": "low"}]},
        ],
    }


def test_translation_to_chat_messages(gw, sim, H):
    doc = gw.respond(translation_body("sim/text"))
    assert doc["instructions"] == "Be terse."
    assert doc["temperature"] == 0.3 and doc["top_p"] == 0.9
    assert doc["max_output_tokens"] == 100
    body = sim.one_request("text", "/v1/chat/completions")["body"]
    msgs = body["messages"]
    assert len(msgs) == 5, msgs
    assert msgs[0]["role"] in ("system", "developer")
    assert H.content_text(msgs[0]["content"]) == "Be terse."
    assert msgs[1]["role"] in ("system", "developer")
    assert H.content_text(msgs[1]["content"]) == "Use metric units."
    assert msgs[2]["role"] == "system"
    assert H.content_text(msgs[2]["content"]) == "You are a weather bot."
    assert msgs[3]["role"] == "assistant"
    assert H.content_text(msgs[3]["content"]) == "Earlier answer."
    user = msgs[4]
    assert user["role"] == "user"
    parts = user["content"]
    assert {"type": "text", "text": "What is in this image?"} in parts
    imgs = [p for p in parts if p["type"] == "image_url"]
    assert imgs == [{"type": "image_url",
                     "image_url": {"url": PNG, "detail": "low"}}]
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9
    # a generic OpenAI-compatible server gets the classic max_tokens
    assert body.get("max_tokens") == 100
    assert "max_completion_tokens" not in body


def test_openai_chat_uses_max_completion_tokens(gw, sim):
    gw.respond({"model": "oa-chat-text", "input": "hi",
                "max_output_tokens": 100})
    body = sim.one_request("text-chat", "/v1/chat/completions")["body"]
    assert body.get("max_completion_tokens") == 100
    assert "max_tokens" not in body


def test_translation_to_responses_upstream(gw, sim):
    gw.respond(translation_body("openai/text"))
    body = sim.one_request("text", "/v1/responses")["body"]
    assert body["instructions"] == "Be terse."
    assert body["temperature"] == 0.3
    assert body["max_output_tokens"] == 100
    roles = [i.get("role") for i in body["input"]]
    assert roles == ["developer", "system", "assistant", "user"], roles
    parts = body["input"][3]["content"]
    img = [p for p in parts if p["type"] == "input_image"]
    assert len(img) == 1
    assert img[0]["image_url"] == PNG and img[0]["detail"] == "low"


HOSTED = {"type": "web_search", "external_web_access": True}
CODEX_LIKE = {"input": "hi", "client_metadata": {"session_id": "s-1"},
              "tools": [{"type": "function", "name": "exec_command",
                         "parameters": {"type": "object"}},
                        HOSTED,
                        {"type": "namespace", "name": "multi_agent_v1",
                         "tools": [{"type": "function", "name": "spawn_agent",
                                    "parameters": {"type": "object"}}]}]}


def test_hosted_tools_reach_openai_responses(gw, sim):
    """What Codex sends: OpenAI's Responses API gets the hosted tool as
    sent and the namespace's functions flat; no warning."""
    r = gw.post(dict(CODEX_LIKE, model="openai/text"))
    assert r.status == 200, r
    body = sim.one_request("text", "/v1/responses")["body"]
    assert HOSTED in body["tools"]
    names = [t.get("name") for t in body["tools"] if t["type"] == "function"]
    assert names == ["exec_command", "spawn_agent"]
    assert "warnings" not in r.json["aura"]


def test_hosted_tools_left_out_elsewhere_with_a_warning(gw, sim):
    r = gw.post(dict(CODEX_LIKE, model="sim/text"))
    assert r.status == 200, r
    body = sim.one_request("text", "/v1/chat/completions")["body"]
    assert [t["function"]["name"] for t in body["tools"]] == \
        ["exec_command", "spawn_agent"]
    assert "client_metadata" not in body
    warnings = r.json["aura"]["warnings"]
    assert len(warnings) == 1 and "web_search" in warnings[0] \
        and "'sim'" in warnings[0]
