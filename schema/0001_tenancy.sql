-- 0001_tenancy.sql - tenants, virtual keys, provider credentials, budgets,
-- rate limits, the usage ledger, admin users and the audit log.
--
-- Applied by `aura-admin migrate` inside one transaction, under an advisory
-- lock, and recorded in schema_migrations (created by the runner itself).
-- Ids are bigint identities; the only id a client ever sees in a secret is
-- a virtual key's public key_id. Rows are archived (status), never deleted,
-- so the ledger and the audit log keep pointing at something.

-- Tenancy: organization → team → project; end-users belong to an org.
CREATE TABLE organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organizations_name_live ON organizations (name)
    WHERE status = 'active';

CREATE TABLE teams (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organizations (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, org_id)         -- target of the composite keys below
);
CREATE UNIQUE INDEX teams_name_live ON teams (org_id, name)
    WHERE status = 'active';

CREATE TABLE projects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    team_id     bigint NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, team_id),
    -- A project's org is its team's org, enforced, not trusted.
    FOREIGN KEY (team_id, org_id) REFERENCES teams (id, org_id)
);
CREATE UNIQUE INDEX projects_name_live ON projects (team_id, name)
    WHERE status = 'active';

-- End-users are the callers' own users (the request's safety_identifier or
-- user), registered automatically under the key's org on first sight.
CREATE TABLE end_users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES organizations (id),
    external_id   text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 256),
    name          text,
    status        text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'archived')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz,
    UNIQUE (org_id, external_id)
);

-- Virtual keys: "sk-aura-<key_id>-<secret>". Only key_id (public, shown
-- in lists) and SHA-256 of the whole key are stored; the key itself is
-- shown once, at creation.
CREATE TABLE virtual_keys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id          text NOT NULL UNIQUE CHECK (key_id ~ '^[a-z0-9]{12}$'),
    secret_hash     bytea NOT NULL CHECK (length(secret_hash) = 32),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    org_id          bigint NOT NULL REFERENCES organizations (id),
    team_id         bigint,
    project_id      bigint,
    allowed_models  text[],     -- NULL: every model the gateway routes
    expires_at      timestamptz,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'revoked')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz,
    rotated_from    bigint REFERENCES virtual_keys (id),
    CHECK (project_id IS NULL OR team_id IS NOT NULL),
    FOREIGN KEY (team_id, org_id) REFERENCES teams (id, org_id),
    FOREIGN KEY (project_id, team_id) REFERENCES projects (id, team_id)
);
CREATE INDEX virtual_keys_org ON virtual_keys (org_id);

-- Provider credentials: AES-256-GCM envelope (see docs/admin.md), bound to
-- (org, provider) by the cipher's associated data. org_id NULL = every org.
-- Write-only: no API returns the ciphertext or the secret, only a hint.
CREATE TABLE provider_credentials (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint REFERENCES organizations (id),
    provider    text NOT NULL CHECK (provider ~ '^[A-Za-z0-9_.-]{1,64}$'),
    name        text,
    sealed      text NOT NULL,
    hint        text NOT NULL,  -- the secret's last four characters
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX provider_credentials_live
    ON provider_credentials (coalesce(org_id, 0), provider)
    WHERE status = 'active';

-- Budgets and rate limits attach to one scope. Calendar periods align to
-- UTC; 'rolling' looks back rolling_seconds from now.
CREATE TABLE budgets (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           bigint NOT NULL REFERENCES organizations (id),
    scope_type       text NOT NULL CHECK (scope_type IN
                     ('org', 'team', 'project', 'key', 'end_user')),
    scope_id         bigint NOT NULL,
    amount_usd       numeric(14, 6) NOT NULL CHECK (amount_usd > 0),
    period           text NOT NULL CHECK (period IN
                     ('hour', 'day', 'week', 'month', 'year', 'rolling')),
    rolling_seconds  integer CHECK (rolling_seconds > 0),
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'archived')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((period = 'rolling') = (rolling_seconds IS NOT NULL))
);
CREATE INDEX budgets_scope ON budgets (scope_type, scope_id);

CREATE TABLE rate_limits (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL REFERENCES organizations (id),
    scope_type        text NOT NULL CHECK (scope_type IN
                      ('org', 'team', 'project', 'key', 'end_user')),
    scope_id          bigint NOT NULL,
    requests_per_min  integer CHECK (requests_per_min > 0),
    tokens_per_min    bigint CHECK (tokens_per_min > 0),
    concurrency       integer CHECK (concurrency > 0),
    status            text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'archived')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (coalesce(requests_per_min, tokens_per_min, concurrency) IS NOT NULL)
);
CREATE INDEX rate_limits_scope ON rate_limits (scope_type, scope_id);

-- The usage ledger: one row per request that reached a provider, moved
-- here from the gateway's spool; request_id makes re-ingestion a no-op.
-- Cost columns are NULL when the price is unknown (never 0).
CREATE TABLE usage_ledger (
    request_id           text PRIMARY KEY,
    created_at           timestamptz NOT NULL,
    org_id               bigint,
    team_id              bigint,
    project_id           bigint,
    end_user_id          bigint REFERENCES end_users (id),
    key_id               text,
    front                text NOT NULL,  -- responses | chat | messages
    stream               boolean NOT NULL DEFAULT false,
    model                text NOT NULL,
    provider             text NOT NULL,
    upstream_model       text,
    input_tokens         bigint NOT NULL DEFAULT 0,
    cached_input_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens   bigint NOT NULL DEFAULT 0,
    output_tokens        bigint NOT NULL DEFAULT 0,
    reasoning_tokens     bigint NOT NULL DEFAULT 0,
    cost_input           numeric(18, 9),
    cost_cached_input    numeric(18, 9),
    cost_cache_write     numeric(18, 9),
    cost_output          numeric(18, 9),
    cost_reasoning       numeric(18, 9),
    cost_total           numeric(18, 9),
    cost_status          text NOT NULL,  -- priced | unknown_price | no_usage
    latency_ms           integer,
    overhead_us          integer,
    http_status          integer NOT NULL,
    status               text NOT NULL,  -- completed | incomplete | failed
    cache_hit            boolean NOT NULL DEFAULT false,
    ingested_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_ledger_time ON usage_ledger (created_at);
CREATE INDEX usage_ledger_org_time ON usage_ledger (org_id, created_at);
CREATE INDEX usage_ledger_key_time ON usage_ledger (key_id, created_at);

-- Admin users: who may do what in the console. Authentication is Apache's
-- (REMOTE_USER); a user unknown here gets no access at all.
CREATE TABLE admin_users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username    text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 200),
    role        text NOT NULL CHECK (role IN ('superadmin', 'org_admin', 'viewer')),
    org_id      bigint REFERENCES organizations (id),
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'org_admin' OR org_id IS NOT NULL),
    CHECK (role <> 'superadmin' OR org_id IS NULL)
);

-- Every state-changing admin action, in the same transaction as the change.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,   -- e.g. key.create, org.archive
    object_type  text NOT NULL,
    object_id    text,
    org_id       bigint,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb,  -- never a secret
    remote_addr  text
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
