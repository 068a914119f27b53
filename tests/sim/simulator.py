#!/usr/bin/python3
"""OpenAI wire-format provider simulator for the mod_aura integration tests.

Replays the verbatim transcripts in tests/fixtures/openai/ over HTTP/1.1
(keep-alive; Content-Length for JSON, chunked transfer for streams) on
loopback. The scenario is picked by the request body's "model" (the
upstream model id the gateway sends); stream vs. non-stream by "stream".
See tests/sim/README.md for the scenario table and each scenario's source.

    /usr/bin/python3 tests/sim/simulator.py --port 0 --port-file F [--key K]...

Control endpoints (no auth):
    GET    /_sim/requests   received requests [{path, method, headers, body}]
    DELETE /_sim/requests   clear them
    GET    /_sim/events     notable events, e.g. {"kind":"client_disconnected",
                            "model":..,"sent":N,"t":unix}
    DELETE /_sim/events     clear them
    GET    /_sim/health     {"ok":true}

Standard library only.
"""

import argparse
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures", "openai"))

CHAT = "chat"
RESP = "responses"


# --------------------------------------------------------------------------
# Fixture loading and framing
# --------------------------------------------------------------------------

def fixture_bytes(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def sse_file_events(name):
    """A verbatim .sse file split into events; joining them gives the file
    back byte for byte (each event keeps its trailing blank line)."""
    data = fixture_bytes(name)
    events = []
    start = 0
    while start < len(data):
        end = data.find(b"\n\n", start)
        end = len(data) if end < 0 else end + 2
        events.append(data[start:end])
        start = end
    return events


def chunk_lines(name):
    """The payload lines of a "C"-fidelity chunks file (framing stripped)."""
    return [l for l in fixture_bytes(name).split(b"\n") if l.strip()]


def chat_frame(lines, done=True):
    """Re-frame chat.completion.chunk payloads as OpenAI sends them."""
    events = [b"data: " + l + b"\n\n" for l in lines]
    if done:
        events.append(b"data: [DONE]\n\n")
    return events


def resp_frame(lines):
    """Frame Responses API events as OpenAI sends them: event + data."""
    out = []
    for l in lines:
        etype = json.loads(l)["type"].encode()
        out.append(b"event: " + etype + b"\ndata: " + l + b"\n\n")
    return out


def tgi_lines(name):
    """TGI snapshot files are JSON arrays of parsed chunks (fidelity R);
    re-serialize each chunk compactly (keys already sorted by the
    snapshot serializer)."""
    return [json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode()
            for c in json.loads(fixture_bytes(name))]


def responses_streams(name):
    """Split a chunks file holding several consecutive Responses streams
    (each starting at response.created) into a list of line lists."""
    streams = []
    for l in chunk_lines(name):
        if json.loads(l)["type"] == "response.created":
            streams.append([])
        streams[-1].append(l)
    return streams


AGENT = "openai__responses_stream_reasoning_function_call_chunks.txt"
CHAT_TEXT_JSON = "openai__chat_nonstream_text.json"
CHAT_TEXT_SSE = "openai__chat_stream_text_usage_done.sse"
RESP_TEXT_JSON = "openai__responses_nonstream_text.json"
OBFUSCATION = "openai__chat_stream_usage_details_obfuscation_chunks.txt"


def resp_text_stream():
    # Stream 4 of the agent transcript: a plain text message answer.
    return resp_frame(responses_streams(AGENT)[3])


def resp_stream_n(n):
    return resp_frame(responses_streams(AGENT)[n])


# --------------------------------------------------------------------------
# Scenarios: model -> {(api, stream): builder}
# A builder takes the parsed request body and returns a Reply.
# --------------------------------------------------------------------------

class Reply:
    def __init__(self, status=200, body=b"", events=None, headers=None,
                 pace=0.0, first_byte_delay=0.0, stall_after=None,
                 stall_for=0.0, content_length=None, close_after_body=False,
                 content_type=None):
        self.status = status
        # stream media type (SSE unless a provider says otherwise), or the
        # body's for non-stream replies
        self.content_type = content_type
        self.body = body              # non-stream body
        self.events = events          # stream: list of byte strings
        self.headers = headers or {}
        self.pace = pace              # seconds between stream events
        self.first_byte_delay = first_byte_delay
        self.stall_after = stall_after  # stall after this many events
        self.stall_for = stall_for
        self.content_length = content_length  # lie about the length
        self.close_after_body = close_after_body


def json_reply(body, status=200, headers=None):
    return Reply(status=status, body=body, headers=headers)


def stream_reply(events, **kw):
    return Reply(events=events, **kw)


def error_body(message, etype, param=None, code=None):
    return json.dumps({"error": {"message": message, "type": etype,
                                 "param": param, "code": code}},
                      indent=2).encode() + b"\n"


def err_429(_req):
    return json_reply(fixture_bytes("openai__error_429_insufficient_quota.json"),
                      status=429, headers={"Retry-After": "7"})


def err_400(_req):
    return json_reply(fixture_bytes("openai__error_400_unsupported_parameter.json"),
                      status=400)


def err_500(_req):
    # Message text: OpenAI error-codes guide, "500 - The server had an error
    # while processing your request"; shape as the 429/400 fixtures.
    return json_reply(error_body(
        "The server had an error while processing your request. "
        "Sorry about that!", "server_error"), status=500)


def invalid_key_body(key):
    """OpenAI's 401 for a wrong key (error-codes guide: "401 - Incorrect API
    key provided"); the message echoes a masked key, as OpenAI's does."""
    if key:
        masked = key[:8] + "*" * max(len(key) - 12, 4) + key[-4:]
        msg = ("Incorrect API key provided: %s. You can find your API key at "
               "https://platform.openai.com/account/api-keys." % masked)
    else:
        msg = ("You didn't provide an API key. You need to provide your API "
               "key in an Authorization header using Bearer auth (i.e. "
               "Authorization: Bearer YOUR_KEY). You can obtain an API key "
               "from https://platform.openai.com/account/api-keys.")
    return error_body(msg, "invalid_request_error", None,
                      "invalid_api_key" if key else None)


def err_401(req):
    return json_reply(invalid_key_body(req.get("_key") or "sk-unknown-0000"),
                      status=401)


def fixed(builder_value):
    return lambda _req: builder_value()


def with_delay(inner, **kw):
    def build(req):
        r = inner(req)
        for k, v in kw.items():
            setattr(r, k, v)
        return r
    return build


def derive_length_chat(_req):
    # DERIVED: the text transcript with finish_reason "stop" -> "length".
    b = fixture_bytes(CHAT_TEXT_JSON).replace(b'"finish_reason": "stop"',
                                              b'"finish_reason": "length"')
    return json_reply(b)


def derive_length_resp(_req):
    # DERIVED: the Responses text transcript marked incomplete the way OpenAI
    # marks a max_output_tokens cut (status, incomplete_details, item status).
    b = fixture_bytes(RESP_TEXT_JSON)
    b = b.replace(b'"status": "completed", "background"',
                  b'"status": "incomplete", "background"')
    b = b.replace(b'"incomplete_details": null',
                  b'"incomplete_details": {"reason": "max_output_tokens"}')
    b = b.replace(b'"type": "message", "status": "completed"',
                  b'"type": "message", "status": "incomplete"')
    return json_reply(b)


def first_tool_name(req):
    tools = req.get("tools") or []
    if not tools:
        return "no_tools_in_request"
    t = tools[0]
    return (t.get("function") or {}).get("name") or t.get("name") or "unnamed"


def echo_tools_chat(req):
    # DERIVED: mistral__chat_nonstream_tool_call.json with the function name
    # replaced by the request's first tool name.
    doc = json.loads(fixture_bytes("mistral__chat_nonstream_tool_call.json"))
    doc["choices"][0]["message"]["tool_calls"][0]["function"]["name"] = \
        first_tool_name(req)
    return json_reply(json.dumps(doc, indent=2).encode())


def echo_tools_chat_stream(req):
    name = json.dumps(first_tool_name(req)).encode()
    lines = [l.replace(b'"name":"weather"', b'"name":' + name)
             for l in chunk_lines("mistral__chat_stream_tool_call_chunks.txt")]
    return stream_reply(chat_frame(lines))


def echo_tools_resp_stream(req):
    # DERIVED: agent stream 2 (one function_call "calculator") renamed.
    name = json.dumps(first_tool_name(req)).encode()
    lines = [l.replace(b'"name":"calculator"', b'"name":' + name)
             for l in responses_streams(AGENT)[1]]
    return stream_reply(resp_frame(lines))


def malformed_json(name):
    def build(_req):
        b = fixture_bytes(name)
        return json_reply(b[:len(b) // 2])   # cut mid-document; honest length
    return build


def malformed_stream(events_fn):
    def build(_req):
        ev = events_fn()
        good = ev[:3]
        broken = ev[3]
        cut = broken.index(b"data: ") + 6 + 40   # 40 bytes into the JSON
        bad = broken[:cut] + b"\n\n"
        return stream_reply(good + [bad] + ev[3:])
    return build


def truncated_stream(events_fn, keep):
    return lambda _req: stream_reply(events_fn()[:keep])


def truncated_json(name):
    def build(_req):
        b = fixture_bytes(name)
        return Reply(body=b[:len(b) // 2], content_length=len(b),
                     close_after_body=True)
    return build


def chat_text_events():
    return sse_file_events(CHAT_TEXT_SSE)


def slow_chat_events():
    # DERIVED: the first 38 chunks of the obfuscation transcript plus its
    # last two (finish chunk, usage chunk): 40 events, then [DONE].
    lines = chunk_lines(OBFUSCATION)
    return chat_frame(lines[:38] + lines[-2:])


SCENARIOS = {
    "text": {
        (CHAT, False): lambda r: json_reply(fixture_bytes(CHAT_TEXT_JSON)),
        (CHAT, True): lambda r: stream_reply(chat_text_events()),
        (RESP, False): lambda r: json_reply(fixture_bytes(RESP_TEXT_JSON)),
        (RESP, True): lambda r: stream_reply(resp_text_stream()),
    },
    "tools-parallel": {
        (CHAT, False): lambda r: json_reply(fixture_bytes(
            "openai__chat_nonstream_parallel_tool_calls.json")),
        (CHAT, True): lambda r: stream_reply(sse_file_events(
            "openai__chat_stream_parallel_tool_calls_usage_done.sse")),
    },
    "tool-single": {
        (CHAT, False): lambda r: json_reply(fixture_bytes(
            "mistral__chat_nonstream_tool_call.json")),
        (CHAT, True): lambda r: stream_reply(chat_frame(chunk_lines(
            "mistral__chat_stream_tool_call_chunks.txt"))),
        (RESP, True): lambda r: stream_reply(resp_stream_n(1)),
    },
    "tool-tgi": {
        (CHAT, True): lambda r: stream_reply(chat_frame(tgi_lines(
            "tgi__chat_stream_tool_call_chunks.json"))),
    },
    "reasoning-tool": {
        (RESP, True): lambda r: stream_reply(resp_stream_n(0)),
    },
    "usage-details": {
        (CHAT, False): lambda r: json_reply(fixture_bytes(
            "openai__chat_nonstream_usage_details_docs_example.json")),
        (CHAT, True): lambda r: stream_reply(chat_frame(chunk_lines(
            OBFUSCATION))),
    },
    "reasoning": {
        (CHAT, True): lambda r: stream_reply(chat_frame(chunk_lines(
            "azure_openai__chat_stream_reasoning_tokens_chunks.txt"))),
        (RESP, False): lambda r: json_reply(fixture_bytes(
            "openai__responses_nonstream_reasoning.json")),
        (RESP, True): lambda r: stream_reply(resp_frame(chunk_lines(
            "openai__responses_stream_cached_reasoning_tokens_chunks.txt"))),
    },
    "n3": {
        (CHAT, True): lambda r: stream_reply(sse_file_events(
            "openai__chat_stream_n3_choices_usage_done.sse")),
    },
    "mistral-text": {
        (CHAT, False): lambda r: json_reply(fixture_bytes(
            "mistral__chat_nonstream_text.json")),
    },
    "json": {   # replays the text transcripts unchanged (see README)
        (CHAT, False): lambda r: json_reply(fixture_bytes(CHAT_TEXT_JSON)),
        (CHAT, True): lambda r: stream_reply(chat_text_events()),
        (RESP, False): lambda r: json_reply(fixture_bytes(RESP_TEXT_JSON)),
        (RESP, True): lambda r: stream_reply(resp_text_stream()),
    },
    "length": {
        (CHAT, False): derive_length_chat,
        (CHAT, True): lambda r: stream_reply(chat_frame(tgi_lines(
            "tgi__chat_stream_usage_chunks.json"))),
        (RESP, False): derive_length_resp,
    },
    "echo-tools": {
        (CHAT, False): echo_tools_chat,
        (CHAT, True): echo_tools_chat_stream,
        (RESP, True): echo_tools_resp_stream,
    },
    "malformed": {
        (CHAT, False): malformed_json(CHAT_TEXT_JSON),
        (CHAT, True): malformed_stream(chat_text_events),
        (RESP, False): malformed_json(RESP_TEXT_JSON),
        (RESP, True): malformed_stream(resp_text_stream),
    },
    "truncated": {
        (CHAT, False): truncated_json(CHAT_TEXT_JSON),
        (CHAT, True): truncated_stream(chat_text_events, 10),
        (RESP, False): truncated_json(RESP_TEXT_JSON),
        (RESP, True): truncated_stream(resp_text_stream, 8),
    },
    "slow-first-byte": {},   # filled below: "text" after 5 s
    "stall": {},             # "text" stream, 10 s pause after 2 events
    "paced": {},             # "text" stream, 150 ms between events
    "slow-stream": {
        (CHAT, True): lambda r: stream_reply(slow_chat_events(), pace=0.1),
        (RESP, True): lambda r: stream_reply(resp_stream_n(0), pace=0.1),
    },
}

def chat_events_without_usage():
    # DERIVED: the text stream transcript without its include_usage chunk
    # (the one with "choices":[]), as a server that ignores stream_options
    # sends it.
    return [e for e in chat_text_events() if b'"choices":[]' not in e]


def stream_error_as_json(_req):
    # DERIVED: OpenAI's error envelope (see err_500) sent with status 200 and
    # application/json to a stream request, as some compatible servers do.
    return json_reply(json.dumps({"error": {
        "message": "model overloaded, retry later", "type": "server_error",
        "param": None, "code": "overloaded"}}).encode())


# A server that ignores "stream": the non-stream text transcript, verbatim.
SCENARIOS["stream-as-json"] = {
    (CHAT, True): lambda r: json_reply(fixture_bytes(CHAT_TEXT_JSON))}
SCENARIOS["stream-error-200"] = {(CHAT, True): stream_error_as_json}
SCENARIOS["no-usage"] = {
    (CHAT, True): lambda r: stream_reply(chat_events_without_usage())}

# A chat-only model (what a registry entry with "api": "chat" describes):
# the "text" chat transcripts, and no Responses API at all.
SCENARIOS["text-chat"] = {k: b for k, b in SCENARIOS["text"].items()
                          if k[0] == CHAT}

for _k, _b in SCENARIOS["text"].items():
    SCENARIOS["slow-first-byte"][_k] = with_delay(_b, first_byte_delay=5.0)
    if _k[1]:
        SCENARIOS["stall"][_k] = with_delay(_b, stall_after=2, stall_for=10.0)
        SCENARIOS["paced"][_k] = with_delay(_b, pace=0.15)

for _api in (CHAT, RESP):
    for _s in (False, True):
        SCENARIOS.setdefault("error-429", {})[(_api, _s)] = err_429
        SCENARIOS.setdefault("error-400", {})[(_api, _s)] = err_400
        SCENARIOS.setdefault("error-500", {})[(_api, _s)] = err_500
        SCENARIOS.setdefault("error-401", {})[(_api, _s)] = err_401


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------

class State:
    def __init__(self, keys):
        self.keys = keys
        self.lock = threading.Lock()
        self.requests = []
        self.events = []

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)

    def event(self, **kw):
        kw.setdefault("t", time.time())
        with self.lock:
            self.events.append(kw)


class ClientGone(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aura-sim/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("sim: " + (fmt % args) + "\n")

    @property
    def state(self):
        return self.server.state

    # -- plumbing ----------------------------------------------------------

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def write(self, data):
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                OSError) as e:
            raise ClientGone(str(e))

    def guarded(self, fn):
        try:
            fn()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                OSError) as e:
            raise ClientGone(str(e))

    def send_json(self, status, body, extra=None, content_length=None,
                  close=False, content_type=None, extra_only=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/json")
        self.send_header("Content-Length",
                         str(len(body) if content_length is None
                             else content_length))
        if not extra_only:
            self.send_header("x-request-id", "req_" + secrets.token_hex(16))
            self.send_header("openai-processing-ms", "42")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.guarded(self.end_headers)
        self.write(body)

    def control_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # -- control API -------------------------------------------------------

    def control(self, method):
        path = self.path.split("?")[0]
        if path == "/_sim/health":
            return self.control_json(200, {"ok": True})
        if path in ("/_sim/requests", "/_sim/events"):
            attr = "requests" if path.endswith("requests") else "events"
            with self.state.lock:
                if method == "DELETE":
                    setattr(self.state, attr, [])
                    out = {"cleared": True}
                else:
                    out = list(getattr(self.state, attr))
            return self.control_json(200, out)
        return self.control_json(404, {"error": "no such control path"})

    def do_GET(self):
        if self.path.startswith("/_sim/"):
            return self.control("GET")
        self.send_json(404, error_body("Invalid URL (GET %s)" % self.path,
                                       "invalid_request_error"))

    def do_DELETE(self):
        if self.path.startswith("/_sim/"):
            return self.control("DELETE")
        self.send_json(404, error_body("Invalid URL (DELETE %s)" % self.path,
                                       "invalid_request_error"))

    # -- the API -----------------------------------------------------------

    def do_POST(self):
        raw = self.read_body()
        path = self.path.split("?")[0]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.state.record({
            "path": path,
            "method": "POST",
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body if body is not None else raw.decode("utf-8", "replace"),
            "t": time.time(),
        })
        try:
            self.serve_api(path, raw, body)
        except ClientGone:
            self.close_connection = True

    def serve_api(self, path, raw, body):
        # Other providers' wire formats: tests/sim/providers/<name>.py, each
        # with match(method, path, headers) and serve(handler, path, raw,
        # body, query) returning a Reply (or None when it answered itself).
        query = self.path.partition("?")[2]
        for plugin in PLUGINS:
            if plugin.match("POST", path, self.headers):
                reply = plugin.serve(self, path, raw, body, query)
                if reply is not None:
                    self.deliver(getattr(reply, "model", path), reply)
                return
        api = {"/v1/chat/completions": CHAT, "/v1/responses": RESP}.get(path)
        if api is None:
            return self.send_json(404, error_body(
                "Invalid URL (POST %s)" % path, "invalid_request_error"))
        key = self.bearer()
        if key is None or (self.state.keys and key not in self.state.keys):
            return self.send_json(401, invalid_key_body(key))
        if not isinstance(body, dict):
            return self.send_json(400, error_body(
                "We could not parse the JSON body of your request. (HINT: "
                "This likely means you aren't using your HTTP library "
                "correctly. The OpenAI API expects a JSON payload, but what "
                "was sent was not valid JSON.)", "invalid_request_error"))
        model = body.get("model")
        stream = bool(body.get("stream"))
        builder = SCENARIOS.get(model, {}).get((api, stream))
        if builder is None:
            # OpenAI answers an unknown model with 404 model_not_found.
            return self.send_json(404, error_body(
                "The model `%s` does not exist or you do not have access to "
                "it. (simulator: no %s %s scenario for this model)"
                % (model, api, "stream" if stream else "non-stream"),
                "invalid_request_error", None, "model_not_found"))
        body["_key"] = key
        reply = builder(body)
        body.pop("_key", None)
        self.deliver(model, reply)

    def bearer(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            return None
        return auth[len("Bearer "):].strip() or None

    def deliver(self, model, reply):
        if reply.first_byte_delay:
            time.sleep(reply.first_byte_delay)
        if reply.events is None:
            try:
                self.send_json(reply.status, reply.body, reply.headers,
                               content_length=reply.content_length,
                               close=reply.close_after_body,
                               content_type=reply.content_type)
            except ClientGone:
                self.state.event(kind="client_disconnected", model=model,
                                 sent=0)
                raise
            return
        self.stream(model, reply)

    def stream(self, model, reply):
        sent = 0
        started = time.time()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type
                             or "text/event-stream; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("x-request-id", "req_" + secrets.token_hex(16))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.guarded(self.end_headers)
            for i, ev in enumerate(reply.events):
                if i and reply.pace:
                    time.sleep(reply.pace)
                if reply.stall_after is not None and i == reply.stall_after:
                    time.sleep(reply.stall_for)
                self.write(b"%x\r\n" % len(ev) + ev + b"\r\n")
                sent += 1
            self.write(b"0\r\n\r\n")
        except ClientGone as e:
            self.state.event(kind="client_disconnected", model=model,
                             sent=sent, total=len(reply.events),
                             elapsed=round(time.time() - started, 3),
                             error=str(e))
            raise
        self.state.event(kind="stream_completed", model=model, sent=sent,
                         elapsed=round(time.time() - started, 3))


def load_plugins():
    """tests/sim/providers/*.py, in name order. Each module gets this module
    (Reply, fixture helpers) as `sim` before its setup(sim) is called."""
    import importlib.util
    d = os.path.join(HERE, "providers")
    out = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if not name.endswith(".py") or name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(
            "sim_provider_" + name[:-3], os.path.join(d, name))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if hasattr(mod, "setup"):
            mod.setup(sys.modules[__name__])
        out.append(mod)
    return out


PLUGINS = []


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--key", action="append", default=[],
                    help="accepted API key (repeatable); default: any key")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("loopback only")
    PLUGINS.extend(load_plugins())
    srv = Server((args.host, args.port), Handler)
    srv.state = State(set(args.key))
    srv.verbose = args.verbose
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    sys.stderr.write("sim: listening on %s:%d\n" % (args.host, port))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
