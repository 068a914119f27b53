"""Hugging Face (Inference Providers router / TGI endpoints) through the
gateway: the issue-4 matrix against tests/sim/providers/huggingface.py,
which replays the TGI snapshots (tgi__*). The huggingface kind is the Chat
Completions adapter with a bearer token. Provider "hf" = `AuraProvider hf
huggingface @SIM@/hf/v1`."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PATH = "/hf/v1/chat/completions"
USAGE = "tgi__chat_stream_usage_chunks.json"
TOOL = "tgi__chat_stream_tool_call_chunks.json"
OPENAI_PRICES = json.loads((REPO / "conf" / "models" / "openai.json")
                           .read_text())
TOOLS = [{"type": "function", "name": "get_current_weather",
          "parameters": {"type": "object", "properties": {
              "location": {"type": "string"}, "format": {"type": "string"}}}}]
ARGS = "{ \"location\": \"Brooklyn, NY\", \"format\": \"fahrenheit\"}"


def tgi_text(H):
    return "".join(c["choices"][0]["delta"]["content"] or ""
                   for c in H.fixture_json(USAGE) if c["choices"])


def upstream(sim):
    qs = sim.requests(path=PATH)
    assert len(qs) == 1, "want one upstream request, got %s" % qs
    return qs[0]


def calls_of(doc):
    return [(c["call_id"], c["name"], c["arguments"])
            for c in doc["output"] if c["type"] == "function_call"]


def test_huggingface_text(gw, sim, H):
    doc = gw.respond({"model": "hf/text", "input": "Deep learning?"})
    assert H.output_text(doc) == tgi_text(H)
    assert (doc["usage"]["input_tokens"], doc["usage"]["output_tokens"]) \
        == (40, 10)
    q = upstream(sim)
    assert q["headers"]["authorization"] == "Bearer " + H.SIM_KEY
    assert q["body"]["model"] == "text"


def test_huggingface_stream(gw, sim, H):
    res = gw.stream({"model": "hf/text", "input": "Deep learning?"})
    final = H.check_stream(res)
    assert H.stream_text(res) == tgi_text(H)
    assert final["usage"]["input_tokens"] == 40
    assert upstream(sim)["body"]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("stream", [False, True])
def test_huggingface_tool_call(gw, H, stream):
    body = {"model": "hf/tool-single", "input": "Weather in Brooklyn?",
            "tools": TOOLS}
    # the TGI tool-call snapshot carries no usage chunk: nothing to bill
    doc = H.check_stream(gw.stream(body), billed=False) if stream \
        else gw.respond(body)
    assert calls_of(doc) == [("0", "get_current_weather", ARGS)]
    assert doc["aura"]["agentic"]["requires_action"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_huggingface_parallel_tool_calls(gw, H, stream):
    body = {"model": "hf/tools-parallel", "input": "Weather twice",
            "tools": TOOLS}
    doc = H.check_stream(gw.stream(body), billed=False) if stream \
        else gw.respond(body)
    assert calls_of(doc) == [("0", "get_current_weather", ARGS),
                             ("1", "get_current_weather", ARGS)]


def test_huggingface_tool_round_trip(gw, sim, H):
    doc = gw.respond({"model": "hf/text", "tools": TOOLS, "input": [
        {"role": "user", "content": "Weather in Brooklyn?"},
        {"type": "function_call", "call_id": "0",
         "name": "get_current_weather", "arguments": ARGS},
        {"type": "function_call_output", "call_id": "0", "output": "75F"}]})
    assert doc["status"] == "completed"
    msgs = upstream(sim)["body"]["messages"]
    assert msgs[1]["tool_calls"] == [{"id": "0", "type": "function",
                                      "function": {
                                          "name": "get_current_weather",
                                          "arguments": ARGS}}]
    assert msgs[2] == {"role": "tool", "tool_call_id": "0", "content": "75F"}


@pytest.mark.parametrize("stream", [False, True])
def test_huggingface_reasoning(gw, H, stream):
    body = {"model": "hf/reasoning", "input": "Deep learning?"}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    assert [i["type"] for i in doc["output"]] == ["reasoning", "message"]
    text = tgi_text(H)
    assert doc["output"][0]["content"][0]["text"] + H.output_text(doc) == text


@pytest.mark.parametrize("stream", [False, True])
def test_huggingface_max_tokens(gw, sim, H, stream):
    body = {"model": "hf/length", "input": "hi", "max_output_tokens": 16}
    if stream:
        doc = H.check_stream(gw.stream(body),
                             expect_terminal="response.incomplete")
    else:
        doc = gw.respond(body)
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
    assert upstream(sim)["body"]["max_tokens"] == 16


def test_huggingface_usage_cost(gw, H):
    price = OPENAI_PRICES["models"]["gpt-4.1-nano"]["price"]
    doc = gw.respond({"model": "gpt-4.1-nano", "input": "hi"},
                     path="/hf-priced/v1/responses")
    want = H.expected_cost((40, 0, 10, 0), price)
    for part in ("input", "output", "total"):
        H.assert_close(doc["usage"]["cost_usd"][part], want[part], part)
    assert doc["aura"]["cost_status"] == "priced"


def test_huggingface_rate_limit_429(gw, H):
    r = gw.post({"model": "hf/error-429", "input": "hi"})
    err = H.assert_error(r, 429)
    assert r.headers.get("retry-after") == "7"
    assert "Model is overloaded" in err["message"]


@pytest.mark.parametrize("model,status,code", [
    ("hf/overloaded", 503, "upstream_overloaded"),
    ("hf/error-500", 502, "upstream_error")])
def test_huggingface_overloaded_5xx(gw, H, model, status, code):
    err = H.assert_error(gw.post({"model": model, "input": "hi"}), status,
                         code)
    assert "(no message)" not in err["message"], \
        "TGI's {error: string} text should be passed on"


def test_huggingface_malformed(gw, H):
    H.assert_error(gw.post({"model": "hf/malformed", "input": "hi"}), 502,
                   "upstream_bad_response")
    res = gw.stream({"model": "hf/malformed", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_bad_response"
