"""Azure OpenAI simulator.

`AuraProvider az azure @SIM@/azure api-version=2024-10-21` sends
POST /azure/openai/deployments/<deployment>/chat/completions
     ?api-version=2024-10-21
with the key in `api-key` (one of the simulator's --key values). The
scenario is the DEPLOYMENT in the path (Azure ignores the body's model).
The v1 API (/azure/openai/v1/chat/completions, no api-version) takes the
scenario from the body's model. Azure speaks OpenAI's Chat Completions
wire; its errors are {"error": {"code", "message"}}.

Transcripts: azure_openai__chat_stream_reasoning_tokens_chunks.txt (the
Azure capture) and, where Azure has none, OpenAI's Chat Completions
captures (same schema) from tests/fixtures/openai. DERIVED answers are
listed in tests/fixtures/ollama/SOURCES.md ("Azure OpenAI" section).
"""

import json
import re
from urllib.parse import parse_qs

PREFIX = "/azure/"
DEPLOYMENT = re.compile(r"^/azure/openai/deployments/([^/]+)/chat/completions$")
VERSION = re.compile(r"^20\d\d-\d\d-\d\d(-preview)?$")
AZURE = "azure_openai__chat_stream_reasoning_tokens_chunks.txt"
OA_TEXT = "openai__chat_nonstream_text.json"
OA_CALLS = "openai__chat_nonstream_parallel_tool_calls.json"
OA_CALLS_SSE = "openai__chat_stream_parallel_tool_calls_usage_done.sse"

sim = None


def setup(s):
    global sim
    sim = s


def match(method, path, headers):
    return method == "POST" and path.startswith(PREFIX)


def error(status, code, message, **headers):
    return sim.Reply(status=status, body=json.dumps(
        {"error": {"code": code, "message": message}}).encode(),
        headers=headers)


def azure_lines(finish=None):
    """The Azure capture's payload lines; `finish` replaces its
    finish_reason "stop" (DERIVED when given)."""
    out = []
    for l in sim.chunk_lines(AZURE):
        if finish and b'"finish_reason":"stop"' in l:
            l = l.replace(b'"finish_reason":"stop"',
                          ('"finish_reason":"%s"' % finish).encode())
        out.append(l)
    return out


def azure_body(finish="stop"):
    """DERIVED: the Azure capture assembled into one chat.completion (the
    deltas' content joined; id/created/model of its chunks; its usage)."""
    chunks = [json.loads(l) for l in azure_lines()]
    text = "".join((c["choices"][0]["delta"].get("content") or "")
                   for c in chunks if c.get("choices"))
    last = [c for c in chunks if c.get("id")][-1]
    usage = [c for c in chunks if c.get("usage")][-1]["usage"]
    return json.dumps({
        "id": last["id"], "object": "chat.completion",
        "created": last["created"], "model": last["model"],
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": text,
                                 "refusal": None},
                     "content_filter_results": {}}],
        "usage": usage}).encode()


def one_call_body():
    """DERIVED: OpenAI's parallel-call capture with only its first call."""
    d = json.loads(sim.fixture_bytes(OA_CALLS))
    d["choices"][0]["message"]["tool_calls"] = \
        d["choices"][0]["message"]["tool_calls"][:1]
    return json.dumps(d, indent=2).encode()


def jreply(b):
    return sim.Reply(body=b)


def sreply(events):
    return sim.Reply(events=events)


def err_429():
    # Azure's throttling answer (code "429", "Please retry after N
    # seconds", and a Retry-After header), the form quoted across
    # Microsoft Q&A threads; the deployment's numbers are made up.
    return error(429, "429", "Requests to the ChatCompletions_Create "
                 "Operation under Azure OpenAI API version 2024-10-21 have "
                 "exceeded token rate limit of your current OpenAI S0 "
                 "pricing tier. Please retry after 7 seconds.",
                 **{"Retry-After": "7"})


def malformed_stream():
    ev = sim.chat_frame(azure_lines())
    return sreply(ev[:3] + [ev[3][:40] + b"\n\n"] + ev[3:])


SCENARIOS = {
    "text": (lambda: jreply(sim.fixture_bytes(OA_TEXT)),
             lambda: sreply(sim.chat_frame(azure_lines()))),
    "reasoning": (lambda: jreply(azure_body()),
                  lambda: sreply(sim.chat_frame(azure_lines()))),
    "tool-single": (lambda: jreply(one_call_body()), None),
    "tools-parallel": (lambda: jreply(sim.fixture_bytes(OA_CALLS)),
                       lambda: sreply(sim.sse_file_events(OA_CALLS_SSE))),
    "length": (lambda: jreply(azure_body("length")),
               lambda: sreply(sim.chat_frame(azure_lines("length")))),
    "malformed": (lambda: jreply(azure_body()[:200]), malformed_stream),
    "truncated": (None, lambda: sreply(sim.chat_frame(azure_lines()[:5],
                                                      done=False))),
    "error-429": (err_429, err_429),
    "error-500": (lambda: error(500, "InternalServerError", "The server had "
                                "an error while processing your request. "
                                "Sorry about that!"),) * 2,
    "overloaded": (lambda: error(503, "ServiceUnavailable", "The service is "
                                 "temporarily unable to process your "
                                 "request. Please try again later."),) * 2,
}


def serve(handler, path, raw, body, query):
    m = DEPLOYMENT.match(path)
    v1 = path == "/azure/openai/v1/chat/completions"
    if not m and not v1:
        return error(404, "404", "Resource not found")
    version = (parse_qs(query).get("api-version") or [""])[0]
    if m and not VERSION.match(version):
        # Azure's answer to a missing or unknown api-version
        return error(404, "404", "Resource not found")
    key = handler.headers.get("api-key")
    if not key or (handler.state.keys and key not in handler.state.keys):
        return error(401, "401", "Access denied due to invalid subscription "
                     "key or wrong API endpoint. Make sure to provide a valid "
                     "key for an active subscription and use a correct "
                     "regional API endpoint for your resource.")
    if not isinstance(body, dict):
        return error(400, "BadRequest", "Could not parse the JSON body.")
    scenario = m.group(1) if m else body.get("model")
    build = SCENARIOS.get(scenario, (None, None))[
        1 if body.get("stream") else 0]
    if build is None:
        return error(404, "DeploymentNotFound", "The API deployment for this "
                     "resource does not exist. If you created the deployment "
                     "within the last 5 minutes, please wait a moment and try "
                     "again.")
    reply = build()
    reply.model = "azure:%s" % scenario
    return reply
