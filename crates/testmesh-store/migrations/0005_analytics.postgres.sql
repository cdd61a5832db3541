-- PostgreSQL only: the original TestMesh kept analytics in a `reporting` schema. These read-only
-- views give queries written for it (and SQL dashboards) the original's names and column types over
-- our tables: dates as DATE, times as timestamptz, rates as numeric. Rows over all environments
-- have environment NULL here.

CREATE SCHEMA IF NOT EXISTS reporting;

CREATE VIEW reporting.daily_metrics AS
SELECT workspace_id, day::date AS date, scope, subject,
       NULLIF(environment, '') AS environment, flow_id, flow_name, suite, flows AS total_flows,
       total_executions, passed_executions, failed_executions, cancelled_executions,
       CASE WHEN passed_executions + failed_executions = 0 THEN 0
            ELSE round(passed_executions * 100.0 / (passed_executions + failed_executions), 2)
       END AS pass_rate,
       CASE WHEN timed_executions = 0 THEN NULL
            ELSE round(total_duration_ms::numeric / timed_executions)::bigint
       END AS avg_duration_ms, min_duration_ms, max_duration_ms,
       p50_duration_ms, p95_duration_ms, p99_duration_ms,
       total_steps, passed_steps, failed_steps, skipped_steps, flaky_steps,
       to_timestamp(computed_at / 1000.0) AS created_at
FROM analytics_daily;

CREATE VIEW reporting.step_performance AS
SELECT workspace_id, day::date AS date, flow_id, flow_name, step_id, action AS step_action,
       total_executions, error_count, round(error_rate::numeric, 2) AS error_rate,
       round(avg_duration_ms)::bigint AS avg_duration_ms, min_duration_ms, max_duration_ms,
       p50_duration_ms, p95_duration_ms, p99_duration_ms,
       ARRAY(SELECT jsonb_array_elements_text(errors::jsonb)) AS error_messages,
       to_timestamp(computed_at / 1000.0) AS created_at
FROM analytics_steps;

CREATE VIEW reporting.flakiness_metrics AS
SELECT workspace_id, flow_id, flow_name, suite,
       window_start::date AS window_start_date, window_end::date AS window_end_date, window_days,
       total_runs, passed_runs, failed_runs, flaky_failures, transitions,
       round(flakiness_score::numeric, 2) AS flakiness_score, stability,
       stability = 'flaky' AS is_flaky,
       consecutive_failures, consecutive_successes, history,
       to_timestamp(computed_at / 1000.0) AS calculated_at
FROM analytics_flakiness;
