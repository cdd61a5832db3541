-- Imports and coverage analyses (issue 8): one row per import of an OpenAPI document, a Postman
-- collection, a Pact file or a HAR file (failed ones too), and one per coverage analysis of an
-- OpenAPI document against the workspace's flows. Same conventions as before: TEXT ids, BIGINT
-- milliseconds, JSON as TEXT.
--
-- Inputs are kept when they are at most 5 MiB (`*_content`); a larger one is not stored, and its
-- size and SHA-256 still say what was read.

CREATE TABLE import_history (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    source_type TEXT NOT NULL CHECK (source_type IN ('openapi', 'postman', 'pact', 'har')),
    -- The file name or the name given with the request.
    source_name TEXT NOT NULL,
    source_content TEXT,
    source_size BIGINT NOT NULL,
    source_sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
    flows_generated BIGINT NOT NULL,
    -- The ids of the flows saved from it (a JSON list; empty when none were saved).
    flow_ids TEXT NOT NULL DEFAULT '[]',
    skipped BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    -- The import's summary without the flows' YAML: title, options, flows (file name, name,
    -- origin, steps), skipped and untranslated items.
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX import_history_created ON import_history (workspace_id, created_at, id);

CREATE TABLE coverage_analysis (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    spec_type TEXT NOT NULL CHECK (spec_type IN ('openapi')),
    spec_name TEXT NOT NULL,
    spec_content TEXT,
    spec_size BIGINT NOT NULL,
    spec_sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
    total_endpoints BIGINT NOT NULL,
    covered_endpoints BIGINT NOT NULL,
    partial_endpoints BIGINT NOT NULL,
    coverage_percent DOUBLE PRECISION NOT NULL,
    -- The analysis as JSON (operations, unmatched calls, recommendations) and what it read.
    results TEXT NOT NULL DEFAULT '{}',
    -- The analysis as a self-contained HTML page (none for failed analyses).
    report_html TEXT,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX coverage_analysis_created ON coverage_analysis (workspace_id, created_at, id);
