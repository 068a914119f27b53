"""Scripted agent: POST /agent/v1/chat/completions (OpenAI Chat Completions).

`AuraProvider agent openai-compatible @SIM@/agent/v1` sends here
(tests/integration/providers/agent.conf). It stands in for a model behind
the real coding agents (Codex CLI, Claude Code) in tests/clients, so that
their tool loop runs through the gateway against a non-OpenAI, non-Anthropic
upstream:

  - no tool result follows the last assistant message and the request
    offers a shell-like tool (name shell, exec_command, local_shell,
    bash, Bash, ...) -> one call to that tool whose arguments run
    `echo hello-from-aura`, built from the tool's own JSON schema (a
    `command`/`cmd` property typed string gets the command line, typed
    array gets ["bash", "-lc", <command line>]; other required
    properties get a value of their type);
  - tool results follow the last assistant message -> a text answer
    quoting them: "The command printed: <tool output>";
  - anything else (no shell tool: title or summary side requests of the
    CLIs) -> a short fixed text answer.

Wire shape: the answers are built in the byte shape of the recorded
OpenAI transcripts (tests/fixtures/openai, SOURCES.md there):
  - JSON: `openai__chat_nonstream_parallel_tool_calls.json` /
    `openai__chat_nonstream_text.json` (chat.completion with
    choices[0].message, finish_reason, usage, system_fingerprint);
  - SSE: `openai__chat_stream_text_usage_done.sse` (role chunk with
    content "" and refusal null, content deltas, a finish chunk with an
    empty delta, then with stream_options.include_usage a `choices: []`
    usage chunk, then `data: [DONE]`) and
    `openai__chat_stream_parallel_tool_calls_usage_done.sse` (role chunk
    with content null; first tool fragment carries index, id, type and
    name with arguments ""; argument fragments; finish_reason
    tool_calls). Every chunk has id, object, created, model,
    system_fingerprint, and logprobs null per choice.
All DERIVED (no single transcript has these words); deterministic.

Usage: prompt_tokens = request body bytes / 4, completion_tokens = answer
bytes / 4 (at least 1 each). Each answer is also recorded as a simulator
event {"kind": "agent_reply", "model", "stream", "action": "tool_call" |
"final" | "text", "tool", "arguments", "text", "usage"} so tests can match
the gateway's accounting against what the upstream billed.
"""

import json
import re
import secrets

PREFIX = "/agent/"
CMD = "echo hello-from-aura"
SHELLISH = re.compile(r"(^|_)(shell|bash|exec_command|exec|run_command|"
                      r"terminal)($|_)", re.I)
CREATED = 1727346178
FINGERPRINT = "fp_5050236cbd"

sim = None


def setup(s):
    global sim
    sim = s


def match(method, path, headers):
    return method == "POST" and path.startswith(PREFIX)


def error(status, message, etype, code=None):
    return sim.Reply(status=status, body=sim.error_body(message, etype, None,
                                                        code))


# --------------------------------------------------------------------------
# the script
# --------------------------------------------------------------------------

def tool_fn(t):
    """(name, parameters) of a chat tool (nested function shape), or a
    flat one some clients send."""
    f = t.get("function") if isinstance(t.get("function"), dict) else t
    return f.get("name") or "", f.get("parameters") or {}


def shell_tool(tools):
    for t in tools or []:
        if not isinstance(t, dict):
            continue
        name, params = tool_fn(t)
        if SHELLISH.search(name):
            return name, params
    return None, None


def value_for(schema, prop):
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((x for x in typ if x != "null"), "string")
    if prop in ("command", "cmd", "commands"):
        if typ == "array":
            return ["bash", "-lc", CMD]
        return CMD
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if prop == "description":
        return "Print a greeting"
    return {"string": "", "integer": 10000, "number": 10000,
            "boolean": False, "array": [], "object": {}}.get(typ, "")


def shell_arguments(params):
    props = params.get("properties") or {}
    required = list(params.get("required") or [])
    args = {}
    for key in ("command", "cmd", "commands"):
        if key in props:
            args[key] = value_for(props[key], key)
            break
    else:
        args["command"] = CMD
    for key in required:
        if key not in args:
            args[key] = value_for(props.get(key) or {}, key)
    return args


def text_of(content):
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    out = []
    for p in content:
        if isinstance(p, dict):
            out.append(p.get("text") or "")
        elif isinstance(p, str):
            out.append(p)
    return "".join(out)


def decide(body):
    """("tool_call", name, arguments) | ("final", text) | ("text", text)."""
    msgs = body.get("messages") or []
    # Tool results after the last assistant turn (a client may add a user
    # text after them, e.g. Claude Code's reminders): answer with them.
    last_asst = max([i for i, m in enumerate(msgs)
                     if m.get("role") == "assistant"] or [-1])
    results = [text_of(m.get("content")).strip()
               for m in msgs[last_asst + 1:] if m.get("role") == "tool"]
    if results:
        return ("final", "The command printed: %s" % "\n".join(results))
    name, params = shell_tool(body.get("tools"))
    if name:
        return ("tool_call", name, shell_arguments(params))
    return ("text", "Hello from the aura agent simulator.")


# --------------------------------------------------------------------------
# wire shapes
# --------------------------------------------------------------------------

def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def usage_for(raw, answer):
    return {"prompt_tokens": max(1, len(raw) // 4),
            "completion_tokens": max(1, len(answer) // 4),
            "total_tokens": max(1, len(raw) // 4) + max(1, len(answer) // 4),
            "completion_tokens_details": {"reasoning_tokens": 0}}


def json_body(cid, model, act, call_id, usage):
    msg = {"role": "assistant", "content": None, "refusal": None}
    if act[0] == "tool_call":
        msg["tool_calls"] = [{"id": call_id, "type": "function", "function": {
            "name": act[1], "arguments": json.dumps(act[2])}}]
        finish = "tool_calls"
    else:
        msg["content"] = act[1]
        finish = "stop"
    return json.dumps({
        "id": cid, "object": "chat.completion", "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "message": msg, "logprobs": None,
                     "finish_reason": finish}],
        "usage": usage, "system_fingerprint": FINGERPRINT}).encode()


def chunk(cid, model, delta, finish=None):
    return dumps({"id": cid, "object": "chat.completion.chunk",
                  "created": CREATED, "model": model,
                  "system_fingerprint": FINGERPRINT,
                  "choices": [{"index": 0, "delta": delta, "logprobs": None,
                               "finish_reason": finish}]})


def pieces(s, n):
    return [s[i:i + n] for i in range(0, len(s), n)] or [""]


def stream_lines(cid, model, act, call_id, usage, include_usage):
    if act[0] == "tool_call":
        args = json.dumps(act[2])
        lines = [chunk(cid, model, {"role": "assistant", "content": None})]
        lines.append(chunk(cid, model, {"tool_calls": [{
            "index": 0, "id": call_id, "type": "function",
            "function": {"name": act[1], "arguments": ""}}]}))
        for p in pieces(args, 7):
            lines.append(chunk(cid, model, {"tool_calls": [{
                "index": 0, "function": {"arguments": p}}]}))
        lines.append(chunk(cid, model, {}, "tool_calls"))
    else:
        lines = [chunk(cid, model, {"role": "assistant", "content": "",
                                    "refusal": None})]
        for w in re.findall(r"\s*\S+", act[1]) or [act[1]]:
            lines.append(chunk(cid, model, {"content": w}))
        lines.append(chunk(cid, model, {}, "stop"))
    if include_usage:
        lines.append(dumps({"id": cid, "object": "chat.completion.chunk",
                            "created": CREATED, "model": model,
                            "system_fingerprint": FINGERPRINT,
                            "choices": [], "usage": usage}))
    return lines


def serve(handler, path, raw, body, query):
    if path != PREFIX + "v1/chat/completions":
        return error(404, "Invalid URL (POST %s)" % path,
                     "invalid_request_error")
    key = handler.bearer()
    if key is None or (handler.state.keys and key not in handler.state.keys):
        return sim.Reply(status=401, body=sim.invalid_key_body(key))
    if not isinstance(body, dict) or not isinstance(body.get("messages"),
                                                      list):
        return error(400, "We could not parse the JSON body of your "
                     "request.", "invalid_request_error")
    model = body.get("model") or "agent"
    act = decide(body)
    answer = act[1] if act[0] != "tool_call" else act[1] + json.dumps(act[2])
    usage = usage_for(raw, answer)
    cid = "chatcmpl-agent" + secrets.token_hex(8)
    call_id = "call_" + secrets.token_hex(12)
    stream = bool(body.get("stream"))
    handler.state.event(
        kind="agent_reply", model=model, stream=stream, action=act[0],
        tool=act[1] if act[0] == "tool_call" else None,
        arguments=act[2] if act[0] == "tool_call" else None,
        text=act[1] if act[0] != "tool_call" else None,
        call_id=call_id if act[0] == "tool_call" else None, usage=usage)
    if not stream:
        reply = sim.Reply(body=json_body(cid, model, act, call_id, usage))
    else:
        inc = bool((body.get("stream_options") or {}).get("include_usage"))
        reply = sim.Reply(events=sim.chat_frame(
            stream_lines(cid, model, act, call_id, usage, inc)))
    reply.model = model
    return reply
