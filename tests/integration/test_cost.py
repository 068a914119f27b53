"""Cost arithmetic: expected USD computed here from the fixture's token
counts and tests/integration/models-test.json's prices (per 1M tokens)."""

import pytest

USAGE_DOCS = "openai__chat_nonstream_usage_details_docs_example.json"
OBFUSCATION = "openai__chat_stream_usage_details_obfuscation_chunks.txt"
AZURE = "azure_openai__chat_stream_reasoning_tokens_chunks.txt"
RESP_REASONING = "openai__responses_nonstream_reasoning.json"
RESP_CACHED = "openai__responses_stream_cached_reasoning_tokens_chunks.txt"


def last_usage_line(H, name):
    return [c for c in H.chat_chunk_lines(name) if c.get("usage")][-1]["usage"]


def completed_usage(H, name):
    ev = [e for e in H.responses_streams(name)[0]
          if e["type"] == "response.completed"][0]
    return ev["response"]["usage"]


def assert_cost(H, doc, model, upstream_usage):
    counts = H.usage_counts(upstream_usage)
    inp, cached, out, reas = counts
    u = doc["usage"]
    assert (u["input_tokens"], u["input_tokens_details"]["cached_tokens"],
            u["output_tokens"], u["output_tokens_details"]["reasoning_tokens"]
            ) == counts, "usage differs from the upstream's"
    want = H.expected_cost(counts, H.registry_price(model))
    cost = u["cost_usd"]
    assert isinstance(cost, dict), "usage.cost_usd is %r" % (cost,)
    for part in ("input", "cached_input", "output", "reasoning", "total"):
        H.assert_close(cost[part], want[part], "cost_usd." + part)
    assert doc["aura"]["cost_status"] == "priced"
    return want


CASES = [
    # (model, stream, source of the upstream usage)
    ("priced-chat", False, lambda H: H.fixture_json(USAGE_DOCS)["usage"]),
    ("priced-chat", True, lambda H: last_usage_line(H, OBFUSCATION)),
    ("priced-chat-reasoning", True, lambda H: last_usage_line(H, AZURE)),
    ("priced-responses", False,
     lambda H: H.fixture_json(RESP_REASONING)["usage"]),
    ("priced-responses", True, lambda H: completed_usage(H, RESP_CACHED)),
    ("priced-defaults", True, lambda H: completed_usage(H, RESP_CACHED)),
]


@pytest.mark.parametrize("model,stream,usage_of", CASES,
                         ids=["%s-%s" % (c[0], "stream" if c[1] else "json")
                              for c in CASES])
def test_cost_arithmetic(gw, H, model, stream, usage_of):
    body = {"model": model, "input": "hi"}
    if stream:
        doc = H.check_stream(gw.stream(body))
    else:
        doc = gw.respond(body)
    assert doc["aura"]["model"] == model
    assert_cost(H, doc, model, usage_of(H))


def test_every_cost_part_nonzero_case(gw, H):
    """The cached/reasoning stream has all four token kinds, so each price
    is exercised: 7112 in (3072 cached), 463 out (64 reasoning)."""
    doc = H.check_stream(gw.stream({"model": "priced-responses", "input": "hi"}))
    want = assert_cost(H, doc, "priced-responses",
                       completed_usage(H, RESP_CACHED))
    assert all(want[p] > 0 for p in ("input", "cached_input", "output",
                                     "reasoning"))
    # (7112-3072)*1.25 + 3072*0.125 + (463-64)*10 + 64*15, per 1e6
    H.assert_close(doc["usage"]["cost_usd"]["total"],
                   (4040 * 1.25 + 3072 * 0.125 + 399 * 10.0 + 64 * 15.0) / 1e6,
                   "hand-computed total")


def test_default_prices_for_cached_and_reasoning(gw, H):
    """priced-defaults has only input/output prices: cached tokens cost the
    input price, reasoning tokens the output price."""
    doc = H.check_stream(gw.stream({"model": "priced-defaults", "input": "hi"}))
    c = doc["usage"]["cost_usd"]
    H.assert_close(c["cached_input"], 3072 * 2.0 / 1e6, "cached_input")
    H.assert_close(c["reasoning"], 64 * 8.0 / 1e6, "reasoning")


def test_reasoning_facts_in_agentic(gw, H):
    doc = gw.respond({"model": "priced-responses", "input": "hi"})
    ag = doc["aura"]["agentic"]
    assert ag["has_reasoning"] is True
    assert ag["reasoning_tokens"] == 128
    assert ag["has_tool_calls"] is False
    assert [i["type"] for i in doc["output"]] == ["reasoning", "message"]


@pytest.mark.parametrize("model", ["unpriced-text", "sim/text"])
def test_unknown_price(gw, H, model):
    doc = gw.respond({"model": model, "input": "hi"})
    assert doc["usage"]["cost_usd"] is None, \
        "an unknown price must be null, never 0"
    assert doc["aura"]["cost_status"] == "unknown_price"
    assert doc["usage"]["input_tokens"] == 14


def test_unknown_price_stream(gw, H):
    doc = H.check_stream(gw.stream({"model": "unpriced-text", "input": "hi"}))
    assert doc["usage"]["cost_usd"] is None
    assert doc["aura"]["cost_status"] == "unknown_price"
    assert doc["usage"]["output_tokens"] == 30
