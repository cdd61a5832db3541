//! Where the contract actions keep contracts and verification results: a small async
//! [`ContractRepository`] trait (the store implements it over its `contracts` tables) and
//! [`MemoryRepository`], which keeps them for the life of the process.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::model::Pact;
use crate::verify::VerificationReport;

/// The future a repository method returns.
pub type RepoFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RepositoryError>> + Send + 'a>>;

/// Why a repository call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// No contract has this id.
    #[error("no contract has the id `{0}`")]
    NotFound(String),
    /// The storage failed.
    #[error("contract storage: {0}")]
    Storage(String),
}

/// A contract to save.
#[derive(Debug, Clone, Copy)]
pub struct NewContract<'a> {
    /// Consumer name (also in the pact).
    pub consumer: &'a str,
    /// Provider name (also in the pact).
    pub provider: &'a str,
    /// The consumer version the pact belongs to.
    pub version: &'a str,
    /// The pact.
    pub pact: &'a Pact,
    /// The execution (flow run) that generated it, if any.
    pub execution_id: Option<&'a str>,
}

/// A saved contract's id, and whether it replaced one with the same consumer, provider and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedContract {
    /// The contract's id.
    pub id: String,
    /// True when a contract with the same (consumer, provider, version) was replaced (its id is
    /// kept, so references to it stay valid).
    pub replaced: bool,
}

/// A verification result to save.
#[derive(Debug, Clone, Copy)]
pub struct NewVerification<'a> {
    /// The verified contract's id (`None` for a pact read from a file).
    pub contract_id: Option<&'a str>,
    /// The provider version that was verified.
    pub provider_version: &'a str,
    /// The report.
    pub report: &'a VerificationReport,
    /// The execution (flow run) that verified, if any.
    pub execution_id: Option<&'a str>,
}

/// Storage for contracts and their verifications.
pub trait ContractRepository: Send + Sync {
    /// Saves a generated pact under (consumer, provider, version), replacing an existing one with
    /// the same three; returns its id.
    fn save_contract<'a>(&'a self, contract: NewContract<'a>) -> RepoFuture<'a, SavedContract>;

    /// The pact stored under `id` ([`RepositoryError::NotFound`] when there is none).
    fn load_contract<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Pact>;

    /// Saves a verification result; returns its id.
    fn save_verification<'a>(&'a self, verification: NewVerification<'a>)
    -> RepoFuture<'a, String>;
}

/// A stored verification, as [`MemoryRepository`] keeps it.
#[derive(Debug, Clone)]
pub struct StoredVerification {
    /// Its id.
    pub id: String,
    /// The contract's id.
    pub contract_id: Option<String>,
    /// The provider version.
    pub provider_version: String,
    /// Whether it passed.
    pub passed: bool,
    /// The execution that verified.
    pub execution_id: Option<String>,
}

#[derive(Default)]
struct Memory {
    /// id → (consumer, provider, version, pact, execution id).
    contracts: HashMap<String, (String, String, String, Pact, Option<String>)>,
    verifications: Vec<StoredVerification>,
}

/// Contracts and verifications in memory, for the life of the process (the CLI's runs; tests).
#[derive(Default)]
pub struct MemoryRepository {
    inner: Mutex<Memory>,
}

impl MemoryRepository {
    /// An empty repository.
    pub fn new() -> Self {
        MemoryRepository::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The verifications saved so far, oldest first.
    pub fn verifications(&self) -> Vec<StoredVerification> {
        self.lock().verifications.clone()
    }

    /// The number of contracts.
    pub fn contract_count(&self) -> usize {
        self.lock().contracts.len()
    }
}

impl ContractRepository for MemoryRepository {
    fn save_contract<'a>(&'a self, c: NewContract<'a>) -> RepoFuture<'a, SavedContract> {
        Box::pin(async move {
            let mut memory = self.lock();
            let existing = memory
                .contracts
                .iter()
                .find(|(_, (consumer, provider, version, _, _))| {
                    consumer == c.consumer && provider == c.provider && version == c.version
                })
                .map(|(id, _)| id.clone());
            let replaced = existing.is_some();
            let id = existing.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            memory.contracts.insert(
                id.clone(),
                (
                    c.consumer.to_string(),
                    c.provider.to_string(),
                    c.version.to_string(),
                    c.pact.clone(),
                    c.execution_id.map(str::to_string),
                ),
            );
            Ok(SavedContract { id, replaced })
        })
    }

    fn load_contract<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Pact> {
        Box::pin(async move {
            self.lock()
                .contracts
                .get(id.trim())
                .map(|(_, _, _, pact, _)| pact.clone())
                .ok_or_else(|| RepositoryError::NotFound(id.to_string()))
        })
    }

    fn save_verification<'a>(&'a self, v: NewVerification<'a>) -> RepoFuture<'a, String> {
        Box::pin(async move {
            let id = uuid::Uuid::new_v4().to_string();
            self.lock().verifications.push(StoredVerification {
                id: id.clone(),
                contract_id: v.contract_id.map(str::to_string),
                provider_version: v.provider_version.to_string(),
                passed: !v.report.failed(),
                execution_id: v.execution_id.map(str::to_string),
            });
            Ok(id)
        })
    }
}
