//! The allocation each startup should hold on a resource, as the database says now: its
//! account (named by the resource's pattern), its cap (from its grants) and its members (the
//! team's cluster logins). One rule, `of`, builds it; a sync job carries one startup's (see
//! `desired`), reconciliation compares every startup's with the cluster (`desired_all`), and
//! the demo loader uses the same rule for the jobs it writes.
use super::backend::Desired;
use crate::auth::entity::user;
use crate::credits::entity::{grant, resource};
use crate::error::{AppError, AppResult};
use crate::startups::entity::{member, startup};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, HashMap};
use wire::credits::GrantStatus;

/// A startup's account name on a resource, from the resource's pattern.
pub fn account_name(r: &resource::Model, startup_id: i64) -> String {
    r.account_pattern.replace("{id}", &startup_id.to_string())
}

/// The startup whose account on a resource this is, by the resource's pattern: the inverse of
/// `account_name`. None for a name the pattern cannot give.
pub fn startup_of_account(r: &resource::Model, account: &str) -> Option<i64> {
    let (before, after) = r.account_pattern.split_once("{id}")?;
    let digits = account.strip_prefix(before)?.strip_suffix(after)?;
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let id: i64 = digits.parse().ok()?;
    (id > 0 && account_name(r, id) == account).then_some(id)
}

/// The cap the cluster should enforce: what was ever consumed, plus what active grants still
/// hold. Suspended, expired and revoked grants keep only what was used of them.
pub fn limit_of(grants: &[grant::Model]) -> i64 {
    grants
        .iter()
        .map(|g| {
            let usable = if g.status == GrantStatus::Active {
                g.remaining_minutes().max(0)
            } else {
                0
            };
            g.consumed_minutes + usable
        })
        .sum()
}

/// The allocation of startup `startup_id` (named `organization`) on `r`, from its grants there
/// and its members' cluster logins (in any order; the allocation lists them sorted).
pub fn of(
    r: &resource::Model,
    startup_id: i64,
    organization: &str,
    grants: &[grant::Model],
    mut logins: Vec<String>,
) -> Desired {
    logins.sort();
    Desired {
        account: account_name(r, startup_id),
        organization: organization.to_string(),
        limit_minutes: limit_of(grants),
        members: logins,
        freeze: false,
    }
}

/// The desired allocation of one startup on a resource (a cap of 0 when it holds no grant
/// there).
pub async fn desired(
    db: &impl ConnectionTrait,
    r: &resource::Model,
    startup_id: i64,
) -> AppResult<Desired> {
    load(db, r, Some(startup_id))
        .await?
        .pop()
        .map(|(_, d)| d)
        .ok_or(AppError::NotFound)
}

/// Every startup's desired allocation on a resource (those holding a grant there), by
/// startup, in four queries whatever their number.
pub async fn desired_all(
    db: &impl ConnectionTrait,
    r: &resource::Model,
) -> AppResult<Vec<(i64, Desired)>> {
    load(db, r, None).await
}

/// The allocations of `only` (one startup, which must exist) or of every startup with a grant
/// on `r`, ordered by startup.
async fn load(
    db: &impl ConnectionTrait,
    r: &resource::Model,
    only: Option<i64>,
) -> AppResult<Vec<(i64, Desired)>> {
    let mut grants = grant::Entity::find().filter(grant::Column::ResourceId.eq(r.id));
    if let Some(id) = only {
        grants = grants.filter(grant::Column::StartupId.eq(id));
    }
    let mut by_startup: BTreeMap<i64, Vec<grant::Model>> =
        only.map(|id| (id, Vec::new())).into_iter().collect();
    for g in grants.all(db).await? {
        by_startup.entry(g.startup_id).or_default().push(g);
    }
    let ids: Vec<i64> = by_startup.keys().copied().collect();
    let names: HashMap<i64, String> = startup::Entity::find()
        .filter(startup::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let members = member::Entity::find()
        .filter(member::Column::StartupId.is_in(ids))
        .all(db)
        .await?;
    let logins: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| u.cluster_login.map(|l| (u.id, l)))
        .collect();
    let mut team: HashMap<i64, Vec<String>> = HashMap::new();
    for m in &members {
        if let Some(login) = logins.get(&m.user_id) {
            team.entry(m.startup_id).or_default().push(login.clone());
        }
    }
    Ok(by_startup
        .into_iter()
        .filter_map(|(sid, grants)| {
            let name = names.get(&sid)?;
            let logins = team.remove(&sid).unwrap_or_default();
            Some((sid, of(r, sid, name, &grants, logins)))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{account_name, of, startup_of_account};
    use crate::credits::entity::resource;

    pub(crate) fn resource(pattern: &str) -> resource::Model {
        resource::Model {
            id: 1,
            name: "H100".into(),
            gpu_model: "H100".into(),
            backend: wire::credits::BackendKind::Slurm,
            cluster: "ci".into(),
            account_pattern: pattern.into(),
            settings: "{}".into(),
            repair_mode: wire::credits::RepairMode::Approve,
            dialect: "auto".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            domestic: false,
            provider: String::new(),
            provider_credit_code: None,
        }
    }

    #[test]
    fn an_account_names_its_startup_by_the_pattern() {
        let r = resource("hx-{id}-gpu");
        assert_eq!(startup_of_account(&r, &account_name(&r, 42)), Some(42));
        for foreign in [
            "hx--gpu",
            "hx-042-gpu",
            "hx-4a-gpu",
            "hx-0-gpu",
            "hx-42",
            "x-42-gpu",
        ] {
            assert_eq!(startup_of_account(&r, foreign), None, "{foreign}");
        }
    }

    #[test]
    fn an_allocation_lists_its_members_sorted_and_is_not_frozen() {
        let r = resource("hx-{id}");
        let d = of(&r, 7, "Acme", &[], vec!["zoe".into(), "ann".into()]);
        assert_eq!(d.account, "hx-7");
        assert_eq!(d.organization, "Acme");
        assert_eq!(d.limit_minutes, 0);
        assert_eq!(d.members, ["ann", "zoe"]);
        assert!(!d.freeze);
    }

    mod cap {
        use super::super::limit_of;
        use crate::credits::ledger::tests::grant;
        use crate::credits::GrantStatus;

        /// A grant of `granted` GPU-minutes of which `consumed` were used.
        fn used(
            id: i64,
            state: GrantStatus,
            granted: i64,
            consumed: i64,
        ) -> crate::credits::entity::grant::Model {
            let mut g = grant(id, state, granted, 30);
            g.consumed_minutes = consumed;
            g
        }

        #[test]
        fn no_grants_no_gpu_time() {
            assert_eq!(limit_of(&[]), 0);
        }

        #[test]
        fn an_active_grant_caps_at_what_was_used_plus_what_remains() {
            let mut g = used(1, GrantStatus::Active, 6000, 1000);
            g.adjusted_minutes = -600;
            // 1000 used + 4400 remaining.
            assert_eq!(limit_of(&[g.clone()]), 5400);
            g.adjusted_minutes = 600;
            assert_eq!(limit_of(&[g]), 6600);
        }

        #[test]
        fn grants_that_are_not_active_keep_only_what_was_used() {
            let suspended = used(1, GrantStatus::Suspended, 6000, 1000);
            let mut expired = used(2, GrantStatus::Expired, 3000, 500);
            expired.forfeited_minutes = 2500;
            let revoked = used(3, GrantStatus::Revoked, 1200, 0);
            assert_eq!(limit_of(std::slice::from_ref(&suspended)), 1000);
            assert_eq!(limit_of(std::slice::from_ref(&expired)), 500);
            assert_eq!(limit_of(std::slice::from_ref(&revoked)), 0);
        }

        #[test]
        fn an_overdrawn_grant_never_lowers_the_cap_below_use() {
            // 900 used of 600: the cap is what was used, not 600 and not 600 - 300.
            assert_eq!(limit_of(&[used(1, GrantStatus::Active, 600, 900)]), 900);
        }

        #[test]
        fn a_fully_used_grant_caps_at_its_size() {
            assert_eq!(limit_of(&[used(1, GrantStatus::Active, 600, 600)]), 600);
        }

        #[test]
        fn a_startups_grants_on_a_resource_add_up() {
            let grants = [
                used(1, GrantStatus::Active, 6000, 1000),
                used(2, GrantStatus::Suspended, 1200, 200),
                used(3, GrantStatus::Expired, 3000, 3000),
                used(4, GrantStatus::Active, 600, 900),
            ];
            assert_eq!(limit_of(&grants), 6000 + 200 + 3000 + 900);
        }
    }
}
