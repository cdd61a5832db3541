-- Mock servers (issue 5): definitions, endpoints, the request journal and state. Same conventions as
-- 0001: TEXT ids, BIGINT milliseconds, 0/1 flags, JSON as TEXT.

CREATE TABLE mock_servers (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The execution whose flow started it; such mocks stop when that execution ends.
    execution_id TEXT REFERENCES executions (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    -- The mock's settings (everything but its endpoints) in the canonical definition form.
    settings TEXT NOT NULL DEFAULT '{}',
    -- 'running' mocks are started again when the server restarts.
    status TEXT NOT NULL CHECK (status IN ('starting', 'running', 'stopped', 'failed')),
    base_url TEXT NOT NULL DEFAULT '',
    port BIGINT,
    error TEXT,
    started_at BIGINT,
    stopped_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mock_servers_workspace ON mock_servers (workspace_id, created_at);
CREATE INDEX mock_servers_status ON mock_servers (status);

CREATE TABLE mock_endpoints (
    id TEXT PRIMARY KEY,
    mock_server_id TEXT NOT NULL REFERENCES mock_servers (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    -- Definition order: ties in priority match in this order.
    position BIGINT NOT NULL,
    -- The endpoint in the canonical definition form (its `id` is this row's id).
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mock_endpoints_server ON mock_endpoints (mock_server_id, position);

CREATE TABLE mock_requests (
    id TEXT PRIMARY KEY,
    mock_server_id TEXT NOT NULL REFERENCES mock_servers (id) ON DELETE CASCADE,
    -- No foreign key: the journal outlives endpoints that are edited or removed.
    endpoint_id TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL DEFAULT '{}',
    headers TEXT NOT NULL DEFAULT '{}',
    body TEXT,
    matched BIGINT NOT NULL,
    response_code BIGINT,
    duration_us BIGINT,
    -- Unmatched requests: the closest endpoints and why they did not match.
    near_misses TEXT,
    remote TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX mock_requests_server ON mock_requests (mock_server_id, received_at);

CREATE TABLE mock_state (
    mock_server_id TEXT NOT NULL REFERENCES mock_servers (id) ON DELETE CASCADE,
    state_key TEXT NOT NULL,
    state_value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (mock_server_id, state_key)
);
