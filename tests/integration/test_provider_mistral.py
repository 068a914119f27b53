"""Mistral through the gateway: the issue-4 matrix against
tests/sim/providers/mistral.py, which replays the mistral__* transcripts
and enforces Mistral's request rules (9-character tool call ids, no
unknown fields). Provider "mis" = `AuraProvider mis mistral
@SIM@/mistral/v1`."""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PATH = "/mistral/v1/chat/completions"
TEXT = "mistral__chat_nonstream_text.json"
CALL = "mistral__chat_nonstream_tool_call.json"
PRICES = json.loads((REPO / "conf" / "models" / "mistral.json").read_text())
WEATHER = [{"type": "function", "name": "weather",
            "parameters": {"type": "object",
                           "properties": {"location": {"type": "string"}}}}]
ID9 = re.compile(r"^[a-zA-Z0-9]{9}$")


def upstream(sim):
    qs = sim.requests(path=PATH)
    assert len(qs) == 1, "want one upstream request, got %s" % qs
    return qs[0]


def calls_of(doc):
    return [i for i in doc["output"] if i["type"] == "function_call"]


def test_mistral_text(gw, sim, H):
    want = H.fixture_json(TEXT)
    doc = gw.respond({"model": "mis/text", "input": "A new holiday?",
                      "temperature": 0.3})
    assert H.output_text(doc) == want["choices"][0]["message"]["content"]
    assert doc["usage"]["input_tokens"] == want["usage"]["prompt_tokens"]
    assert doc["usage"]["output_tokens"] == want["usage"]["completion_tokens"]
    q = upstream(sim)
    assert q["headers"]["authorization"] == "Bearer " + H.SIM_KEY
    assert q["body"] == {"model": "text", "messages": [
        {"role": "user", "content": "A new holiday?"}], "temperature": 0.3}


def test_mistral_stream(gw, sim, H):
    want = H.fixture_json(TEXT)
    res = gw.stream({"model": "mis/text", "input": "A new holiday?"})
    final = H.check_stream(res)
    assert H.stream_text(res) == want["choices"][0]["message"]["content"]
    assert final["usage"]["input_tokens"] == 13
    assert final["usage"]["output_tokens"] == 434
    body = upstream(sim)["body"]
    assert body["stream"] is True
    assert "stream_options" not in body, "Mistral refuses stream_options"


@pytest.mark.parametrize("stream", [False, True])
def test_mistral_tool_call(gw, sim, H, stream):
    body = {"model": "mis/tool-single", "input": "Weather in SF?",
            "tools": WEATHER, "tool_choice": "required"}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    assert [(c["call_id"], c["name"], c["arguments"])
            for c in calls_of(doc)] == \
        [("gSIMJiOkT", "weather", "{\"location\": \"San Francisco\"}")]
    assert doc["aura"]["agentic"]["requires_action"] is True
    assert doc["usage"]["input_tokens"] == 124
    sent = upstream(sim)["body"]
    assert sent["tool_choice"] == "any", "required is Mistral's \"any\""


@pytest.mark.parametrize("stream", [False, True])
def test_mistral_parallel_tool_calls(gw, H, stream):
    body = {"model": "mis/tools-parallel", "input": "SF and Paris?",
            "tools": WEATHER}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    assert [(c["call_id"], json.loads(c["arguments"])["location"])
            for c in calls_of(doc)] == \
        [("gSIMJiOkT", "San Francisco"), ("pArIs2ndC", "Paris")]
    assert doc["aura"]["agentic"]["tool_calls_count"] == 2


def test_mistral_tool_round_trip(gw, sim, H):
    """A call made on OpenAI (call_... id) answered on Mistral: the id is
    mapped to 9 characters, the same in the call and in its output (the
    simulator answers 400 otherwise, as Mistral does), and the tool
    message names the function."""
    foreign = "call_JMW1whyEaYG438VE1OIflxA2"
    doc = gw.respond({"model": "mis/text", "tools": WEATHER, "input": [
        {"role": "user", "content": "Weather in SF?"},
        {"type": "function_call", "call_id": foreign, "name": "weather",
         "arguments": "{\"location\": \"SF\"}"},
        {"type": "function_call_output", "call_id": foreign,
         "output": "sunny"},
        {"type": "function_call", "call_id": "gSIMJiOkT", "name": "weather",
         "arguments": "{\"location\": \"LA\"}"},
        {"type": "function_call_output", "call_id": "gSIMJiOkT",
         "output": "cloudy"}]})
    assert doc["status"] == "completed"
    msgs = upstream(sim)["body"]["messages"]
    mapped = msgs[1]["tool_calls"][0]["id"]
    assert ID9.match(mapped) and mapped != foreign
    assert msgs[2] == {"role": "tool", "tool_call_id": mapped,
                       "content": "sunny", "name": "weather"}
    assert msgs[3]["tool_calls"][0]["id"] == "gSIMJiOkT", \
        "Mistral's own ids stay as they are"
    assert msgs[4] == {"role": "tool", "tool_call_id": "gSIMJiOkT",
                       "content": "cloudy", "name": "weather"}


@pytest.mark.parametrize("stream", [False, True])
def test_mistral_reasoning(gw, sim, H, stream):
    """Thinking chunks (content [{type: thinking}]) become a reasoning
    item; reasoning.effort becomes reasoning_effort "high"."""
    body = {"model": "mis/reasoning", "input": "A new holiday?",
            "reasoning": {"effort": "medium"}}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    assert [i["type"] for i in doc["output"]] == ["reasoning", "message"]
    assert doc["output"][0]["content"][0]["text"] == \
        "The user wants a new holiday. Name, date, purpose."
    assert H.output_text(doc) == \
        H.fixture_json(TEXT)["choices"][0]["message"]["content"]
    assert upstream(sim)["body"]["reasoning_effort"] == "high"


@pytest.mark.parametrize("stream", [False, True])
def test_mistral_max_tokens(gw, sim, H, stream):
    body = {"model": "mis/length", "input": "hi", "max_output_tokens": 434}
    if stream:
        doc = H.check_stream(gw.stream(body),
                             expect_terminal="response.incomplete")
    else:
        doc = gw.respond(body)
    assert doc["status"] == "incomplete"
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
    sent = upstream(sim)["body"]
    assert sent["max_tokens"] == 434 and "max_completion_tokens" not in sent


@pytest.mark.parametrize("stream", [False, True])
def test_mistral_usage_cost(gw, H, stream):
    price = PRICES["models"]["mistral-small-latest"]["price"]
    body = {"model": "mistral-small-latest", "input": "A new holiday?"}
    path = "/mistral-priced/v1/responses"
    if stream:
        doc = H.check_stream(H.stream_request(
            gw.port, dict(body, stream=True), path))
    else:
        doc = gw.respond(body, path=path)
    u = doc["usage"]
    assert (u["input_tokens"], u["output_tokens"]) == (13, 434)
    want = H.expected_cost((13, 0, 434, 0), price)
    for part in ("input", "output", "total"):
        H.assert_close(u["cost_usd"][part], want[part], part)
    assert doc["aura"]["cost_status"] == "priced"
    assert doc["aura"]["model"] == "mistral-small-latest"


def test_mistral_rate_limit_429(gw, H):
    r = gw.post({"model": "mis/error-429", "input": "hi"})
    err = H.assert_error(r, 429)
    assert r.headers.get("retry-after") == "7"
    assert "Requests rate limit exceeded" in err["message"]


@pytest.mark.parametrize("model,status,code", [
    ("mis/overloaded", 503, "upstream_overloaded"),
    ("mis/error-500", 502, "upstream_error")])
def test_mistral_overloaded_5xx(gw, H, model, status, code):
    H.assert_error(gw.post({"model": model, "input": "hi"}), status, code)


def test_mistral_malformed(gw, H):
    H.assert_error(gw.post({"model": "mis/malformed", "input": "hi"}), 502,
                   "upstream_bad_response")
    res = gw.stream({"model": "mis/malformed", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_bad_response"


def test_mistral_truncated_stream(gw, H):
    res = gw.stream({"model": "mis/truncated", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_stream_truncated"


def test_mistral_logprobs_refused(gw, sim, H):
    r = gw.post({"model": "mis/text", "input": "hi", "top_logprobs": 2})
    H.assert_error(r, 400, "unsupported_parameter", param="top_logprobs")
    assert sim.requests(path=PATH) == []
