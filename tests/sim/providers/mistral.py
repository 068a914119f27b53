"""Mistral simulator: POST /mistral/v1/chat/completions.

`AuraProvider mis mistral @SIM@/mistral/v1` sends here. Authorization:
Bearer <key> (one of the simulator's --key values). The scenario is the
request's "model"; "stream" picks SSE (data: <chunk>, then data: [DONE]).

Mistral's documented request rules are enforced, so the gateway's
translation is checked the way Mistral would check it:
  - tool call ids (assistant tool_calls[].id, tool tool_call_id) must be
    exactly 9 characters [a-zA-Z0-9] -> 400, the text of
    mistralai/mistral-common protocol/instruct/validator.py;
  - unknown top-level fields (stream_options, max_completion_tokens,
    logprobs, ...) -> 422 "Extra inputs are not permitted";
  - tool_choice one of auto/none/any/required or a function object.

Transcripts: the mistral__* files of tests/fixtures/openai (SOURCES.md
there); DERIVED answers are listed in tests/fixtures/ollama/SOURCES.md
("Mistral" section) with their exact change.
"""

import json
import re
import secrets

PREFIX = "/mistral/"
TEXT = "mistral__chat_nonstream_text.json"
CALL = "mistral__chat_nonstream_tool_call.json"
CALL_CHUNKS = "mistral__chat_stream_tool_call_chunks.txt"
ID9 = re.compile(r"^[a-zA-Z0-9]{9}$")
# ChatCompletionRequest fields (mistralai/client-python models, 2025)
KNOWN = {"model", "messages", "temperature", "top_p", "max_tokens", "stream",
         "stop", "random_seed", "response_format", "tools", "tool_choice",
         "presence_penalty", "frequency_penalty", "n", "prediction",
         "parallel_tool_calls", "safe_prompt", "prompt_mode",
         "reasoning_effort", "metadata"}

sim = None


def setup(s):
    global sim
    sim = s


def match(method, path, headers):
    return method == "POST" and path.startswith(PREFIX)


def error(status, message, etype, code=None, **headers):
    body = {"object": "error", "message": message, "type": etype,
            "param": None, "code": code}
    return sim.Reply(status=status, body=json.dumps(body).encode(),
                     headers=headers)


# --------------------------------------------------------------------------
# answers
# --------------------------------------------------------------------------

def chunk(base, delta, finish=None, usage=None):
    c = {"id": base["id"], "object": "chat.completion.chunk",
         "created": base["created"], "model": base["model"],
         "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                      "logprobs": None}]}
    if usage:
        c["usage"] = usage
    return json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode()


def text_lines(finish="stop", thinking=()):
    """DERIVED stream of mistral__chat_nonstream_text.json: a role chunk,
    then (thinking chunks,) the content in consecutive 64-character
    pieces, the last with finish_reason and the recorded usage (Mistral
    puts usage in its finish chunk, as the recorded tool-call stream
    shows)."""
    d = json.loads(sim.fixture_bytes(TEXT))
    text = d["choices"][0]["message"]["content"]
    out = [chunk(d, {"role": "assistant", "content": ""})]
    for t in thinking:
        out.append(chunk(d, {"content": [{"type": "thinking", "thinking": [
            {"type": "text", "text": t}]}]}))
    pieces = [text[i:i + 64] for i in range(0, len(text), 64)]
    for i, p in enumerate(pieces):
        last = i == len(pieces) - 1
        out.append(chunk(d, {"content": p}, finish if last else None,
                         d["usage"] if last else None))
    return out


THINKING = ("The user wants a new holiday. ", "Name, date, purpose.")


def text_body(finish="stop", thinking=None):
    d = json.loads(sim.fixture_bytes(TEXT))
    ch = d["choices"][0]
    ch["finish_reason"] = finish
    if thinking:
        ch["message"]["content"] = [
            {"type": "thinking", "thinking": [{"type": "text",
                                               "text": "".join(thinking)}]},
            {"type": "text", "text": ch["message"]["content"]}]
    return json.dumps(d, indent=2, ensure_ascii=False).encode()


PARIS = {"id": "pArIs2ndC", "function": {
    "name": "weather", "arguments": "{\"location\": \"Paris\"}"}}


def parallel_body():
    d = json.loads(sim.fixture_bytes(CALL))
    d["choices"][0]["message"]["tool_calls"].append(PARIS)
    return json.dumps(d, indent=2).encode()


def parallel_lines():
    ls = sim.chunk_lines(CALL_CHUNKS)
    c = json.loads(ls[1])
    c["choices"][0]["delta"]["tool_calls"].append(PARIS)
    return [ls[0], json.dumps(c, separators=(",", ":")).encode()]


def jreply(b):
    return sim.Reply(body=b)


def sreply(lines, done=True, **kw):
    return sim.Reply(events=sim.chat_frame(lines, done), **kw)


def malformed_stream():
    ev = sim.chat_frame(text_lines())
    return sim.Reply(events=ev[:3] + [ev[3][:40] + b"\n\n"] + ev[3:])


def err_429():
    # Mistral's rate-limit error, as quoted in public client bug reports;
    # Retry-After added for the matrix (DERIVED).
    return error(429, "Requests rate limit exceeded", "rate_limited", "1300",
                 **{"Retry-After": "7"})


SCENARIOS = {
    "text": (lambda: jreply(sim.fixture_bytes(TEXT)),
             lambda: sreply(text_lines())),
    "tool-single": (lambda: jreply(sim.fixture_bytes(CALL)),
                    lambda: sreply(sim.chunk_lines(CALL_CHUNKS))),
    "tools-parallel": (lambda: jreply(parallel_body()),
                       lambda: sreply(parallel_lines())),
    "reasoning": (lambda: jreply(text_body(thinking=THINKING)),
                  lambda: sreply(text_lines(thinking=THINKING))),
    "length": (lambda: jreply(text_body("length")),
               lambda: sreply(text_lines("length"))),
    "malformed": (lambda: jreply(sim.fixture_bytes(TEXT)[:600]),
                  malformed_stream),
    "truncated": (None, lambda: sreply(text_lines()[:5], done=False)),
    "error-429": (err_429, err_429),
    "error-500": (lambda: error(500, "Internal server error",
                                "internal_server_error"),) * 2,
    "overloaded": (lambda: error(503, "Service unavailable",
                                 "service_unavailable"),) * 2,
}


# --------------------------------------------------------------------------
# request checks
# --------------------------------------------------------------------------

def check_ids(body):
    for m in body.get("messages") or []:
        ids = [c.get("id") for c in m.get("tool_calls") or []]
        if m.get("role") == "tool":
            ids.append(m.get("tool_call_id"))
        for i in ids:
            if not isinstance(i, str) or not ID9.match(i):
                return error(400, "Tool call id was %s but must be a-z, A-Z, "
                             "0-9, with a length of 9." % i,
                             "invalid_request_message_error", "3280")
    return None


def check_fields(body):
    extra = sorted(set(body) - KNOWN)
    if extra:
        detail = [{"type": "extra_forbidden", "loc": ["body", k],
                   "msg": "Extra inputs are not permitted", "input": body[k]}
                  for k in extra]
        return sim.Reply(status=422, body=json.dumps({
            "object": "error", "message": {"detail": detail},
            "type": "invalid_request_error", "param": None,
            "code": None}).encode())
    tc = body.get("tool_choice")
    if isinstance(tc, str) and tc not in ("auto", "none", "any", "required"):
        return error(400, "Invalid tool_choice: %s" % tc,
                     "invalid_request_error")
    return None


def serve(handler, path, raw, body, query):
    if path != PREFIX + "v1/chat/completions":
        return error(404, "Not Found", "invalid_request_error")
    auth = handler.headers.get("Authorization") or ""
    key = auth[7:] if auth.startswith("Bearer ") else None
    if not key or (handler.state.keys and key not in handler.state.keys):
        return sim.Reply(status=401, body=json.dumps(
            {"message": "Unauthorized",
             "request_id": secrets.token_hex(16)}).encode())
    if not isinstance(body, dict):
        return error(400, "Invalid JSON body", "invalid_request_error")
    bad = check_fields(body) or check_ids(body)
    if bad:
        return bad
    model = body.get("model")
    build = SCENARIOS.get(model, (None, None))[1 if body.get("stream") else 0]
    if build is None:
        return error(400, "Invalid model: %s" % model, "invalid_model",
                     "1500")
    reply = build()
    reply.model = "mistral:%s" % model
    return reply
