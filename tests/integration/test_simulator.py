"""Self-test of the provider simulator (runs without the module).

The gateway tests are only as good as the simulator: these check that it
serves the fixture transcripts byte for byte, frames "C"-fidelity chunk
files the way OpenAI does, keeps connections alive, checks keys, paces and
stalls when asked, and notices a client that goes away.
"""

import http.client
import json
import socket
import time

import pytest

AUTH = {"Authorization": "Bearer sk-test-sim-0000",
        "Content-Type": "application/json"}


def post(sim, path, body, headers=None, conn=None, timeout=10):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", sim.port,
                                              timeout=timeout)
    hdrs = dict(AUTH)
    hdrs.update(headers or {})
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, body=payload, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    if own:
        conn.close()
    return out


def chat(sim, model, stream=False, **kw):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}],
            "stream": stream}
    body.update(kw)
    return post(sim, "/v1/chat/completions", body)


def responses(sim, model, stream=False, **kw):
    body = {"model": model, "input": "hi", "stream": stream}
    body.update(kw)
    return post(sim, "/v1/responses", body)


def framed_chat(H, name):
    lines = [l for l in H.fixture_bytes(name).split(b"\n") if l.strip()]
    return b"".join(b"data: " + l + b"\n\n" for l in lines) + \
        b"data: [DONE]\n\n"


def framed_resp(lines):
    return b"".join(b"event: " + json.loads(l)["type"].encode() +
                    b"\ndata: " + l + b"\n\n" for l in lines)


@pytest.mark.parametrize("api,model,fixture", [
    ("chat", "text", "openai__chat_nonstream_text.json"),
    ("chat", "tools-parallel", "openai__chat_nonstream_parallel_tool_calls.json"),
    ("chat", "tool-single", "mistral__chat_nonstream_tool_call.json"),
    ("chat", "usage-details",
     "openai__chat_nonstream_usage_details_docs_example.json"),
    ("chat", "mistral-text", "mistral__chat_nonstream_text.json"),
    ("responses", "text", "openai__responses_nonstream_text.json"),
    ("responses", "reasoning", "openai__responses_nonstream_reasoning.json"),
])
def test_nonstream_body_is_fixture_bytes(sim, H, api, model, fixture):
    status, headers, body = (chat if api == "chat" else responses)(sim, model)
    assert status == 200
    assert body == H.fixture_bytes(fixture), "body differs from %s" % fixture
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == str(len(body))
    assert headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("model,fixture", [
    ("text", "openai__chat_stream_text_usage_done.sse"),
    ("tools-parallel", "openai__chat_stream_parallel_tool_calls_usage_done.sse"),
    ("n3", "openai__chat_stream_n3_choices_usage_done.sse"),
])
def test_sse_fixture_served_verbatim(sim, H, model, fixture):
    status, headers, body = chat(sim, model, stream=True)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["transfer-encoding"] == "chunked"
    assert body == H.fixture_bytes(fixture), "stream differs from %s" % fixture


@pytest.mark.parametrize("model,fixture", [
    ("usage-details", "openai__chat_stream_usage_details_obfuscation_chunks.txt"),
    ("reasoning", "azure_openai__chat_stream_reasoning_tokens_chunks.txt"),
    ("tool-single", "mistral__chat_stream_tool_call_chunks.txt"),
])
def test_chat_chunk_files_reframed_as_openai_sse(sim, H, model, fixture):
    status, _, body = chat(sim, model, stream=True)
    assert status == 200
    assert body == framed_chat(H, fixture)


def test_responses_stream_framed_with_event_lines(sim, H):
    name = "openai__responses_stream_cached_reasoning_tokens_chunks.txt"
    status, headers, body = responses(sim, "reasoning", stream=True)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    lines = [l for l in H.fixture_bytes(name).split(b"\n") if l.strip()]
    assert body == framed_resp(lines)
    assert b"[DONE]" not in body     # OpenAI's Responses stream has none


def test_responses_text_stream_is_the_agent_transcripts_fourth_stream(sim, H):
    name = "openai__responses_stream_reasoning_function_call_chunks.txt"
    lines = [l for l in H.fixture_bytes(name).split(b"\n") if l.strip()]
    starts = [i for i, l in enumerate(lines)
              if json.loads(l)["type"] == "response.created"]
    assert len(starts) == 4
    status, _, body = responses(sim, "text", stream=True)
    assert status == 200
    assert body == framed_resp(lines[starts[3]:])


def test_keep_alive_reuses_one_connection(sim):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        s1, _, _ = post(sim, "/v1/chat/completions",
                        {"model": "text", "messages": [], "stream": True},
                        conn=conn)
        sock = conn.sock
        s2, _, b2 = post(sim, "/v1/chat/completions",
                         {"model": "text", "messages": []}, conn=conn)
        s3, _, _ = post(sim, "/v1/responses", {"model": "text"}, conn=conn)
        assert (s1, s2, s3) == (200, 200, 200)
        assert conn.sock is sock, "the simulator closed a keep-alive connection"
        assert json.loads(b2)["object"] == "chat.completion"
    finally:
        conn.close()


def test_auth_missing_and_wrong_key(sim):
    s, _, body = post(sim, "/v1/chat/completions", {"model": "text"},
                      headers={"Authorization": ""})
    assert s == 401
    err = json.loads(body)["error"]
    assert err["type"] == "invalid_request_error"
    s, _, body = post(sim, "/v1/chat/completions", {"model": "text"},
                      headers={"Authorization": "Bearer sk-wrong-key-123456"})
    assert s == 401
    err = json.loads(body)["error"]
    assert err["code"] == "invalid_api_key"
    assert err["param"] is None
    assert "sk-wrong-key-123456" not in err["message"]  # masked, like OpenAI
    assert err["message"].startswith("Incorrect API key provided: sk-wrong")
    for key in ("sk-test-sim-0000", "sk-test-openai-0000"):
        s, _, _ = post(sim, "/v1/chat/completions", {"model": "text"},
                       headers={"Authorization": "Bearer " + key})
        assert s == 200, key


def test_error_scenarios(sim, H):
    s, h, body = chat(sim, "error-429")
    assert s == 429 and h["retry-after"] == "7"
    assert body == H.fixture_bytes("openai__error_429_insufficient_quota.json")
    s, h, body = responses(sim, "error-429", stream=True)
    assert s == 429 and h["retry-after"] == "7"
    s, _, body = chat(sim, "error-400")
    assert s == 400
    assert body == H.fixture_bytes("openai__error_400_unsupported_parameter.json")
    s, _, body = chat(sim, "error-500")
    assert s == 500 and json.loads(body)["error"]["type"] == "server_error"
    s, _, body = responses(sim, "error-401")
    assert s == 401
    err = json.loads(body)["error"]
    assert err["code"] == "invalid_api_key"
    assert "sk-test-sim-0000" not in err["message"]
    s, _, body = chat(sim, "no-such-scenario")
    assert s == 404
    assert json.loads(body)["error"]["code"] == "model_not_found"


def test_request_log_records_path_headers_and_parsed_body(sim):
    sim.clear()
    chat(sim, "text", temperature=0.5)
    qs = sim.requests()
    assert len(qs) == 1
    q = qs[0]
    assert q["path"] == "/v1/chat/completions"
    assert q["headers"]["authorization"] == "Bearer sk-test-sim-0000"
    assert q["body"]["temperature"] == 0.5
    assert sim.requests(model="text")[0] == q
    sim.clear()
    assert sim.requests() == []


def test_chunked_request_body_accepted(sim):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        payload = json.dumps({"model": "text", "messages": []}).encode()
        conn.request("POST", "/v1/chat/completions",
                     body=iter([payload[:10], payload[10:]]),
                     headers=dict(AUTH), encode_chunked=True)
        r = conn.getresponse()
        r.read()
        assert r.status == 200
    finally:
        conn.close()
    assert sim.requests()[-1]["body"]["model"] == "text"


def test_echo_tools_names_the_first_tool(sim):
    tools = [{"type": "function", "function": {"name": "lookup_order"}}]
    s, _, body = chat(sim, "echo-tools", tools=tools)
    assert s == 200
    call = json.loads(body)["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "lookup_order"
    s, _, body = chat(sim, "echo-tools", stream=True, tools=tools)
    assert b'"name":"lookup_order"' in body
    s, _, body = responses(sim, "echo-tools", stream=True,
                           tools=[{"type": "function", "name": "lookup_order"}])
    assert b'"name":"lookup_order"' in body
    assert b'"name":"calculator"' not in body


def test_length_scenarios(sim):
    _, _, body = chat(sim, "length")
    assert json.loads(body)["choices"][0]["finish_reason"] == "length"
    _, _, body = chat(sim, "length", stream=True)
    assert b'"finish_reason":"length"' in body
    _, _, body = responses(sim, "length")
    doc = json.loads(body)
    assert doc["status"] == "incomplete"
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}


def test_malformed_and_truncated(sim, H):
    s, _, body = chat(sim, "malformed")
    assert s == 200
    with pytest.raises(ValueError):
        json.loads(body)
    assert H.fixture_bytes("openai__chat_nonstream_text.json").startswith(body)
    s, _, body = chat(sim, "malformed", stream=True)
    bad = []
    for block in body.decode().split("\n\n"):
        if block.startswith("data: ") and block != "data: [DONE]":
            try:
                json.loads(block[6:])
            except ValueError:
                bad.append(block)
    assert len(bad) == 1, "want exactly one broken data line"
    s, _, body = chat(sim, "truncated", stream=True)
    assert s == 200 and b"[DONE]" not in body and body.count(b"data: ") == 10
    s, _, body = responses(sim, "truncated", stream=True)
    assert s == 200 and b"response.completed" not in body


def test_paced_stream_arrives_spread_out(sim, H):
    res = H.stream_request(sim.port, {"model": "paced", "stream": True,
                                      "input": "hi"},
                           path="/v1/responses", timeout=10,
                           headers={"Authorization": "Bearer sk-test-sim-0000"})
    times = sorted({round(e.t, 2) for e in res.events})
    assert len(times) >= 4
    assert res.events[-1].t - res.events[0].t >= 0.15 * (len(res.events) - 2)


def test_stall_pauses_after_two_events(sim):
    s = socket.create_connection(("127.0.0.1", sim.port), timeout=5)
    try:
        payload = json.dumps({"model": "stall", "stream": True,
                              "messages": []}).encode()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer sk-test-sim-0000\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
        got = b""
        t0 = time.time()
        s.settimeout(1.0)
        while got.count(b"data: ") < 2:
            got += s.recv(65536)
        s.settimeout(1.6)
        with pytest.raises(socket.timeout):
            s.recv(65536)
        assert got.count(b"data: ") == 2
        assert time.time() - t0 < 3
    finally:
        s.close()


def test_slow_first_byte_sends_nothing_for_seconds(sim):
    s = socket.create_connection(("127.0.0.1", sim.port), timeout=5)
    try:
        payload = json.dumps({"model": "slow-first-byte",
                              "messages": []}).encode()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer sk-test-sim-0000\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
        s.settimeout(2.0)
        with pytest.raises(socket.timeout):
            s.recv(1)
    finally:
        s.close()


def test_slow_stream_records_client_disconnect(sim, H):
    sim.clear()
    closed_at = []

    def stop(res):
        if len(res.events) >= 2:
            closed_at.append(time.time())
            return True
        return False

    res = H.stream_request(sim.port, {"model": "slow-stream", "stream": True,
                                      "messages": []},
                           path="/v1/chat/completions", timeout=10,
                           headers={"Authorization": "Bearer sk-test-sim-0000"},
                           stop=stop)
    assert res.closed_early
    deadline = time.time() + 3
    ev = []
    while time.time() < deadline:
        ev = [e for e in sim.events() if e["kind"] == "client_disconnected"]
        if ev:
            break
        time.sleep(0.1)
    assert ev, "simulator never noticed the disconnect: %s" % sim.events()
    assert ev[0]["model"] == "slow-stream"
    assert ev[0]["sent"] < 10
    assert ev[0]["total"] == 41   # 40 chunks + data: [DONE]
    assert ev[0]["t"] - closed_at[0] < 3


def test_unknown_path_and_control_404(sim):
    s, _, body = post(sim, "/v1/completions", {"model": "text"})
    assert s == 404
