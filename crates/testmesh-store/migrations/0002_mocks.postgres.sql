-- PostgreSQL only: the original TestMesh kept mock servers in a `mocks` schema, and flows written for
-- it query `mocks.mock_servers` and `mocks.mock_requests` directly (seed flows 05 and 10). These
-- read-only views give those queries the original's names and column types over our tables.

CREATE SCHEMA IF NOT EXISTS mocks;

CREATE VIEW mocks.mock_servers AS
SELECT id, execution_id, name, COALESCE(port, 0) AS port, base_url, status,
       to_timestamp(started_at / 1000.0) AS started_at,
       to_timestamp(stopped_at / 1000.0) AS stopped_at,
       to_timestamp(created_at / 1000.0) AS created_at,
       to_timestamp(updated_at / 1000.0) AS updated_at
FROM mock_servers;

CREATE VIEW mocks.mock_endpoints AS
SELECT id, mock_server_id, path, method, priority, definition::jsonb AS definition,
       to_timestamp(created_at / 1000.0) AS created_at,
       to_timestamp(updated_at / 1000.0) AS updated_at
FROM mock_endpoints;

CREATE VIEW mocks.mock_requests AS
SELECT id, mock_server_id, endpoint_id, method, path, headers::jsonb AS headers,
       query::jsonb AS query_params, body, matched <> 0 AS matched, response_code,
       to_timestamp(received_at / 1000.0) AS received_at
FROM mock_requests;

CREATE VIEW mocks.mock_state AS
SELECT mock_server_id, state_key, state_value::jsonb AS state_value,
       to_timestamp(updated_at / 1000.0) AS updated_at
FROM mock_state;
