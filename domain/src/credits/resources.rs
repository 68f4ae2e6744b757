//! Compute resources (admin): a GPU model on a cluster, the backend that reaches it, and the
//! rule that names a startup's account there.
use super::entity::resource;
use super::{BackendKind, RepairMode, ResourceView};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::cluster::backend::slurm::{DialectChoice, ProbeError};
use crate::cluster::backend::{Backend, Settings};
use crate::error::{AppError, AppResult};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder, Set, SqlErr};
use serde_json::json;
use wire::auth::Role;

#[derive(Clone, Debug, Default)]
pub struct ResourceInput {
    pub name: String,
    pub gpu_model: String,
    pub backend: String,
    pub cluster: String,
    pub account_pattern: String,
    pub base_url: String,
    /// Empty keeps the stored secret.
    pub secret: String,
    pub repair_mode: String,
    /// Slurm: `auto` (also when empty), `v0038` or `v0042`.
    pub dialect: String,
    pub token_file: String,
    pub token_user: String,
    /// Slurm v0.0.42: the account startup accounts are made under (empty: root).
    pub parent_account: String,
    /// Slurm v0.0.42: `qos` (also when empty) or `association`.
    pub enforcement: String,
    /// Domestic compute (some programmes pay a higher rate for it).
    pub domestic: bool,
    /// Who provides the compute, and their unified social credit code (both optional).
    pub provider: String,
    pub provider_credit_code: String,
}

pub fn view(r: &resource::Model) -> ResourceView {
    let s: Settings = serde_json::from_str(&r.settings).unwrap_or_default();
    ResourceView {
        id: r.id,
        name: r.name.clone(),
        gpu_model: r.gpu_model.clone(),
        backend: r.backend,
        cluster: r.cluster.clone(),
        account_pattern: r.account_pattern.clone(),
        base_url: s.base_url,
        has_secret: !s.secret.is_empty(),
        repair_mode: r.repair_mode,
        dialect: r.dialect.clone(),
        token_file: s.token_file,
        token_user: s.token_user,
        parent_account: s.parent_account,
        enforcement: s.enforcement,
        domestic: r.domestic,
        provider: r.provider.clone(),
        provider_credit_code: r.provider_credit_code.clone().unwrap_or_default(),
    }
}

fn account_pattern_ok(p: &str) -> bool {
    let sample = p.replace("{id}", "1");
    p.contains("{id}")
        && (3..=60).contains(&sample.len())
        && sample
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A Slurm account name as Hatchery accepts one: lower case letters, digits, `-` and `_`.
fn slurm_name_ok(name: &str) -> bool {
    (1..=60).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The dialect as stored: `auto` when none was chosen.
fn dialect_of(input: &ResourceInput) -> AppResult<String> {
    match input.dialect.trim() {
        "" => Ok("auto".into()),
        d => DialectChoice::parse(d)
            .map(|_| d.to_string())
            .map_err(|_| AppError::invalid("dialect", "error.dialect_invalid")),
    }
}

/// Checks the input and returns the resource as it would be stored (its settings JSON and
/// dialect are what to store).
fn validate(input: &ResourceInput, stored: Option<&Settings>) -> AppResult<resource::Model> {
    let mut checks = crate::error::Checks::new();
    let name = input.name.trim();
    checks.check(
        !name.is_empty() && name.chars().count() <= 100,
        "name",
        "error.resource_name_invalid",
    );
    checks.check(
        !input.gpu_model.trim().is_empty() && input.gpu_model.chars().count() <= 60,
        "gpu_model",
        "error.gpu_model_invalid",
    );
    let backend = BackendKind::parse(input.backend.trim());
    checks.check(backend.is_some(), "backend", "error.backend_invalid");
    checks.check(
        account_pattern_ok(input.account_pattern.trim()),
        "account_pattern",
        "error.account_pattern_invalid",
    );
    let repair_mode = RepairMode::parse(input.repair_mode.trim());
    checks.check(
        repair_mode.is_some(),
        "repair_mode",
        "error.repair_mode_invalid",
    );
    let secret = match input.secret.trim() {
        "" => stored.map(|s| s.secret.clone()).unwrap_or_default(),
        s => s.to_string(),
    };
    let dialect = checks.take(dialect_of(input)).unwrap_or_default();
    let parent_account = input.parent_account.trim();
    checks.check(
        parent_account.is_empty() || slurm_name_ok(parent_account),
        "parent_account",
        "error.parent_account_invalid",
    );
    let enforcement = match input.enforcement.trim() {
        "" | "qos" => "",
        "association" => "association",
        _ => {
            checks.fault("enforcement", "error.enforcement_invalid");
            ""
        }
    };
    let provider = input.provider.trim();
    checks.check(
        provider.chars().count() <= 200,
        "provider",
        "error.too_long",
    );
    let provider_credit_code = match input.provider_credit_code.trim() {
        "" => None,
        code => checks
            .take(wire::startups::CreditCode::parse(code).map_err(|_| {
                AppError::invalid("provider_credit_code", "error.credit_code_invalid")
            }))
            .map(|c| c.as_str().to_string()),
    };
    checks.finish()?;
    let settings = Settings {
        base_url: input.base_url.trim().trim_end_matches('/').to_string(),
        secret,
        token_file: input.token_file.trim().to_string(),
        token_user: input.token_user.trim().to_string(),
        parent_account: parent_account.to_string(),
        enforcement: enforcement.to_string(),
    };
    // Building the backend checks what it needs: a URL, a cluster name, a long enough secret.
    let probe = resource::Model {
        id: 0,
        name: name.into(),
        gpu_model: input.gpu_model.clone(),
        backend: backend.unwrap_or_default(),
        cluster: input.cluster.trim().into(),
        account_pattern: input.account_pattern.trim().into(),
        settings: serde_json::to_string(&settings).map_err(|_| AppError::Internal)?,
        repair_mode: repair_mode.unwrap_or_default(),
        dialect,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        domestic: input.domestic,
        provider: provider.to_string(),
        provider_credit_code,
    };
    if let Err(e) = Backend::for_resource(&probe) {
        let (field, key) = match e.to_string() {
            m if m.contains("cluster") => ("cluster", "error.cluster_required"),
            m if m.contains("secret") => ("secret", "error.secret_too_short"),
            _ => ("base_url", "error.base_url_invalid"),
        };
        return Err(AppError::invalid(field, key));
    }
    Ok(probe)
}

/// A Slurm resource is checked against its cluster before it is stored, so that a wrong
/// address, token, cluster name or dialect is told at once, by name, and nothing is saved.
async fn check_cluster(candidate: &resource::Model) -> AppResult<()> {
    let Ok(Backend::Slurm(slurm)) = Backend::for_resource(candidate) else {
        return Ok(());
    };
    let Err(e) = slurm.probe().await else {
        return Ok(());
    };
    tracing::info!(cluster = %candidate.cluster, error = ?e, "Slurm resource refused");
    let token_field = if serde_json::from_str::<Settings>(&candidate.settings)
        .is_ok_and(|s| !s.token_file.is_empty())
    {
        "token_file"
    } else {
        "secret"
    };
    let (field, key) = match e {
        ProbeError::Unreachable(_) => ("base_url", "error.slurm_unreachable"),
        ProbeError::TokenFile(_) => ("token_file", "error.slurm_token_file"),
        ProbeError::TokenRefused => (token_field, "error.slurm_token_refused"),
        ProbeError::DialectNotServed { .. } => ("dialect", "error.slurm_dialect_not_served"),
        ProbeError::NoDialect { .. } => ("dialect", "error.slurm_no_dialect"),
        ProbeError::UnknownCluster => ("cluster", "error.slurm_cluster_unknown"),
        ProbeError::UnknownParent => ("parent_account", "error.slurm_parent_unknown"),
    };
    Err(AppError::invalid(field, key))
}

pub async fn list(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<ResourceView>> {
    actor.require(Role::Admin)?;
    Ok(resource::Entity::find()
        .order_by_asc(resource::Column::Name)
        .all(db)
        .await?
        .iter()
        .map(view)
        .collect())
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<ResourceView> {
    actor.require(Role::Admin)?;
    resource::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|r| view(&r))
        .ok_or(AppError::NotFound)
}

/// Creates a resource (id None) or updates one; returns its id.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<i64>,
    input: ResourceInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    // Checked before the transaction: asking the cluster may take seconds.
    let stored: Option<Settings> = match id {
        Some(id) => Some(
            resource::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    }
    .and_then(|r| serde_json::from_str(&r.settings).ok());
    let candidate = validate(&input, stored.as_ref())?;
    check_cluster(&candidate).await?;
    let txn = crate::txn::begin(db).await?;
    let existing = match id {
        Some(id) => Some(
            resource::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let now = Utc::now();
    let taken = |e: sea_orm::DbErr| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::invalid("name", "error.resource_name_taken")
        }
        _ => e.into(),
    };
    let before = existing.as_ref().map(|r| json!(view(r)));
    let mut a: resource::ActiveModel = match existing {
        Some(r) => r.into(),
        None => resource::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    a.name = Set(input.name.trim().into());
    a.gpu_model = Set(input.gpu_model.trim().into());
    a.backend = Set(candidate.backend);
    a.cluster = Set(input.cluster.trim().into());
    a.account_pattern = Set(input.account_pattern.trim().into());
    a.settings = Set(candidate.settings);
    a.repair_mode = Set(candidate.repair_mode);
    a.dialect = Set(candidate.dialect);
    a.domestic = Set(candidate.domestic);
    a.provider = Set(candidate.provider);
    a.provider_credit_code = Set(candidate.provider_credit_code);
    a.updated_at = Set(now);
    let saved = a.save(&txn).await.map_err(taken)?;
    let saved: resource::Model = saved.try_into().map_err(|_| AppError::Internal)?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: if before.is_some() {
                "resource.updated"
            } else {
                "resource.created"
            },
            entity_type: "resource",
            entity_id: saved.id.to_string(),
            before,
            after: Some(json!(view(&saved))),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved.id)
}
