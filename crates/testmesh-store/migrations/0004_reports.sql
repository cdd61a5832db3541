-- Generated reports (issue 7): one row per report, its file kept under the server's report
-- directory until `expires_at`. Same conventions as before: TEXT ids, BIGINT milliseconds, JSON as
-- TEXT, days as TEXT 'YYYY-MM-DD' (UTC).

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('html', 'json', 'junit')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'generating', 'completed', 'failed')),
    -- testmesh_report::model::ReportFilters as JSON.
    filters TEXT NOT NULL DEFAULT '{}',
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    -- The file's name inside the report directory (never a path given by a user).
    file_name TEXT,
    file_size BIGINT,
    error TEXT,
    -- Who asked: 'cli', 'api' or 'schedule'.
    generated_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    generated_at BIGINT,
    expires_at BIGINT
);
CREATE INDEX reports_created ON reports (workspace_id, created_at, id);
CREATE INDEX reports_expires ON reports (expires_at);
