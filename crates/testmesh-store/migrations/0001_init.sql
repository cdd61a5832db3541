-- The first schema. Shared by SQLite and PostgreSQL: ids are TEXT (UUID), times BIGINT milliseconds
-- since the epoch, flags BIGINT 0/1, JSON TEXT. Statements are separated by a line ending in `;`.

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

INSERT INTO workspaces (id, name, slug, created_at)
VALUES ('00000000-0000-0000-0000-000000000001', 'Default', 'default', 0);

CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    suite TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    source_path TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);

-- Names are unique among live flows; a soft-deleted flow frees its name.
CREATE UNIQUE INDEX flows_live_name ON flows (workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX flows_suite ON flows (workspace_id, suite);

CREATE TABLE flow_versions (
    flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    yaml TEXT NOT NULL,
    -- SHA-256 of the YAML: a CLI run finds the flow whose current text it is without parsing it.
    yaml_sha256 TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (flow_id, version)
);
CREATE INDEX flow_versions_yaml_sha256 ON flow_versions (yaml_sha256);

CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    flow_id TEXT REFERENCES flows (id) ON DELETE SET NULL,
    flow_version BIGINT,
    flow_name TEXT NOT NULL,
    suite TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    triggered_by TEXT NOT NULL CHECK (triggered_by IN ('cli', 'api', 'schedule')),
    schedule_id TEXT,
    environment TEXT,
    variables TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    duration_ms BIGINT,
    total_steps BIGINT NOT NULL DEFAULT 0,
    passed_steps BIGINT NOT NULL DEFAULT 0,
    failed_steps BIGINT NOT NULL DEFAULT 0,
    skipped_steps BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    worker_id TEXT,
    lease_expires_at BIGINT,
    cancel_requested BIGINT NOT NULL DEFAULT 0
);

-- What happened during a run, in order: the live view (SSE) of the server tails it, whichever
-- process runs the execution. `seq` counts from 1 per execution.
CREATE TABLE execution_events (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);

-- Lists are newest first with an id tiebreak, filtered by flow, suite or status.
CREATE INDEX executions_created ON executions (workspace_id, created_at, id);
CREATE INDEX executions_flow ON executions (workspace_id, flow_id, created_at);
CREATE INDEX executions_suite ON executions (workspace_id, suite, created_at);
CREATE INDEX executions_status ON executions (workspace_id, status, created_at);
-- The queue: the oldest pending row first; running rows by lease for reclaiming.
CREATE INDEX executions_pending ON executions (created_at, id) WHERE status = 'pending';
CREATE INDEX executions_leases ON executions (lease_expires_at) WHERE status = 'running';

CREATE TABLE execution_steps (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    parent_seq BIGINT,
    depth BIGINT NOT NULL,
    phase TEXT,
    step_id TEXT NOT NULL,
    name TEXT,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    flaky BIGINT NOT NULL,
    continued BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    request TEXT,
    response TEXT,
    result TEXT,
    outputs TEXT,
    assertions TEXT,
    error_kind TEXT,
    error_message TEXT,
    skip_reason TEXT,
    PRIMARY KEY (execution_id, seq)
);

CREATE INDEX execution_steps_action ON execution_steps (action, started_at);

CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    is_default BIGINT NOT NULL DEFAULT 0,
    variables TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE UNIQUE INDEX environments_one_default ON environments (workspace_id) WHERE is_default = 1;

CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    parent_id TEXT REFERENCES collections (id) ON DELETE CASCADE,
    sort_order BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX collections_parent ON collections (workspace_id, parent_id, sort_order);

CREATE TABLE collection_flows (
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    sort_order BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (collection_id, flow_id)
);

CREATE INDEX collection_flows_flow ON collection_flows (flow_id);

CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    flow_id TEXT REFERENCES flows (id) ON DELETE CASCADE,
    suite TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    cron_expr TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    environment TEXT,
    variables TEXT NOT NULL DEFAULT '{}',
    enabled BIGINT NOT NULL DEFAULT 1,
    next_run_at BIGINT,
    last_run_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled = 1;

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    rate_limit_per_minute BIGINT
);
