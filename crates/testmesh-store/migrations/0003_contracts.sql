-- Contracts (issue 6): Pact files, their verifications and the breaking changes between two
-- versions. Same conventions as 0001/0002: TEXT ids, BIGINT milliseconds, JSON as TEXT.

CREATE TABLE contracts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    consumer TEXT NOT NULL,
    provider TEXT NOT NULL,
    -- The consumer's version (a release, a commit, `imported-<unix secs>`).
    version TEXT NOT NULL,
    -- The whole pact file, always written as Pact V4 JSON.
    pact TEXT NOT NULL,
    -- The specification version the file was read from ('2.0', '3.0', '4.0').
    spec_version TEXT NOT NULL,
    interaction_count BIGINT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('generated', 'imported')),
    -- No foreign keys: a contract generated from a file-based run outlives (or never had) the rows.
    flow_id TEXT,
    execution_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, consumer, provider, version)
);
CREATE INDEX contracts_created ON contracts (workspace_id, created_at, id);
CREATE INDEX contracts_provider ON contracts (workspace_id, provider, created_at);

CREATE TABLE contract_verifications (
    id TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    provider_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'error')),
    total BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    -- The verifier's report (testmesh_contract::VerificationReport as JSON).
    report TEXT NOT NULL,
    execution_id TEXT,
    verified_at BIGINT NOT NULL
);
CREATE INDEX contract_verifications_contract ON contract_verifications (contract_id, verified_at);
CREATE INDEX contract_verifications_provider ON contract_verifications (provider, provider_version);

-- One row per compared pair: when it was compared. Changes of a pair are replaced, never
-- accumulated, and a pair with no change is still known to have been compared.
CREATE TABLE contract_comparisons (
    old_contract_id TEXT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    new_contract_id TEXT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (old_contract_id, new_contract_id)
);
CREATE INDEX contract_comparisons_new ON contract_comparisons (new_contract_id);

CREATE TABLE contract_changes (
    id TEXT PRIMARY KEY,
    old_contract_id TEXT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    new_contract_id TEXT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('breaking', 'warning', 'info')),
    interaction TEXT NOT NULL,
    part TEXT NOT NULL,
    path TEXT NOT NULL,
    message TEXT NOT NULL,
    detected_at BIGINT NOT NULL
);
CREATE INDEX contract_changes_pair ON contract_changes (old_contract_id, new_contract_id, position);
CREATE INDEX contract_changes_new ON contract_changes (new_contract_id);
