"""Integration harness: a provider simulator plus a real httpd with mod_aura.

Session fixtures:
  sim      the OpenAI wire-format simulator (tests/sim/simulator.py)
  gw       httpd (/usr/sbin/apache2) running conf/httpd.conf.in with the
           module at $AURA_MODULE (default: build/.libs/mod_aura.so, the
           scripts/test build, else mod_aura/.libs/mod_aura.so) and
           a generated conf.d/test.conf pointing providers at the simulator
  H        this module (helpers: stream checks, schema validation, fixture
           readers), so test files need no imports from here

  pg_server  a throwaway PostgreSQL (initdb in the session's temp dir, a
           free TCP port on 127.0.0.1 and a unix socket in its directory)
  pg         the same server with the migrations applied by
           `aura-admin migrate` (database "aura")
  tgw        a second httpd in tenant mode: mod_aura with AuraDatabase,
           virtual keys, the usage spool, and the admin console CGI at
           /aura-admin behind Basic auth (superadmin "admin")

Without a built module the gateway tests are skipped (the simulator tests
still run); if AURA_MODULE is set explicitly and the file is missing, they
fail instead, so a CI run can never pass by skipping. The same holds for
the admin program (AURA_ADMIN, default build/aura-admin) and the tenant
fixtures.
"""

import base64
import contextlib
import glob
import grp
import html.parser
import http.client
import itertools
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

try:
    import jsonschema
except ImportError:  # pragma: no cover - Debian python3-jsonschema
    jsonschema = None

REPO = Path(__file__).resolve().parents[2]
FIXDIR = REPO / "tests" / "fixtures" / "openai"
SIM_SCRIPT = REPO / "tests" / "sim" / "simulator.py"
SPEC = REPO / "tests" / "spec" / "openresponses-openapi.json"
MODELS_TEST = REPO / "tests" / "integration" / "models-test.json"
TEMPLATE = REPO / "conf" / "httpd.conf.in"
APACHE = os.environ.get("AURA_HTTPD", "/usr/sbin/apache2")
MODDIR = os.environ.get("AURA_MODDIR", "/usr/lib/apache2/modules")

OPENAI_KEY = "sk-test-openai-0000"
SIM_KEY = "sk-test-sim-0000"
SECRETS = (OPENAI_KEY, SIM_KEY)

TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def H_module():
    return sys.modules[__name__]


@pytest.fixture(scope="session")
def H():
    return H_module()


# --------------------------------------------------------------------------
# small utilities
# --------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, deadline):
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def fixture_bytes(name):
    return (FIXDIR / name).read_bytes()


def fixture_json(name):
    return json.loads(fixture_bytes(name))


def chat_sse_chunks(name):
    """The chat.completion.chunk objects of a verbatim .sse fixture."""
    out = []
    for line in fixture_bytes(name).decode().split("\n"):
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def chat_chunk_lines(name):
    return [json.loads(l) for l in fixture_bytes(name).decode().split("\n")
            if l.strip()]


def chat_stream_text(chunks, choice=0):
    return "".join((c["choices"][0]["delta"].get("content") or "")
                   for c in chunks
                   if c.get("choices") and c["choices"][0]["index"] == choice)


def chat_stream_usage(chunks):
    for c in reversed(chunks):
        if c.get("usage"):
            return c["usage"]
    return None


def responses_streams(name):
    """Split a Responses chunks file into its consecutive streams."""
    streams = []
    for l in fixture_bytes(name).decode().split("\n"):
        if not l.strip():
            continue
        ev = json.loads(l)
        if ev["type"] == "response.created":
            streams.append([])
        streams[-1].append(ev)
    return streams


def usage_counts(u):
    """(input, cached, output, reasoning) from a Chat or Responses usage."""
    if "prompt_tokens" in u:
        return (u["prompt_tokens"],
                (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0),
                u["completion_tokens"],
                (u.get("completion_tokens_details") or {}).get(
                    "reasoning_tokens", 0))
    return (u["input_tokens"],
            (u.get("input_tokens_details") or {}).get("cached_tokens", 0),
            u["output_tokens"],
            (u.get("output_tokens_details") or {}).get("reasoning_tokens", 0))


def expected_cost(counts, price):
    """USD per the contract: prices are per 1M tokens; cached input at
    cached_input (default: input price), reasoning at reasoning (default:
    output price)."""
    inp, cached, out, reas = counts
    p_in = price["input"]
    p_cached = price.get("cached_input", p_in)
    p_out = price["output"]
    p_reas = price.get("reasoning", p_out)
    parts = {
        "input": (inp - cached) * p_in / 1e6,
        "cached_input": cached * p_cached / 1e6,
        "output": (out - reas) * p_out / 1e6,
        "reasoning": reas * p_reas / 1e6,
    }
    parts["total"] = sum(parts.values())
    return parts


def registry_price(model):
    reg = json.loads(MODELS_TEST.read_text())
    return reg["models"][model]["price"]


def content_text(content):
    """Text of a Chat message content: a string or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content
                   if p.get("type") in ("text", "input_text"))


def output_text(resource):
    """All output_text of a ResponseResource's message items, joined."""
    out = []
    for item in resource.get("output", []):
        if item.get("type") == "message":
            for part in item.get("content", []):
                if part.get("type") == "output_text":
                    out.append(part["text"])
    return "".join(out)


# --------------------------------------------------------------------------
# schema validation
# --------------------------------------------------------------------------

_SPEC = None
_VALIDATORS = {}


def spec_doc():
    global _SPEC
    if _SPEC is None:
        _SPEC = json.loads(SPEC.read_text())
    return _SPEC


def _validator(schema_name):
    if schema_name not in _VALIDATORS:
        doc = spec_doc()
        _VALIDATORS[schema_name] = jsonschema.Draft202012Validator(
            {"$ref": "#/components/schemas/" + schema_name,
             "components": doc["components"]})
    return _VALIDATORS[schema_name]


def event_schema_names():
    """Streaming event type -> its schema name in the OpenAPI file."""
    out = {}
    for name, s in spec_doc()["components"]["schemas"].items():
        if not name.endswith("StreamingEvent"):
            continue
        enum = s.get("properties", {}).get("type", {}).get("enum") or []
        for t in enum:
            out[t] = name
    return out


def schema_errors(schema_name, obj):
    if jsonschema is None:
        pytest.fail("python3-jsonschema is not installed")
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message)
            for e in _validator(schema_name).iter_errors(obj)]


def assert_resource_valid(resource):
    errs = schema_errors("ResponseResource", resource)
    assert not errs, "ResponseResource fails the Open Responses schema:\n" + \
        "\n".join(errs[:20])


def assert_event_valid(event):
    names = event_schema_names()
    t = event.get("type")
    assert t in names, "event type %r is not one of the spec's %d streaming " \
        "event types" % (t, len(names))
    errs = schema_errors(names[t], event)
    assert not errs, "%s event fails its schema:\n%s\n%s" % (
        t, "\n".join(errs[:20]), json.dumps(event)[:2000])


# --------------------------------------------------------------------------
# HTTP clients
# --------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers          # lower-case keys
        self.body = body                # bytes
        self.elapsed = elapsed

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError("response body is not JSON (HTTP %d): %r"
                                 % (self.status, self.body[:500]))

    def __repr__(self):
        return "<Resp %d %r>" % (self.status, self.body[:300])


def http_request(port, method, path, body=None, headers=None, timeout=15.0):
    hdrs = {"Authorization": "Bearer client-token"}
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    elif isinstance(body, str):
        body = body.encode()
    hdrs.update(headers or {})
    t0 = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        headers = {k.lower(): v for k, v in r.getheaders()}
        return Resp(r.status, headers, data, time.time() - t0)
    finally:
        conn.close()


class Event:
    def __init__(self, event, data, raw, t):
        self.event = event      # the `event:` field or None
        self.data = data        # parsed JSON, or the raw string
        self.raw = raw
        self.t = t              # arrival time (time.time())

    @property
    def type(self):
        return self.data.get("type") if isinstance(self.data, dict) else None

    def __repr__(self):
        return "<Event %s %s>" % (self.event, str(self.raw)[:120])


class StreamResult:
    def __init__(self):
        self.status = None
        self.headers = {}
        self.events = []        # Event, excluding [DONE]
        self.done = False       # saw data: [DONE]
        self.after_done = b""   # bytes after [DONE] (should be none)
        self.body = b""
        self.recv_times = []
        self.t0 = time.time()
        self.elapsed = None
        self.closed_early = False

    def of_type(self, t):
        return [e for e in self.events if e.type == t]

    def types(self):
        return [e.type for e in self.events]

    @property
    def terminal(self):
        ts = [e for e in self.events if e.type in TERMINAL]
        return ts[-1] if ts else None

    @property
    def json_body(self):
        return json.loads(self.body)


def _parse_sse_block(block):
    event, data_lines = None, []
    for line in block.split("\n"):
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:][1:] if line[5:6] == " " else line[5:])
    return event, "\n".join(data_lines)


def stream_request(port, body, path="/v1/responses", headers=None,
                   timeout=15.0, stop=None):
    """POST and read the answer incrementally from a raw socket, recording
    when each SSE event arrived. `stop(result)` returning True closes the
    socket at once (a client abort). Never hangs past `timeout`."""
    res = StreamResult()
    payload = json.dumps(body).encode() if not isinstance(body, bytes) else body
    hdrs = {"Host": "127.0.0.1:%d" % port, "Content-Type": "application/json",
            "Authorization": "Bearer client-token",
            "Accept": "text/event-stream", "Connection": "close",
            "Content-Length": str(len(payload))}
    hdrs.update(headers or {})
    req = ("POST %s HTTP/1.1\r\n" % path + "".join(
        "%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n").encode() + payload
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    deadline = time.time() + timeout
    buf = b""
    head_done = False
    chunked = False
    clen = None
    dech = _Dechunker()
    sse = ""
    try:
        sock.sendall(req)
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise AssertionError("stream did not finish within %.1f s; "
                                     "events so far: %s" % (timeout, res.types()))
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                raise AssertionError("stream did not finish within %.1f s; "
                                     "events so far: %s" % (timeout, res.types()))
            t = time.time()
            if not data:
                break
            res.recv_times.append(t)
            if not head_done:
                buf += data
                if b"\r\n\r\n" not in buf:
                    continue
                head, data = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("iso-8859-1").split("\r\n")
                res.status = int(lines[0].split()[1])
                for l in lines[1:]:
                    k, _, v = l.partition(":")
                    res.headers[k.strip().lower()] = v.strip()
                chunked = "chunked" in res.headers.get("transfer-encoding", "")
                if "content-length" in res.headers:
                    clen = int(res.headers["content-length"])
                head_done = True
            piece = dech.feed(data) if chunked else data
            res.body += piece
            if res.done:
                res.after_done += piece
            sse += piece.decode("utf-8", "replace") if piece else ""
            while "\n\n" in sse:
                block, sse = sse.split("\n\n", 1)
                if not block.strip():
                    continue
                if res.done:
                    res.after_done += block.encode()
                ev, data_s = _parse_sse_block(block)
                if data_s == "[DONE]":
                    res.done = True
                    continue
                try:
                    parsed = json.loads(data_s)
                except ValueError:
                    parsed = data_s
                res.events.append(Event(ev, parsed, block, t))
            if stop is not None and stop(res):
                res.closed_early = True
                break
            if chunked and dech.finished:
                break
            if clen is not None and len(res.body) >= clen:
                break
    finally:
        sock.close()
    res.elapsed = time.time() - res.t0
    res.trailing = sse
    return res


class _Dechunker:
    """Incremental HTTP/1.1 chunked-body decoder (states: size, data,
    crlf, done)."""

    def __init__(self):
        self.buf = b""
        self.state = "size"
        self.need = 0
        self.finished = False

    def feed(self, data):
        self.buf += data
        out = b""
        while True:
            if self.state == "size":
                if b"\r\n" not in self.buf:
                    return out
                line, self.buf = self.buf.split(b"\r\n", 1)
                self.need = int(line.split(b";")[0].strip() or b"0", 16)
                if self.need == 0:
                    self.state = "done"
                    self.finished = True
                    return out
                self.state = "data"
            elif self.state == "data":
                if not self.buf:
                    return out
                take = self.buf[:self.need]
                out += take
                self.buf = self.buf[len(take):]
                self.need -= len(take)
                if self.need == 0:
                    self.state = "crlf"
            elif self.state == "crlf":
                if len(self.buf) < 2:
                    return out
                self.buf = self.buf[2:]
                self.state = "size"
            else:
                return out


# --------------------------------------------------------------------------
# stream checks (the contract's stream rules)
# --------------------------------------------------------------------------

def check_stream(res, expect_terminal="response.completed", billed=True):
    """Assert the Open Responses stream rules; returns the terminal
    response resource."""
    assert res.status == 200, "stream HTTP status %r, body %r" % (
        res.status, res.body[:500])
    ctype = res.headers.get("content-type", "")
    assert ctype.startswith("text/event-stream"), \
        "stream content-type is %r, want text/event-stream" % ctype
    assert re.match(r"^req_\w+", res.headers.get("x-aura-request-id", "")), \
        "x-aura-request-id missing on the stream: %r" % res.headers
    assert res.events, "no events at all; body %r" % res.body[:500]
    for e in res.events:
        assert isinstance(e.data, dict), "event data is not JSON: %r" % e.raw
        assert e.event == e.type, \
            "`event:` %r differs from data.type %r" % (e.event, e.type)
        assert "\r" not in e.raw, "CRLF framing in %r" % e.raw
        assert_event_valid(e.data)
    seqs = [e.data["sequence_number"] for e in res.events]
    assert seqs == list(range(len(seqs))), \
        "sequence_number must be 0,1,2,... got %s" % seqs
    types = res.types()
    assert types[0] == "response.created", "first event is %s" % types[0]
    assert types[1] == "response.in_progress", "second event is %s" % types[1]
    terms = [t for t in types if t in TERMINAL]
    assert len(terms) == 1, "want exactly one terminal event, got %s" % terms
    assert types[-1] == terms[0], \
        "terminal event %s is not the last event (%s)" % (terms[0], types[-1])
    assert terms[0] == expect_terminal, \
        "terminal event is %s, want %s; events %s" % (
            terms[0], expect_terminal, types)
    assert res.done, "stream did not end with data: [DONE]"
    assert res.body.endswith(b"data: [DONE]\n\n"), \
        "stream must end with the literal data: [DONE] line, ends %r" % \
        res.body[-60:]
    for snap in res.events[:2]:
        r = snap.data["response"]
        assert r["output"] == [] and r["usage"] is None and \
            r["completed_at"] is None, \
            "in-progress snapshot must have output [], usage null, " \
            "completed_at null: %r" % r
    # a failed stream may leave items open; any other end closes them all
    check_item_lifecycle(res.events,
                         require_done=(expect_terminal != "response.failed"))
    final = res.terminal.data["response"]
    assert_resource_valid(final)
    assert "aura" in final, "terminal response has no aura object"
    assert final["aura"]["request_id"] == res.headers["x-aura-request-id"], \
        "aura.request_id != x-aura-request-id header"
    if billed:
        assert final.get("usage"), "terminal response has no usage"
        assert "cost_usd" in final["usage"], "usage has no cost_usd"
    return final


def check_item_lifecycle(events, require_done=True):
    """output_item.added before anything else for that output_index, and
    output_item.done after everything for it."""
    added, done = {}, {}
    for i, e in enumerate(events):
        d = e.data
        oi = d.get("output_index")
        if oi is None or e.type in TERMINAL:
            continue
        if e.type == "response.output_item.added":
            assert oi not in added, "output_item.added twice for %d" % oi
            added[oi] = i
            assert d["item"].get("status") in (None, "in_progress"), \
                "added item status must be in_progress: %r" % d["item"]
        else:
            assert oi in added, "%s for output_index %d before its " \
                "output_item.added" % (e.type, oi)
            assert oi not in done, "%s for output_index %d after its " \
                "output_item.done" % (e.type, oi)
            if e.type == "response.output_item.done":
                done[oi] = i
    assert set(done) <= set(added), "output_item.done without added"
    assert not require_done or set(added) == set(done), \
        "items added %s but done %s" % (sorted(added), sorted(done))
    assert sorted(added) == list(range(len(added))), \
        "output_index values must be 0..n-1, got %s" % sorted(added)


def stream_text(res, output_index=None):
    return "".join(e.data["delta"] for e in res.of_type(
        "response.output_text.delta")
        if output_index is None or e.data["output_index"] == output_index)


def assert_error(resp, status, code="__any__", param="__any__", etype=None):
    """Assert the gateway's error shape and return the error object."""
    assert resp.status == status, "HTTP %d, want %d; body %r" % (
        resp.status, status, resp.body[:600])
    rid = resp.headers.get("x-aura-request-id", "")
    assert re.match(r"^req_\w+", rid), \
        "x-aura-request-id header missing on a %d error: %r" % (
            status, resp.headers)
    ctype = resp.headers.get("content-type", "")
    assert ctype.startswith("application/json"), \
        "error content-type %r" % ctype
    body = resp.json
    assert set(body) >= {"error"}, "no error object: %r" % body
    err = body["error"]
    for k in ("message", "type", "param", "code"):
        assert k in err, "error object lacks %r: %r" % (k, err)
    assert isinstance(err["message"], str) and err["message"], \
        "empty error message"
    if code != "__any__":
        assert err["code"] == code, "error code %r, want %r (%r)" % (
            err["code"], code, err)
    if param != "__any__":
        assert err["param"] == param, "error param %r, want %r (%r)" % (
            err["param"], param, err)
    if etype is not None:
        assert err["type"] == etype, "error type %r, want %r" % (
            err["type"], etype)
    return err


def assert_close(actual, expected, what):
    assert isinstance(actual, (int, float)), "%s is %r, not a number" % (
        what, actual)
    assert abs(actual - expected) <= 1e-12, \
        "%s = %r, want %r (diff %g)" % (what, actual, expected,
                                        actual - expected)


# --------------------------------------------------------------------------
# the simulator
# --------------------------------------------------------------------------

class Sim:
    def __init__(self, workdir):
        self.port_file = os.path.join(workdir, "sim.port")
        self.log = open(os.path.join(workdir, "sim.log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(SIM_SCRIPT), "--port", "0",
             "--port-file", self.port_file, "--key", OPENAI_KEY,
             "--key", SIM_KEY],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("simulator did not start: " + open(
                    os.path.join(workdir, "sim.log")).read())
            time.sleep(0.05)
        self.port = int(open(self.port_file).read())
        self.base = "http://127.0.0.1:%d" % self.port

    def control(self, method, path):
        r = http_request(self.port, method, path, timeout=5)
        assert r.status == 200, r
        return r.json

    def requests(self, model=None, path=None):
        out = self.control("GET", "/_sim/requests")
        return [q for q in out
                if (model is None or (isinstance(q["body"], dict)
                                      and q["body"].get("model") == model))
                and (path is None or q["path"] == path)]

    def one_request(self, model, path=None):
        qs = self.requests(model, path)
        assert len(qs) == 1, "want exactly one upstream request for model " \
            "%r%s, simulator got %d: %s" % (
                model, " on " + path if path else "", len(qs),
                [(q["path"], q["body"].get("model") if isinstance(
                    q["body"], dict) else q["body"]) for q in
                 self.requests()])
        return qs[0]

    def clear(self):
        self.control("DELETE", "/_sim/requests")
        self.control("DELETE", "/_sim/events")

    def events(self):
        return self.control("GET", "/_sim/events")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="aura-it-")
    os.chmod(d, 0o755)
    yield d
    if not os.environ.get("AURA_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def sim(workdir):
    s = Sim(workdir)
    yield s
    s.stop()


# --------------------------------------------------------------------------
# the gateway
# --------------------------------------------------------------------------

def module_path():
    explicit = os.environ.get("AURA_MODULE")
    candidates = [REPO / "build" / ".libs" / "mod_aura.so",     # scripts/test
                  REPO / "mod_aura" / ".libs" / "mod_aura.so"]  # in-tree
    path = explicit or next((str(c) for c in candidates if c.is_file()),
                            str(candidates[0]))
    if not os.path.isfile(path):
        if explicit:
            pytest.fail("AURA_MODULE=%s does not exist (build the module "
                        "first)" % explicit)
        pytest.skip("mod_aura is not built (%s missing; set AURA_MODULE)"
                    % path)
    return path


def run_identity():
    if os.geteuid() == 0:
        return "www-data", "www-data"
    return (pwd.getpwuid(os.getuid()).pw_name,
            grp.getgrgid(os.getgid()).gr_name)


def builtin_modules():
    """Module names compiled into the httpd binary (`apache2 -l`), e.g.
    Debian builds in mod_unixd and mod_log_config."""
    try:
        out = subprocess.run([APACHE, "-l"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {m.group(1) + "_module"
            for m in re.finditer(r"^\s*mod_(\w+)\.c$", out, re.M)}


def drop_builtin_loadmodules(text):
    """Comment out LoadModule lines for modules the binary has built in:
    httpd refuses to start on them ("module unixd_module is built-in and
    can't be loaded"). A template-portability workaround, logged in the
    generated file."""
    builtin = builtin_modules()
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*LoadModule\s+(\w+)\s", line)
        if m and m.group(1) in builtin:
            line = "# [tests: built into %s] %s" % (APACHE, line)
        out.append(line)
    return "\n".join(out) + "\n"


HTACCESS = {
    "team-a": "SetHandler aura\n"
              "AuraModelAlias house sim/text\n"
              "AuraDefaultModel sim/text\n",
    "evil": "SetHandler aura\n"
            "AuraProvider evil openai-compatible http://127.0.0.1:9/v1\n",
    "big-body": "SetHandler aura\n"
                "AuraMaxBodySize 900000000\n",
    "evil-key": "SetHandler aura\n"
                "AuraProviderKey sim env:PATH\n",
}


PROVIDERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "providers")


def provider_snippets(sim_port):
    """tests/integration/providers/*.conf: one provider's config each, with
    @SIM@ = the simulator's origin (http://127.0.0.1:PORT, no path) and
    @TESTS@ = this directory, @MODDIR@ = httpd's module directory. Each
    provider's simulator module answers under its own path prefix
    (/anthropic/..., /gemini/..., ...)."""
    out = []
    names = sorted(os.listdir(PROVIDERS_DIR)) if os.path.isdir(
        PROVIDERS_DIR) else []
    for name in names:
        if not name.endswith(".conf"):
            continue
        with open(os.path.join(PROVIDERS_DIR, name)) as f:
            text = f.read()
        text = text.replace("@SIM@", "http://127.0.0.1:%d" % sim_port)
        text = text.replace("@TESTS@", os.path.dirname(PROVIDERS_DIR))
        text = text.replace("@MODDIR@", MODDIR)
        out.append("\n# --- %s\n%s" % (name, text))
    return "".join(out)


# Provider variables of the environment this suite runs in must not create
# zero-config providers in the gateway under test.
PROVIDER_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY",
                "ANTHROPIC_BASE_URL", "GEMINI_API_KEY", "GEMINI_BASE_URL",
                "MISTRAL_API_KEY", "MISTRAL_BASE_URL", "OLLAMA_BASE_URL",
                "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
                "AZURE_OPENAI_API_VERSION", "HF_TOKEN", "HF_BASE_URL",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
                "AWS_BEARER_TOKEN_BEDROCK", "BEDROCK_BASE_URL")


class Gateway:
    def __init__(self, root, port, sim_port, dead_port):
        self.root = root
        self.port = port
        self.sim_port = sim_port
        self.dead_port = dead_port
        self.proc = None
        # more conf.d files for one test's gateway: {"name.conf": text}
        self.extra_conf = {}

    # -- lifecycle ---------------------------------------------------------

    def write_config(self, module):
        user, group = run_identity()
        for sub in ("logs", "run", "htdocs", "conf.d"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        # mod_mime opens TypesConfig (default: <ServerRoot>/mime.types) at
        # startup; the template names none, so give it one.
        if "TypesConfig" not in TEMPLATE.read_text():
            types = os.path.join(self.root, "mime.types")
            if os.path.exists("/etc/mime.types"):
                shutil.copyfile("/etc/mime.types", types)
            else:
                open(types, "w").close()
        for d, text in HTACCESS.items():
            os.makedirs(os.path.join(self.root, "htdocs", d), exist_ok=True)
            with open(os.path.join(self.root, "htdocs", d, ".htaccess"),
                      "w") as f:
                f.write(text)
        for dirpath, dirnames, filenames in os.walk(self.root):
            os.chmod(dirpath, 0o755)
            for fn in filenames:
                os.chmod(os.path.join(dirpath, fn), 0o644)
        # as scripts/run has them (scripts/lib/common.sh mkconf)
        logs = os.path.join(self.root, "logs")
        os.chmod(logs, 0o750)
        for fn in os.listdir(logs):
            os.chmod(os.path.join(logs, fn), 0o640)
        subst = {"@ROOT@": self.root,
                 "@LISTEN@": "127.0.0.1:%d" % self.port,
                 "@MODULE@": module, "@MODDIR@": MODDIR,
                 "@CONFDIR@": str(REPO / "conf"),
                 "@USER@": user, "@GROUP@": group}
        text = drop_builtin_loadmodules(TEMPLATE.read_text())
        for k, v in subst.items():
            text = text.replace(k, v)
        left = [m for line in text.splitlines()
                if not line.lstrip().startswith("#")
                for m in re.findall(r"@[A-Z]+@", line)]
        assert not left, "unsubstituted placeholders in the template: %s" % left
        with open(os.path.join(self.root, "httpd.conf"), "w") as f:
            f.write(text)
        sim = "http://127.0.0.1:%d/v1" % self.sim_port
        with open(os.path.join(self.root, "conf.d", "test.conf"), "w") as f:
            f.write(
                'AuraModels "%s"\n' % MODELS_TEST +
                "AuraProvider openai openai %s\n" % sim +
                "AuraProviderKey openai env:OPENAI_API_KEY\n"
                "AuraProvider sim openai-compatible %s\n" % sim +
                "AuraProviderKey sim env:SIM_API_KEY\n"
                "AuraProvider dead openai-compatible "
                "http://127.0.0.1:%d/v1\n" % self.dead_port +
                "AuraConnectTimeout 2\n"
                "AuraFirstByteTimeout 1.5\n"
                "AuraIdleTimeout 1.5\n"
                "AuraTotalTimeout 30\n"
                "AuraMaxBodySize 65536\n"
                "\n"
                "<Location /restricted>\n"
                "    SetHandler aura\n"
                "    Require all granted\n"
                "    AuraAllowModels sim/text\n"
                "</Location>\n")
            f.write(provider_snippets(self.sim_port))
        for name, text in self.extra_conf.items():
            with open(os.path.join(self.root, "conf.d", name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(self.root, "conf.d", name), 0o644)
        for p in ("httpd.conf", "conf.d/test.conf"):
            os.chmod(os.path.join(self.root, p), 0o644)

    def start(self, module):
        self.write_config(module)
        env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV}
        env.update(OPENAI_API_KEY=OPENAI_KEY, SIM_API_KEY=SIM_KEY)
        self.out = open(os.path.join(self.root, "logs", "stdout.log"), "wb")
        os.fchmod(self.out.fileno(), 0o640)
        self.proc = subprocess.Popen(
            [APACHE, "-f", os.path.join(self.root, "httpd.conf"),
             "-DFOREGROUND"], env=env, stdout=self.out,
            stderr=subprocess.STDOUT, start_new_session=True,
            umask=0o027)            # log files 0640, as scripts/run
        if not wait_port(self.port, self.proc, time.time() + 15):
            self.stop()
            pytest.fail("httpd did not come up on port %d.\n--- stdout/stderr:"
                        "\n%s\n--- error_log:\n%s" % (
                            self.port, self.read("logs/stdout.log"),
                            self.error_log()))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if getattr(self, "out", None):
            self.out.close()

    # -- logs --------------------------------------------------------------

    def read(self, rel):
        try:
            with open(os.path.join(self.root, rel), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def error_log(self):
        return self.read("logs/error_log")

    def access_log(self):
        return self.read("logs/access_log")

    def log_mark(self):
        return len(self.error_log())

    def error_log_since(self, mark, settle=0.3):
        time.sleep(settle)
        return self.error_log()[mark:]

    # -- requests ----------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=15.0):
        return http_request(self.port, method, path, body, headers, timeout)

    def post(self, body, path="/v1/responses", headers=None, timeout=15.0):
        return self.request("POST", path, body, headers, timeout)

    def respond(self, body, path="/v1/responses", timeout=15.0):
        """POST expecting a 200 ResponseResource; validates it."""
        r = self.post(body, path, timeout=timeout)
        assert r.status == 200, "HTTP %d: %r" % (r.status, r.body[:800])
        assert r.headers.get("content-type", "").startswith(
            "application/json"), r.headers
        doc = r.json
        assert_resource_valid(doc)
        assert doc["aura"]["request_id"] == r.headers.get(
            "x-aura-request-id"), "aura.request_id != x-aura-request-id"
        return doc

    def stream(self, body, path="/v1/responses", timeout=15.0, stop=None):
        body = dict(body, stream=True)
        return stream_request(self.port, body, path, timeout=timeout,
                              stop=stop)


@pytest.fixture(scope="session")
def gw(sim, workdir):
    module = module_path()
    if not os.path.exists(APACHE):
        pytest.skip("%s not installed" % APACHE)
    g = Gateway(os.path.join(workdir, "root"), free_port(), sim.port,
                free_port())
    g.start(module)
    yield g
    g.stop()
    if os.environ.get("AURA_SHOW_ERROR_LOG"):
        sys.stderr.write(g.error_log())


# --------------------------------------------------------------------------
# PostgreSQL: a throwaway server per test session
# --------------------------------------------------------------------------

try:
    import psycopg2
except ImportError:  # pragma: no cover - Debian python3-psycopg2
    psycopg2 = None


def require_or_skip(why):
    """Missing tooling fails a run that demands the full suite (scripts/test
    sets AURA_REQUIRE_CLIENTS; an explicit AURA_ADMIN means the same) and
    skips an ad-hoc one."""
    if os.environ.get("AURA_REQUIRE_CLIENTS") or os.environ.get("AURA_ADMIN"):
        pytest.fail(why)
    pytest.skip(why)


def pg_bindir():
    """PostgreSQL's server programs: $AURA_PGBIN, else the newest
    /usr/lib/postgresql/N/bin (Debian keeps them off PATH)."""
    if os.environ.get("AURA_PGBIN"):
        return os.environ["AURA_PGBIN"]
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0))
    return os.path.dirname(found[-1]) if found else None


def admin_path():
    """The aura-admin program: $AURA_ADMIN, else the scripts/test build,
    else an in-tree build. Like module_path(): an explicit path that does
    not exist fails, a missing default build skips."""
    explicit = os.environ.get("AURA_ADMIN")
    candidates = [REPO / "build" / "aura-admin", REPO / "aura-admin"]
    path = explicit or next((str(c) for c in candidates if c.is_file()),
                            str(candidates[0]))
    if not os.access(path, os.X_OK):
        if explicit:
            pytest.fail("AURA_ADMIN=%s does not exist (build it first)"
                        % explicit)
        pytest.skip("aura-admin is not built (%s missing; set AURA_ADMIN)"
                    % path)
    return path


def run_admin(admin, args, db=None, master_key=None, env=None, input=None,
              timeout=60):
    """aura-admin ARGS with AURA_DB (and AURA_MASTER_KEY_FILE); returns the
    CompletedProcess (text)."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("AURA_", "PG")) and k not in PROVIDER_ENV}
    if db is not None:
        e["AURA_DB"] = db
    if master_key is not None:
        e["AURA_MASTER_KEY_FILE"] = master_key
    e.update(env or {})
    return subprocess.run([admin] + list(args), env=e, input=input,
                          capture_output=True, text=True, timeout=timeout)


class PgServer:
    """initdb + pg_ctl on DIR. As root the server runs as the `postgres`
    OS user (PostgreSQL refuses root). Superuser role `aura`, trust auth,
    a TCP port on 127.0.0.1 and the unix socket in DIR itself (0755, so
    the httpd user's CGI reaches it too). Every query opens its own
    connection, so stop()/start() in a test needs no reconnect logic."""

    def __init__(self, base, port):
        self.dir = base
        self.data = os.path.join(base, "data")
        self.sockdir = base
        self.port = port
        self.bindir = pg_bindir()
        self.logfile = os.path.join(base, "postgresql.log")
        self.running = False

    # -- process ---------------------------------------------------------

    def _run(self, prog, *args, timeout=60):
        kw = {}
        if os.geteuid() == 0:
            kw = dict(user="postgres", group="postgres", extra_groups=[])
        p = subprocess.run([os.path.join(self.bindir, prog)] + list(args),
                           cwd=self.dir, capture_output=True, text=True,
                           timeout=timeout, **kw)
        if p.returncode != 0:
            raise RuntimeError("%s %s failed (%d):\n%s%s\n--- log:\n%s" % (
                prog, " ".join(args), p.returncode, p.stdout, p.stderr,
                self.log()))
        return p

    def init(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", self.data, "-U", "aura", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "-N")
        # Durability is worthless for a throwaway server; speed is not.
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# tests/integration/conftest.py\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "unix_socket_permissions = 0777\n"
                    "max_connections = 200\n"
                    "fsync = off\nsynchronous_commit = off\n"
                    "full_page_writes = off\n"
                    "log_min_messages = warning\n" % (self.port,
                                                      self.sockdir))
        self.start()
        self.execute("CREATE DATABASE aura", dbname="postgres")

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l", self.logfile, "-w",
                  "-t", "60", "start")
        self.running = True

    def stop(self):
        if self.running:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w",
                      "-t", "60", "stop")
            self.running = False

    @contextlib.contextmanager
    def down(self):
        """with pg.down(): ... the server is stopped inside, restarted
        after (also when the body fails)."""
        self.stop()
        try:
            yield self
        finally:
            self.start()

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # -- SQL -------------------------------------------------------------

    def conninfo_for(self, dbname):
        return "host=%s port=%d user=aura dbname=%s" % (
            self.sockdir, self.port, dbname)

    @property
    def conninfo(self):
        return self.conninfo_for("aura")

    def connect(self, dbname="aura"):
        if psycopg2 is None:
            pytest.fail("python3-psycopg2 is not installed")
        c = psycopg2.connect(host=self.sockdir, port=self.port, user="aura",
                             dbname=dbname, connect_timeout=10)
        c.autocommit = True
        return c

    def _cursor_run(self, sql, params, dbname, fetch):
        c = self.connect(dbname)
        try:
            with c.cursor() as cur:
                # psycopg2 only interprets % placeholders when given
                # parameters; None keeps a literal % in parameterless SQL.
                cur.execute(sql, tuple(params) if params else None)
                if fetch:
                    return cur.fetchall() if cur.description else []
                return cur.rowcount
        finally:
            c.close()

    def query(self, sql, params=(), dbname="aura"):
        """Rows as a list of tuples; values bound by the driver (%s)."""
        return self._cursor_run(sql, params, dbname, True)

    def execute(self, sql, params=(), dbname="aura"):
        return self._cursor_run(sql, params, dbname, False)

    def scalar(self, sql, params=(), dbname="aura"):
        rows = self.query(sql, params, dbname)
        return rows[0][0] if rows else None

    def create_database(self, name):
        """A fresh empty database (name: letters, digits, _) for tests that
        must not touch the shared one; returns its conninfo."""
        assert re.match(r"^[a-z_][a-z0-9_]*$", name), name
        self.execute("DROP DATABASE IF EXISTS %s" % name, dbname="postgres")
        self.execute("CREATE DATABASE %s" % name, dbname="postgres")
        return self.conninfo_for(name)


@pytest.fixture(scope="session")
def pg_server(workdir):
    """A running PostgreSQL with an empty database `aura`."""
    bindir = pg_bindir()
    if not bindir or not os.path.exists(os.path.join(bindir, "pg_ctl")):
        require_or_skip("PostgreSQL server programs not found "
                        "(apt-get install postgresql, or set AURA_PGBIN)")
    if psycopg2 is None:
        require_or_skip("python3-psycopg2 is not installed")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require_or_skip("no `postgres` OS user to run PostgreSQL as")
    s = PgServer(os.path.join(workdir, "pg"), free_port())
    try:
        s.init()
    except RuntimeError as e:
        pytest.fail(str(e))
    yield s
    try:
        s.stop()
    except RuntimeError as e:   # keep the session's own result visible
        sys.stderr.write("warning: %s\n" % e)


@pytest.fixture(scope="session")
def pg(pg_server):
    """pg_server with the schema/ migrations applied by `aura-admin
    migrate`."""
    admin = admin_path()
    p = run_admin(admin, ["migrate"], db=pg_server.conninfo)
    if p.returncode != 0:
        pytest.fail("aura-admin migrate failed (%d):\n%s%s" % (
            p.returncode, p.stdout, p.stderr))
    pg_server.admin = admin
    return pg_server


# --------------------------------------------------------------------------
# the tenant gateway: mod_aura with PostgreSQL + the admin console CGI
# --------------------------------------------------------------------------

TENANCY_MODULES = ("socache_shmcb", "cgid", "alias", "env", "auth_basic",
                   "authn_file", "authn_core", "authz_user")


class _JsonDict(dict):
    def __call__(self):
        return self


class _JsonList(list):
    def __call__(self):
        return self


class AdminResp:
    """An answer from the tenant gateway: .status, .headers (lower-case
    keys), .body (bytes), .text, .json and .location. `.json` works both
    as Resp's property and called, `.json()`: the parsed object or list
    is callable and returns itself, so the helpers written for Resp
    (assert_error, ...) take an AdminResp too."""

    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        try:
            v = json.loads(self.body)
        except ValueError:
            raise AssertionError("answer is not JSON (HTTP %d): %r"
                                 % (self.status, self.body[:500]))
        if isinstance(v, dict):
            return _JsonDict(v)
        return _JsonList(v) if isinstance(v, list) else v

    @property
    def location(self):
        return self.headers.get("location")

    def __repr__(self):
        return "<AdminResp %d %r>" % (self.status, self.body[:300])


def raw_request(port, method, path, body=b"", headers=None, timeout=15.0):
    """One HTTP request with exactly the given headers (http_request adds a
    default bearer token; tenant mode must not get one)."""
    t0 = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():   # repeated headers joined, like curl -i
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        return AdminResp(r.status, hdrs, data, time.time() - t0)
    finally:
        conn.close()


def basic_auth(user, password):
    tok = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return "Basic " + tok


class _CsrfFinder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.token = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") == "csrf" and self.token is None:
            self.token = a.get("value")


def csrf_of(page_html):
    f = _CsrfFinder()
    f.feed(page_html)
    return f.token


KEY_HEADERS = {"authorization": lambda k: ("Authorization", "Bearer " + k),
               "x-api-key": lambda k: ("x-api-key", k),
               "api-key": lambda k: ("api-key", k)}


class TenantGateway(Gateway):
    """Gateway plus tenancy: conf.d/tenancy.conf (AuraDatabase, the master
    key, short cache TTLs, the usage spool) and the admin CGI at
    /aura-admin behind Basic auth (AuthUserFile ROOT/admin.htpasswd).
    The superadmin "admin" exists from the start (`aura-admin bootstrap`)."""

    def __init__(self, root, port, sim_port, dead_port, pg, admin):
        super().__init__(root, port, sim_port, dead_port)
        self.pg = pg
        self.admin = admin
        self.master_key = os.path.join(root, "master.key")
        self.htpasswd = os.path.join(root, "admin.htpasswd")
        self.spool = os.path.join(root, "spool")
        self.cgi = os.path.join(root, "aura-admin.cgi")
        self.passwords = {}
        self._csrf = {}
        self._n = itertools.count(1)

    # -- setup -------------------------------------------------------------

    def cli(self, *args, input=None, check=True):
        """aura-admin ARGS against this gateway's database and key."""
        p = run_admin(self.admin, args, db=self.pg.conninfo,
                      master_key=self.master_key, input=input)
        if check and p.returncode != 0:
            raise AssertionError("aura-admin %s failed (%d):\n%s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def _secret_file(self, path):
        """0640 root:<httpd group> when root (the CGI runs as www-data),
        else 0600: readable by the server, by nobody else."""
        if os.geteuid() == 0:
            os.chown(path, 0, grp.getgrnam(run_identity()[1]).gr_gid)
            os.chmod(path, 0o640)
        else:
            os.chmod(path, 0o600)

    def write_config(self, module):
        super().write_config(module)
        # The CGI runs as the httpd user, which may not reach the checkout
        # (a clone under a 0700 directory): a copy in the root it serves.
        shutil.copyfile(self.admin, self.cgi)
        os.chmod(self.cgi, 0o755)
        os.makedirs(self.spool, exist_ok=True)
        if os.geteuid() == 0:
            u, g = run_identity()
            os.chown(self.spool, pwd.getpwnam(u).pw_uid,
                     grp.getgrnam(g).gr_gid)
        if not os.path.exists(self.master_key):
            self.cli("gen-master-key", self.master_key)
        if not os.path.exists(self.htpasswd):
            self.add_login("admin", create=True)
            self.cli("bootstrap", "--admin", "admin")
        # super() made every file under root 0644; the secrets are not.
        self._secret_file(self.master_key)
        self._secret_file(self.htpasswd)
        with open(os.path.join(self.root, "conf.d", "tenancy.conf"),
                  "w") as f:
            f.write(self.tenancy_conf())
        os.chmod(os.path.join(self.root, "conf.d", "tenancy.conf"), 0o644)

    def tenancy_conf(self):
        db = self.pg.conninfo
        return (
            "# tenant mode (tests/integration/conftest.py TenantGateway)\n"
            'AuraDatabase "%(db)s"\n'
            'AuraMasterKeyFile "%(mk)s"\n'
            "AuraKeyCacheTTL 2\n"
            "AuraKeyNegativeTTL 1\n"
            "AuraUsageFlushInterval 200\n"
            "AuraCredentialRefresh 1\n"
            'AuraUsageSpool "%(spool)s"\n'
            "\n"
            'ScriptAlias /aura-admin "%(admin)s"\n'
            "<Location /aura-admin>\n"
            "    AuthType Basic\n"
            '    AuthName "mod_aura admin"\n'
            "    AuthBasicProvider file\n"
            '    AuthUserFile "%(htpasswd)s"\n'
            "    Require valid-user\n"
            '    SetEnv AURA_DB "%(db)s"\n'
            '    SetEnv AURA_MASTER_KEY_FILE "%(mk)s"\n'
            "</Location>\n" % dict(db=db, mk=self.master_key,
                                   spool=self.spool, admin=self.cgi,
                                   htpasswd=self.htpasswd))

    # -- admin users ---------------------------------------------------------

    def add_login(self, username, create=False):
        """An Apache login (htpasswd -iB, the password on stdin, never on a
        command line) and nothing in admin_users; returns the password."""
        password = base64.b32encode(os.urandom(15)).decode().lower()
        args = ["htpasswd", "-ciB" if create else "-iB", self.htpasswd,
                username]
        p = subprocess.run(args, input=password + "\n", capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, "htpasswd failed: %s" % p.stderr
        self._secret_file(self.htpasswd)
        self.passwords[username] = password
        return password

    def add_admin(self, username, role, org_id=None):
        """A login plus its admin_users row (`aura-admin add-admin`);
        returns the password."""
        password = self.add_login(username)
        args = ["add-admin", "--user", username, "--role", role]
        if org_id is not None:
            args += ["--org", str(org_id)]
        self.cli(*args)
        return password

    # -- requests ------------------------------------------------------------

    def _auth(self, user, password=None):
        if user is None:
            return {}
        pw = password if password is not None else self.passwords[user]
        return {"Authorization": basic_auth(user, pw)}

    def api(self, method, path, body=None, user="admin", password=None,
            headers=None, timeout=30.0):
        """The JSON API: /aura-admin/api + path, Basic auth as `user`,
        Content-Type application/json on every write (the API's CSRF
        defence). body: dict/list (JSON-encoded), str/bytes (sent as is)
        or None."""
        hdrs = self._auth(user, password)
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        if method != "GET" or data:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        return raw_request(self.port, method, "/aura-admin/api" + path, data,
                           hdrs, timeout)

    def csrf_token(self, user="admin", path="/"):
        """The user's CSRF token, read from the hidden `csrf` input of a
        page with a form (the list page of `path` first)."""
        if user in self._csrf:
            return self._csrf[user]
        first = "/" + path.strip("/").split("/")[0]
        tried = []
        for p in (first, "/orgs", "/keys", "/"):
            r = self.page("GET", p, user=user)
            tried.append((p, r.status))
            tok = csrf_of(r.text) if r.status == 200 else None
            if tok:
                self._csrf[user] = tok
                return tok
        raise AssertionError("no page has a csrf input for %s: %s"
                             % (user, tried))

    def page(self, method, path, form=None, user="admin", csrf=True,
             password=None, headers=None, timeout=30.0):
        """An HTML page: GET /aura-admin + path, or POST a urlencoded form
        there. csrf=True adds the user's token (unless the form has one),
        a string sends that token, False sends none. Redirects are not
        followed: a successful POST answers 303."""
        hdrs = self._auth(user, password)
        data = b""
        if method != "GET":
            form = dict(form or {})
            if csrf is True and "csrf" not in form:
                form["csrf"] = self.csrf_token(user, path)
            elif isinstance(csrf, str):
                form["csrf"] = csrf
            data = urllib.parse.urlencode(form, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        hdrs.update(headers or {})
        return raw_request(self.port, method, "/aura-admin" + path, data,
                           hdrs, timeout)

    def new_org(self, name=None, user="admin"):
        """POST /api/orgs with a fresh "test-org-N" name; the org JSON."""
        for _ in range(50):
            n = name or "test-org-%d" % next(self._n)
            r = self.api("POST", "/orgs", {"name": n}, user=user)
            if r.status == 409 and name is None:
                continue
            assert r.status == 201, "POST /orgs: %r" % r
            return r.json()
        raise AssertionError("no free test-org-N name")

    def new_key(self, org_id=None, user="admin", **fields):
        """POST /api/keys (creating an org first when org_id is None);
        returns (key JSON, secret)."""
        if org_id is None:
            org_id = self.new_org()["id"]
        body = {"name": "key-%d" % next(self._n), "org_id": org_id}
        body.update(fields)
        r = self.api("POST", "/keys", body, user=user)
        assert r.status == 201, "POST /keys %s: %r" % (body, r)
        d = r.json()
        assert d["secret"].startswith("sk-aura-"), d
        return d["key"], d["secret"]

    def responses(self, body, key, header="authorization", path=None,
                  headers=None, timeout=30.0):
        """POST /v1/responses with the virtual key in the given header style:
        authorization (Bearer), x-api-key or api-key; key None = no key."""
        hdrs = {"Content-Type": "application/json"}
        if key is not None:
            k, v = KEY_HEADERS[header](key)
            hdrs[k] = v
        hdrs.update(headers or {})
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return raw_request(self.port, "POST", path or "/v1/responses", data,
                           hdrs, timeout)

    def ledger(self, request_id, timeout=5.0):
        """The usage_ledger row of request_id as a dict, polled until the
        ingester wrote it (None after timeout)."""
        deadline = time.time() + timeout
        while True:
            c = self.pg.connect()
            try:
                with c.cursor() as cur:
                    cur.execute("SELECT * FROM usage_ledger "
                                "WHERE request_id = %s", (request_id,))
                    row = cur.fetchone()
                    if row is not None:
                        return dict(zip([d[0] for d in cur.description],
                                        row))
            finally:
                c.close()
            if time.time() >= deadline:
                return None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def tgw(sim, workdir, pg):
    """The tenant gateway (see TenantGateway); its own root and port."""
    module = module_path()
    if not os.path.exists(APACHE):
        pytest.skip("%s not installed" % APACHE)
    if not shutil.which("htpasswd"):
        require_or_skip("htpasswd not installed (apt-get install "
                        "apache2-utils)")
    missing = [m for m in TENANCY_MODULES
               if not os.path.exists(os.path.join(MODDIR, "mod_%s.so" % m))
               and m + "_module" not in builtin_modules()]
    if missing:
        require_or_skip("httpd modules missing: %s" % ", ".join(missing))
    g = TenantGateway(os.path.join(workdir, "troot"), free_port(), sim.port,
                      free_port(), pg, pg.admin)
    g.start(module)
    yield g
    g.stop()
    if os.environ.get("AURA_SHOW_ERROR_LOG"):
        sys.stderr.write(g.error_log())


@pytest.fixture(autouse=True)
def _clean_sim(request):
    """Each test starts with an empty simulator request/event log."""
    if {"sim", "gw", "tgw"} & set(request.fixturenames):
        request.getfixturevalue("sim").clear()
    yield
