"""Anthropic Messages simulator: POST /anthropic/v1/messages.

`AuraProvider anth anthropic @SIM@/anthropic` sends here. Checked the way
Anthropic checks them: `x-api-key` (one of the simulator's --key values;
otherwise 401 authentication_error "invalid x-api-key"), `anthropic-version`
(required: 400), a JSON body with `model`, `max_tokens` and `messages`
(400 invalid_request_error otherwise), and strict user/assistant
alternation with every tool_result answering a tool_use of the turn
before (the 400 of anthropic__error_400_invalid_request_error.json).
Error bodies have Anthropic's shape {"type":"error","error":{type,message}}.

The scenario is the request's "model"; "stream" picks the SSE variant.
Transcripts: tests/fixtures/anthropic (SOURCES.md there, with every
DERIVED answer and its exact change). .sse files are sent verbatim, one
chunk per event; framing-stripped chunk files (fidelity C) are re-framed
as Anthropic frames them: "event: <type>\\ndata: <payload>\\n\\n".
"""

import json
import os
import secrets

PREFIX = "/anthropic/"
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures",
                                         "anthropic"))

TEXT_JSON = "anthropic__messages_nonstream_text.json"
TEXT_SSE = "anthropic__messages_stream_text_ping.sse"
TOOL_JSON = "anthropic__messages_nonstream_tool_use.json"
TOOL_SSE = "anthropic__messages_stream_tool_use.sse"
TEXT_TOOL_SSE = "anthropic__messages_stream_text_then_tool_use.sse"
SERVER_TOOL_JSON = "anthropic__messages_nonstream_text_server_tool_use_tool_use.json"
THINK_JSON = "anthropic__messages_nonstream_thinking.json"
THINK_SSE = "anthropic__messages_stream_thinking_signature.sse"
THINK45_TXT = "anthropic__messages_stream_thinking_signature_chunks.txt"
CACHE_READ_JSON = "anthropic__messages_nonstream_cache_read.json"
CACHE_WRITE_TXT = "anthropic__messages_stream_cache_creation_server_tools_chunks.txt"
OVERLOADED_SSE = "anthropic__messages_stream_error_event_overloaded.sse"
E429 = "anthropic__error_429_rate_limit_error.json"
E400 = "anthropic__error_400_invalid_request_error.json"

sim = None


def setup(s):
    global sim
    sim = s


def match(method, path, headers):
    return method == "POST" and path.startswith(PREFIX)


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def sse_events(name):
    """A verbatim .sse file split after each blank line; joined, the events
    are the file byte for byte."""
    data = fixture(name)
    out, start = [], 0
    while start < len(data):
        end = data.find(b"\n\n", start)
        end = len(data) if end < 0 else end + 2
        out.append(data[start:end])
        start = end
    return out


def framed_lines(name):
    """A fidelity-C chunk file re-framed: event: <type> + data: <line>."""
    out = []
    for line in fixture(name).split(b"\n"):
        if line.strip():
            t = json.loads(line)["type"].encode()
            out.append(b"event: " + t + b"\ndata: " + line + b"\n\n")
    return out


def headers(extra=None):
    h = {"request-id": "req_" + secrets.token_hex(12)}
    h.update(extra or {})
    return h


def reply(body, status=200, extra=None, **kw):
    return sim.Reply(status=status, body=body, headers=headers(extra), **kw)


def stream(events, **kw):
    return sim.Reply(events=events, headers=headers(), **kw)


def error(status, etype, message, extra=None):
    body = json.dumps({"type": "error", "error": {"type": etype,
                                                  "message": message}},
                      separators=(",", ":")).encode()
    return reply(body, status, extra)


# --------------------------------------------------------------------------
# DERIVED answers (tests/fixtures/anthropic/SOURCES.md, "Derived")
# --------------------------------------------------------------------------

def length_json():
    return fixture(TEXT_JSON).replace(b'"stop_reason":"end_turn"',
                                      b'"stop_reason":"max_tokens"')


def length_sse():
    return [e.replace(b'"stop_reason":"end_turn"', b'"stop_reason":"max_tokens"')
            for e in sse_events(TEXT_SSE)]


def parallel_json():
    d = json.loads(fixture(TOOL_JSON))
    second = dict(d["content"][0], id=d["content"][0]["id"] + "2",
                  input={"location": "New York, NY", "units": "f"})
    d["content"].append(second)
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode()


def parallel_sse():
    ev = sse_events(TOOL_SSE)
    first = [i for i, e in enumerate(ev)
             if b"content_block_start" in e.split(b"\n")[0]][0]
    last = [i for i, e in enumerate(ev)
            if b"content_block_stop" in e.split(b"\n")[0]][0]
    block = [e.replace(b'"index":0', b'"index":1')
              .replace(b"toolu_018acGYLtfR52q9yDbWaEdQZ",
                       b"toolu_018acGYLtfR52q9yDbWaEdQZ2")
             for e in ev[first:last + 1] if not e.startswith(b"event: ping")]
    return ev[:last + 1] + block + ev[last + 1:]


def overloaded_mid_stream():
    return sse_events(TEXT_SSE)[:5] + sse_events(OVERLOADED_SSE)


def overloaded_body():
    data = fixture(OVERLOADED_SSE).split(b"data: ", 1)[1].strip()
    return data


def malformed_sse():
    ev = sse_events(TEXT_SSE)
    cut = ev[3].index(b"data: ") + 6 + 40
    return ev[:3] + [ev[3][:cut] + b"\n\n"] + ev[3:]


SCENARIOS = {
    # model: (non-stream builder, stream builder)
    "text": (lambda: reply(fixture(TEXT_JSON)),
             lambda: stream(sse_events(TEXT_SSE))),
    "tool-single": (lambda: reply(fixture(TOOL_JSON)),
                    lambda: stream(sse_events(TOOL_SSE))),
    "text-tool": (lambda: reply(fixture(SERVER_TOOL_JSON)),
                  lambda: stream(sse_events(TEXT_TOOL_SSE))),
    "tools-parallel": (lambda: reply(parallel_json()),
                       lambda: stream(parallel_sse())),
    "reasoning": (lambda: reply(fixture(THINK_JSON)),
                  lambda: stream(sse_events(THINK_SSE))),
    "reasoning-45": (lambda: reply(fixture(THINK_JSON)),
                     lambda: stream(framed_lines(THINK45_TXT))),
    "cache": (lambda: reply(fixture(CACHE_READ_JSON)),
              lambda: stream(framed_lines(CACHE_WRITE_TXT))),
    # a registry model routed here by tests/integration/providers/anthropic.conf
    "claude-haiku-4-5": (lambda: reply(fixture(CACHE_READ_JSON)),
                         lambda: stream(framed_lines(CACHE_WRITE_TXT))),
    "length": (lambda: reply(length_json()),
               lambda: stream(length_sse())),
    "error-429": (lambda: reply(fixture(E429), 429,
                                {"retry-after": "7", "x-should-retry": "true"}),) * 2,
    "error-400": (lambda: reply(fixture(E400), 400),) * 2,
    "error-500": (lambda: error(500, "api_error", "Internal server error"),) * 2,
    "overloaded": (lambda: reply(overloaded_body(), 529,
                                 {"x-should-retry": "true"}),) * 2,
    "overloaded-stream": (None, lambda: stream(sse_events(OVERLOADED_SSE))),
    "overloaded-mid": (None, lambda: stream(overloaded_mid_stream())),
    "malformed": (lambda: reply(fixture(TEXT_JSON)[:len(fixture(TEXT_JSON)) // 2]),
                  lambda: stream(malformed_sse())),
    "truncated": (lambda: sim.Reply(body=fixture(TEXT_JSON)[:200],
                                    content_length=len(fixture(TEXT_JSON)),
                                    close_after_body=True, headers=headers()),
                  lambda: stream(sse_events(TEXT_SSE)[:6])),
}


# --------------------------------------------------------------------------
# request checks
# --------------------------------------------------------------------------

def check_turns(messages):
    """Anthropic's rules for the messages array, as its 400s state them."""
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    prev_role, prev_uses = None, set()
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if role not in ("user", "assistant"):
            return "messages.%d.role: Input should be 'user' or 'assistant'" % i
        if role == prev_role:
            return ("messages: roles must alternate between \"user\" and "
                    "\"assistant\", but found multiple \"%s\" roles in a row"
                    % role)
        blocks = content if isinstance(content, list) else []
        if isinstance(content, list) and not content:
            return "messages.%d: all messages must have non-empty content" % i
        seen_other = False
        for j, b in enumerate(blocks):
            t = b.get("type")
            if t == "text" and not b.get("text"):
                return "messages.%d.content.%d: text content blocks must be non-empty" % (i, j)
            if t == "tool_result":
                if seen_other:
                    return ("messages.%d: `tool_result` blocks must come "
                            "before any other content" % i)
                if b.get("tool_use_id") not in prev_uses:
                    return ("messages.%d.content.%d: unexpected `tool_use_id` "
                            "found in `tool_result` blocks: %s. Each "
                            "`tool_result` block must have a corresponding "
                            "`tool_use` block in the previous message."
                            % (i, j, b.get("tool_use_id")))
            else:
                seen_other = True
        prev_uses = {b.get("id") for b in blocks if b.get("type") == "tool_use"}
        prev_role = role
    return None


def check(handler, body):
    key = handler.headers.get("x-api-key")
    keys = handler.state.keys
    if not key or (keys and key not in keys):
        return error(401, "authentication_error", "invalid x-api-key")
    if not handler.headers.get("anthropic-version"):
        return error(400, "invalid_request_error",
                     "anthropic-version: header is required")
    if not isinstance(body, dict):
        return error(400, "invalid_request_error",
                     "There was an error parsing the body of your request")
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            return error(400, "invalid_request_error",
                         "%s: Field required" % field)
    if body.get("system") is not None and not isinstance(
            body["system"], (str, list)):
        return error(400, "invalid_request_error",
                     "system: Input should be a valid string or list")
    problem = check_turns(body["messages"])
    if problem:
        return error(400, "invalid_request_error", problem)
    think = body.get("thinking")
    if think and not (1024 <= think.get("budget_tokens", 0)
                      < body["max_tokens"]):
        return error(400, "invalid_request_error",
                     "thinking.budget_tokens: must be >= 1024 and less than "
                     "max_tokens")
    return None


def serve(handler, path, raw, body, query):
    if path != PREFIX + "v1/messages":
        r = error(404, "not_found_error", "Not Found")
        r.model = path
        return r
    r = check(handler, body)
    if r is None:
        model = body.get("model")
        builders = SCENARIOS.get(model)
        build = builders and builders[1 if body.get("stream") else 0]
        if build is None:
            r = error(404, "not_found_error", "model: %s (simulator: no %s "
                      "scenario)" % (model, "stream" if body.get("stream")
                                     else "non-stream"))
        else:
            r = build()
    r.model = "anthropic:%s" % (body.get("model") if isinstance(body, dict)
                                else "?")
    return r
