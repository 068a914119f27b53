"""scripts/run, as a new user runs it (the issue's "done when"): on a
first run it starts PostgreSQL under its state directory, migrates,
prints the admin login and a first virtual key once, and serves; the key
works on /v1/responses and the login on the admin console; a second run
reuses both and prints no secret; TERM stops httpd and PostgreSQL.

The state directory is a temporary one (AURA_VAR) and the port a free
one (AURA_PORT); the provider is the test simulator (OPENAI_BASE_URL,
OPENAI_API_KEY), so the request goes all the way upstream and into the
usage ledger.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import REPO, SIM_KEY, free_port

SCRIPT = REPO / "scripts" / "run"


def start(var, port, sim, log):
    env = dict(os.environ, AURA_VAR=var, AURA_PORT=str(port),
               OPENAI_BASE_URL="http://127.0.0.1:%d/v1" % sim.port,
               OPENAI_API_KEY=SIM_KEY, OPENAI_API="chat")
    for v in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MISTRAL_API_KEY",
              "OLLAMA_BASE_URL", "AZURE_OPENAI_ENDPOINT", "HF_TOKEN",
              "AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK",
              "AURA_UPSTREAMS"):
        env.pop(v, None)
    return subprocess.Popen([str(SCRIPT)], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(proc, port, log_path, deadline=180):
    end = time.time() + deadline
    while time.time() < end:
        assert proc.poll() is None, "scripts/run exited %s:\n%s" % (
            proc.returncode, open(log_path).read()[-3000:])
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/v1/models" % port,
                                   timeout=2)
            return
        except urllib.error.HTTPError:
            return                      # 401: it answers
        except OSError:
            time.sleep(0.5)
    pytest.fail("scripts/run did not serve within %d s:\n%s" % (
        deadline, open(log_path).read()[-3000:]))


def call(port, path, body=None, headers=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=json.dumps(body).encode() if body
                                 is not None else None,
                                 headers=headers or {})
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)


def postgres_running(var):
    pid_file = os.path.join(var, "pg", "data", "postmaster.pid")
    if not os.path.exists(pid_file):
        return False
    pid = int(open(pid_file).readline())
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


@pytest.fixture
def state():
    # Short and traversable: the PostgreSQL socket path must stay under
    # 108 bytes and the postgres user must reach it.
    d = tempfile.mkdtemp(prefix="aura-run-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_first_run_prints_a_working_key_and_login(sim, state):
    port = free_port()
    log_path = os.path.join(state, "..", os.path.basename(state) + ".log")
    with open(log_path, "w") as log:
        proc = start(state, port, sim, log)
    try:
        wait_ready(proc, port, log_path)
        out = open(log_path).read()
        key = re.search(r"first key\s+(sk-aura-\S+)", out)
        pw = re.search(r"password\s+(\S+)", out)
        assert key and pw and "/aura-admin/" in out, out[-3000:]
        key, pw = key.group(1), pw.group(1)
        for name, value in (("first-key", key), ("admin-password", pw)):
            path = os.path.join(state, name)
            assert open(path).read().strip() == value
            assert os.stat(path).st_mode & 0o777 == 0o600, path

        auth = "Basic " + base64.b64encode(b"admin:" + pw.encode()).decode()
        status, me = call(port, "/aura-admin/api/me",
                          headers={"Authorization": auth})
        assert (status, me["username"], me["role"]) == \
            (200, "admin", "superadmin"), me

        status, body = call(port, "/v1/responses",
                            {"model": "openai/text", "input": "hi",
                             "safety_identifier": "first-user"},
                            {"Authorization": "Bearer " + key})
        assert status == 200 and body["status"] == "completed", body
        tenant = body["aura"]["tenant"]
        assert (tenant["org"], tenant["key_id"], tenant["end_user"]) == \
            ("default", key.split("-")[2], "first-user"), tenant
        status, _ = call(port, "/v1/responses",
                         {"model": "openai/text", "input": "hi"})
        assert status == 401

        rid = body["aura"]["request_id"]
        end = time.time() + 10
        while time.time() < end:
            _, rows = call(port, "/aura-admin/api/requests",
                           headers={"Authorization": auth})
            if any(r["request_id"] == rid for r in rows["data"]):
                break
            time.sleep(0.3)
        else:
            pytest.fail("the request never reached the usage ledger")
    finally:
        stop(proc)
    assert not postgres_running(state), "TERM left PostgreSQL running"

    # Second run: the same key and login, no secret printed.
    with open(log_path, "w") as log:
        proc = start(state, port, sim, log)
    try:
        wait_ready(proc, port, log_path)
        out = open(log_path).read()
        assert key not in out and pw not in out, out[-3000:]
        status, body = call(port, "/v1/responses",
                            {"model": "openai/text", "input": "hi"},
                            {"Authorization": "Bearer " + key})
        assert status == 200, body
    finally:
        stop(proc)
        os.unlink(log_path)
    assert not postgres_running(state), "TERM left PostgreSQL running"
