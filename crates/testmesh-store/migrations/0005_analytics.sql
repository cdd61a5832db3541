-- Analytics (issue 7): what `testmesh analytics aggregate`, `POST /api/v1/analytics/aggregate` and
-- the daily schedule of `testmesh serve` compute from executions and their steps. Same conventions
-- as before: TEXT ids, BIGINT milliseconds, JSON as TEXT, days as TEXT 'YYYY-MM-DD' (UTC; they
-- sort and compare as text). Every table is rewritten per day (or per window) inside one
-- transaction, so re-running an aggregation replaces rows and never duplicates them.
--
-- Executions count on the UTC day they were created. Runs without an environment are in the
-- environment 'default', flows without a suite in the suite 'default'; the environment '' is the
-- row over all environments (percentiles cannot be merged, so that row is computed, not summed).

CREATE TABLE analytics_daily (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    -- 'all' (one row per day), 'suite' (subject = suite name) or 'flow' (subject = the flow's
    -- id, or its name for runs not tied to a stored flow).
    scope TEXT NOT NULL CHECK (scope IN ('all', 'suite', 'flow')),
    subject TEXT NOT NULL,
    environment TEXT NOT NULL,
    flow_id TEXT,
    flow_name TEXT,
    suite TEXT,
    -- Distinct flows run (1 for a flow row).
    flows BIGINT NOT NULL,
    total_executions BIGINT NOT NULL,
    passed_executions BIGINT NOT NULL,
    failed_executions BIGINT NOT NULL,
    cancelled_executions BIGINT NOT NULL,
    -- Durations of passed and failed executions (cancelled runs stopped early): their count and
    -- sum keep averages over several days exact; percentiles are exact nearest-rank values.
    timed_executions BIGINT NOT NULL,
    total_duration_ms BIGINT NOT NULL,
    min_duration_ms BIGINT,
    max_duration_ms BIGINT,
    p50_duration_ms BIGINT,
    p95_duration_ms BIGINT,
    p99_duration_ms BIGINT,
    total_steps BIGINT NOT NULL,
    passed_steps BIGINT NOT NULL,
    failed_steps BIGINT NOT NULL,
    skipped_steps BIGINT NOT NULL,
    -- Steps that failed, then passed on retry.
    flaky_steps BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, scope, subject, environment)
);
-- Trends and lists: one scope (and subject) of a workspace over a range of days.
CREATE INDEX analytics_daily_subject ON analytics_daily (workspace_id, scope, subject, environment, day);
CREATE INDEX analytics_daily_suite ON analytics_daily (workspace_id, suite, day);

CREATE TABLE analytics_steps (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    -- The flow's id, or its name for runs not tied to a stored flow.
    flow_key TEXT NOT NULL,
    flow_id TEXT,
    flow_name TEXT NOT NULL,
    step_id TEXT NOT NULL,
    action TEXT NOT NULL,
    -- Times the step ran (skipped steps did not), how many failed, how many passed on a retry.
    total_executions BIGINT NOT NULL,
    error_count BIGINT NOT NULL,
    flaky_count BIGINT NOT NULL,
    error_rate DOUBLE PRECISION NOT NULL,
    total_duration_ms BIGINT NOT NULL,
    avg_duration_ms DOUBLE PRECISION NOT NULL,
    min_duration_ms BIGINT NOT NULL,
    max_duration_ms BIGINT NOT NULL,
    p50_duration_ms BIGINT NOT NULL,
    p95_duration_ms BIGINT NOT NULL,
    p99_duration_ms BIGINT NOT NULL,
    -- Up to 5 distinct error messages, the most frequent first, as a JSON list of strings.
    errors TEXT NOT NULL DEFAULT '[]',
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, flow_key, step_id, action)
);
CREATE INDEX analytics_steps_flow ON analytics_steps (workspace_id, flow_key, day);
CREATE INDEX analytics_steps_action ON analytics_steps (workspace_id, action, day);

CREATE TABLE analytics_flakiness (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    flow_key TEXT NOT NULL,
    flow_id TEXT,
    flow_name TEXT NOT NULL,
    suite TEXT,
    -- The window scored: window_days whole UTC days ending with window_end (inclusive).
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    window_days BIGINT NOT NULL,
    -- 0–100 (see docs/analytics.md) and 'stable', 'flaky', 'broken' or 'unknown'.
    flakiness_score DOUBLE PRECISION NOT NULL,
    stability TEXT NOT NULL CHECK (stability IN ('stable', 'flaky', 'broken', 'unknown')),
    total_runs BIGINT NOT NULL,
    passed_runs BIGINT NOT NULL,
    failed_runs BIGINT NOT NULL,
    flaky_failures BIGINT NOT NULL,
    transitions BIGINT NOT NULL,
    consecutive_failures BIGINT NOT NULL,
    consecutive_successes BIGINT NOT NULL,
    -- The newest runs, oldest first, at most 30: 'P' passed, 'F' failed.
    history TEXT NOT NULL,
    last_run_at BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, window_end, window_days, flow_key)
);
CREATE INDEX analytics_flakiness_flow ON analytics_flakiness (workspace_id, flow_key, window_end);
CREATE INDEX analytics_flakiness_score ON analytics_flakiness (workspace_id, window_end, flakiness_score);

-- One row per aggregation: who asked, the days, the outcome.
CREATE TABLE analytics_runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    -- 'cli', 'api' or 'schedule'.
    triggered_by TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    executions BIGINT NOT NULL DEFAULT 0,
    steps BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX analytics_runs_started ON analytics_runs (workspace_id, started_at, id);
