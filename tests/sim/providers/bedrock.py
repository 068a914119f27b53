"""AWS Bedrock Runtime (Converse and ConverseStream) for the provider simulator.

Answers only under /bedrock/ (the test config points providers at
@SIM@/bedrock), on the paths Bedrock serves:

    POST /bedrock/model/<modelId>/converse
    POST /bedrock/model/<modelId>/converse-stream

<modelId> arrives percent-encoded (ids hold ':'); the scenario is the id
with its region ("us."), vendor ("anthropic.") and version ("-v1:0")
stripped, so "us.anthropic.reasoning-v1:0" plays "reasoning" as a Claude
model would. Transcripts: tests/fixtures/bedrock/ (SOURCES.md there).

Authentication is checked the way AWS checks it:
  - SigV4: the signature is recomputed here (hmac/hashlib) from the request
    as received: method, the raw path URI-encoded once more (the non-S3
    rule), the query, every header named in SignedHeaders, the payload's
    SHA-256. Any difference: 403 InvalidSignatureException with AWS's
    message. An unknown access key id: 403 UnrecognizedClientException. A
    signature older than 5 minutes: 403 "Signature expired".
  - Bedrock API keys: "Authorization: Bearer <key>" (AWS_BEARER_TOKEN_BEDROCK).
Errors use Bedrock's shape: a JSON body {"message": "..."} and the
exception name in the x-amzn-ErrorType header (Bedrock API Reference,
"Errors" of Converse).

Streams are application/vnd.amazon.eventstream: the recorded binary frames
verbatim in their original network chunks, or the decoded-event fixtures
(fidelity C) framed again here with the AWS event stream encoding
(https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html):
prelude (total length, headers length, CRC32), string headers
:event-type/:content-type/:message-type, JSON payload, message CRC32.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import struct
import uuid
import zlib
from urllib.parse import quote, unquote

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "bedrock")
KEYDIR = os.path.join(REPO, "tests", "integration", "providers")
PREFIX = "/bedrock/"
ES_CT = "application/vnd.amazon.eventstream"
BEARER_KEYS = ("sk-test-sim-0000",)
REGION = "us-east-1"

sim = None


def setup(module):
    global sim
    sim = module


def match(method, path, headers):
    return path.startswith(PREFIX)


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def key_file(name):
    with open(os.path.join(KEYDIR, name)) as f:
        return f.read().strip()


# --------------------------------------------------------------------------
# event stream framing
# --------------------------------------------------------------------------

def es_header(name, value):
    n, v = name.encode(), value.encode()
    return struct.pack(">B", len(n)) + n + b"\x07" + struct.pack(">H", len(v)) + v


def es_frame(headers, payload):
    """One event stream message; headers: [(name, string value)]."""
    hdr = b"".join(es_header(k, v) for k, v in headers)
    total = 16 + len(hdr) + len(payload)
    prelude = struct.pack(">II", total, len(hdr))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + hdr + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event_frame(etype, payload_obj):
    # Header order as in the recorded frames: event-type, content-type,
    # message-type.
    return es_frame([(":event-type", etype),
                     (":content-type", "application/json"),
                     (":message-type", "event")],
                    json.dumps(payload_obj, separators=(",", ":")).encode())


def exception_frame(etype, message):
    return es_frame([(":exception-type", etype),
                     (":content-type", "application/json"),
                     (":message-type", "exception")],
                    json.dumps({"message": message}).encode())


def decoded_events(name):
    """A fidelity-C fixture: one {"<eventType>": payload} per line."""
    out = []
    for line in fixture(name).split(b"\n"):
        if line.strip():
            (etype, payload), = json.loads(line).items()
            out.append((etype, payload))
    return out


def frames_of(events):
    return [event_frame(t, p) for t, p in events]


CACHE_B64 = "bedrock__converse_stream_prompt_cache_read.eventstream.b64"
CACHE_CHUNKS = (314, 172, 212, 328, 369)   # the recorded network chunks


def cache_chunks():
    data = base64.b64decode(fixture(CACHE_B64))
    out, pos = [], 0
    for n in CACHE_CHUNKS:
        out.append(data[pos:pos + n])
        pos += n
    assert pos == len(data)
    return out


# --------------------------------------------------------------------------
# SigV4 verification (IAM User Guide, "Create a signed AWS API request")
# --------------------------------------------------------------------------

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/"
                     r"([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), "
                     r"Signature=([0-9a-f]{64})$")
SIG_MISMATCH = ("The request signature we calculated does not match the "
                "signature you provided. Check your AWS Secret Access Key and "
                "signing method. Consult the service documentation for "
                "details.")


def uri_encode(s, keep_slash):
    return quote(s, safe="-_.~" + ("/" if keep_slash else ""))


def canonical_query(query):
    pairs = []
    for part in filter(None, query.split("&")):
        k, _, v = part.partition("=")
        pairs.append((uri_encode(unquote(k), False), uri_encode(unquote(v), False)))
    return "&".join("%s=%s" % kv for kv in sorted(pairs))


def canon_value(v):
    return re.sub(r"\s+", " ", v.strip())


def derive_key(secret, date, region, service):
    k = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def expected_signature(method, raw_path, query, header_get, signed, payload,
                       amz_date, scope, secret):
    lines = "".join("%s:%s\n" % (h, ",".join(canon_value(v)
                                           for v in header_get(h)))
                    for h in signed.split(";"))
    creq = "\n".join([method, uri_encode(raw_path or "/", True),
                      canonical_query(query), lines, signed,
                      hashlib.sha256(payload).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    date, region, service = scope.split("/")[:3]
    return hmac.new(derive_key(secret, date, region, service), sts.encode(),
                    hashlib.sha256).hexdigest()


def check_sigv4(handler, raw, auth):
    """None when the signature is right, else (exception type, message)."""
    m = AUTH_RE.match(auth)
    if not m:
        return ("IncompleteSignatureException",
                "Authorization header requires 'Credential', "
                "'SignedHeaders' and 'Signature' parameters.")
    key_id, date, region, service, signed, sig = m.groups()
    if key_id != key_file("aws-access-key-id"):
        return ("UnrecognizedClientException",
                "The security token included in the request is invalid.")
    token = handler.headers.get("X-Amz-Security-Token")
    if token is not None and (token != key_file("aws-session-token")
                              or "x-amz-security-token" not in signed.split(";")):
        return ("UnrecognizedClientException",
                "The security token included in the request is invalid.")
    amz_date = handler.headers.get("X-Amz-Date") or ""
    if not amz_date.startswith(date) or "x-amz-date" not in signed.split(";") \
            or "host" not in signed.split(";"):
        return ("InvalidSignatureException", SIG_MISMATCH)
    if service != "bedrock" or region != REGION:
        return ("InvalidSignatureException",
                "Credential should be scoped to correct service: 'bedrock'. "
                if service != "bedrock" else
                "Credential should be scoped to a valid region. ")
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return ("InvalidSignatureException", SIG_MISMATCH)
    now = datetime.datetime.now(datetime.timezone.utc)
    if abs((now - t).total_seconds()) > 300:
        return ("InvalidSignatureException",
                "Signature expired: %s is now earlier than %s (%s - 5 min.)"
                % (amz_date, (now - datetime.timedelta(minutes=5)).strftime(
                    "%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%dT%H%M%SZ")))
    raw_path, _, query = handler.path.partition("?")
    want = expected_signature(
        handler.command, raw_path, query,
        lambda h: handler.headers.get_all(h) or [""], signed, raw, amz_date,
        "/".join([date, region, service, "aws4_request"]),
        key_file("aws-secret-access-key"))
    if not hmac.compare_digest(want, sig):
        handler.state.event(kind="bedrock_bad_signature", path=raw_path)
        return ("InvalidSignatureException", SIG_MISMATCH)
    return None


def check_auth(handler, raw):
    auth = handler.headers.get("Authorization") or ""
    if auth.startswith("Bearer "):
        if auth[7:].strip() in BEARER_KEYS:
            return None
        return ("UnrecognizedClientException", "Invalid API Key format: "
                "Must start with pre-defined prefix")
    if auth.startswith("AWS4-HMAC-SHA256 "):
        return check_sigv4(handler, raw, auth)
    return ("MissingAuthenticationTokenException", "Missing Authentication Token")


# --------------------------------------------------------------------------
# answers
# --------------------------------------------------------------------------

def aws_error(handler, status, etype, message, extra=None):
    headers = {"x-amzn-ErrorType": etype + ":http://internal.amazon.com/coral/"
               "com.amazon.bedrock/", "x-amzn-RequestId": str(uuid.uuid4())}
    headers.update(extra or {})
    handler.send_json(status, json.dumps({"message": message}).encode(),
                      headers, content_type="application/json",
                      extra_only=True)


def json_answer(handler, body):
    handler.send_json(200, body, {"x-amzn-RequestId": str(uuid.uuid4())},
                      content_type="application/json", extra_only=True)


def stream_answer(label, chunks):
    r = sim.Reply(events=chunks, content_type=ES_CT,
                  headers={"x-amzn-RequestId": str(uuid.uuid4())})
    r.model = "bedrock/" + label
    return r


# Arguments of the DERIVED tool scenarios: the values of the real OpenAI
# parallel-call capture (tests/fixtures/openai/
# openai__chat_nonstream_parallel_tool_calls.json), as Converse objects.
PARALLEL = [("GetWeatherArgs", {"city": "Edinburgh", "country": "GB",
                                "units": "c"}),
            ("get_stock_price", {"ticker": "AAPL", "exchange": "NASDAQ"})]
TOOL_IDS = ["tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "tooluse_Q5zBqH1sQ0y7vVbVfLhN3A"]


def tool_names(body, n):
    """The request's tool names (the DERIVED scenarios echo them)."""
    tools = ((body or {}).get("toolConfig") or {}).get("tools") or []
    names = [t["toolSpec"]["name"] for t in tools if "toolSpec" in t]
    return [names[i] if i < len(names) else PARALLEL[i][0] for i in range(n)]


def text_doc():
    return json.loads(fixture("bedrock__converse_text.json"))


def derive_tools_doc(body, n):
    # DERIVED from bedrock__converse_text.json: content -> n toolUse
    # blocks, stopReason -> tool_use; metrics and usage kept.
    doc = text_doc()
    names = tool_names(body, n)
    doc["output"]["message"]["content"] = [
        {"toolUse": {"toolUseId": TOOL_IDS[i], "name": names[i],
                     "input": PARALLEL[i][1]}} for i in range(n)]
    doc["stopReason"] = "tool_use"
    return json.dumps(doc, indent=2).encode()


def derive_tools_events(body, n):
    # DERIVED from bedrock__converse_stream_text_events.txt: the text block
    # replaced by n toolUse blocks (contentBlockStart with toolUseId + name,
    # the input JSON in 3 fragments, contentBlockStop); messageStop
    # stopReason tool_use; messageStart and metadata kept.
    ev = decoded_events("bedrock__converse_stream_text_events.txt")
    names = tool_names(body, n)
    out = [ev[0]]
    for i in range(n):
        args = json.dumps(PARALLEL[i][1], separators=(",", ":"))
        cut = [args[:5], args[5:len(args) // 2], args[len(args) // 2:]]
        out.append(("contentBlockStart", {"contentBlockIndex": i, "start": {
            "toolUse": {"toolUseId": TOOL_IDS[i], "name": names[i]}}}))
        out += [("contentBlockDelta", {"contentBlockIndex": i, "delta": {
            "toolUse": {"input": piece}}}) for piece in cut]
        out.append(("contentBlockStop", {"contentBlockIndex": i}))
    out.append(("messageStop", {"stopReason": "tool_use"}))
    out.append(ev[-1])
    return out


def with_stop(events, reason):
    # DERIVED: messageStop's stopReason replaced.
    return [(t, dict(p, stopReason=reason) if t == "messageStop" else p)
            for t, p in events]


TEXT_EV = "bedrock__converse_stream_text_events.txt"
REASON_EV = "bedrock__converse_stream_reasoning_events.txt"


def scenario_of(model_id):
    mid = model_id.rsplit("/", 1)[-1]
    mid = re.sub(r"^(us|eu|apac|global|us-gov|jp|au|ca)\.", "", mid)
    if "." in mid:
        mid = mid.split(".", 1)[1]
    mid = re.sub(r":\d+$", "", mid)
    return re.sub(r"-v\d+$", "", mid)


def corrupt(frame):
    # DERIVED: one payload byte flipped, so the message CRC no longer holds
    b = bytearray(frame)
    b[len(b) - 8] ^= 0x20
    return bytes(b)


def stream_scenario(name, body):
    """-> list of chunks, or None."""
    text = frames_of(decoded_events(TEXT_EV))
    if name == "text":
        return text
    if name == "cache":
        return cache_chunks()
    if name == "reasoning":
        return frames_of(decoded_events(REASON_EV))
    if name == "tool-single":
        return frames_of(derive_tools_events(body, 1))
    if name == "tools-parallel":
        return frames_of(derive_tools_events(body, 2))
    if name == "length":
        return frames_of(with_stop(decoded_events(TEXT_EV), "max_tokens"))
    if name == "guardrail":
        return frames_of(with_stop(decoded_events(TEXT_EV),
                                   "guardrail_intervened"))
    if name == "malformed":
        return text[:4] + [corrupt(text[4])] + text[5:]
    if name == "truncated":
        return text[:6] + [text[6][:len(text[6]) // 2]]
    if name == "stream-exception":
        # DERIVED: 4 text frames, then an exception frame (:message-type
        # exception, :exception-type throttlingException), then the end.
        return text[:4] + [exception_frame(
            "throttlingException",
            "Too many tokens, please wait before trying again.")]
    return None


def json_scenario(name, body):
    """-> body bytes, or None."""
    if name in ("text", "cache"):
        return fixture("bedrock__converse_text.json")
    if name == "reasoning":
        return fixture("bedrock__converse_reasoning.json")
    if name == "tool-single":
        return derive_tools_doc(body, 1)
    if name == "tools-parallel":
        return derive_tools_doc(body, 2)
    if name == "length":
        # DERIVED: the text transcript with stopReason -> max_tokens
        return fixture("bedrock__converse_text.json").replace(
            b'"stopReason": "end_turn"', b'"stopReason": "max_tokens"')
    if name == "malformed":
        b = fixture("bedrock__converse_text.json")
        return b[:len(b) // 2]
    return None


# Error scenarios: (status, x-amzn-ErrorType, message, extra headers).
# Synthesized: Bedrock's error shape; the messages are the ones Bedrock
# returns for these exceptions (Converse API Reference, "Errors").
ERRORS = {
    "error-429": (429, "ThrottlingException",
                  "Too many requests, please wait before trying again.",
                  {"Retry-After": "7"}),
    "error-500": (500, "InternalServerException",
                  "The server encountered an internal error while processing "
                  "the request.", None),
    "overloaded": (503, "ServiceUnavailableException",
                   "Bedrock is unable to process your request.", None),
    "error-400": (400, "ValidationException",
                  "The provided model identifier is invalid.", None),
}

# Fields Converse accepts at the top level (API_runtime_Converse, request
# body); anything else is a 400 as Bedrock answers it.
TOP_FIELDS = {"messages", "system", "inferenceConfig", "toolConfig",
              "additionalModelRequestFields", "guardrailConfig",
              "additionalModelResponseFieldPaths", "promptVariables",
              "requestMetadata", "performanceConfig"}
BLOCKS = {"text", "image", "document", "video", "toolUse", "toolResult",
          "reasoningContent", "cachePoint", "guardContent", "citationsContent"}


def validate(body, name, model_id):
    """A ValidationException message, or None (a subset of the checks
    Bedrock makes: the ones an encoder gets wrong)."""
    if not isinstance(body, dict):
        return "Malformed input request, please reformat your input and try again."
    extra = set(body) - TOP_FIELDS
    if extra:
        return "Malformed input request: extraneous key [%s] is not permitted" \
               % sorted(extra)[0]
    msgs = body.get("messages") or []
    if not msgs or msgs[0].get("role") != "user":
        return "A conversation must start with a user message. Try again " \
               "with a conversation that starts with a user message."
    tool_blocks = False
    for i, m in enumerate(msgs):
        if i and m.get("role") == msgs[i - 1].get("role"):
            return "A conversation must alternate between user and " \
                   "assistant roles."
        for b in m.get("content") or []:
            if len(b) != 1 or next(iter(b)) not in BLOCKS:
                return "Malformed content block in messages.%d" % i
            if "text" in b and not b["text"].strip():
                return "The text field in the ContentBlock object at " \
                       "messages.%d is blank." % i
            tool_blocks |= "toolUse" in b or "toolResult" in b
    if tool_blocks and not body.get("toolConfig"):
        return "The toolConfig field must be defined when using toolUse " \
               "and toolResult content blocks."
    choice = (body.get("toolConfig") or {}).get("toolChoice") or {}
    vendor = model_id.rsplit("/", 1)[-1]
    vendor = re.sub(r"^(us|eu|apac|global)\.", "", vendor).split(".")[0]
    if ("any" in choice or "tool" in choice) and vendor in ("meta", "cohere"):
        return "This model doesn't support the toolConfig.toolChoice.%s " \
               "field. Remove toolConfig.toolChoice.%s and try again." % (
                   next(iter(choice)), next(iter(choice)))
    return None


def serve(handler, path, raw, body, query):
    m = re.match(r"^/bedrock/model/([^/]+)/(converse|converse-stream)$", path)
    if not m:
        aws_error(handler, 404, "UnknownOperationException",
                  "Unknown operation %s" % path)
        return None
    denied = check_auth(handler, raw)
    if denied:
        aws_error(handler, 403, denied[0], denied[1])
        return None
    model_id = unquote(m.group(1))
    name = scenario_of(model_id)
    stream = m.group(2) == "converse-stream"
    if name in ERRORS:
        status, etype, msg, extra = ERRORS[name]
        aws_error(handler, status, etype, msg, extra)
        return None
    bad = validate(body, name, model_id)
    if bad:
        aws_error(handler, 400, "ValidationException", bad)
        return None
    if stream:
        chunks = stream_scenario(name, body)
        if chunks is not None:
            return stream_answer(name, chunks)
    else:
        doc = json_scenario(name, body)
        if doc is not None:
            json_answer(handler, doc)
            return None
    aws_error(handler, 400, "ValidationException",
              "The provided model identifier is invalid. (simulator: no %s "
              "scenario %r)" % ("stream" if stream else "non-stream", name))
    return None
