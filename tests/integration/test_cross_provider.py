"""Cross-provider agent loops (issue 4, "Cross-provider agent loops"): the
output items one provider produced, taken verbatim, answered, and sent as
input to another provider. Every hop is a real round trip through the
gateway to the simulator (tests/sim/simulator.py and
tests/sim/providers/*.py), and every test asserts what the second upstream
actually received.

The adapters' convention (mod_aura/providers/aura_adapter.h): a reasoning item's
opaque state is carried in encrypted_content as "aura:<kind>:<payload>"
(OpenAI's own is unprefixed, gAAAA...); each encoder sends back only its
own and drops the others'; call ids of any format are accepted and mapped
where a provider constrains them, the same way in the call and its output.

Scenarios used (see the provider tests for what each replays):
  gem/tool-single   Gemini thought + functionCall "now" with a
                    thoughtSignature (reasoning item aura:gemini:<sig>)
  gem/tools-parallel three functionCall "sum" parts (no ids: the gateway
                    generates call_gemini_<hex>)
  anth/reasoning    Anthropic thinking block with a signature + text
  anth/tool-single  Anthropic tool_use get_weather (toolu_...)
  openai/reasoning-tool (stream) OpenAI reasoning with encrypted_content
                    gAAAA... + function_call "calculator"
  aws/us.anthropic.tool-single-v1:0, tools-parallel, reasoning  Bedrock
  oll/tool-single, oll/tools-parallel  Ollama (no ids on the wire: the
                    gateway generates call_...)
  */text            the continuation turn

The recorded Anthropic transcripts hold no single answer with both a
thinking block and a tool_use, so the "Anthropic thinking turn" below is the
reasoning item of anth/reasoning followed by the call of anth/tool-single:
both produced by the gateway from real Anthropic bytes, as one assistant
turn of a thinking tool loop carries them.
"""

import json
import re

import pytest

ANTH = "/anthropic/v1/messages"
MIS = "/mistral/v1/chat/completions"
CLAUDE = "us.anthropic.%s-v1:0"
ID9 = re.compile(r"^[a-zA-Z0-9]{9}$")
ANTH_ID = re.compile(r"^[a-zA-Z0-9_-]+$")   # Anthropic's tool_use id pattern

FN_NOW = {"type": "function", "name": "now",
          "description": "The current date and time",
          "parameters": {"type": "object", "properties": {},
                         "additionalProperties": False}}
FN_SUM = {"type": "function", "name": "sum", "description": "x + y",
          "parameters": {"type": "object",
                         "properties": {"x": {"type": "number"},
                                        "y": {"type": "number"}},
                         "required": ["x", "y"]}}
FN_WEATHER = {"type": "function", "name": "get_weather",
              "description": "Weather for a location",
              "parameters": {"type": "object",
                             "properties": {"location": {"type": "string"},
                                            "city": {"type": "string"},
                                            "units": {"type": "string"}}}}
FN_CALC = {"type": "function", "name": "calculator",
           "description": "Evaluate an arithmetic expression",
           "parameters": {"type": "object",
                          "properties": {"expression": {"type": "string"}}}}
TOOLS = [FN_NOW, FN_SUM, FN_WEATHER, FN_CALC]


# ---- helpers ---------------------------------------------------------------

def run(gw, H, body, stream=False):
    """One hop: the final ResponseResource (validated either way)."""
    if stream:
        return H.check_stream(gw.stream(body), billed=False)
    return gw.respond(body)


def calls_of(doc):
    return [i for i in doc["output"] if i["type"] == "function_call"]


def reasoning_of(doc):
    return [i for i in doc["output"] if i["type"] == "reasoning"]


def answer(call, output):
    return {"type": "function_call_output", "call_id": call["call_id"],
            "output": output}


def user(text):
    return {"role": "user", "content": text}


def dump(body):
    return json.dumps(body, ensure_ascii=False)


def marker_payload(item, kind):
    enc = item.get("encrypted_content") or ""
    assert enc.startswith("aura:%s:" % kind), (kind, enc[:60])
    payload = enc[len("aura:%s:" % kind):]
    assert len(payload) > 16, enc
    return payload


def assert_absent(body, *needles):
    text = dump(body)
    for n in needles:
        assert n not in text, "foreign reasoning state %r reached the " \
            "upstream: ...%s..." % (n[:40], text[max(0, text.find(n) - 120):
                                                 text.find(n) + 80])


def anth_body(sim, model):
    return sim.one_request(model, ANTH)["body"]


def anth_blocks(body):
    return [b for m in body["messages"] if isinstance(m["content"], list)
            for b in m["content"]]


def gem_body(sim, scenario):
    qs = [q for q in sim.requests() if q["path"] ==
          "/gemini/v1beta/models/%s:generateContent" % scenario]
    assert len(qs) == 1, [q["path"] for q in sim.requests()]
    return qs[0]["body"]


def gemini_first_hop(gw, sim, H, stream=False):
    """gem/tool-single: [reasoning aura:gemini:<sig>, function_call now]."""
    first = run(gw, H, {"model": "gem/tool-single", "tools": TOOLS,
                        "input": "Days until New Year's Eve?"}, stream)
    rs = reasoning_of(first)
    (call,) = calls_of(first)
    assert call["name"] == "now"
    assert len(rs) == 1, [i["type"] for i in first["output"]]
    sig = marker_payload(rs[0], "gemini")
    sim.clear()
    return first, call, sig


def anthropic_thinking_turn(gw, sim, H, stream=False):
    """The reasoning item of anth/reasoning (aura:anthropic:<signature>,
    thinking text in content) + the call of anth/tool-single."""
    think = run(gw, H, {"model": "anth/reasoning", "input": "925 / 5?",
                        "reasoning": {"effort": "medium"}}, stream)
    (rs,) = reasoning_of(think)
    sig = marker_payload(rs, "anthropic")
    tool = run(gw, H, {"model": "anth/tool-single", "tools": TOOLS,
                       "input": "Weather in SF?"}, stream)
    (call,) = calls_of(tool)
    assert call["call_id"].startswith("toolu_")
    sim.clear()
    return rs, call, sig


def assert_anthropic_pairs(body, pairs):
    """The Anthropic request: each (call, output) as a tool_use in an
    assistant turn and a tool_result with the same id in the next user
    turn; ids of Anthropic's pattern; no thinking block (no Anthropic
    reasoning was given)."""
    msgs = body["messages"]
    for call, output in pairs:
        uses = [(i, b) for i, m in enumerate(msgs) if m["role"] == "assistant"
                for b in m["content"] if b.get("type") == "tool_use"
                and b["name"] == call["name"]
                and b["input"] == json.loads(call["arguments"])]
        assert len(uses) == 1, (call, msgs)
        i, use = uses[0]
        assert ANTH_ID.match(use["id"]), use["id"]
        if ANTH_ID.match(call["call_id"]):
            assert use["id"] == call["call_id"], "a valid id was rewritten"
        nxt = msgs[i + 1]
        assert nxt["role"] == "user"
        res = [b for b in nxt["content"] if b.get("type") == "tool_result"
               and b["tool_use_id"] == use["id"]]
        assert len(res) == 1, ("no tool_result for %s in the next turn" %
                               use["id"], nxt)
        assert res[0]["content"] in (output, [{"type": "text",
                                               "text": output}]), res[0]
    kinds = {b.get("type") for b in anth_blocks(body)}
    assert not kinds & {"thinking", "redacted_thinking"}, \
        "a thinking block made from another provider's reasoning: %s" % kinds


def chat_pairs(msgs):
    """[(tool_call id, name, arguments, tool message)] of a Chat messages
    list, each tool message found by its tool_call_id."""
    out = []
    for m in msgs:
        for tc in m.get("tool_calls") or []:
            tools = [t for t in msgs if t["role"] == "tool"
                     and t["tool_call_id"] == tc["id"]]
            assert len(tools) == 1, ("no (or several) tool messages for %s"
                                     % tc["id"], msgs)
            out.append((tc["id"], tc["function"]["name"],
                        tc["function"]["arguments"], tools[0]))
    return out


# ---- 1. Gemini -> Anthropic ------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_gemini_call_continued_on_anthropic(gw, sim, H, stream):
    first, call, sig = gemini_first_hop(gw, sim, H, stream)
    out = "2025-10-26T10:00:00Z"
    doc = gw.respond({"model": "anth/text", "tools": TOOLS, "input": [
        user("Days until New Year's Eve?"), *first["output"],
        answer(call, out)]})
    assert doc["status"] == "completed"
    body = anth_body(sim, "text")
    msgs = body["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    use = [b for b in msgs[1]["content"] if b["type"] == "tool_use"]
    res = [b for b in msgs[2]["content"] if b["type"] == "tool_result"]
    assert len(use) == 1 and len(res) == 1, msgs
    assert use[0]["id"] == res[0]["tool_use_id"], "tool_use_id mismatch"
    assert (use[0]["name"], use[0]["input"]) == ("now", {})
    assert_anthropic_pairs(body, [(call, out)])
    assert_absent(body, sig, "aura:gemini:", "thoughtSignature")


def test_gemini_call_continued_on_anthropic_with_thinking(gw, sim, H):
    """Thinking requested on the Anthropic hop: the assistant turn that
    ends in tool_use has no (Anthropic) thinking block to start with, which
    Anthropic refuses when thinking is on; the request goes without
    thinking instead of a 400, and never with a thinking block forged from
    Gemini's signature."""
    first, call, sig = gemini_first_hop(gw, sim, H)
    doc = gw.respond({"model": "anth/text", "tools": TOOLS,
                      "reasoning": {"effort": "medium"}, "input": [
                          user("Days until New Year's Eve?"),
                          *first["output"], answer(call, "Oct 26")]})
    assert doc["status"] == "completed"
    body = anth_body(sim, "text")
    assert_anthropic_pairs(body, [(call, "Oct 26")])
    assert "thinking" not in body, body.get("thinking")
    assert_absent(body, sig, "aura:gemini:")


# ---- 2. Anthropic thinking turn -> OpenAI ----------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_turn_continued_on_openai_responses(gw, sim, H,
                                                               stream):
    rs, call, sig = anthropic_thinking_turn(gw, sim, H, stream)
    doc = gw.respond({"model": "openai/text", "tools": TOOLS, "input": [
        user("Weather in SF?"), rs, call, answer(call, "61F")]})
    assert doc["status"] == "completed"
    body = sim.one_request("text", "/v1/responses")["body"]
    inp = body["input"]
    types = [i.get("type", "message") for i in inp]
    assert [t for t in types if t != "message"] == \
        ["function_call", "function_call_output"], \
        "the Anthropic reasoning item must be dropped (or summarised as " \
        "text), got %s" % types
    fc, out = [i for i in inp if i.get("type", "message") != "message"]
    assert fc["call_id"] == out["call_id"] == call["call_id"]
    assert (fc["name"], fc["arguments"]) == (call["name"], call["arguments"])
    assert out["output"] == "61F"
    assert_absent(body, sig, "aura:anthropic")


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_turn_continued_on_chat(gw, sim, H, stream):
    rs, call, sig = anthropic_thinking_turn(gw, sim, H, stream)
    doc = gw.respond({"model": "sim/text", "tools": TOOLS, "input": [
        user("Weather in SF?"), rs, call, answer(call, "61F")]})
    assert doc["status"] == "completed"
    body = sim.one_request("text", "/v1/chat/completions")["body"]
    msgs = body["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "tool"], msgs
    (pair,) = chat_pairs(msgs)
    assert pair[0] == call["call_id"]
    assert (pair[1], json.loads(pair[2])) == (call["name"],
                                              json.loads(call["arguments"]))
    assert H.content_text(pair[3]["content"]) == "61F"
    assert_absent(body, sig, "aura:anthropic")


# ---- 3. the other directions -----------------------------------------------

def openai_reasoning_hop(gw, sim, H):
    """openai/reasoning-tool (stream): reasoning with OpenAI's own
    encrypted_content, then a calculator call."""
    first = H.check_stream(gw.stream({"model": "openai/reasoning-tool",
                                      "tools": TOOLS,
                                      "input": "12+7, *3, *10"}))
    (rs,) = reasoning_of(first)
    (call,) = calls_of(first)
    enc = rs.get("encrypted_content") or ""
    assert enc.startswith("gAAAA"), "OpenAI's own state, unprefixed: %r" % \
        enc[:40]
    sim.clear()
    return first, rs, call, enc


def test_openai_reasoning_continued_on_anthropic(gw, sim, H):
    first, rs, call, enc = openai_reasoning_hop(gw, sim, H)
    doc = gw.respond({"model": "anth/text", "tools": TOOLS,
                      "reasoning": {"effort": "low"}, "input": [
                          user("12+7, *3, *10"), *first["output"],
                          answer(call, "19")]})
    assert doc["status"] == "completed"
    body = anth_body(sim, "text")
    assert_anthropic_pairs(body, [(call, "19")])
    assert "thinking" not in body, \
        "thinking on with a tool_use turn that has no thinking block"
    assert_absent(body, enc[:40], rs["id"])


def test_openai_reasoning_continued_on_gemini(gw, sim, H):
    first, rs, call, enc = openai_reasoning_hop(gw, sim, H)
    doc = gw.respond({"model": "gem/text", "tools": TOOLS, "input": [
        user("12+7, *3, *10"), *first["output"], answer(call, "19")]})
    assert doc["status"] == "completed"
    body = gem_body(sim, "text")
    contents = body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    fc = [p for p in contents[1]["parts"] if "functionCall" in p]
    fr = [p for p in contents[2]["parts"] if "functionResponse" in p]
    assert len(fc) == 1 and len(fr) == 1, contents
    assert fc[0]["functionCall"]["name"] == fr[0]["functionResponse"][
        "name"] == "calculator"
    assert fc[0]["functionCall"]["args"] == json.loads(call["arguments"])
    assert fc[0]["functionCall"].get("id") == \
        fr[0]["functionResponse"].get("id")
    assert "thoughtSignature" not in fc[0], \
        "a thoughtSignature made from OpenAI's encrypted_content"
    assert not [p for c in contents for p in c["parts"] if p.get("thought")]
    assert_absent(body, enc[:40])


def test_bedrock_calls_continued_on_mistral(gw, sim, H):
    """Bedrock's ids (tooluse_..., 30 characters) and its reasoning
    (aura:bedrock:<sig>) continued on Mistral: every id mapped to 9
    alphanumerics, the same in the assistant tool_calls and in the tool
    message, distinct per call; the reasoning dropped."""
    think = gw.respond({"model": "aws/" + CLAUDE % "reasoning",
                        "input": "r's in strawberry?",
                        "reasoning": {"effort": "low"}})
    (rs,) = reasoning_of(think)
    bsig = marker_payload(rs, "bedrock")
    calls_doc = gw.respond({"model": "aws/" + CLAUDE % "tools-parallel",
                            "input": "Weather and AAPL", "tools": TOOLS + [
                                {"type": "function", "name": "get_quote",
                                 "parameters": {"type": "object"}}]})
    calls = calls_of(calls_doc)
    assert len(calls) == 2
    assert all(not ID9.match(c["call_id"]) for c in calls)
    sim.clear()
    doc = gw.respond({"model": "mis/text", "tools": TOOLS, "input": [
        user("Weather and AAPL"), rs, *calls,
        answer(calls[0], "12C"), answer(calls[1], "{\"price\": 200}")]})
    assert doc["status"] == "completed"
    q = sim.requests(path=MIS)
    assert len(q) == 1
    body = q[0]["body"]
    pairs = chat_pairs(body["messages"])
    assert [(p[1], json.loads(p[2])) for p in pairs] == \
        [(c["name"], json.loads(c["arguments"])) for c in calls]
    ids = [p[0] for p in pairs]
    assert all(ID9.match(i) for i in ids), ids
    assert len(set(ids)) == 2, "two calls mapped to one id: %s" % ids
    assert [p[3]["content"] for p in pairs] == ["12C", "{\"price\": 200}"]
    assert_absent(body, bsig, "aura:bedrock")


def test_gemini_parallel_calls_continued_on_mistral(gw, sim, H):
    """Ids the gateway generated for Gemini (call_gemini_<hex>, a long
    common prefix) must still map to distinct 9-character ids."""
    first = gw.respond({"model": "gem/tools-parallel", "tools": TOOLS,
                        "input": "1+2, 3+4, 5+6"})
    calls = calls_of(first)
    assert len(calls) == 3 and len({c["call_id"] for c in calls}) == 3
    sim.clear()
    doc = gw.respond({"model": "mis/text", "tools": TOOLS, "input": [
        user("1+2, 3+4, 5+6"), *first["output"],
        *[answer(c, str(n)) for c, n in zip(calls, (3, 7, 11))]]})
    assert doc["status"] == "completed"
    body = sim.requests(path=MIS)[0]["body"]
    pairs = chat_pairs(body["messages"])
    ids = [p[0] for p in pairs]
    assert len(pairs) == 3 and all(ID9.match(i) for i in ids), ids
    assert len(set(ids)) == 3, "calls collapsed onto one id: %s" % ids
    assert [json.loads(p[2]) for p in pairs] == \
        [json.loads(c["arguments"]) for c in calls]
    assert [p[3]["content"] for p in pairs] == ["3", "7", "11"]


def test_ollama_call_continued_on_gemini(gw, sim, H):
    first = gw.respond({"model": "oll/tool-single", "tools": TOOLS,
                        "input": "Weather in Tokyo?"})
    (call,) = calls_of(first)
    assert call["call_id"].startswith("call_")
    sim.clear()
    doc = gw.respond({"model": "gem/text", "tools": TOOLS, "input": [
        user("Weather in Tokyo?"), *first["output"],
        answer(call, "sunny, 21C")]})
    assert doc["status"] == "completed"
    contents = gem_body(sim, "text")["contents"]
    assert contents[1] == {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Tokyo"},
                          "id": call["call_id"]}}]}
    assert contents[2] == {"role": "user", "parts": [
        {"functionResponse": {"id": call["call_id"], "name": "get_weather",
                              "response": {"output": "sunny, 21C"}}}]}
    assert len(contents) == 3


def test_ollama_parallel_calls_continued_on_gemini(gw, sim, H):
    """Two calls of the same function: the answers can only be told apart
    by id, so each functionResponse carries its call's id, in order."""
    first = gw.respond({"model": "oll/tools-parallel", "tools": TOOLS,
                        "input": "Tokyo and Paris?"})
    calls = calls_of(first)
    assert [c["name"] for c in calls] == ["get_weather"] * 2
    sim.clear()
    doc = gw.respond({"model": "gem/text", "tools": TOOLS, "input": [
        user("Tokyo and Paris?"), *first["output"],
        answer(calls[1], "Paris: rain"), answer(calls[0], "Tokyo: sun")]})
    assert doc["status"] == "completed"
    contents = gem_body(sim, "text")["contents"]
    fcs = [p["functionCall"] for p in contents[1]["parts"]]
    frs = [p["functionResponse"] for p in contents[2]["parts"]]
    assert [(f["id"], f["args"]) for f in fcs] == \
        [(c["call_id"], json.loads(c["arguments"])) for c in calls]
    got = {f["id"]: f["response"] for f in frs}
    assert got == {calls[0]["call_id"]: {"output": "Tokyo: sun"},
                   calls[1]["call_id"]: {"output": "Paris: rain"}}


def test_anthropic_thinking_turn_continued_on_gemini_and_bedrock(gw, sim, H):
    """Anthropic's signature is no Gemini thoughtSignature and no Bedrock
    reasoningContent signature (even for a Claude model on Bedrock: a
    different kind, a different key)."""
    rs, call, sig = anthropic_thinking_turn(gw, sim, H)
    inp = [user("Weather in SF?"), rs, call, answer(call, "61F")]
    gw.respond({"model": "gem/text", "tools": TOOLS, "input": inp})
    body = gem_body(sim, "text")
    parts = [p for c in body["contents"] for p in c["parts"]]
    assert not [p for p in parts if "thoughtSignature" in p or
                p.get("thought")], parts
    assert_absent(body, sig, "aura:anthropic")
    sim.clear()
    model = CLAUDE % "text"
    gw.respond({"model": "aws/" + model, "tools": TOOLS, "input": inp,
                "reasoning": {"effort": "low"}})
    path = "/bedrock/model/%s/converse" % model.replace(":", "%3A")
    (q,) = [q for q in sim.requests() if q["path"] == path]
    msgs = q["body"]["messages"]
    blocks = [b for m in msgs for b in m["content"]]
    assert not [b for b in blocks if "reasoningContent" in b], blocks
    uses = [b["toolUse"] for b in blocks if "toolUse" in b]
    results = [b["toolResult"] for b in blocks if "toolResult" in b]
    assert len(uses) == len(results) == 1
    assert uses[0]["toolUseId"] == results[0]["toolUseId"]
    assert "thinking" not in (q["body"].get("additionalModelRequestFields")
                              or {}), \
        "Claude on Bedrock refuses thinking when the tool_use turn being " \
        "continued starts with no reasoningContent"
    assert_absent(q["body"], sig, "aura:anthropic")


def test_openai_reasoning_survives_a_foreign_hop(gw, sim, H):
    """OpenAI's own reasoning (unprefixed encrypted_content) dropped on
    Anthropic, then back on OpenAI: it goes back whole, with its id,
    right before its function_call."""
    first, rs, call, enc = openai_reasoning_hop(gw, sim, H)
    history = [user("12+7, *3, *10"), *first["output"], answer(call, "19")]
    a_doc = gw.respond({"model": "anth/text", "tools": TOOLS,
                        "input": history})
    assert_absent(anth_body(sim, "text"), enc[:40])
    sim.clear()
    gw.respond({"model": "openai/text", "tools": TOOLS,
                "input": history + a_doc["output"] +
                [user("And divided by 2?")]})
    inp = sim.one_request("text", "/v1/responses")["body"]["input"]
    rss = [i for i in inp if i.get("type") == "reasoning"]
    assert [(r["id"], r["encrypted_content"]) for r in rss] == \
        [(rs["id"], enc)]
    at = inp.index(rss[0])
    assert inp[at + 1].get("type") == "function_call"
    assert inp[at + 1]["call_id"] == call["call_id"]


@pytest.mark.parametrize("source", ["mis/reasoning", "oll/reasoning"])
def test_plaintext_reasoning_continued_on_openai_responses(gw, sim, H,
                                                           source):
    first = gw.respond({"model": source, "input": "hi",
                        "reasoning": {"effort": "medium"}})
    (rs,) = reasoning_of(first)
    assert not rs.get("encrypted_content")
    sim.clear()
    doc = gw.respond({"model": "openai/text", "input": [
        user("hi"), *first["output"], user("Shorter, please.")]})
    assert doc["status"] == "completed"
    body = sim.one_request("text", "/v1/responses")["body"]
    types = [i.get("type", "message") for i in body["input"]]
    assert "reasoning" not in types, \
        "a reasoning item OpenAI cannot resolve (no encrypted_content, a " \
        "gateway id, store:false) reached it: %s" % types
    assert_absent(body, rs["id"])
    # the other targets drop it already (the behaviour asked for)
    for target in ("sim/text", "anth/text", "gem/text"):
        sim.clear()
        gw.respond({"model": target, "input": [
            user("hi"), *first["output"], user("Shorter, please.")]})
        (q,) = sim.requests()
        assert_absent(q["body"], rs["id"])


# ---- 4. three hops -----------------------------------------------------------

def test_three_hop_loop_gemini_anthropic_openai(gw, sim, H):
    """Gemini calls "now"; answered on Anthropic, which calls get_weather;
    answered on OpenAI Responses. Every hop carries the whole history."""
    g_first, g_call, g_sig = gemini_first_hop(gw, sim, H)
    history = [user("Days to NYE, and the weather?"), *g_first["output"],
               answer(g_call, "2025-10-26T10:00:00Z")]

    a_doc = gw.respond({"model": "anth/tool-single", "tools": TOOLS,
                        "input": history})
    assert a_doc["status"] == "completed"
    (a_call,) = calls_of(a_doc)
    a_body = anth_body(sim, "tool-single")
    assert_anthropic_pairs(a_body, [(g_call, "2025-10-26T10:00:00Z")])
    assert_absent(a_body, g_sig, "aura:gemini:")
    sim.clear()

    history += [*a_doc["output"], answer(a_call, "{\"temp\": 61}")]
    final = gw.respond({"model": "openai/text", "tools": TOOLS,
                        "input": history})
    assert final["status"] == "completed"
    body = sim.one_request("text", "/v1/responses")["body"]
    inp = body["input"]
    fcs = [i for i in inp if i.get("type") == "function_call"]
    outs = [i for i in inp if i.get("type") == "function_call_output"]
    assert [(f["call_id"], f["name"]) for f in fcs] == \
        [(g_call["call_id"], "now"), (a_call["call_id"], "get_weather")]
    assert [o["call_id"] for o in outs] == [f["call_id"] for f in fcs]
    assert [o["output"] for o in outs] == ["2025-10-26T10:00:00Z",
                                           "{\"temp\": 61}"]
    assert not [i for i in inp if i.get("type") == "reasoning"], \
        "Gemini's reasoning item reached OpenAI"
    assert_absent(body, g_sig, "aura:")
