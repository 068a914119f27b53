"""Decoder tracing through the core log callback (mod_aura/core/aura_log.h):
with `LogLevel aura:trace1` in a <Location> (tests/integration/providers/
trace.conf), what a decoder skips reaches error_log as a trace line with
the request id; the same request elsewhere logs no such line, and the
answer is the same either way."""

import re

# The recorded Anthropic stream with server tools (tests/fixtures/anthropic,
# anthropic__messages_stream_cache_creation_server_tools_chunks.txt):
# its server_tool_use and *_tool_result blocks run at Anthropic and are
# skipped by the decoder.
MODEL = "anth/cache"
SKIPPED = "anthropic: content block 0 of type server_tool_use skipped"


def trace_lines(log, request_id):
    return [l for l in log.splitlines()
            if "[%s]" % request_id in l and ":trace1]" in l]


def traced_stream(gw, H, prefix):
    mark = gw.log_mark()
    res = gw.stream({"model": MODEL, "input": "Sum of squares 1..12"},
                    path=prefix + "/v1/responses")
    final = H.check_stream(res)
    rid = res.headers.get("x-aura-request-id")
    assert rid and rid.startswith("req_"), res.headers
    return final, rid, gw.error_log_since(mark)


def test_trace_names_the_skipped_block(gw, H):
    final, rid, log = traced_stream(gw, H, "/traced")
    lines = trace_lines(log, rid)
    assert any(SKIPPED in l for l in lines), (
        "no trace line for the skipped block with request id %s:\n%s"
        % (rid, log))
    # the module's one format, with the core file the line came from
    line = [l for l in lines if SKIPPED in l][0]
    assert re.search(r"\[aura:trace1\] .*aura_anthropic_dec\.c\(\d+\): "
                     r"\[client [^]]*\] \[%s\] " % rid, line), line
    assert H.output_text(final).endswith("**650**.")


def test_no_trace_without_loglevel(gw, H):
    traced, _, _ = traced_stream(gw, H, "/traced")
    final, rid, log = traced_stream(gw, H, "")
    assert not trace_lines(log, rid), log
    assert SKIPPED not in log
    assert H.output_text(final) == H.output_text(traced)
    assert final["usage"] == traced["usage"]


def test_trace_redacts_and_bounds(gw, H):
    """Nothing credential-shaped and no payload text in trace lines: the
    skipped block's input (a shell command) is not logged."""
    _, rid, log = traced_stream(gw, H, "/traced")
    for l in trace_lines(log, rid):
        assert H.SIM_KEY not in l
        assert "seq 1 12" not in l and "for n in" not in l, l
        assert len(l) < 600, l
