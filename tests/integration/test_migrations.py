"""`aura-admin migrate` against a real PostgreSQL (docs/admin.md,
"Migrations"): every file of schema/ applied in order, each in its own
transaction and recorded in schema_migrations; a re-run is a no-op; two
runs at once serialise on the advisory lock; a file changed after it was
applied is refused.

Every test works in a database of its own (CREATE DATABASE on the session's
throwaway server), and the tests that edit migrations use a copy of
schema/ through AURA_SCHEMA_DIR, so the shared `aura` database and the
repository are never touched.
"""

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

SCHEMA = Path(__file__).resolve().parents[2] / "schema"
LOCK_KEY = 0x617572615f6d6967          # "aura_mig", docs/admin.md


def schema_files():
    return sorted(p for p in SCHEMA.iterdir()
                  if re.match(r"^\d{4}_[a-z0-9_]+\.sql$", p.name))


def schema_tables():
    """Every table a schema file creates."""
    out = set()
    for f in schema_files():
        out |= set(re.findall(r"(?im)^\s*CREATE TABLE (?:IF NOT EXISTS )?"
                              r"(\w+)", f.read_text()))
    return out


@pytest.fixture
def admin(H):
    return H.admin_path()


@pytest.fixture
def fresh(pg_server):
    """(conninfo, dbname) of a new empty database, dropped afterwards."""
    name = "mig_" + uuid.uuid4().hex[:10]
    db = pg_server.create_database(name)
    yield db, name
    pg_server.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name,
                      dbname="postgres")


@pytest.fixture
def migrate(H, admin):
    """migrate(db, schema_dir=None) -> CompletedProcess."""
    def run(db, schema_dir=None):
        env = {"AURA_SCHEMA_DIR": str(schema_dir)} if schema_dir else None
        return H.run_admin(admin, ["migrate"], db=db, env=env)
    return run


def recorded(pg, dbname):
    return pg.query("SELECT version, name, checksum, applied_at "
                    "FROM schema_migrations ORDER BY version", dbname=dbname)


def public_tables(pg, dbname):
    return {r[0] for r in pg.query(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public'", dbname=dbname)}


def assert_ok(p, what="aura-admin migrate"):
    assert p.returncode == 0, "%s exited %d:\n%s%s" % (
        what, p.returncode, p.stdout, p.stderr)


def test_empty_database_gets_every_file(pg_server, migrate, fresh):
    db, name = fresh
    p = migrate(db)
    assert_ok(p)
    files = schema_files()
    assert files, "schema/ has no NNNN_name.sql file"
    applied = re.findall(r"(?m)^applied (\S+)$", p.stdout)
    assert applied == [f.stem for f in files], \
        "want one 'applied NAME' line per file, in order; got:\n" + p.stdout
    rows = recorded(pg_server, name)
    assert [(r[0], r[1]) for r in rows] == \
        [(int(f.name[:4]), f.stem) for f in files], rows
    for r in rows:
        assert re.match(r"^[0-9a-f]{64}$", r[2]), \
            "checksum %r is not a SHA-256 hex digest" % r[2]
        assert r[3] is not None
    tables = public_tables(pg_server, name)
    want = schema_tables() | {"schema_migrations"}
    assert want <= tables, "tables missing after migrate: %s" % sorted(
        want - tables)


def test_rerun_is_a_no_op(pg_server, migrate, fresh):
    db, name = fresh
    assert_ok(migrate(db))
    before = recorded(pg_server, name)
    p = migrate(db)
    assert_ok(p)
    assert p.stdout.strip() == "schema is up to date", p.stdout
    assert recorded(pg_server, name) == before, \
        "a re-run changed schema_migrations"


def wait_lock_waiters(pg, n, timeout=15):
    """Until n sessions wait (not granted) for the migration lock."""
    deadline = time.time() + timeout
    q = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
         "AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = %s")
    while time.time() < deadline:
        if pg.scalar(q, (LOCK_KEY,), dbname="postgres") >= n:
            return True
        time.sleep(0.05)
    return False


def test_concurrent_runs_serialise(pg_server, admin, fresh):
    """Both runs start while the test holds the migration lock itself, so
    they really meet at the lock; then both exit 0 and each file is applied
    exactly once."""
    db, name = fresh
    holder = pg_server.connect(name)
    try:
        holder.cursor().execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AURA_", "PG"))}
        env["AURA_DB"] = db
        procs = [subprocess.Popen([admin, "migrate"], env=env, text=True,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(2)]
        waiting = wait_lock_waiters(pg_server, 2)
    finally:
        holder.close()                  # releases the lock
    outs = [p.communicate(timeout=60) for p in procs]
    assert waiting, "the two runs never waited on the advisory lock " \
        "0x%x: %r" % (LOCK_KEY, outs)
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, "a concurrent run exited %d:\n%s%s" % (
            p.returncode, out, err)
    applied = re.findall(r"(?m)^applied (\S+)$", outs[0][0] + outs[1][0])
    assert sorted(applied) == sorted(f.stem for f in schema_files()), \
        "each file must be applied once across both runs: %r" % outs
    assert any(o.strip() == "schema is up to date" for o, _ in outs), outs
    rows = recorded(pg_server, name)
    assert len(rows) == len(schema_files()), rows


@pytest.fixture
def schema_copy(tmp_path):
    d = tmp_path / "schema"
    shutil.copytree(SCHEMA, d)
    return d


def test_changed_file_is_refused(pg_server, migrate, fresh, schema_copy):
    db, name = fresh
    assert_ok(migrate(db, schema_copy))
    before = recorded(pg_server, name)
    first = schema_files()[0].name
    with open(schema_copy / first, "a") as f:
        f.write("\n-- edited after it was applied\n")
    p = migrate(db, schema_copy)
    assert p.returncode == 1, "a changed migration must exit 1, got %d:\n" \
        "%s%s" % (p.returncode, p.stdout, p.stderr)
    assert first in p.stderr, "the error should name %s: %r" % (
        first, p.stderr)
    assert recorded(pg_server, name) == before


def test_new_file_applies_alone(pg_server, migrate, fresh, schema_copy):
    db, name = fresh
    assert_ok(migrate(db, schema_copy))
    (schema_copy / "9990_extra.sql").write_text(
        "CREATE TABLE mig_extra (id int);\n")
    p = migrate(db, schema_copy)
    assert_ok(p)
    assert p.stdout.strip() == "applied 9990_extra", p.stdout
    assert "mig_extra" in public_tables(pg_server, name)


def test_failing_file_rolls_back(pg_server, migrate, fresh, schema_copy):
    """Each file in its own transaction: a file that fails half-way leaves
    nothing behind and is not recorded; the files before it stay."""
    db, name = fresh
    (schema_copy / "9991_broken.sql").write_text(
        "CREATE TABLE mig_half (id int);\nSELECT no_such_function();\n")
    p = migrate(db, schema_copy)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "9991_broken" in p.stderr, p.stderr
    assert "mig_half" not in public_tables(pg_server, name)
    versions = [r[0] for r in recorded(pg_server, name)]
    assert versions == [int(f.name[:4]) for f in schema_files()], versions
