"""Hugging Face simulator (Inference Providers router / a TGI endpoint):
POST /hf/v1/chat/completions.

`AuraProvider hf huggingface @SIM@/hf/v1` sends here with Authorization:
Bearer <HF token> (one of the simulator's --key values). OpenAI's Chat
Completions wire as TGI speaks it; errors are TGI's {"error": "text",
"error_type": "..."} (a string, not an object).

Transcripts: the tgi__* snapshots of tests/fixtures/openai (JSON arrays of
parsed chunks, fidelity R: re-serialized compactly, one per data: line, as
the OpenAI simulator does). DERIVED answers are listed in
tests/fixtures/ollama/SOURCES.md ("Hugging Face" section).
"""

import copy
import json

PREFIX = "/hf/"
USAGE = "tgi__chat_stream_usage_chunks.json"
TOOL = "tgi__chat_stream_tool_call_chunks.json"

sim = None


def setup(s):
    global sim
    sim = s


def match(method, path, headers):
    return method == "POST" and path.startswith(PREFIX)


def error(status, message, etype, **headers):
    return sim.Reply(status=status, body=json.dumps(
        {"error": message, "error_type": etype}).encode(), headers=headers)


def chunks(name):
    return json.loads(sim.fixture_bytes(name))


def line(c):
    return json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode()


def usage_chunks(finish="length", reasoning=0):
    """The TGI usage stream; `finish` replaces its finish_reason "length"
    (DERIVED when not "length"); the first `reasoning` content deltas move
    to delta.reasoning_content (DERIVED: the field reasoning models behind
    the router send)."""
    out = chunks(USAGE)
    for i, c in enumerate(out):
        for ch in c["choices"]:
            if ch["finish_reason"] == "length":
                ch["finish_reason"] = finish
            if i < reasoning:
                ch["delta"]["reasoning_content"] = ch["delta"]["content"]
                ch["delta"]["content"] = None
    return out


def tool_chunks(calls=1):
    """The TGI tool-call stream; calls=2 (DERIVED) repeats its fragments
    as a second call with index 1 and id "1"."""
    out = chunks(TOOL)
    if calls == 2:
        second = copy.deepcopy(out)
        for c in second:
            for tc in c["choices"][0]["delta"]["tool_calls"]:
                tc["index"], tc["id"] = 1, "1"
        out += second
    return out


def assemble(cs):
    """DERIVED: a stream's chunks as one chat.completion (content and each
    call's arguments joined; finish_reason and usage as streamed)."""
    text, reasoning, calls, finish, usage = "", "", {}, "stop", None
    for c in cs:
        usage = c.get("usage") or usage
        for ch in c["choices"]:
            d = ch["delta"]
            text += d.get("content") or ""
            reasoning += d.get("reasoning_content") or ""
            finish = ch.get("finish_reason") or finish
            for tc in d.get("tool_calls") or []:
                cur = calls.setdefault(tc["index"], {
                    "id": tc["id"], "type": "function",
                    "function": {"name": None, "arguments": ""}})
                cur["function"]["name"] = (cur["function"]["name"]
                                           or tc["function"]["name"])
                cur["function"]["arguments"] += tc["function"]["arguments"]
    msg = {"role": "assistant", "content": text or None}
    if reasoning:
        msg["reasoning_content"] = reasoning
    if calls:
        msg["tool_calls"] = [calls[k] for k in sorted(calls)]
        finish = "tool_calls"
    return json.dumps({
        "object": "chat.completion", "id": "", "created": cs[0]["created"],
        "model": cs[0]["model"], "system_fingerprint":
        cs[0]["system_fingerprint"],
        "choices": [{"index": 0, "message": msg, "logprobs": None,
                     "finish_reason": finish}],
        "usage": usage}).encode()


def jreply(b):
    return sim.Reply(body=b)


def sreply(cs, done=True):
    return sim.Reply(events=sim.chat_frame([line(c) for c in cs], done))


def malformed_stream():
    ev = sim.chat_frame([line(c) for c in usage_chunks("stop")])
    return sim.Reply(events=ev[:3] + [ev[3][:40] + b"\n\n"] + ev[3:])


SCENARIOS = {
    "text": (lambda: jreply(assemble(usage_chunks("stop"))),
             lambda: sreply(usage_chunks("stop"))),
    "length": (lambda: jreply(assemble(usage_chunks())),
               lambda: sreply(usage_chunks())),
    "reasoning": (lambda: jreply(assemble(usage_chunks("stop", 3))),
                  lambda: sreply(usage_chunks("stop", 3))),
    "tool-single": (lambda: jreply(assemble(tool_chunks())),
                    lambda: sreply(tool_chunks())),
    "tools-parallel": (lambda: jreply(assemble(tool_chunks(2))),
                       lambda: sreply(tool_chunks(2))),
    "malformed": (lambda: jreply(assemble(usage_chunks("stop"))[:100]),
                  malformed_stream),
    "truncated": (None, lambda: sreply(usage_chunks("stop")[:5], done=False)),
    # TGI's queue-full answer is 429 "Model is overloaded" (router/src/
    # server.rs); Retry-After added for the matrix (DERIVED).
    "error-429": (lambda: error(429, "Model is overloaded", "overloaded",
                                **{"Retry-After": "7"}),) * 2,
    "error-500": (lambda: error(500, "Request failed during generation: "
                                "Server error: CUDA out of memory",
                                "generation"),) * 2,
    # the serverless API's busy answer
    "overloaded": (lambda: error(503, "Model too busy, unable to get "
                                 "response in less than 60 second(s)",
                                 "overloaded"),) * 2,
}


def serve(handler, path, raw, body, query):
    if path != PREFIX + "v1/chat/completions":
        return error(404, "Not Found", "not_found")
    auth = handler.headers.get("Authorization") or ""
    key = auth[7:] if auth.startswith("Bearer ") else None
    if not key or (handler.state.keys and key not in handler.state.keys):
        return error(401, "Invalid credentials in Authorization header",
                     "authentication")
    if not isinstance(body, dict):
        return error(422, "Failed to deserialize the JSON body",
                     "validation")
    model = body.get("model")
    build = SCENARIOS.get(model, (None, None))[1 if body.get("stream") else 0]
    if build is None:
        return error(404, "Model %s does not exist" % model, "not_found")
    reply = build()
    reply.model = "hf:%s" % model
    return reply
