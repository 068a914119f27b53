"""Streams flow as they arrive (never buffered), a client abort stops the
upstream transfer, and every stream is billed."""

import time

import pytest


@pytest.mark.parametrize("model", ["sim/paced", "openai/paced"])
def test_events_arrive_spread_out(gw, H, model):
    res = gw.stream({"model": model, "input": "hi"}, timeout=15)
    H.check_stream(res)
    deltas = res.of_type("response.output_text.delta")
    assert len(deltas) >= 5, res.types()
    spread = deltas[-1].t - deltas[0].t
    assert spread >= 0.4, \
        "the deltas arrived within %.3f s of each other: buffered" % spread
    distinct = {e.t for e in deltas}
    assert len(distinct) >= 4, \
        "deltas arrived in only %d socket reads: buffered" % len(distinct)
    # the first delta must arrive well before the stream ends
    assert res.terminal.t - deltas[0].t >= 0.4


def test_first_events_arrive_before_upstream_finishes(gw, H):
    """response.created must reach the client while the upstream is still
    sending (paced: ~5 s of 150 ms gaps)."""
    res = gw.stream({"model": "sim/paced", "input": "hi"}, timeout=15)
    H.check_stream(res)
    created = res.events[0]
    assert res.terminal.t - created.t >= 2.0, \
        "response.created arrived only %.2f s before the end" % (
            res.terminal.t - created.t)


def test_client_abort_stops_upstream(gw, sim, H):
    closed = []

    def stop(res):
        if len(res.of_type("response.output_text.delta")) >= 2:
            closed.append(time.time())
            return True
        return False

    res = gw.stream({"model": "sim/slow-stream", "input": "hi"}, timeout=10,
                    stop=stop)
    assert res.closed_early, "the stream ended before two deltas arrived"
    deadline = closed[0] + 3.0
    seen = []
    while time.time() < deadline:
        seen = [e for e in sim.events() if e["model"] == "slow-stream"]
        if seen:
            break
        time.sleep(0.1)
    assert seen, "the simulator did not see the gateway drop the upstream " \
        "within 3 s of the client closing"
    ev = seen[0]
    assert ev["kind"] == "client_disconnected", \
        "the upstream stream ran to completion: %r" % ev
    assert ev["sent"] < 20, \
        "the upstream sent %d of 40 events before the gateway let go" % \
        ev["sent"]
    assert ev["t"] - closed[0] <= 3.0


def test_stream_asks_upstream_for_usage(gw, sim, H):
    res = gw.stream({"model": "sim/text", "input": "hi"})
    final = H.check_stream(res)
    body = sim.one_request("text", "/v1/chat/completions")["body"]
    assert body["stream"] is True
    assert body.get("stream_options", {}).get("include_usage") is True, body
    assert final["usage"]["input_tokens"] == 14
    assert final["usage"]["output_tokens"] == 30
    assert "cost_usd" in final["usage"]
    assert final["aura"]["cost_status"] == "unknown_price"


def test_stream_billed_with_client_stream_options(gw, sim, H):
    """The client's own stream_options must not replace include_usage."""
    res = gw.stream({"model": "priced-chat", "input": "hi",
                     "stream_options": {"include_obfuscation": False}})
    final = H.check_stream(res)
    body = sim.one_request("usage-details", "/v1/chat/completions")["body"]
    assert body["stream_options"]["include_usage"] is True
    assert final["usage"]["cost_usd"] is not None
    assert final["aura"]["cost_status"] == "priced"


def test_stream_ends_with_done_and_nothing_after(gw, H):
    res = gw.stream({"model": "openai/text", "input": "hi"})
    H.check_stream(res)
    assert res.after_done == b"", "bytes after data: [DONE]: %r" % \
        res.after_done
    assert res.trailing == ""


def test_stream_request_answered_with_json_still_streams(gw, sim, H):
    """A server that ignores "stream" answers one JSON document: the gateway
    decodes it as a body and still streams Open Responses events."""
    res = gw.stream({"model": "sim/stream-as-json", "input": "hi"})
    final = H.check_stream(res)
    assert final["status"] == "completed"
    text = "".join(e.data["delta"]
                   for e in res.of_type("response.output_text.delta"))
    assert text.startswith("I'm unable to provide real-time weather updates")
    assert final["usage"]["input_tokens"] == 14


def test_stream_request_answered_with_json_error_keeps_its_message(gw, H):
    res = gw.stream({"model": "sim/stream-error-200", "input": "hi"})
    H.check_stream(res, expect_terminal="response.failed", billed=False)
    err = res.of_type("error")
    assert len(err) == 1, res.types()
    assert "model overloaded" in err[0].data["error"]["message"]
    assert res.terminal.data["type"] == "response.failed"


def test_stream_without_usage_says_no_usage(gw, H):
    res = gw.stream({"model": "sim/no-usage", "input": "hi"})
    final = H.check_stream(res, billed=False)
    assert final["status"] == "completed"
    assert final["usage"] is None
    assert final["aura"]["cost_status"] == "no_usage"
