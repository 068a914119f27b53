"""Ollama native API (/api/chat, NDJSON) through the gateway: the issue-4
matrix against tests/sim/providers/ollama.py, which replays the Ollama
transcripts of tests/fixtures/ollama (DERIVED answers: SOURCES.md there).
Provider "oll" = `AuraProvider oll ollama @SIM@/ollama`."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PATH = "/ollama/api/chat"
FIX = REPO / "tests" / "fixtures" / "ollama"
PRICES = json.loads((REPO / "conf" / "models" / "ollama.json").read_text())
WEATHER = [{"type": "function", "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object",
                           "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}]


def fx(name):
    return json.loads((FIX / name).read_text())


def upstream(sim):
    qs = sim.requests(path=PATH)
    assert len(qs) == 1, "want one upstream request, got %s" % qs
    return qs[0]


def calls_of(doc):
    return [i for i in doc["output"] if i["type"] == "function_call"]


def test_ollama_text(gw, sim, H):
    want = fx("ollama__chat_nonstream_text.json")
    doc = gw.respond({"model": "oll/text", "input": "hi",
                      "instructions": "Be kind.", "temperature": 0.2})
    assert H.output_text(doc) == want["message"]["content"]
    assert doc["status"] == "completed"
    assert doc["usage"]["input_tokens"] == want["prompt_eval_count"]
    assert doc["usage"]["output_tokens"] == want["eval_count"]
    q = upstream(sim)
    assert q["body"] == {"model": "text", "messages": [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "hi"}],
        "options": {"temperature": 0.2}, "stream": False}
    assert "authorization" not in q["headers"], "a local Ollama has no key"
    assert doc["aura"]["provider"] == "oll"


def test_ollama_stream(gw, sim, H):
    final_chunk = fx("ollama__chat_stream_tools_final_chunk.json")
    res = gw.stream({"model": "oll/text", "input": "hi"})
    final = H.check_stream(res)
    assert H.stream_text(res) == "That's a fantastic question!"
    assert len(res.of_type("response.output_text.delta")) == 7, \
        "one delta per NDJSON line"
    assert final["usage"]["input_tokens"] == final_chunk["prompt_eval_count"]
    assert final["usage"]["output_tokens"] == final_chunk["eval_count"]
    assert upstream(sim)["body"]["stream"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_ollama_tool_call(gw, sim, H, stream):
    body = {"model": "oll/tool-single", "input": "Weather in Tokyo?",
            "tools": WEATHER}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    calls = calls_of(doc)
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == \
        [("get_weather", {"city": "Tokyo"})]
    assert calls[0]["call_id"].startswith("call_")
    assert doc["aura"]["agentic"]["requires_action"] is True
    sent = upstream(sim)["body"]["tools"]
    assert sent == [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": WEATHER[0]["parameters"]}}]


@pytest.mark.parametrize("stream", [False, True])
def test_ollama_parallel_tool_calls(gw, H, stream):
    body = {"model": "oll/tools-parallel", "input": "Tokyo and Paris?",
            "tools": WEATHER}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    calls = calls_of(doc)
    assert [json.loads(c["arguments"]) for c in calls] == \
        [{"city": "Tokyo"}, {"city": "Paris"}]
    assert len({c["call_id"] for c in calls}) == 2, "ids must differ"
    assert doc["aura"]["agentic"]["tool_calls_count"] == 2


def test_ollama_tool_round_trip(gw, sim, H):
    """A call made on another provider (an OpenAI call id) answered here:
    Ollama gets the arguments as an object and the result by tool_name."""
    doc = gw.respond({"model": "oll/text", "tools": WEATHER, "input": [
        {"role": "user", "content": "Weather in Tokyo?"},
        {"type": "function_call", "call_id": "call_JMW1whyEaYG438VE1OIflxA2",
         "name": "get_weather", "arguments": "{\"city\": \"Tokyo\"}"},
        {"type": "reasoning", "summary": [],
         "encrypted_content": "aura:anthropic:c2ln"},
        {"type": "function_call_output",
         "call_id": "call_JMW1whyEaYG438VE1OIflxA2", "output": "sunny, 21C"}]})
    assert doc["status"] == "completed"
    msgs = upstream(sim)["body"]["messages"]
    assert msgs == [
        {"role": "user", "content": "Weather in Tokyo?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "get_weather",
                          "arguments": {"city": "Tokyo"}}}]},
        {"role": "tool", "content": "sunny, 21C", "tool_name": "get_weather"}]


def test_ollama_reasoning(gw, sim, H):
    res = gw.stream({"model": "oll/reasoning", "input": "hi",
                     "reasoning": {"effort": "high"}})
    final = H.check_stream(res)
    assert [i["type"] for i in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["content"][0]["text"] == "That's"
    assert H.output_text(final) == " a fantastic question!"
    assert final["aura"]["agentic"]["has_reasoning"] is True
    assert upstream(sim)["body"]["think"] == "high"
    sim.clear()
    doc = gw.respond({"model": "oll/reasoning", "input": "hi",
                      "reasoning": {"effort": "medium"}})
    assert doc["output"][0]["content"][0]["text"] == "Hello!"
    assert upstream(sim)["body"]["think"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_ollama_max_tokens(gw, sim, H, stream):
    body = {"model": "oll/length", "input": "hi", "max_output_tokens": 16}
    if stream:
        doc = H.check_stream(gw.stream(body),
                             expect_terminal="response.incomplete")
    else:
        doc = gw.respond(body)
    assert doc["status"] == "incomplete"
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
    assert upstream(sim)["body"]["options"] == {"num_predict": 16}


def test_ollama_usage_cost(gw, H):
    """conf/models/ollama.json prices local models at a deliberate 0: the
    cost is known (priced), and it is zero."""
    want = fx("ollama__chat_nonstream_text.json")
    assert PRICES["models"]["llama3.2"]["price"] == {"input": 0.0,
                                                     "output": 0.0}
    doc = gw.respond({"model": "llama3.2", "input": "hi"},
                     path="/ollama-priced/v1/responses")
    u = doc["usage"]
    assert (u["input_tokens"], u["output_tokens"]) == \
        (want["prompt_eval_count"], want["eval_count"])
    assert doc["aura"]["cost_status"] == "priced"
    assert u["cost_usd"]["total"] == 0


def test_ollama_unpriced_model_cost_unknown(gw, H):
    doc = gw.respond({"model": "oll/text", "input": "hi"})
    assert doc["aura"]["cost_status"] != "priced"


def test_ollama_rate_limit_429(gw, H):
    r = gw.post({"model": "oll/error-429", "input": "hi"})
    H.assert_error(r, 429)
    assert r.headers.get("retry-after") == "7"


@pytest.mark.parametrize("model,status,code", [
    ("oll/overloaded", 503, "upstream_overloaded"),
    ("oll/error-500", 502, "upstream_error")])
def test_ollama_overloaded_5xx(gw, H, model, status, code):
    H.assert_error(gw.post({"model": model, "input": "hi"}), status, code)


def test_ollama_error_text_passed_on(gw, H):
    """Ollama's error body is {"error": "text"} (a string): the text
    reaches the client."""
    err = H.assert_error(gw.post({"model": "oll/overloaded", "input": "hi"}),
                         503)
    assert "maximum pending requests exceeded" in err["message"]


def test_ollama_malformed(gw, H):
    H.assert_error(gw.post({"model": "oll/malformed", "input": "hi"}), 502,
                   "upstream_bad_response")
    res = gw.stream({"model": "oll/malformed", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_bad_response"
    assert res.types()[-2] == "error"


def test_ollama_truncated_stream(gw, H):
    res = gw.stream({"model": "oll/truncated", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_stream_truncated"
    assert H.stream_text(res) == "That's a"


def test_ollama_midstream_error_line(gw, H):
    """The documented mid-stream failure: HTTP 200, then {"error": "..."}."""
    res = gw.stream({"model": "oll/midstream-error", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_error"
    assert "an error was encountered while running the model" in \
        final["error"]["message"]
    assert H.stream_text(res) == " Yes.Ican"


def test_ollama_image_url_refused(gw, sim, H):
    r = gw.post({"model": "oll/text", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is it?"},
        {"type": "input_image", "image_url": "https://example.com/a.png"}]}]})
    H.assert_error(r, 400, "invalid_value",
                   param="input[0].content[1].image_url")
    assert sim.requests(path=PATH) == []
