"""Real clients against the gateway: the official openai and Anthropic Node
SDKs, the Codex CLI and Claude Code (tests/clients, pinned in its
package-lock.json, installed by tests/clients/install.sh from scripts/test).

Each test asserts what the client got (content, tool calls), what the
upstream saw (the simulator's request log), and that the gateway metered
it: `usage.cost_usd` and `aura` on the answer where the wire format has
them, and the gateway's own log line for the request id
("... in=<n> out=<n> ...", mod_aura_handler.c log_outcome).

Upstreams: the OpenAI wire-format simulator's scenarios (tests/sim/README.md)
for the plain SDK cases, and the scripted agent (tests/sim/providers/agent.py,
an OpenAI-compatible Chat Completions server) for everything with tools and
for the CLIs, under <Location /clients> (tests/integration/providers/
agent.conf), where every model name goes to that agent: never to a real
OpenAI or Anthropic. Network: loopback only; the CLIs get a temporary HOME,
telemetry and update checks off.

Without tests/clients/node_modules these tests skip, unless
AURA_REQUIRE_CLIENTS is set (scripts/test sets it), when they fail.
"""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / "tests" / "clients"
NODE_MODULES = CLIENTS / "node_modules"
MODELS_DIR = REPO / "conf" / "models"
MODELS_TEST = REPO / "tests" / "integration" / "models-test.json"
MARK = "hello-from-aura"
TASK = "Run `echo %s` in the shell and tell me exactly what it printed." % MARK
AGENT_PATH = "/agent/v1/chat/completions"


# --------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clients():
    node = shutil.which("node")
    missing = []
    if not node:
        missing.append("node is not installed")
    if not NODE_MODULES.is_dir():
        missing.append("%s is missing (run tests/clients/install.sh)"
                       % NODE_MODULES)
    if missing:
        why = "; ".join(missing)
        if os.environ.get("AURA_REQUIRE_CLIENTS"):
            pytest.fail("AURA_REQUIRE_CLIENTS is set but " + why)
        pytest.skip("client tests need Node packages: " + why)
    return node


def client_env(home):
    """A clean environment: no provider keys or proxies of the machine,
    a private HOME, the CLIs' telemetry and update checks off."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb",
           "NO_COLOR": "1", "CI": "1",
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    os.makedirs(home, exist_ok=True)
    return env


def run(cmd, env, cwd, timeout):
    try:
        p = subprocess.run(cmd, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout,
                           start_new_session=True)
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s timed out after %ss\n--- stdout:\n%s\n--- stderr:\n%s"
                    % (cmd[0], timeout, _s(e.stdout)[-3000:],
                       _s(e.stderr)[-3000:]))
    return p


def _s(b):
    if b is None:
        return ""
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def run_node(node, script, case, base, model, tmp_path, timeout=60):
    p = run([node, str(CLIENTS / script), case, base, model],
            client_env(tmp_path / "home"), CLIENTS, timeout)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    assert lines, "%s %s printed no JSON (exit %d)\n--- stdout:\n%s\n" \
        "--- stderr:\n%s" % (script, case, p.returncode, p.stdout[-3000:],
                              p.stderr[-3000:])
    out = json.loads(lines[-1])
    assert out.get("ok") and p.returncode == 0, \
        "%s %s failed (exit %d): %s\n--- stderr:\n%s" % (
            script, case, p.returncode, json.dumps(out)[:3000],
            p.stderr[-2000:])
    return out


def gw_base(gw, prefix=""):
    return "http://127.0.0.1:%d%s" % (gw.port, prefix)


def registry_entry(model):
    """The registry entry (conf/models/*.json, models-test.json) of a
    model name or alias."""
    files = sorted(MODELS_DIR.glob("*.json")) + [MODELS_TEST]
    for f in files:
        for name, e in json.loads(f.read_text()).get("models", {}).items():
            if model == name or model in (e.get("aliases") or []):
                return e
    raise AssertionError("model %r is in no registry file" % model)


def check_cost(usage, model, H, what="usage"):
    """usage.cost_usd per the contract, from the counts in the same
    usage object (Responses or Chat shape) and the registry price."""
    assert usage, "%s is missing" % what
    cost = usage.get("cost_usd")
    assert isinstance(cost, dict), "%s has no cost_usd: %r" % (what, usage)
    want = H.expected_cost(H.usage_counts(usage),
                           registry_entry(model)["price"])
    assert cost["total"] > 0, "%s.cost_usd.total is %r" % (what, cost)
    assert abs(cost["total"] - want["total"]) <= 1e-9, \
        "%s.cost_usd.total = %r, want %r (%r)" % (what, cost["total"],
                                                   want["total"], usage)


def outcome_lines(gw, rid, want=1, wait=3.0):
    """The gateway's outcome log line(s) for a request id: (kind,
    provider, model, in, out)."""
    pat = re.compile(r"\[%s\] (json|stream) provider=(\S+) model=(\S+) "
                     r"upstream_status=\d+ in=(-?\d+) out=(-?\d+)"
                     % re.escape(rid))
    deadline = time.time() + wait
    while True:
        found = [(m.group(1), m.group(2), m.group(3), int(m.group(4)),
                  int(m.group(5))) for m in pat.finditer(gw.error_log())]
        if len(found) >= want or time.time() > deadline:
            break
        time.sleep(0.1)
    assert found, "no outcome line (in=/out=) for %s in the error_log; " \
        "its lines:\n%s" % (rid, "\n".join(
            l for l in gw.error_log().splitlines() if rid in l)[-2000:])
    return found


def check_logged(gw, rid, provider, inp, out):
    kind, prov, _model, lin, lout = outcome_lines(gw, rid)[0]
    assert prov == provider, "log says provider=%s, want %s" % (prov,
                                                                provider)
    assert (lin, lout) == (inp, out), \
        "gateway logged in=%d out=%d for %s, the answer said in=%d out=%d" \
        % (lin, lout, rid, inp, out)


def agent_replies(sim):
    return [e for e in sim.events() if e.get("kind") == "agent_reply"]


def request_ids_since(gw, mark_len, path_prefix):
    """x-aura-request-id of every request under path_prefix in the
    access log after mark_len bytes (format "%h %t "%r" %>s %B %D id")."""
    time.sleep(0.3)
    out = []
    for line in gw.access_log()[mark_len:].splitlines():
        m = re.search(r'"(\w+) (\S+) HTTP/[\d.]+" (\d+) \S+ \S+ (req_\w+)',
                      line)
        if m and m.group(2).startswith(path_prefix):
            out.append((m.group(1), m.group(2), int(m.group(3)), m.group(4)))
    return out


def check_upstream_billing(gw, sim, ids):
    """Every agent-upstream request the CLI caused was logged by the
    gateway with the token counts the upstream billed."""
    billed = agent_replies(sim)
    if os.environ.get("AURA_CLIENTS_VERBOSE"):
        for i in ids:
            print("gateway", i, outcome_lines(gw, i[3], wait=0.5)
                  if i[2] == 200 else "")
        for b in billed:
            print("upstream", {k: b[k] for k in ("model", "stream", "action",
                                                  "tool", "arguments", "text",
                                                  "usage")})
    logged = [outcome_lines(gw, rid)[0] for (_m, _p, st, rid) in ids
              if st == 200]
    assert len(logged) == len(billed), \
        "gateway outcome lines %d != upstream answers %d\nlogged %r\n" \
        "billed %r" % (len(logged), len(billed), logged,
                       [b["usage"] for b in billed])
    assert sum(l[3] for l in logged) == sum(
        b["usage"]["prompt_tokens"] for b in billed), (logged, billed)
    assert sum(l[4] for l in logged) == sum(
        b["usage"]["completion_tokens"] for b in billed), (logged, billed)
    assert all(l[1] == "agent" for l in logged), logged


# --------------------------------------------------------------------------
# openai SDK: Responses API
# --------------------------------------------------------------------------

PRICED = "priced-chat"   # models-test.json: sim provider, scenario
                         # usage-details, priced


def fixture_chat_text(H, stream):
    if stream:
        chunks = H.chat_chunk_lines(
            "openai__chat_stream_usage_details_obfuscation_chunks.txt")
        return H.chat_stream_text(chunks), H.chat_stream_usage(chunks)
    d = H.fixture_json("openai__chat_nonstream_usage_details_docs_example.json")
    return d["choices"][0]["message"]["content"], d["usage"]


def test_openai_responses_plain(clients, gw, sim, H, tmp_path):
    out = run_node(clients, "openai_sdk.mjs", "responses-plain",
                   gw_base(gw, "/v1"), PRICED, tmp_path)
    text, usage = fixture_chat_text(H, stream=False)
    assert out["text"] == text and out["text_from_items"] == text
    assert out["status"] == "completed"
    assert out["usage"]["input_tokens"] == usage["prompt_tokens"]
    assert out["usage"]["output_tokens"] == usage["completion_tokens"]
    check_cost(out["usage"], PRICED, H)
    assert out["aura"]["request_id"] == out["request_ids"][0]
    assert out["aura"]["provider"] == "sim"
    assert out["aura"]["cost_status"] == "priced"
    check_logged(gw, out["request_ids"][0], "sim", usage["prompt_tokens"],
                 usage["completion_tokens"])


def test_openai_responses_stream(clients, gw, sim, H, tmp_path):
    out = run_node(clients, "openai_sdk.mjs", "responses-stream",
                   gw_base(gw, "/v1"), PRICED, tmp_path)
    text, usage = fixture_chat_text(H, stream=True)
    assert out["text"] == text, "streamed deltas differ from the fixture"
    assert out["final_text"] == text
    assert out["types"][0] == "response.created"
    assert out["types"][-1] == "response.completed"
    assert out["types"].count("response.output_text.delta") > 1
    assert out["usage"]["input_tokens"] == usage["prompt_tokens"]
    assert out["usage"]["output_tokens"] == usage["completion_tokens"]
    check_cost(out["usage"], PRICED, H)
    assert out["aura"]["request_id"] == out["request_ids"][0]
    check_logged(gw, out["request_ids"][0], "sim", usage["prompt_tokens"],
                 usage["completion_tokens"])


def test_openai_responses_tool_round_trip(clients, gw, sim, H, tmp_path):
    model = "gpt-4.1-mini"
    out = run_node(clients, "openai_sdk.mjs", "responses-tools",
                   gw_base(gw, "/clients/v1"), model, tmp_path)
    assert len(out["calls"]) == 1, out["calls"]
    call = out["calls"][0]
    assert call["name"] == "shell"
    assert json.loads(call["arguments"]) == {"command": "echo " + MARK}
    assert out["tool_outputs"] == [MARK + "\n"]
    ag = out["first_aura"]["agentic"]
    assert ag["has_tool_calls"] and ag["requires_action"], ag
    assert ag["tools_used"] == ["shell"] and ag["tool_calls_count"] == 1
    assert MARK in out["text"], out["text"]
    # the upstream got the tool result back, as a tool message
    reqs = sim.requests(path=AGENT_PATH)
    assert len(reqs) == 2, [q["path"] for q in sim.requests()]
    last = reqs[1]["body"]["messages"][-1]
    assert last["role"] == "tool" and MARK in H.content_text(
        last["content"]), last
    billed = agent_replies(sim)
    for rid, usage, b in zip(out["request_ids"],
                             (out["first_usage"], out["usage"]), billed):
        check_cost(usage, model, H)
        assert usage["input_tokens"] == b["usage"]["prompt_tokens"]
        assert usage["output_tokens"] == b["usage"]["completion_tokens"]
        check_logged(gw, rid, "agent", usage["input_tokens"],
                     usage["output_tokens"])


# --------------------------------------------------------------------------
# openai SDK: Chat Completions
# --------------------------------------------------------------------------

def check_chat_enrichment(out, model, H):
    """The gateway's enrichment on a Chat Completions answer: usage with
    cost_usd and the aura object (same contract as /v1/responses)."""
    assert out.get("aura"), "no aura object on the chat answer: %r" % out
    assert out["aura"]["request_id"] == out["request_ids"][-1]
    check_cost(out["usage"], model, H)


def test_openai_chat_plain(clients, gw, sim, H, tmp_path):
    out = run_node(clients, "openai_sdk.mjs", "chat-plain",
                   gw_base(gw, "/v1"), PRICED, tmp_path)
    text, usage = fixture_chat_text(H, stream=False)
    assert out["object"] == "chat.completion"
    assert out["text"] == text
    assert out["finish_reason"] == "stop"
    assert out["usage"]["prompt_tokens"] == usage["prompt_tokens"]
    assert out["usage"]["completion_tokens"] == usage["completion_tokens"]
    check_chat_enrichment(out, PRICED, H)
    check_logged(gw, out["request_ids"][0], "sim", usage["prompt_tokens"],
                 usage["completion_tokens"])


def test_openai_chat_stream(clients, gw, sim, H, tmp_path):
    out = run_node(clients, "openai_sdk.mjs", "chat-stream",
                   gw_base(gw, "/v1"), PRICED, tmp_path)
    text, usage = fixture_chat_text(H, stream=True)
    assert out["objects"] == ["chat.completion.chunk"], out["objects"]
    assert out["text"] == text, "streamed deltas differ from the fixture"
    assert out["finish_reason"] == "stop"
    assert out["usage"], "no usage chunk despite include_usage"
    assert out["usage"]["prompt_tokens"] == usage["prompt_tokens"]
    assert out["usage"]["completion_tokens"] == usage["completion_tokens"]
    check_chat_enrichment(out, PRICED, H)
    check_logged(gw, out["request_ids"][0], "sim", usage["prompt_tokens"],
                 usage["completion_tokens"])


def test_openai_chat_tool_round_trip(clients, gw, sim, H, tmp_path):
    model = "gpt-4.1-mini"
    out = run_node(clients, "openai_sdk.mjs", "chat-tools",
                   gw_base(gw, "/clients/v1"), model, tmp_path)
    assert out["finish_reason"] == "tool_calls"
    assert len(out["calls"]) == 1, out["calls"]
    call = out["calls"][0]
    assert call["type"] == "function" and call["name"] == "shell"
    assert call["id"], call
    assert json.loads(call["arguments"]) == {"command": "echo " + MARK}
    assert out["tool_outputs"] == [MARK + "\n"]
    assert MARK in (out["text"] or ""), out["text"]
    reqs = sim.requests(path=AGENT_PATH)
    assert len(reqs) == 2
    last = reqs[1]["body"]["messages"][-1]
    assert last["role"] == "tool" and MARK in H.content_text(
        last["content"]), last
    billed = agent_replies(sim)
    for rid, usage, b in zip(out["request_ids"],
                             (out["first_usage"], out["usage"]), billed):
        assert usage["prompt_tokens"] == b["usage"]["prompt_tokens"]
        assert usage["completion_tokens"] == b["usage"]["completion_tokens"]
        check_cost(usage, model, H)
        check_logged(gw, rid, "agent", usage["prompt_tokens"],
                     usage["completion_tokens"])
    assert out["first_aura"]["agentic"]["requires_action"]


def test_openai_chat_tools_stream(clients, gw, sim, H, tmp_path):
    model = "gpt-4.1-mini"
    out = run_node(clients, "openai_sdk.mjs", "chat-tools-stream",
                   gw_base(gw, "/clients/v1"), model, tmp_path)
    assert out["finish_reason"] == "tool_calls"
    assert len([c for c in out["calls"] if c]) == 1, out["calls"]
    call = out["calls"][0]
    assert call["id"] and call["type"] == "function", call
    assert call["name"] == "shell"
    assert json.loads(call["arguments"]) == {"command": "echo " + MARK}
    b = agent_replies(sim)[0]
    assert out["usage"]["prompt_tokens"] == b["usage"]["prompt_tokens"]
    check_chat_enrichment(out, model, H)
    check_logged(gw, out["request_ids"][0], "agent",
                 b["usage"]["prompt_tokens"], b["usage"]["completion_tokens"])


# --------------------------------------------------------------------------
# @anthropic-ai/sdk: Messages
# --------------------------------------------------------------------------

def test_anthropic_messages_create(clients, gw, sim, H, tmp_path):
    out = run_node(clients, "anthropic_sdk.mjs", "messages-create",
                   gw_base(gw), PRICED, tmp_path)
    text, usage = fixture_chat_text(H, stream=False)
    assert out["type"] == "message" and out["role"] == "assistant"
    assert out["text"] == text
    assert out["stop_reason"] == "end_turn"
    assert out["usage"]["input_tokens"] == usage["prompt_tokens"]
    assert out["usage"]["output_tokens"] == usage["completion_tokens"]
    q = sim.one_request("usage-details")
    first = q["body"]["messages"][0]
    assert first["role"] in ("system", "developer") and H.content_text(
        first["content"]) == "You are terse.", \
        "system prompt not sent upstream as the first message: %r" % (
            q["body"]["messages"],)
    assert out.get("aura"), "no aura object on the Messages answer"
    assert out["aura"]["request_id"] == out["request_ids"][0]
    check_cost(out["usage"], PRICED, H)
    check_logged(gw, out["request_ids"][0], "sim", usage["prompt_tokens"],
                 usage["completion_tokens"])


def test_anthropic_messages_stream_tool_use(clients, gw, sim, H, tmp_path):
    model = "claude-haiku-4-5"
    out = run_node(clients, "anthropic_sdk.mjs", "messages-stream-tool",
                   gw_base(gw, "/clients"), model, tmp_path)
    assert out["events"][0] == "message_start"
    assert out["events"][-1] == "message_stop"
    assert "tool_use" in out["blocks"], out["blocks"]
    assert out["stop_reason"] == "tool_use"
    assert len(out["tool_use"]) == 1, out["tool_use"]
    tu = out["tool_use"][0]
    assert tu["name"] == "bash" and tu["id"], tu
    assert tu["input"] == {"command": "echo " + MARK}
    assert json.loads(out["streamed_input_json"]) == tu["input"]
    assert out["tool_outputs"] == [MARK + "\n"]
    assert MARK in out["text"], out["text"]
    assert out["answer_stop_reason"] == "end_turn"
    reqs = sim.requests(path=AGENT_PATH)
    assert len(reqs) == 2
    last = reqs[1]["body"]["messages"][-1]
    assert last["role"] == "tool" and MARK in H.content_text(
        last["content"]), last
    billed = agent_replies(sim)
    assert len(billed) == 2, billed
    for rid, usage, b, delta in zip(out["request_ids"],
                                    (out["usage"], out["answer_usage"]),
                                    billed, out["deltas"]):
        assert usage["input_tokens"] == b["usage"]["prompt_tokens"], usage
        assert usage["output_tokens"] == b["usage"]["completion_tokens"]
        # the enrichment on the stream's message_delta event
        assert delta and delta.get("aura"), \
            "message_delta carries no aura object: %r" % delta
        assert delta["aura"]["request_id"] == rid
        check_cost(delta["usage"], model, H, "message_delta.usage")
        check_logged(gw, rid, "agent", b["usage"]["prompt_tokens"],
                     b["usage"]["completion_tokens"])


def test_anthropic_count_tokens(clients, gw, sim, H, tmp_path):
    out = run_node(clients, "anthropic_sdk.mjs", "count-tokens",
                   gw_base(gw, "/clients"), "claude-haiku-4-5", tmp_path)
    res = out["result"]
    assert isinstance(res["input_tokens"], int) and res["input_tokens"] > 0
    assert res.get("aura", {}).get("estimate") is True, \
        "count_tokens must mark an estimate as such: %r" % res
    assert res["aura"]["request_id"] == out["request_ids"][0]
    assert not sim.requests(), "count_tokens by estimate went upstream"


# --------------------------------------------------------------------------
# Codex CLI (Responses API) -> gateway -> scripted agent (Chat Completions)
# --------------------------------------------------------------------------

CODEX_MODEL = "gpt-5.1"     # priced in conf/models/openai.json
# Codex's default tool set includes non-function tools (a "namespace" of
# multi-agent functions, a hosted "web_search"). True runs it with those
# turned off, i.e. function tools only.
CODEX_FUNCTION_TOOLS_ONLY = False


def codex_config(gw):
    return "\n".join([
        'model = "%s"' % CODEX_MODEL,
        'model_provider = "aura"',
        'approval_policy = "never"',
        # Codex's own sandbox (bubblewrap) needs namespaces a CI container
        # may not have; the command is a fixed echo in a temp dir.
        'sandbox_mode = "danger-full-access"',
        'check_for_update_on_startup = false',
    ] + (['web_search = "disabled"', '', '[features]',
          'multi_agent = false'] if CODEX_FUNCTION_TOOLS_ONLY else []) + [
        '',
        '[analytics]',
        'enabled = false',
        '',
        '[feedback]',
        'enabled = false',
        '',
        '[otel]',
        'exporter = "none"',
        '',
        '[model_providers.aura]',
        'name = "mod_aura"',
        'base_url = "%s"' % gw_base(gw, "/clients/v1"),
        'env_key = "AURA_CLIENT_KEY"',
        'wire_api = "responses"',
        'request_max_retries = 0',
        'stream_max_retries = 0',
        '',
    ])


def test_codex_exec_tool_call(clients, gw, sim, H, tmp_path):
    codex = NODE_MODULES / ".bin" / "codex"
    home, work = tmp_path / "home", tmp_path / "work"
    chome = home / ".codex"
    os.makedirs(chome)
    os.makedirs(work)
    (chome / "config.toml").write_text(codex_config(gw))
    env = client_env(home)
    env.update(CODEX_HOME=str(chome), AURA_CLIENT_KEY="aura-client-test-key")
    mark = len(gw.access_log())
    last = tmp_path / "last-message.txt"
    p = run([str(codex), "exec", "--json", "--skip-git-repo-check",
             "--output-last-message", str(last), TASK], env, work, 180)
    ids = request_ids_since(gw, mark, "/clients/")
    diag = "codex exit %d\n--- stdout:\n%s\n--- stderr:\n%s\n--- gateway " \
        "requests: %r\n--- gateway errors:\n%s" % (
            p.returncode, p.stdout[-4000:], p.stderr[-3000:], ids,
            "\n".join(l for l in gw.error_log().splitlines()
                      if any(i[3] in l for i in ids))[-3000:])
    assert ids and all(i[2] == 200 for i in ids
                       if i[1].endswith("/responses")), diag
    assert p.returncode == 0, diag
    events = [json.loads(l) for l in p.stdout.splitlines()
              if l.startswith("{")]
    items = [e["item"] for e in events if e.get("type") == "item.completed"]
    cmds = [i for i in items if i.get("type") == "command_execution"]
    assert cmds, "codex ran no command; items: %r\n%s" % (items, diag)
    assert MARK in cmds[0].get("command", ""), cmds[0]
    assert MARK in cmds[0].get("aggregated_output", ""), cmds[0]
    final = last.read_text() if last.exists() else ""
    assert MARK in final, "final message %r\n%s" % (final, diag)
    # the upstream: a tool call to Codex's shell tool, then the answer
    # quoting the output Codex sent back
    replies = agent_replies(sim)
    calls = [r for r in replies if r["action"] == "tool_call"]
    finals = [r for r in replies if r["action"] == "final"]
    assert calls and calls[0]["tool"] in ("exec_command", "shell",
                                          "local_shell"), replies
    assert finals and MARK in finals[-1]["text"], replies
    check_upstream_billing(gw, sim, [i for i in ids if i[0] == "POST" and
                                     i[1].endswith("/responses")])


# --------------------------------------------------------------------------
# Claude Code (Anthropic Messages) -> gateway -> scripted agent
# --------------------------------------------------------------------------

CLAUDE_MODEL = "claude-sonnet-4-5"     # priced in conf/models/anthropic.json
CLAUDE_SMALL = "claude-haiku-4-5"


def test_claude_code_tool_call(clients, gw, sim, H, tmp_path):
    claude = NODE_MODULES / ".bin" / "claude"
    home, work = tmp_path / "home", tmp_path / "work"
    os.makedirs(work)
    env = client_env(home)
    env.update(
        ANTHROPIC_BASE_URL=gw_base(gw, "/clients"),
        ANTHROPIC_API_KEY="aura-client-test-key",
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        ANTHROPIC_SMALL_FAST_MODEL=CLAUDE_SMALL,
        ANTHROPIC_DEFAULT_HAIKU_MODEL=CLAUDE_SMALL,
        ANTHROPIC_DEFAULT_SONNET_MODEL=CLAUDE_MODEL,
        ANTHROPIC_DEFAULT_OPUS_MODEL=CLAUDE_MODEL,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1", DISABLE_AUTOUPDATER="1",
        DISABLE_ERROR_REPORTING="1", DISABLE_BUG_COMMAND="1",
        CLAUDE_CODE_DISABLE_TERMINAL_TITLE="1",
        CLAUDE_CODE_MAX_RETRIES="0")
    mark = len(gw.access_log())
    p = run([str(claude), "-p", TASK, "--model", CLAUDE_MODEL,
             "--output-format", "stream-json", "--verbose",
             "--allowedTools", "Bash(echo:*)", "--max-turns", "4"],
            env, work, 180)
    ids = request_ids_since(gw, mark, "/clients/")
    events = [json.loads(l) for l in p.stdout.splitlines()
              if l.startswith("{")]
    result = next((e for e in events if e.get("type") == "result"), {})
    diag = "claude exit %d\n--- result: %s\n--- stderr:\n%s\n--- gateway " \
        "requests: %r\n--- gateway errors:\n%s" % (
            p.returncode, json.dumps(result)[:3000], p.stderr[-3000:], ids,
            "\n".join(l for l in gw.error_log().splitlines()
                      if any(i[3] in l for i in ids))[-3000:])
    assert ids and all(i[2] == 200 for i in ids if "/messages" in i[1]), \
        diag
    assert p.returncode == 0 and not result.get("is_error"), diag
    uses, results = [], []
    for e in events:
        content = (e.get("message") or {}).get("content")
        for b in content if isinstance(content, list) else []:
            if b.get("type") == "tool_use":
                uses.append(b)
            if b.get("type") == "tool_result":
                results.append(b)
    assert uses and uses[0]["name"] == "Bash", "no Bash tool_use: %s" % diag
    assert MARK in uses[0]["input"].get("command", ""), uses[0]
    assert results and MARK in json.dumps(results[0].get("content")), \
        "tool result lacks the output: %r" % results
    assert MARK in (result.get("result") or ""), diag
    replies = agent_replies(sim)
    calls = [r for r in replies if r["action"] == "tool_call"]
    finals = [r for r in replies if r["action"] == "final"]
    assert calls and calls[0]["tool"] == "Bash", replies
    assert finals and MARK in finals[-1]["text"], replies
    for q in sim.requests(path=AGENT_PATH):
        assert q["body"]["model"].startswith("claude-"), q["body"]["model"]
    check_upstream_billing(gw, sim, [i for i in ids if "/messages" in i[1]
                                     and "count_tokens" not in i[1]])
