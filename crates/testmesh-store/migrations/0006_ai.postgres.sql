-- PostgreSQL only: the original TestMesh kept import history and coverage analyses in an `ai`
-- schema. These read-only views give queries written for it the original's names and column types
-- over our tables: JSON as jsonb, times as timestamptz. Coverage results hold the original's
-- `covered`, `uncovered` and `partial` lists (`METHOD /path` of each operation) beside the details.

CREATE SCHEMA IF NOT EXISTS ai;

CREATE VIEW ai.import_history AS
SELECT id, workspace_id, source_type, source_name, source_content, status, flows_generated,
       flow_ids::jsonb AS flow_ids, error,
       metadata::jsonb || jsonb_build_object('source_size', source_size, 'source_sha256',
                                             source_sha256, 'skipped', skipped) AS metadata,
       to_timestamp(created_at / 1000.0) AS created_at,
       to_timestamp(created_at / 1000.0) AS updated_at
FROM import_history;

CREATE VIEW ai.coverage_analysis AS
SELECT id, workspace_id, spec_type, spec_name, spec_content, status, total_endpoints,
       covered_endpoints, round(coverage_percent::numeric, 2) AS coverage_percent,
       results::jsonb AS results, error,
       to_timestamp(created_at / 1000.0) AS created_at,
       to_timestamp(created_at / 1000.0) AS updated_at
FROM coverage_analysis;
