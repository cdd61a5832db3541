-- PostgreSQL only: the original TestMesh kept contracts in a `contracts` schema. These read-only
-- views give queries written for it the original's names and column types over our tables; the
-- interactions view unfolds each stored pact's `interactions` array into rows.

CREATE SCHEMA IF NOT EXISTS contracts;

CREATE VIEW contracts.contracts AS
SELECT id, consumer, provider, version, '4.0'::varchar(10) AS pact_version,
       pact::jsonb AS contract_data, flow_id,
       to_timestamp(created_at / 1000.0) AS created_at,
       to_timestamp(updated_at / 1000.0) AS updated_at
FROM contracts;

CREATE VIEW contracts.interactions AS
SELECT c.id || ':' || (i.ord - 1) AS id, c.id AS contract_id,
       i.value ->> 'description' AS description,
       i.value -> 'providerStates' -> 0 ->> 'name' AS provider_state,
       i.value -> 'request' AS request, i.value -> 'response' AS response,
       CASE WHEN i.value ->> 'type' = 'Synchronous/HTTP' THEN 'http' ELSE 'message' END
           AS interaction_type,
       i.value -> 'comments' AS metadata,
       to_timestamp(c.created_at / 1000.0) AS created_at,
       to_timestamp(c.updated_at / 1000.0) AS updated_at
FROM contracts c
CROSS JOIN LATERAL jsonb_array_elements(COALESCE(c.pact::jsonb -> 'interactions', '[]'::jsonb))
    WITH ORDINALITY AS i (value, ord);

CREATE VIEW contracts.verifications AS
SELECT id, contract_id, provider_version, status,
       to_timestamp(verified_at / 1000.0) AS verified_at,
       jsonb_build_object('total_interactions', total, 'passed_interactions', passed,
                          'failed_interactions', failed + errors, 'report', report::jsonb)
           AS results,
       execution_id,
       to_timestamp(verified_at / 1000.0) AS created_at,
       to_timestamp(verified_at / 1000.0) AS updated_at
FROM contract_verifications;

CREATE VIEW contracts.breaking_changes AS
SELECT id, old_contract_id, new_contract_id, rule AS change_type, severity, message AS description,
       jsonb_build_object('interaction', interaction, 'part', part, 'path', path) AS details,
       to_timestamp(detected_at / 1000.0) AS detected_at,
       to_timestamp(detected_at / 1000.0) AS created_at
FROM contract_changes;
