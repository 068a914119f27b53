"""Helpers the admin console's tests share (test_admin_*.py): unique
names, a JSON answer with its status checked, the audit log since a
mark."""

import uuid


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def ok(r, status=200):
    """The JSON of an API answer that must have `status`."""
    assert r.status == status, "HTTP %d, want %d: %r" % (
        r.status, status, r.body[:600])
    assert r.headers.get("content-type", "").startswith(
        "application/json"), r.headers
    return r.json()


def audit_mark(pg):
    return pg.scalar("SELECT coalesce(max(id), 0) FROM audit_log")


def audit_since(pg, mark):
    cols = ("id", "actor", "action", "object_type", "object_id", "org_id",
            "detail")
    return [dict(zip(cols, r)) for r in pg.query(
        "SELECT id, actor, action, object_type, object_id, org_id, detail "
        "FROM audit_log WHERE id > %s ORDER BY id", (mark,))]
