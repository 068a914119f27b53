"""Google Gemini (generativelanguage API v1beta) for the provider simulator.

Answers only under /gemini/ (the test config points a provider at
@SIM@/gemini/v1beta), on the paths Gemini serves:

    POST /gemini/v1beta/models/<model>:generateContent
    POST /gemini/v1beta/models/<model>:streamGenerateContent?alt=sse

and replays the real transcripts in tests/fixtures/gemini/ (provenance in
that folder's SOURCES.md): JSON bodies verbatim, .sse files byte for byte
(Gemini frames events with CRLF: "data: <json>\\r\\n\\r\\n"). The scenario
is the <model> of the path. Every answer that is not a transcript verbatim
says DERIVED and exactly what was changed.

Auth as Gemini does it: the key in the x-goog-api-key header. No key: 403
PERMISSION_DENIED; a key the simulator was not started with: 400
API_KEY_INVALID (the recorded body). A key in the query string (?key=) is
accepted as Google accepts it, but recorded as a "gemini_key_in_url" event
so that the tests can prove the gateway never does that.

The request body is checked the way the real API checks it: unknown
fields are a 400 "Invalid JSON payload received. Unknown name ..." (the
error Google's JSON mapping gives), so an encoder mistake fails loudly.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures",
                                         "gemini"))
PREFIX = "/gemini/"
JSON_CT = "application/json; charset=UTF-8"
SSE_CT = "text/event-stream"

sim = None


def setup(module):
    global sim
    sim = module


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def sse_events(data):
    """A Gemini .sse body split into its events (CRLF framing); joined
    they give the file back byte for byte."""
    out, start = [], 0
    while start < len(data):
        end = data.find(b"\r\n\r\n", start)
        end = len(data) if end < 0 else end + 4
        out.append(data[start:end])
        start = end
    return out


def frame(obj):
    """One event as Gemini frames it (compact JSON, as its .sse files)."""
    return b"data: " + json.dumps(obj, separators=(",", ":"),
                                  ensure_ascii=False).encode() + b"\r\n\r\n"


def google_error(code, message, status, details=None):
    """Google's error envelope, pretty-printed as the recorded bodies are."""
    err = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return json.dumps({"error": err}, indent=2).encode() + b"\n"


# --------------------------------------------------------------------------
# transcripts and what is derived from them
# --------------------------------------------------------------------------

TEXT_JSON = "gemini__generate_content_text.json"
TEXT_SSE = "gemini__stream_generate_content_text.sse"
THINK_JSON = "gemini__generate_content_thinking_function_call.json"
THINK_SSE = "gemini__stream_generate_content_thinking_function_call.sse"
PARALLEL_JSON = "vertex_gemini__generate_content_parallel_function_calls.json"
CACHED_JSON = "vertex_gemini__generate_content_implicit_caching.json"
MIDSTREAM = "vertex_gemini__stream_error_mid_stream.txt"


def one_event(name):
    # DERIVED: a non-stream transcript sent as a one-event stream (Gemini
    # streams the same GenerateContentResponse objects), compact JSON.
    return [frame(json.loads(fixture(name)))]


def text_finish(reason):
    def build(stream, req):
        # DERIVED: the text transcripts with finishReason "STOP" → reason.
        if stream:
            ev = sse_events(fixture(TEXT_SSE))
            ev[-1] = ev[-1].replace(b'"finishReason": "STOP"',
                                    b'"finishReason": "%s"' % reason.encode())
            return sim.Reply(events=ev, content_type=SSE_CT)
        return json_ok(fixture(TEXT_JSON).replace(
            b'"finishReason": "STOP"',
            b'"finishReason": "%s"' % reason.encode()))
    return build


def blocked(stream, req):
    # DERIVED: the text transcript's usage and modelVersion, its candidates
    # replaced by the promptFeedback Gemini sends for a blocked prompt.
    doc = json.loads(fixture(TEXT_JSON))
    doc.pop("candidates")
    doc["promptFeedback"] = {"blockReason": "SAFETY"}
    doc["usageMetadata"] = {"promptTokenCount": 7, "totalTokenCount": 7}
    if stream:
        return sim.Reply(events=[frame(doc)], content_type=SSE_CT)
    return json_ok(json.dumps(doc, indent=2).encode() + b"\n")


def first_tool_name(req):
    for t in req.get("tools") or []:
        for d in t.get("functionDeclarations") or []:
            return d.get("name") or "unnamed"
    return "no_tools_in_request"


def echo_tools(stream, req):
    # DERIVED: the thinking + call transcripts with the call's name "now"
    # replaced by the request's first declared function.
    name = json.dumps(first_tool_name(req)).encode()
    if stream:
        ev = [e.replace(b'"functionCall": {"name": "now"',
                        b'"functionCall": {"name": ' + name)
              for e in sse_events(fixture(THINK_SSE))]
        return sim.Reply(events=ev, content_type=SSE_CT)
    return json_ok(fixture(THINK_JSON).replace(b'"name": "now"',
                                               b'"name": ' + name))


def malformed(stream, req):
    if stream:
        # DERIVED: the text stream with, after its first event, an event
        # whose JSON is cut 40 bytes in; the rest follows.
        ev = sse_events(fixture(TEXT_SSE))
        bad = ev[1][:len(b"data: ") + 40] + b"\r\n\r\n"
        return sim.Reply(events=ev[:1] + [bad] + ev[1:], content_type=SSE_CT)
    # DERIVED: the first half of the text body (honest Content-Length).
    b = fixture(TEXT_JSON)
    return json_ok(b[:len(b) // 2])


def truncated(stream, req):
    if stream:
        # DERIVED: the first 2 of the text stream's 3 events (no
        # finishReason), then a clean end of body.
        return sim.Reply(events=sse_events(fixture(TEXT_SSE))[:2],
                         content_type=SSE_CT)
    b = fixture(TEXT_JSON)
    return sim.Reply(body=b[:len(b) // 2], content_length=len(b),
                     close_after_body=True, content_type=JSON_CT)


def json_ok(body):
    return sim.Reply(body=body, content_type=JSON_CT)


def verbatim(json_name, sse_name=None, sse_events_fn=None):
    def build(stream, req):
        if not stream:
            return json_ok(fixture(json_name))
        if sse_name:
            return sim.Reply(events=sse_events(fixture(sse_name)),
                             content_type=SSE_CT)
        return sim.Reply(events=sse_events_fn(), content_type=SSE_CT)
    return build


def err_429(stream, req):
    # The recorded 429 body; no Retry-After header: Gemini names the wait
    # only in RetryInfo.retryDelay (see tests/fixtures/gemini/SOURCES.md).
    return sim.Reply(status=429, body=fixture(
        "gemini__error_429_retry_info.json"), content_type=JSON_CT)


def err_429_quota(stream, req):
    return sim.Reply(status=429, body=fixture(
        "vertex_gemini__error_429_quota_exceeded.json"), content_type=JSON_CT)


def err_500(stream, req):
    # Gemini's 500 text as quoted in public reports (google-gemini/gemini-cli
    # #3665, #5125); shape of the recorded errors.
    return sim.Reply(status=500, body=google_error(
        500, "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
        "INTERNAL"), content_type=JSON_CT)


def err_503(stream, req):
    # Gemini's overload answer as quoted in public reports (google-gemini/
    # gemini-cli #4360, #5191; lobehub/lobehub #9728).
    return sim.Reply(status=503, body=google_error(
        503, "The model is overloaded. Please try again later.",
        "UNAVAILABLE"), content_type=JSON_CT)


def midstream(stream, req):
    if not stream:
        return None
    # The Vertex mock verbatim: two LF-framed events, then a bare error.
    data = fixture(MIDSTREAM)
    cut = data.index(b"\n{")
    first = data.index(b"\n\n") + 2
    return sim.Reply(events=[data[:first], data[first:cut + 1],
                             data[cut + 1:]], content_type=SSE_CT)


SCENARIOS = {
    "text": verbatim(TEXT_JSON, TEXT_SSE),
    "json": verbatim(TEXT_JSON, TEXT_SSE),
    "tool-single": verbatim(THINK_JSON, THINK_SSE),
    "reasoning": verbatim(THINK_JSON, THINK_SSE),
    "tools-parallel": verbatim(PARALLEL_JSON,
                               sse_events_fn=lambda: one_event(PARALLEL_JSON)),
    "cached": verbatim(CACHED_JSON,
                       sse_events_fn=lambda: one_event(CACHED_JSON)),
    # the registry's own model id (conf/models/gemini.json prices it)
    "gemini-2.5-flash": verbatim(CACHED_JSON,
                                 sse_events_fn=lambda: one_event(CACHED_JSON)),
    "echo-tools": echo_tools,
    "length": text_finish("MAX_TOKENS"),
    "safety": text_finish("SAFETY"),
    "blocked": blocked,
    "malformed": malformed,
    "truncated": truncated,
    "midstream-error": midstream,
    "error-429": err_429,
    "error-429-quota": err_429_quota,
    "error-500": err_500,
    "overloaded": err_503,
    "error-503": err_503,
}


def paced(stream, req):
    r = SCENARIOS["text"](stream, req)
    r.pace = 0.15
    return r


SCENARIOS["paced"] = paced


# --------------------------------------------------------------------------
# request checks, as the real API makes them
# --------------------------------------------------------------------------

TOP = {"contents", "tools", "toolConfig", "safetySettings",
       "systemInstruction", "generationConfig", "cachedContent"}
GENCFG = {"stopSequences", "responseMimeType", "responseSchema",
          "responseJsonSchema", "candidateCount", "maxOutputTokens",
          "temperature", "topP", "topK", "seed", "presencePenalty",
          "frequencyPenalty", "responseLogprobs", "logprobs",
          "thinkingConfig", "responseModalities", "mediaResolution"}
THINKCFG = {"thinkingBudget", "includeThoughts", "thinkingLevel"}
PART = {"text", "inlineData", "fileData", "functionCall", "functionResponse",
        "thought", "thoughtSignature", "executableCode",
        "codeExecutionResult", "videoMetadata"}
DECL = {"name", "description", "parameters", "parametersJsonSchema",
        "response", "responseJsonSchema", "behavior"}


def unknown_fields(body):
    """(path, name) of the first field the API would not know, or None."""
    def check(obj, allowed, path):
        if not isinstance(obj, dict):
            return None
        for k in obj:
            if k not in allowed:
                return (path, k)
        return None

    found = check(body, TOP, "")
    if found:
        return found
    gc = body.get("generationConfig") or {}
    found = check(gc, GENCFG, "generation_config") or check(
        gc.get("thinkingConfig") or {}, THINKCFG,
        "generation_config.thinking_config")
    if found:
        return found
    for i, c in enumerate(body.get("contents") or []):
        if c.get("role") not in ("user", "model"):
            return ("contents[%d].role" % i, "role=%r" % c.get("role"))
        for j, p in enumerate(c.get("parts") or []):
            found = check(p, PART, "contents[%d].parts[%d]" % (i, j))
            if found:
                return found
    for i, t in enumerate(body.get("tools") or []):
        for j, d in enumerate(t.get("functionDeclarations") or []):
            found = check(d, DECL, "tools[%d].function_declarations[%d]"
                          % (i, j))
            if found:
                return found
    return None


def bad_request(message):
    return sim.Reply(status=400, body=google_error(400, message,
                                                   "INVALID_ARGUMENT"),
                     content_type=JSON_CT)


# --------------------------------------------------------------------------
# the plugin interface
# --------------------------------------------------------------------------

def match(method, path, headers):
    return path.startswith(PREFIX)


def parse_path(path):
    """/gemini/v1beta/models/<model>:<method> → (model, method) or None."""
    rest = path[len(PREFIX):]
    if not rest.startswith("v1beta/models/") or ":" not in rest:
        return None
    model, _, method = rest[len("v1beta/models/"):].rpartition(":")
    return model, method


def check_key(handler, query):
    if "key=" in query:
        handler.state.event(kind="gemini_key_in_url", path=handler.path)
    key = handler.headers.get("x-goog-api-key")
    if not key:
        return sim.Reply(status=403, body=google_error(
            403, "Method doesn't allow unregistered callers (callers without "
            "established identity). Please use API Key or other form of API "
            "consumer identity to call this API.", "PERMISSION_DENIED"),
            content_type=JSON_CT)
    if handler.state.keys and key not in handler.state.keys:
        # DERIVED: the recorded API_KEY_INVALID body, its DebugInfo naming
        # the key that was sent (the recording shows "key1234" there).
        body = fixture("gemini__error_400_api_key_invalid.json").replace(
            b"key1234", key.encode())
        return sim.Reply(status=400, body=body, content_type=JSON_CT)
    return None


def serve(handler, path, raw, body, query):
    parsed = parse_path(path)
    if not parsed or parsed[1] not in ("generateContent",
                                       "streamGenerateContent"):
        r = sim.Reply(status=404, body=b"<!DOCTYPE html>\n<html lang=en>"
                      b"<title>Error 404 (Not Found)!!1</title><p>The "
                      b"requested URL <code>" + path.encode() +
                      b"</code> was not found on this server.</p></html>\n",
                      content_type="text/html; charset=UTF-8")
        r.model = path
        return r
    model, method = parsed
    stream = method == "streamGenerateContent"
    reply = check_key(handler, query)
    if reply is None:
        reply = build(model, stream, body, query)
    reply.model = "gemini/" + model
    if (reply.events is None and reply.content_length is None
            and not reply.first_byte_delay):
        # Google's headers, not the OpenAI ones deliver() adds.
        handler.send_json(reply.status, reply.body, reply.headers,
                          content_type=reply.content_type, extra_only=True)
        return None
    return reply


def build(model, stream, body, query):
    if stream and "alt=sse" not in query:
        return bad_request("simulator: streamGenerateContent is served only "
                           "with ?alt=sse here (the gateway must ask for SSE)")
    if not isinstance(body, dict) or not body.get("contents"):
        return bad_request("* GenerateContentRequest.contents: contents is "
                           "not specified")
    found = unknown_fields(body)
    if found:
        return bad_request("Invalid JSON payload received. Unknown name "
                           "\"%s\" at '%s': Cannot find field."
                           % (found[1], found[0]))
    builder = SCENARIOS.get(model)
    reply = builder(stream, body) if builder else None
    if reply is None:
        return sim.Reply(status=404, body=google_error(
            404, "models/%s is not found for API version v1beta, or is not "
            "supported for %s. Call ListModels to see the list of available "
            "models and their supported methods."
            % (model, "streamGenerateContent" if stream
               else "generateContent"), "NOT_FOUND"), content_type=JSON_CT)
    return reply
