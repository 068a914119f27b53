"""Azure OpenAI through the gateway: the issue-4 matrix against
tests/sim/providers/azure.py (deployment in the path, api-version in the
query, the key in api-key). Provider "az" = `AuraProvider az azure
@SIM@/azure api-version=2024-10-21`; "azv1" uses the v1 API."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AZURE = "azure_openai__chat_stream_reasoning_tokens_chunks.txt"
OA_TEXT = "openai__chat_nonstream_text.json"
OA_CALLS = "openai__chat_nonstream_parallel_tool_calls.json"
OPENAI_PRICES = json.loads((REPO / "conf" / "models" / "openai.json")
                           .read_text())
TOOLS = [{"type": "function", "name": "GetWeatherArgs",
          "parameters": {"type": "object", "properties": {
              "city": {"type": "string"}, "country": {"type": "string"},
              "units": {"type": "string"}}}},
         {"type": "function", "name": "get_stock_price",
          "parameters": {"type": "object", "properties": {
              "ticker": {"type": "string"}, "exchange": {"type": "string"}}}}]


def dep_path(deployment):
    return "/azure/openai/deployments/%s/chat/completions" % deployment


def upstream(sim, deployment):
    qs = sim.requests(path=dep_path(deployment))
    assert len(qs) == 1, "want one upstream request, got %s" % \
        [q["path"] for q in sim.requests()]
    return qs[0]


def calls_of(doc):
    return [(c["call_id"], c["name"], c["arguments"])
            for c in doc["output"] if c["type"] == "function_call"]


def fixture_calls(H):
    return [(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in H.fixture_json(OA_CALLS)["choices"][0]["message"]
            ["tool_calls"]]


def test_azure_text(gw, sim, H):
    want = H.fixture_json(OA_TEXT)
    doc = gw.respond({"model": "az/text", "input": "Weather in SF?"})
    assert H.output_text(doc) == want["choices"][0]["message"]["content"]
    q = upstream(sim, "text")
    assert q["headers"]["api-key"] == H.SIM_KEY
    assert "authorization" not in q["headers"], \
        "Azure takes the key in api-key, not Authorization"
    assert q["body"]["model"] == "text"


def test_azure_stream(gw, sim, H):
    res = gw.stream({"model": "az/text", "input": "Capital of Denmark?"})
    final = H.check_stream(res)
    assert H.stream_text(res) == "Capital of Denmark."
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] == 64
    assert upstream(sim, "text")["body"]["stream_options"] == \
        {"include_usage": True}


def test_azure_v1_api(gw, sim, H):
    doc = gw.respond({"model": "azv1/text", "input": "hi"})
    assert doc["status"] == "completed"
    q = sim.requests(path="/azure/openai/v1/chat/completions")
    assert len(q) == 1 and q[0]["body"]["model"] == "text"


def test_azure_tool_call(gw, H):
    doc = gw.respond({"model": "az/tool-single", "input": "Weather?",
                      "tools": TOOLS})
    assert calls_of(doc) == fixture_calls(H)[:1]
    assert doc["aura"]["agentic"]["requires_action"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_azure_parallel_tool_calls(gw, H, stream):
    body = {"model": "az/tools-parallel", "input": "Weather and AAPL",
            "tools": TOOLS}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    calls = calls_of(doc)
    assert [c[1] for c in calls] == ["GetWeatherArgs", "get_stock_price"]
    if not stream:
        assert calls == fixture_calls(H)
    assert doc["aura"]["agentic"]["tool_calls_count"] == 2


def test_azure_tool_round_trip(gw, sim, H):
    doc = gw.respond({"model": "az/text", "tools": TOOLS, "input": [
        {"role": "user", "content": "Weather in Edinburgh?"},
        {"type": "function_call", "call_id": "toolu_01A09q90qw90lq917835lq9",
         "name": "GetWeatherArgs", "arguments": "{\"city\":\"Edinburgh\"}"},
        {"type": "function_call_output",
         "call_id": "toolu_01A09q90qw90lq917835lq9", "output": "12C"}]})
    assert doc["status"] == "completed"
    msgs = upstream(sim, "text")["body"]["messages"]
    assert msgs[1]["tool_calls"][0]["id"] == "toolu_01A09q90qw90lq917835lq9"
    assert msgs[2] == {"role": "tool",
                       "tool_call_id": "toolu_01A09q90qw90lq917835lq9",
                       "content": "12C"}


@pytest.mark.parametrize("stream", [False, True])
def test_azure_reasoning(gw, sim, H, stream):
    body = {"model": "az/reasoning", "input": "Capital of Denmark?",
            "reasoning": {"effort": "low"}}
    doc = H.check_stream(gw.stream(body)) if stream else gw.respond(body)
    u = doc["usage"]
    assert (u["input_tokens"], u["output_tokens"],
            u["output_tokens_details"]["reasoning_tokens"]) == (15, 78, 64)
    assert doc["aura"]["agentic"]["reasoning_tokens"] == 64
    assert upstream(sim, "reasoning")["body"]["reasoning_effort"] == "low"


@pytest.mark.parametrize("stream", [False, True])
def test_azure_max_tokens(gw, sim, H, stream):
    body = {"model": "az/length", "input": "hi", "max_output_tokens": 78}
    if stream:
        doc = H.check_stream(gw.stream(body),
                             expect_terminal="response.incomplete")
    else:
        doc = gw.respond(body)
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
    sent = upstream(sim, "length")["body"]
    assert sent["max_completion_tokens"] == 78 and "max_tokens" not in sent


def test_azure_usage_cost(gw, H):
    """A registry model routed to an Azure deployment keeps its prices
    (AuraRoute gpt-5-nano az reasoning)."""
    price = OPENAI_PRICES["models"]["gpt-5-nano"]["price"]
    res = H.stream_request(gw.port, {"model": "gpt-5-nano", "input": "hi",
                                     "stream": True},
                           "/azure-priced/v1/responses")
    doc = H.check_stream(res)
    want = H.expected_cost((15, 0, 78, 64), price)
    for part in ("input", "output", "reasoning", "total"):
        H.assert_close(doc["usage"]["cost_usd"][part], want[part], part)
    assert doc["aura"]["cost_status"] == "priced"


def test_azure_rate_limit_429(gw, H):
    r = gw.post({"model": "az/error-429", "input": "hi"})
    err = H.assert_error(r, 429)
    assert r.headers.get("retry-after") == "7"
    assert "Please retry after 7 seconds" in err["message"]


@pytest.mark.parametrize("model,status,code", [
    ("az/overloaded", 503, "upstream_overloaded"),
    ("az/error-500", 502, "upstream_error")])
def test_azure_overloaded_5xx(gw, H, model, status, code):
    H.assert_error(gw.post({"model": model, "input": "hi"}), status, code)


def test_azure_unknown_deployment(gw, H):
    err = H.assert_error(gw.post({"model": "az/no-such-deployment",
                                  "input": "hi"}), 404)
    assert "deployment" in err["message"]


def test_azure_malformed(gw, H):
    H.assert_error(gw.post({"model": "az/malformed", "input": "hi"}), 502,
                   "upstream_bad_response")
    res = gw.stream({"model": "az/malformed", "input": "hi"})
    final = H.check_stream(res, expect_terminal="response.failed",
                           billed=False)
    assert final["error"]["code"] == "upstream_bad_response"
