//! Contracts: Pact files (kept whole, as Pact V4 JSON) per consumer, provider and consumer
//! version; the verifications of each against provider versions; the changes found between two
//! contracts; and the `can-i-deploy` verdict answered from those verifications.
//!
//! The store does not read pacts: callers parse and normalise them with `testmesh-contract` and
//! hand over the V4 JSON. It only counts the `interactions` array.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::db::{
    RowExt, Sql, delete_owned, fetch_owned, fetch_page, new_id, now_ms, page_bounds, to_json_text,
};
use crate::error::{Error, Result};
use crate::{Page, Store};

/// How a contract got into the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContractSource {
    /// Written by `contract_generate` or `testmesh contract generate`.
    Generated,
    /// Imported through the API, the dashboard or `testmesh contract import`.
    Imported,
}

impl ContractSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractSource::Generated => "generated",
            ContractSource::Imported => "imported",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(name: &str) -> Option<ContractSource> {
        match name {
            "generated" => Some(ContractSource::Generated),
            "imported" => Some(ContractSource::Imported),
            _ => None,
        }
    }
}

/// A contract to save.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContract {
    /// The consumer's name (the pact's `consumer.name`).
    pub consumer: String,
    /// The provider's name.
    pub provider: String,
    /// The consumer's version.
    pub version: String,
    /// The whole pact, as Pact V4 JSON.
    pub pact: Value,
    /// The specification version the pact was read from (`"4.0"` for generated ones).
    pub spec_version: String,
    /// Generated or imported.
    pub source: ContractSource,
    /// The flow it was generated from.
    pub flow_id: Option<String>,
    /// The execution it was generated from.
    pub execution_id: Option<String>,
}

/// A stored contract without its pact: what lists show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractInfo {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// Consumer.
    pub consumer: String,
    /// Provider.
    pub provider: String,
    /// Consumer version.
    pub version: String,
    /// The specification version the pact was read from.
    pub spec_version: String,
    /// Number of interactions.
    pub interaction_count: i64,
    /// Generated or imported.
    pub source: ContractSource,
    /// The flow it was generated from.
    pub flow_id: Option<String>,
    /// The execution it was generated from.
    pub execution_id: Option<String>,
    /// When it was first saved.
    pub created_at: DateTime<Utc>,
    /// When it was last saved.
    pub updated_at: DateTime<Utc>,
    /// Its most recent verification, if any.
    pub last_verification: Option<VerificationInfo>,
}

/// A stored contract with its pact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contract {
    /// Everything but the pact.
    #[serde(flatten)]
    pub info: ContractInfo,
    /// The pact, as Pact V4 JSON.
    pub pact: Value,
}

/// Which contracts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractFilter {
    /// Only this consumer.
    pub consumer: Option<String>,
    /// Only this provider.
    pub provider: Option<String>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationStatus {
    /// Every (non-pending) interaction passed.
    Passed,
    /// An interaction did not match.
    Failed,
    /// The verification could not be completed (provider unreachable, bad options).
    Error,
}

impl VerificationStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Passed => "passed",
            VerificationStatus::Failed => "failed",
            VerificationStatus::Error => "error",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(name: &str) -> Option<VerificationStatus> {
        match name {
            "passed" => Some(VerificationStatus::Passed),
            "failed" => Some(VerificationStatus::Failed),
            "error" => Some(VerificationStatus::Error),
            _ => None,
        }
    }
}

/// A verification to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVerification {
    /// The provider version verified.
    pub provider_version: String,
    /// The outcome.
    pub status: VerificationStatus,
    /// Interactions verified.
    pub total: i64,
    /// Interactions that passed.
    pub passed: i64,
    /// Interactions that did not match.
    pub failed: i64,
    /// Interactions that could not be checked.
    pub errors: i64,
    /// The verifier's report (JSON).
    pub report: Value,
    /// The execution that ran it (a `contract_verify` step).
    pub execution_id: Option<String>,
}

/// A verification without its report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationInfo {
    /// Id (UUID).
    pub id: String,
    /// The contract verified.
    pub contract_id: String,
    /// The provider (the contract's).
    pub provider: String,
    /// The provider version verified.
    pub provider_version: String,
    /// The outcome.
    pub status: VerificationStatus,
    /// Interactions verified.
    pub total: i64,
    /// Interactions that passed.
    pub passed: i64,
    /// Interactions that did not match.
    pub failed: i64,
    /// Interactions that could not be checked.
    pub errors: i64,
    /// The execution that ran it.
    pub execution_id: Option<String>,
    /// When it ran.
    pub verified_at: DateTime<Utc>,
}

/// A stored verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractVerification {
    /// Everything but the report.
    #[serde(flatten)]
    pub info: VerificationInfo,
    /// The verifier's report.
    pub report: Value,
}

/// Which verifications to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerificationFilter {
    /// Only this outcome.
    pub status: Option<VerificationStatus>,
    /// Only this provider version.
    pub provider_version: Option<String>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// A change between two contracts to record (from `testmesh_contract::diff_pacts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContractChange {
    /// The rule that found it (`response_field_removed`).
    pub rule: String,
    /// `breaking`, `warning` or `info`.
    pub severity: String,
    /// The interaction's description.
    pub interaction: String,
    /// Which part of the interaction (`response.body`).
    pub part: String,
    /// Where in that part (`$.items[*].price`), or empty.
    pub path: String,
    /// What changed.
    pub message: String,
}

/// A stored change between two contracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractChange {
    /// Id (UUID).
    pub id: String,
    /// The earlier contract.
    pub old_contract_id: String,
    /// The later contract.
    pub new_contract_id: String,
    /// The rule that found it.
    pub rule: String,
    /// `breaking`, `warning` or `info`.
    pub severity: String,
    /// The interaction's description.
    pub interaction: String,
    /// Which part of the interaction.
    pub part: String,
    /// Where in that part.
    pub path: String,
    /// What changed.
    pub message: String,
    /// When the pair was compared.
    pub detected_at: DateTime<Utc>,
}

/// The recorded comparison of two contracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractComparison {
    /// The earlier contract.
    pub old_contract_id: String,
    /// The later contract.
    pub new_contract_id: String,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
    /// The changes, in the order found.
    pub changes: Vec<ContractChange>,
}

/// One finding of a `can-i-deploy` check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployReason {
    /// Whether this finding allows the deployment.
    pub ok: bool,
    /// The consumer of the contract concerned.
    pub consumer: String,
    /// The consumer version.
    pub consumer_version: String,
    /// The provider.
    pub provider: String,
    /// The provider version the verdict is about, when there is one.
    pub provider_version: Option<String>,
    /// The contract concerned.
    pub contract_id: Option<String>,
    /// The verification that decided, when there is one.
    pub verification_id: Option<String>,
    /// The finding, in one sentence.
    pub message: String,
}

/// The answer of [`Store::can_i_deploy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployVerdict {
    /// Whether the pacticipant version may be deployed.
    pub deployable: bool,
    /// The pacticipant asked about.
    pub pacticipant: String,
    /// Its version.
    pub version: String,
    /// Why: one finding per contract checked, or one saying why nothing could be checked.
    pub reasons: Vec<DeployReason>,
}

const INFO_COLUMNS: &str = "SELECT c.id, c.workspace_id, c.consumer, c.provider, c.version, c.spec_version, c.interaction_count, c.source, c.flow_id, c.execution_id, c.created_at, c.updated_at";
const VERIFICATION_COLUMNS: &str = "SELECT id, contract_id, provider, provider_version, status, total, passed, failed, errors, execution_id, verified_at";
const CHANGE_COLUMNS: &str = "SELECT id, old_contract_id, new_contract_id, rule, severity, interaction, part, path, message, detected_at FROM contract_changes";

impl ContractInfo {
    fn from_row(row: &AnyRow) -> Result<ContractInfo> {
        let source = row.text("source")?;
        Ok(ContractInfo {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            consumer: row.text("consumer")?,
            provider: row.text("provider")?,
            version: row.text("version")?,
            spec_version: row.text("spec_version")?,
            interaction_count: row.int("interaction_count")?,
            source: ContractSource::parse(&source)
                .ok_or_else(|| Error::Corrupt(format!("unknown contract source {source}")))?,
            flow_id: row.opt_text("flow_id")?,
            execution_id: row.opt_text("execution_id")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            last_verification: None,
        })
    }
}

impl VerificationInfo {
    fn from_row(row: &AnyRow) -> Result<VerificationInfo> {
        let status = row.text("status")?;
        Ok(VerificationInfo {
            id: row.text("id")?,
            contract_id: row.text("contract_id")?,
            provider: row.text("provider")?,
            provider_version: row.text("provider_version")?,
            status: VerificationStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("unknown verification status {status}")))?,
            total: row.int("total")?,
            passed: row.int("passed")?,
            failed: row.int("failed")?,
            errors: row.int("errors")?,
            execution_id: row.opt_text("execution_id")?,
            verified_at: row.time("verified_at")?,
        })
    }
}

impl ContractChange {
    fn from_row(row: &AnyRow) -> Result<ContractChange> {
        Ok(ContractChange {
            id: row.text("id")?,
            old_contract_id: row.text("old_contract_id")?,
            new_contract_id: row.text("new_contract_id")?,
            rule: row.text("rule")?,
            severity: row.text("severity")?,
            interaction: row.text("interaction")?,
            part: row.text("part")?,
            path: row.text("path")?,
            message: row.text("message")?,
            detected_at: row.time("detected_at")?,
        })
    }
}

fn require(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(format!("a contract needs a {what}")));
    }
    Ok(())
}

impl Store {
    /// Saves a contract: inserts it, or replaces the pact of the same consumer, provider and
    /// version (keeping its id and creation time). When the pact's content changes, the
    /// verifications and comparisons of the old content are deleted: they no longer describe it.
    pub async fn save_contract(&self, workspace_id: &str, input: &NewContract) -> Result<Contract> {
        require("consumer", &input.consumer)?;
        require("provider", &input.provider)?;
        require("version", &input.version)?;
        let Some(interactions) = input.pact.get("interactions").and_then(Value::as_array) else {
            return Err(Error::invalid("the pact has no `interactions` list"));
        };
        let count = interactions.len() as i64;
        self.ensure_workspace(workspace_id).await?;
        let pact_text = to_json_text(&input.pact);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut find = Sql::new("SELECT id, pact FROM contracts WHERE workspace_id = ");
        find.bind(workspace_id)
            .push(" AND consumer = ")
            .bind(input.consumer.as_str())
            .push(" AND provider = ")
            .bind(input.provider.as_str())
            .push(" AND version = ")
            .bind(input.version.as_str());
        let existing = find.fetch_optional(&mut *tx).await?;
        let id = match existing {
            Some(row) => {
                let id = row.text("id")?;
                let old: Value = row.json("pact")?;
                if old != input.pact {
                    let mut sql =
                        Sql::new("DELETE FROM contract_verifications WHERE contract_id = ");
                    sql.bind(id.as_str());
                    sql.execute(&mut *tx).await?;
                    for table in ["contract_changes", "contract_comparisons"] {
                        let mut sql = Sql::new("DELETE FROM ");
                        sql.push(table)
                            .push(" WHERE old_contract_id = ")
                            .bind(id.as_str())
                            .push(" OR new_contract_id = ")
                            .bind(id.as_str());
                        sql.execute(&mut *tx).await?;
                    }
                }
                let mut sql = Sql::new("UPDATE contracts SET pact = ");
                sql.bind(pact_text)
                    .push(", spec_version = ")
                    .bind(input.spec_version.as_str())
                    .push(", interaction_count = ")
                    .bind(count)
                    .push(", source = ")
                    .bind(input.source.as_str())
                    .push(", flow_id = ")
                    .bind(input.flow_id.as_deref())
                    .push(", execution_id = ")
                    .bind(input.execution_id.as_deref())
                    .push(", updated_at = ")
                    .bind(now)
                    .push(" WHERE id = ")
                    .bind(id.as_str());
                sql.execute(&mut *tx).await?;
                id
            }
            None => {
                let id = new_id();
                let mut sql = Sql::new(
                    "INSERT INTO contracts (id, workspace_id, consumer, provider, version, pact, spec_version, interaction_count, source, flow_id, execution_id, created_at, updated_at) VALUES (",
                );
                sql.bind(id.as_str())
                    .push(", ")
                    .bind(workspace_id)
                    .push(", ")
                    .bind(input.consumer.as_str())
                    .push(", ")
                    .bind(input.provider.as_str())
                    .push(", ")
                    .bind(input.version.as_str())
                    .push(", ")
                    .bind(pact_text)
                    .push(", ")
                    .bind(input.spec_version.as_str())
                    .push(", ")
                    .bind(count)
                    .push(", ")
                    .bind(input.source.as_str())
                    .push(", ")
                    .bind(input.flow_id.as_deref())
                    .push(", ")
                    .bind(input.execution_id.as_deref())
                    .push(", ")
                    .bind(now)
                    .push(", ")
                    .bind(now)
                    .push(")");
                sql.execute(&mut *tx).await?;
                id
            }
        };
        tx.commit().await?;
        self.get_contract(workspace_id, &id).await
    }

    /// A contract of a workspace, with its pact and last verification.
    pub async fn get_contract(&self, workspace_id: &str, id: &str) -> Result<Contract> {
        let select = format!("{INFO_COLUMNS}, c.pact FROM contracts c");
        let row = fetch_owned_aliased(&self.pool, &select, workspace_id, id).await?;
        let mut info = ContractInfo::from_row(&row)?;
        info.last_verification = self.last_verification(&info.id).await?;
        Ok(Contract {
            info,
            pact: row.json("pact")?,
        })
    }

    /// The contract of a consumer, provider and version.
    pub async fn find_contract(
        &self,
        workspace_id: &str,
        consumer: &str,
        provider: &str,
        version: &str,
    ) -> Result<Option<Contract>> {
        let mut sql = Sql::new("SELECT id FROM contracts WHERE workspace_id = ");
        sql.bind(workspace_id)
            .push(" AND consumer = ")
            .bind(consumer)
            .push(" AND provider = ")
            .bind(provider)
            .push(" AND version = ")
            .bind(version);
        match sql.fetch_optional(&self.pool).await? {
            Some(row) => Ok(Some(
                self.get_contract(workspace_id, &row.text("id")?).await?,
            )),
            None => Ok(None),
        }
    }

    /// The contracts of a workspace, newest first, each with its last verification.
    pub async fn list_contracts(
        &self,
        workspace_id: &str,
        filter: &ContractFilter,
    ) -> Result<Page<ContractInfo>> {
        let mut page = fetch_page(
            &self.pool,
            &format!("{INFO_COLUMNS} FROM contracts c"),
            "SELECT COUNT(*) FROM contracts c",
            |sql: &mut Sql| {
                sql.push(" WHERE c.workspace_id = ").bind(workspace_id);
                if let Some(consumer) = &filter.consumer {
                    sql.push(" AND c.consumer = ").bind(consumer.as_str());
                }
                if let Some(provider) = &filter.provider {
                    sql.push(" AND c.provider = ").bind(provider.as_str());
                }
            },
            "ORDER BY c.created_at DESC, c.id DESC",
            page_bounds(filter.limit, filter.offset),
            ContractInfo::from_row,
        )
        .await?;
        for item in &mut page.items {
            item.last_verification = self.last_verification(&item.id).await?;
        }
        Ok(page)
    }

    /// Every version of the contract between a consumer and a provider, newest first.
    pub async fn contract_versions(
        &self,
        workspace_id: &str,
        consumer: &str,
        provider: &str,
    ) -> Result<Vec<ContractInfo>> {
        let page = self
            .list_contracts(
                workspace_id,
                &ContractFilter {
                    consumer: Some(consumer.to_string()),
                    provider: Some(provider.to_string()),
                    limit: Some(1000),
                    offset: None,
                },
            )
            .await?;
        Ok(page.items)
    }

    /// The version saved just before `contract` for the same consumer and provider.
    pub async fn previous_contract(
        &self,
        workspace_id: &str,
        contract: &ContractInfo,
    ) -> Result<Option<ContractInfo>> {
        let mut sql = Sql::new(INFO_COLUMNS);
        sql.push(" FROM contracts c WHERE c.workspace_id = ")
            .bind(workspace_id)
            .push(" AND c.consumer = ")
            .bind(contract.consumer.as_str())
            .push(" AND c.provider = ")
            .bind(contract.provider.as_str())
            .push(" AND c.id <> ")
            .bind(contract.id.as_str())
            .push(" AND (c.created_at < ")
            .bind(crate::db::ms(contract.created_at))
            .push(" OR (c.created_at = ")
            .bind(crate::db::ms(contract.created_at))
            .push(" AND c.id < ")
            .bind(contract.id.as_str())
            .push(")) ORDER BY c.created_at DESC, c.id DESC LIMIT 1");
        sql.fetch_optional(&self.pool)
            .await?
            .map(|row| ContractInfo::from_row(&row))
            .transpose()
    }

    /// Deletes a contract with its verifications and changes.
    pub async fn delete_contract(&self, workspace_id: &str, id: &str) -> Result<()> {
        delete_owned(&self.pool, "contracts", "contract", workspace_id, id).await
    }

    async fn last_verification(&self, contract_id: &str) -> Result<Option<VerificationInfo>> {
        let mut sql = Sql::new(VERIFICATION_COLUMNS);
        sql.push(" FROM contract_verifications WHERE contract_id = ")
            .bind(contract_id)
            .push(" ORDER BY verified_at DESC, id DESC LIMIT 1");
        sql.fetch_optional(&self.pool)
            .await?
            .map(|row| VerificationInfo::from_row(&row))
            .transpose()
    }

    /// Records a verification of a contract (of this workspace) against a provider version.
    pub async fn record_verification(
        &self,
        workspace_id: &str,
        contract_id: &str,
        input: &NewVerification,
    ) -> Result<ContractVerification> {
        if input.provider_version.trim().is_empty() {
            return Err(Error::invalid("a verification needs a provider version"));
        }
        let contract = self.get_contract(workspace_id, contract_id).await?;
        let id = new_id();
        let mut sql = Sql::new(
            "INSERT INTO contract_verifications (id, contract_id, provider, provider_version, status, total, passed, failed, errors, report, execution_id, verified_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(contract_id)
            .push(", ")
            .bind(contract.info.provider.as_str())
            .push(", ")
            .bind(input.provider_version.as_str())
            .push(", ")
            .bind(input.status.as_str())
            .push(", ")
            .bind(input.total)
            .push(", ")
            .bind(input.passed)
            .push(", ")
            .bind(input.failed)
            .push(", ")
            .bind(input.errors)
            .push(", ")
            .bind(to_json_text(&input.report))
            .push(", ")
            .bind(input.execution_id.as_deref())
            .push(", ")
            .bind(now_ms())
            .push(")");
        sql.execute(&self.pool).await?;
        self.get_verification(workspace_id, &id).await
    }

    /// A verification, with its report.
    pub async fn get_verification(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<ContractVerification> {
        let mut sql = Sql::new(
            "SELECT v.id, v.contract_id, v.provider, v.provider_version, v.status, v.total, v.passed, v.failed, v.errors, v.execution_id, v.verified_at, v.report FROM contract_verifications v JOIN contracts c ON c.id = v.contract_id WHERE c.workspace_id = ",
        );
        sql.bind(workspace_id).push(" AND v.id = ").bind(id);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("verification", id))?;
        Ok(ContractVerification {
            info: VerificationInfo::from_row(&row)?,
            report: row.json("report")?,
        })
    }

    /// The verifications of a contract, newest first.
    pub async fn list_verifications(
        &self,
        workspace_id: &str,
        contract_id: &str,
        filter: &VerificationFilter,
    ) -> Result<Page<ContractVerification>> {
        // NotFound for a contract of another workspace.
        fetch_owned(
            &self.pool,
            "SELECT id FROM contracts",
            "contract",
            workspace_id,
            contract_id,
        )
        .await?;
        fetch_page(
            &self.pool,
            &format!("{VERIFICATION_COLUMNS}, report FROM contract_verifications"),
            "SELECT COUNT(*) FROM contract_verifications",
            |sql: &mut Sql| {
                sql.push(" WHERE contract_id = ").bind(contract_id);
                if let Some(status) = filter.status {
                    sql.push(" AND status = ").bind(status.as_str());
                }
                if let Some(version) = &filter.provider_version {
                    sql.push(" AND provider_version = ").bind(version.as_str());
                }
            },
            "ORDER BY verified_at DESC, id DESC",
            page_bounds(filter.limit, filter.offset),
            |row| {
                Ok(ContractVerification {
                    info: VerificationInfo::from_row(row)?,
                    report: row.json("report")?,
                })
            },
        )
        .await
    }

    /// Records the changes between two contracts of a workspace, replacing those recorded
    /// before for the same pair.
    pub async fn record_contract_changes(
        &self,
        workspace_id: &str,
        old_contract_id: &str,
        new_contract_id: &str,
        changes: &[NewContractChange],
    ) -> Result<ContractComparison> {
        for id in [old_contract_id, new_contract_id] {
            fetch_owned(
                &self.pool,
                "SELECT id FROM contracts",
                "contract",
                workspace_id,
                id,
            )
            .await?;
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for table in ["contract_changes", "contract_comparisons"] {
            let mut sql = Sql::new("DELETE FROM ");
            sql.push(table)
                .push(" WHERE old_contract_id = ")
                .bind(old_contract_id)
                .push(" AND new_contract_id = ")
                .bind(new_contract_id);
            sql.execute(&mut *tx).await?;
        }
        let mut sql = Sql::new(
            "INSERT INTO contract_comparisons (old_contract_id, new_contract_id, computed_at) VALUES (",
        );
        sql.bind(old_contract_id)
            .push(", ")
            .bind(new_contract_id)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await?;
        for (position, change) in changes.iter().enumerate() {
            if !matches!(change.severity.as_str(), "breaking" | "warning" | "info") {
                return Err(Error::invalid(format!(
                    "unknown change severity `{}`",
                    change.severity
                )));
            }
            let mut sql = Sql::new(
                "INSERT INTO contract_changes (id, old_contract_id, new_contract_id, position, rule, severity, interaction, part, path, message, detected_at) VALUES (",
            );
            sql.bind(new_id())
                .push(", ")
                .bind(old_contract_id)
                .push(", ")
                .bind(new_contract_id)
                .push(", ")
                .bind(position as i64)
                .push(", ")
                .bind(change.rule.as_str())
                .push(", ")
                .bind(change.severity.as_str())
                .push(", ")
                .bind(change.interaction.as_str())
                .push(", ")
                .bind(change.part.as_str())
                .push(", ")
                .bind(change.path.as_str())
                .push(", ")
                .bind(change.message.as_str())
                .push(", ")
                .bind(now)
                .push(")");
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.contract_comparison(workspace_id, old_contract_id, new_contract_id)
            .await?
            .ok_or_else(|| Error::not_found("contract comparison", new_contract_id))
    }

    /// The recorded comparison of two contracts, if they were compared.
    pub async fn contract_comparison(
        &self,
        workspace_id: &str,
        old_contract_id: &str,
        new_contract_id: &str,
    ) -> Result<Option<ContractComparison>> {
        let mut sql = Sql::new(
            "SELECT p.computed_at FROM contract_comparisons p JOIN contracts c ON c.id = p.new_contract_id WHERE c.workspace_id = ",
        );
        sql.bind(workspace_id)
            .push(" AND p.old_contract_id = ")
            .bind(old_contract_id)
            .push(" AND p.new_contract_id = ")
            .bind(new_contract_id);
        let Some(row) = sql.fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let mut changes = Sql::new(CHANGE_COLUMNS);
        changes
            .push(" WHERE old_contract_id = ")
            .bind(old_contract_id)
            .push(" AND new_contract_id = ")
            .bind(new_contract_id)
            .push(" ORDER BY position");
        Ok(Some(ContractComparison {
            old_contract_id: old_contract_id.to_string(),
            new_contract_id: new_contract_id.to_string(),
            computed_at: row.time("computed_at")?,
            changes: changes
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(ContractChange::from_row)
                .collect::<Result<_>>()?,
        }))
    }

    /// Every recorded change where the contract is the old or the new side, newest comparison
    /// first.
    pub async fn contract_changes(
        &self,
        workspace_id: &str,
        contract_id: &str,
    ) -> Result<Vec<ContractChange>> {
        fetch_owned(
            &self.pool,
            "SELECT id FROM contracts",
            "contract",
            workspace_id,
            contract_id,
        )
        .await?;
        let mut sql = Sql::new(CHANGE_COLUMNS);
        sql.push(" WHERE old_contract_id = ")
            .bind(contract_id)
            .push(" OR new_contract_id = ")
            .bind(contract_id)
            .push(" ORDER BY detected_at DESC, old_contract_id, new_contract_id, position");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(ContractChange::from_row)
            .collect()
    }

    /// Whether `version` of `pacticipant` can be deployed, answered from stored verifications.
    ///
    /// - As a consumer: every contract of that consumer version must have a passed verification
    ///   against `provider_version` when given, else its latest verification (of whichever
    ///   provider version verified it last) must have passed.
    /// - As a provider: the latest contract of every consumer of it must have been verified
    ///   against this provider version, and the latest such verification must have passed.
    ///
    /// A pacticipant that is both is checked both ways. An unknown pacticipant, or a consumer
    /// version with no contract, is not deployable.
    pub async fn can_i_deploy(
        &self,
        workspace_id: &str,
        pacticipant: &str,
        version: &str,
        provider_version: Option<&str>,
    ) -> Result<DeployVerdict> {
        let mut reasons = Vec::new();
        let mut known = false;

        // As a consumer.
        let mut sql = Sql::new(INFO_COLUMNS);
        sql.push(" FROM contracts c WHERE c.workspace_id = ")
            .bind(workspace_id)
            .push(" AND c.consumer = ")
            .bind(pacticipant)
            .push(" ORDER BY c.provider, c.created_at DESC");
        let as_consumer = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(ContractInfo::from_row)
            .collect::<Result<Vec<_>>>()?;
        if !as_consumer.is_empty() {
            known = true;
            let of_version: Vec<&ContractInfo> = as_consumer
                .iter()
                .filter(|c| c.version == version)
                .collect();
            if of_version.is_empty() {
                reasons.push(DeployReason {
                    ok: false,
                    consumer: pacticipant.to_string(),
                    consumer_version: version.to_string(),
                    provider: String::new(),
                    provider_version: None,
                    contract_id: None,
                    verification_id: None,
                    message: format!(
                        "{pacticipant} has no contract for version {version}: publish it first"
                    ),
                });
            }
            for contract in of_version {
                let verification = self
                    .latest_verification_of(&contract.id, provider_version)
                    .await?;
                reasons.push(reason_for(
                    contract,
                    provider_version,
                    verification.as_ref(),
                ));
            }
        }

        // As a provider: the latest contract of each consumer.
        let mut sql = Sql::new(INFO_COLUMNS);
        sql.push(" FROM contracts c WHERE c.workspace_id = ")
            .bind(workspace_id)
            .push(" AND c.provider = ")
            .bind(pacticipant)
            .push(" ORDER BY c.created_at DESC, c.id DESC");
        let as_provider = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(ContractInfo::from_row)
            .collect::<Result<Vec<_>>>()?;
        let mut latest: BTreeMap<&str, &ContractInfo> = BTreeMap::new();
        for contract in &as_provider {
            latest.entry(contract.consumer.as_str()).or_insert(contract);
        }
        if !latest.is_empty() {
            known = true;
        }
        for contract in latest.values() {
            let verification = self
                .latest_verification_of(&contract.id, Some(version))
                .await?;
            reasons.push(reason_for(contract, Some(version), verification.as_ref()));
        }

        if !known {
            reasons.push(DeployReason {
                ok: false,
                consumer: String::new(),
                consumer_version: String::new(),
                provider: String::new(),
                provider_version: None,
                contract_id: None,
                verification_id: None,
                message: format!(
                    "unknown pacticipant {pacticipant}: no contract names it as consumer or provider"
                ),
            });
        }
        Ok(DeployVerdict {
            deployable: reasons.iter().all(|r| r.ok),
            pacticipant: pacticipant.to_string(),
            version: version.to_string(),
            reasons,
        })
    }

    async fn latest_verification_of(
        &self,
        contract_id: &str,
        provider_version: Option<&str>,
    ) -> Result<Option<VerificationInfo>> {
        let mut sql = Sql::new(VERIFICATION_COLUMNS);
        sql.push(" FROM contract_verifications WHERE contract_id = ")
            .bind(contract_id);
        if let Some(version) = provider_version {
            sql.push(" AND provider_version = ").bind(version);
        }
        sql.push(" ORDER BY verified_at DESC, id DESC LIMIT 1");
        sql.fetch_optional(&self.pool)
            .await?
            .map(|row| VerificationInfo::from_row(&row))
            .transpose()
    }
}

fn reason_for(
    contract: &ContractInfo,
    provider_version: Option<&str>,
    verification: Option<&VerificationInfo>,
) -> DeployReason {
    let pair = format!(
        "{} {} → {}",
        contract.consumer, contract.version, contract.provider
    );
    let against = |v: &str| format!("{} {v}", contract.provider);
    let (ok, version, message) = match (verification, provider_version) {
        (None, Some(v)) => (
            false,
            Some(v.to_string()),
            format!("{pair}: not verified against {}", against(v)),
        ),
        (None, None) => (
            false,
            None,
            format!("{pair}: never verified by the provider"),
        ),
        (Some(v), _) => {
            let ok = v.status == VerificationStatus::Passed;
            let outcome = match v.status {
                VerificationStatus::Passed => "verified".to_string(),
                VerificationStatus::Failed => format!(
                    "verification failed ({} of {} interactions failed)",
                    v.failed + v.errors,
                    v.total
                ),
                VerificationStatus::Error => "verification could not complete".to_string(),
            };
            (
                ok,
                Some(v.provider_version.clone()),
                format!("{pair}: {outcome} against {}", against(&v.provider_version)),
            )
        }
    };
    DeployReason {
        ok,
        consumer: contract.consumer.clone(),
        consumer_version: contract.version.clone(),
        provider: contract.provider.clone(),
        provider_version: version,
        contract_id: Some(contract.id.clone()),
        verification_id: verification.map(|v| v.id.clone()),
        message,
    }
}

async fn fetch_owned_aliased(
    pool: &sqlx::AnyPool,
    select: &str,
    workspace_id: &str,
    id: &str,
) -> Result<AnyRow> {
    let mut sql = Sql::new(select);
    sql.push(" WHERE c.workspace_id = ")
        .bind(workspace_id)
        .push(" AND c.id = ")
        .bind(id);
    sql.fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::not_found("contract", id))
}

/// Where a pact to save comes from, besides its consumer and provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PactOrigin {
    /// The consumer version.
    pub version: String,
    /// Generated or imported.
    pub source: ContractSource,
    /// The flow it was generated from.
    pub flow_id: Option<String>,
    /// The execution it was generated from.
    pub execution_id: Option<String>,
}

/// One interaction of a stored pact, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InteractionSummary {
    /// Its id within the contract: the pact's `key`, else its position.
    pub id: String,
    /// Position in the pact (0-based).
    pub index: usize,
    /// `Synchronous/HTTP`, `Asynchronous/Messages` or `Synchronous/Messages`.
    #[serde(rename = "type")]
    pub interaction_type: String,
    /// Description.
    pub description: String,
    /// Provider state names.
    pub provider_states: Vec<String>,
    /// Request method (HTTP only).
    pub method: Option<String>,
    /// Request path (HTTP only).
    pub path: Option<String>,
    /// Expected status (HTTP only).
    pub status: Option<i64>,
    /// Whether it is pending.
    pub pending: bool,
}

/// The interactions of a stored (V4) pact, summarised, in file order.
pub fn interaction_summaries(pact: &Value) -> Vec<InteractionSummary> {
    let Some(items) = pact.get("interactions").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(index, i)| {
            let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
            InteractionSummary {
                id: text(i.get("key")).unwrap_or_else(|| index.to_string()),
                index,
                interaction_type: text(i.get("type")).unwrap_or_default(),
                description: text(i.get("description")).unwrap_or_default(),
                provider_states: i
                    .get("providerStates")
                    .and_then(Value::as_array)
                    .map(|s| s.iter().filter_map(|s| text(s.get("name"))).collect())
                    .unwrap_or_default(),
                method: text(i.pointer("/request/method")),
                path: text(i.pointer("/request/path")),
                status: i.pointer("/response/status").and_then(Value::as_i64),
                pending: i.get("pending").and_then(Value::as_bool).unwrap_or(false),
            }
        })
        .collect()
}

/// One interaction of a stored pact by its id (its key, or its position), as written in the pact.
pub fn find_interaction<'p>(pact: &'p Value, id: &str) -> Option<&'p Value> {
    let items = pact.get("interactions")?.as_array()?;
    items
        .iter()
        .find(|i| i.get("key").and_then(Value::as_str) == Some(id))
        .or_else(|| id.parse::<usize>().ok().and_then(|n| items.get(n)))
}

/// The name of a specification version as stored (`"2.0"`).
fn spec_name(version: Option<testmesh_contract::SpecVersion>) -> &'static str {
    use testmesh_contract::SpecVersion;
    match version {
        Some(SpecVersion::V1) => "1.0",
        Some(SpecVersion::V1_1) => "1.1",
        Some(SpecVersion::V2) => "2.0",
        Some(SpecVersion::V3) => "3.0",
        Some(SpecVersion::V4) | None => "4.0",
    }
}

impl Store {
    /// Saves a pact (see [`Store::save_contract`]): written as Pact V4 JSON, its consumer and
    /// provider taken from the pact.
    pub async fn save_pact(
        &self,
        workspace_id: &str,
        pact: &testmesh_contract::Pact,
        origin: &PactOrigin,
    ) -> Result<Contract> {
        self.save_contract(
            workspace_id,
            &NewContract {
                consumer: pact.consumer.name.clone(),
                provider: pact.provider.name.clone(),
                version: origin.version.clone(),
                pact: pact.to_json(),
                spec_version: spec_name(pact.source_version).to_string(),
                source: origin.source,
                flow_id: origin.flow_id.clone(),
                execution_id: origin.execution_id.clone(),
            },
        )
        .await
    }

    /// A stored contract's pact, read back into the model.
    pub async fn load_pact(
        &self,
        workspace_id: &str,
        contract_id: &str,
    ) -> Result<(Contract, testmesh_contract::Pact)> {
        let contract = self.get_contract(workspace_id, contract_id).await?;
        let pact = testmesh_contract::pact_from_json(&contract.pact)
            .map_err(|e| Error::Corrupt(format!("stored pact {contract_id}: {e}")))?;
        Ok((contract, pact))
    }

    /// Records a verifier's report as a verification of a contract. The status is `passed` when
    /// no (non-pending) interaction failed, `error` when nothing failed to match but some could
    /// not be checked, else `failed`.
    pub async fn record_verification_report(
        &self,
        workspace_id: &str,
        contract_id: &str,
        provider_version: &str,
        report: &testmesh_contract::VerificationReport,
        execution_id: Option<&str>,
    ) -> Result<ContractVerification> {
        let s = &report.summary;
        let status = if !report.failed() {
            VerificationStatus::Passed
        } else if s.failed == 0 {
            VerificationStatus::Error
        } else {
            VerificationStatus::Failed
        };
        let report_json = serde_json::to_value(report)
            .map_err(|e| Error::invalid(format!("unserialisable report: {e}")))?;
        self.record_verification(
            workspace_id,
            contract_id,
            &NewVerification {
                provider_version: provider_version.to_string(),
                status,
                total: s.total as i64,
                passed: s.passed as i64,
                failed: s.failed as i64,
                errors: s.errors as i64,
                report: report_json,
                execution_id: execution_id.map(str::to_string),
            },
        )
        .await
    }

    /// Compares two stored contracts with `testmesh_contract::diff_pacts` and records the
    /// changes (replacing earlier ones for the pair). Contracts between different parties are
    /// [`Error::Invalid`].
    pub async fn compare_contracts(
        &self,
        workspace_id: &str,
        old_contract_id: &str,
        new_contract_id: &str,
    ) -> Result<ContractComparison> {
        let (_, old) = self.load_pact(workspace_id, old_contract_id).await?;
        let (_, new) = self.load_pact(workspace_id, new_contract_id).await?;
        let report =
            testmesh_contract::diff_pacts(&old, &new).map_err(|e| Error::invalid(e.to_string()))?;
        let changes: Vec<NewContractChange> = report
            .changes
            .iter()
            .map(|c| NewContractChange {
                rule: c.rule.to_string(),
                severity: c.severity.as_str().to_string(),
                interaction: c.interaction.clone(),
                part: c.part.to_string(),
                path: c.path.clone(),
                message: c.message.clone(),
            })
            .collect();
        self.record_contract_changes(workspace_id, old_contract_id, new_contract_id, &changes)
            .await
    }
}

/// The contract actions' repository over the store: a flow's contracts and verifications are kept
/// in the workspace of its execution (the default workspace when the execution is not stored).
/// Verifications of pact files that are not stored contracts are not kept, as with
/// `testmesh contract verify`.
pub struct StoreContracts {
    store: Store,
}

impl StoreContracts {
    /// A repository over `store`.
    pub fn new(store: Store) -> StoreContracts {
        StoreContracts { store }
    }

    async fn workspace_of(&self, execution_id: Option<&str>) -> String {
        match execution_id {
            Some(id) => match self.store.find_execution(id).await {
                Ok(execution) => execution.workspace_id,
                Err(_) => crate::DEFAULT_WORKSPACE_ID.to_string(),
            },
            None => crate::DEFAULT_WORKSPACE_ID.to_string(),
        }
    }
}

fn storage(error: Error) -> testmesh_contract::RepositoryError {
    match error {
        Error::NotFound { id, .. } => testmesh_contract::RepositoryError::NotFound(id),
        e => testmesh_contract::RepositoryError::Storage(e.to_string()),
    }
}

impl testmesh_contract::ContractRepository for StoreContracts {
    fn save_contract<'a>(
        &'a self,
        contract: testmesh_contract::NewContract<'a>,
    ) -> testmesh_contract::RepoFuture<'a, testmesh_contract::SavedContract> {
        Box::pin(async move {
            let workspace = self.workspace_of(contract.execution_id).await;
            let replaced = self
                .store
                .find_contract(
                    &workspace,
                    contract.consumer,
                    contract.provider,
                    contract.version,
                )
                .await
                .map_err(storage)?
                .is_some();
            let origin = PactOrigin {
                version: contract.version.to_string(),
                source: ContractSource::Generated,
                flow_id: None,
                execution_id: contract.execution_id.map(str::to_string),
            };
            let saved = self
                .store
                .save_pact(&workspace, contract.pact, &origin)
                .await
                .map_err(storage)?;
            Ok(testmesh_contract::SavedContract {
                id: saved.info.id,
                replaced,
            })
        })
    }

    fn load_contract<'a>(
        &'a self,
        id: &'a str,
    ) -> testmesh_contract::RepoFuture<'a, testmesh_contract::Pact> {
        Box::pin(async move {
            let workspace = self.find_contract_by_id(id.trim()).await?;
            let (_, pact) = self
                .store
                .load_pact(&workspace, id.trim())
                .await
                .map_err(storage)?;
            Ok(pact)
        })
    }

    fn save_verification<'a>(
        &'a self,
        verification: testmesh_contract::NewVerification<'a>,
    ) -> testmesh_contract::RepoFuture<'a, String> {
        Box::pin(async move {
            let Some(contract_id) = verification.contract_id else {
                return Ok(new_id());
            };
            let workspace = self.find_contract_by_id(contract_id).await?;
            let stored = self
                .store
                .record_verification_report(
                    &workspace,
                    contract_id,
                    verification.provider_version,
                    verification.report,
                    verification.execution_id,
                )
                .await
                .map_err(storage)?;
            Ok(stored.info.id)
        })
    }
}

impl StoreContracts {
    /// The workspace holding contract `id`.
    async fn find_contract_by_id(
        &self,
        id: &str,
    ) -> std::result::Result<String, testmesh_contract::RepositoryError> {
        let mut sql = Sql::new("SELECT workspace_id FROM contracts WHERE id = ");
        sql.bind(id);
        let row = sql
            .fetch_optional(&self.store.pool)
            .await
            .map_err(storage)?
            .ok_or_else(|| testmesh_contract::RepositoryError::NotFound(id.to_string()))?;
        row.text("workspace_id").map_err(storage)
    }
}
