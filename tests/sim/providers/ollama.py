"""Ollama native API simulator: POST /ollama/api/chat.

`AuraProvider oll ollama @SIM@/ollama` sends /ollama/api/chat. The
scenario is the request's "model"; "stream" (Ollama's default: true)
picks NDJSON lines (application/x-ndjson, one chunk per line, each its
own HTTP chunk) or one JSON object. A local Ollama has no authentication,
so none is checked. Errors are Ollama's {"error": "text"} (a string).

Transcripts: tests/fixtures/ollama (SOURCES.md there: provenance, and
every DERIVED answer below with its exact change).
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures", "ollama"))
PREFIX = "/ollama/"
NDJSON = "application/x-ndjson"
JSON_CT = "application/json; charset=utf-8"   # Gin's JSON content type

sim = None


def setup(s):
    global sim
    sim = s


def match(method, path, headers):
    return method == "POST" and path.startswith(PREFIX)


# --------------------------------------------------------------------------
# transcripts and derivations
# --------------------------------------------------------------------------

def raw(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def doc(name):
    return json.loads(raw(name))


def compact(obj):
    """One NDJSON line, as Ollama writes it (Go's encoding/json: compact,
    key order kept)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() \
        + b"\n"


def lines(name):
    """A verbatim .ndjson file, one event per line (newline kept)."""
    return [l + b"\n" for l in raw(name).split(b"\n") if l.strip()]


def chat_text_lines(thinking_first=0):
    """DERIVED: ollama__generate_stream.ndjson re-shaped as /api/chat
    chunks: "response": X -> "message": {"role": "assistant", "content": X}
    (the first `thinking_first` tokens as "thinking" instead, with content
    ""), done false on every line (done_reason dropped from the last);
    then the real final /api/chat chunk ollama__chat_stream_tools_final_chunk
    .json on one line (done_reason stop, prompt_eval_count 169,
    eval_count 15)."""
    out = []
    for i, l in enumerate(lines("ollama__generate_stream.ndjson")):
        g = json.loads(l)
        msg = {"role": "assistant", "content": g["response"]}
        if i < thinking_first:
            msg = {"role": "assistant", "content": "",
                   "thinking": g["response"]}
        out.append(compact({"model": g["model"], "created_at": g["created_at"],
                            "message": msg, "done": False}))
    out.append(final_line())
    return out


def final_line(reason=None):
    f = doc("ollama__chat_stream_tools_final_chunk.json")
    if reason:
        f["done_reason"] = reason
    return compact(f)


def second_call(d):
    """DERIVED (tools-parallel): a second call appended to the message's
    tool_calls: get_weather {"city": "Paris"}."""
    d["message"]["tool_calls"].append(
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}})
    return d


def pretty(d):
    return (json.dumps(d, indent=2, ensure_ascii=False) + "\n").encode()


def text_nonstream_with(**changes):
    d = doc("ollama__chat_nonstream_text.json")
    for k, v in changes.items():
        if k == "message":
            d["message"].update(v)
        else:
            d[k] = v
    return pretty(d)


def err(status, text, **headers):
    return sim.Reply(status=status, body=json.dumps({"error": text}).encode(),
                     headers=headers, content_type=JSON_CT)


def body_reply(b):
    return sim.Reply(body=b, content_type=JSON_CT)


def stream_reply(events, **kw):
    return sim.Reply(events=events, content_type=NDJSON, **kw)


def malformed_stream():
    ev = chat_text_lines()
    cut = ev[3][:40]                     # a chunk cut 40 bytes in
    return stream_reply(ev[:3] + [cut + b"\n"] + ev[3:])


SCENARIOS = {
    # model: (non-stream builder, stream builder)
    "text": (lambda: body_reply(raw("ollama__chat_nonstream_text.json")),
             lambda: stream_reply(chat_text_lines())),
    "tool-single": (
        lambda: body_reply(raw("ollama__chat_nonstream_tool_calls.json")),
        lambda: stream_reply([
            compact(doc("ollama__chat_stream_tool_call_chunk.json")),
            final_line()])),
    "tools-parallel": (
        lambda: body_reply(pretty(second_call(
            doc("ollama__chat_nonstream_tool_calls.json")))),
        lambda: stream_reply([
            compact(second_call(doc("ollama__chat_stream_tool_call_chunk.json"))),
            final_line()])),
    "reasoning": (
        lambda: body_reply(text_nonstream_with(message={
            "content": " How are you today?", "thinking": "Hello!"})),
        lambda: stream_reply(chat_text_lines(thinking_first=3))),
    "length": (
        lambda: body_reply(text_nonstream_with(done_reason="length")),
        lambda: stream_reply(chat_text_lines()[:-1] + [final_line("length")])),
    "generate": (None,
                 lambda: stream_reply(lines("ollama__generate_stream.ndjson"))),
    "midstream-error": (None, lambda: stream_reply(
        lines("ollama__generate_stream_midstream_error.ndjson"))),
    "malformed": (
        lambda: body_reply(raw("ollama__chat_nonstream_text.json")[
            :len(raw("ollama__chat_nonstream_text.json")) // 2]),
        malformed_stream),
    "truncated": (None, lambda: stream_reply(chat_text_lines()[:4])),
    "error-429": (lambda: err(429, "too many requests", **{"Retry-After": "7"}),
                  None),
    "error-500": (lambda: err(500, "the model failed to generate a response"),
                  None),
    "overloaded": (lambda: err(503, "server busy, please try again.  "
                               "maximum pending requests exceeded"), None),
}
# errors do not depend on streaming: Ollama answers them before any line
for _k in ("error-429", "error-500", "overloaded"):
    SCENARIOS[_k] = (SCENARIOS[_k][0], SCENARIOS[_k][0])


def serve(handler, path, raw_body, body, query):
    if path != PREFIX + "api/chat":
        # Go's mux: a plain-text 404
        handler.send_json(404, b"404 page not found", content_type="text/plain",
                          extra_only=True)
        return None
    if not isinstance(body, dict):
        return err(400, "invalid character looking for beginning of value")
    model = body.get("model")
    stream = body.get("stream", True) is not False
    builder = SCENARIOS.get(model, (None, None))[1 if stream else 0]
    if builder is None:
        return err(404, "model '%s' not found" % model)
    reply = builder()
    reply.model = "ollama:%s" % model
    return reply
