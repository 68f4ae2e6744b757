//! Funding programmes as stored (admins): defined and changed from a form whose every fault is
//! reported at once (the definition's rules are `programmes::check`), listed, and shown with
//! their enrolments. Every change is audited with what it was before.
use super::entity::{enrolment, exclusion, programme};
use super::programmes::{self, Caps, Programme};
use super::split::Rates;
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, Checks};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::HashMap;
use wire::auth::Role;
use wire::credits::parse_money;
use wire::settlement::{parse_percent, ProgrammeDetail, ProgrammeRow, SponsorKind, MAX_CAP_FEN};

/// A programme as its form submits it: every value as typed.
#[derive(Clone, Debug, Default)]
pub struct ProgrammeInput {
    pub name_en: String,
    pub name_zh: String,
    pub sponsor_kind: String,
    pub sponsor: String,
    /// Percentages ("30", "12.5").
    pub rate_domestic: String,
    pub rate_other: String,
    /// Both empty, or both set: the rate for startups founded fewer than `young_years` ago.
    pub young_rate: String,
    pub young_years: String,
    /// Yuan; empty for no cap.
    pub cap_company_year: String,
    pub cap_pool: String,
    pub cap_contract: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    pub valid_until: String,
    pub region_prefix: String,
    pub unaffiliated_provider: bool,
    pub excludes: Vec<i64>,
}

/// A text of at most `max` characters, trimmed.
fn text(checks: &mut Checks, value: &str, field: &str, max: usize) -> String {
    let v = value.trim();
    checks.check(v.chars().count() <= max, field, "error.too_long");
    v.to_string()
}

/// An optional amount in yuan: empty is none.
fn cap(checks: &mut Checks, value: &str, field: &str) -> Option<i64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let fen = parse_money(v, MAX_CAP_FEN);
    checks.check(fen.is_some(), field, "error.programme_cap_invalid");
    fen
}

/// Reads and checks a programme's form (every fault at once) into the rules' view of it and
/// the names and sponsor the rules do not look at.
fn validate(id: i64, input: &ProgrammeInput) -> AppResult<(Programme, Names)> {
    let mut checks = Checks::new();
    let name_en = text(&mut checks, &input.name_en, "name_en", 200);
    let name_zh = text(&mut checks, &input.name_zh, "name_zh", 200);
    checks.check(
        !name_en.is_empty() || !name_zh.is_empty(),
        "name_en",
        "error.programme_name_required",
    );
    let sponsor_kind = SponsorKind::parse(input.sponsor_kind.trim());
    checks.check(
        sponsor_kind.is_some(),
        "sponsor_kind",
        "error.programme_sponsor_invalid",
    );
    let sponsor = text(&mut checks, &input.sponsor, "sponsor", 200);
    checks.check(
        !sponsor.is_empty(),
        "sponsor",
        "error.programme_sponsor_invalid",
    );
    let domestic = parse_percent(&input.rate_domestic);
    checks.check(
        domestic.is_some(),
        "rate_domestic",
        "error.programme_rate_invalid",
    );
    let other = parse_percent(&input.rate_other);
    checks.check(
        other.is_some(),
        "rate_other",
        "error.programme_rate_invalid",
    );
    let young = match (input.young_rate.trim(), input.young_years.trim()) {
        ("", "") => None,
        (rate, years) => {
            let rate = parse_percent(rate);
            let years = years.parse::<u32>().ok().filter(|y| (1..=50).contains(y));
            checks.check(
                rate.is_some() && years.is_some(),
                "young_rate",
                "error.programme_rate_invalid",
            );
            rate.zip(years)
        }
    };
    let caps = Caps {
        per_company_year: cap(&mut checks, &input.cap_company_year, "cap_company_year"),
        pool: cap(&mut checks, &input.cap_pool, "cap_pool"),
        per_contract: cap(&mut checks, &input.cap_contract, "cap_contract"),
    };
    let valid_from = checks.take(crate::time::parse_day(&input.valid_from, "valid_from"));
    let valid_until = checks.take(crate::time::parse_day(&input.valid_until, "valid_until"));
    let region = input.region_prefix.trim();
    let mut excludes = input.excludes.clone();
    excludes.sort_unstable();
    excludes.dedup();
    checks.finish()?;
    let today = Utc::now().date_naive();
    let p = Programme {
        id,
        rates: Rates {
            domestic: domestic.unwrap_or_default(),
            other: other.unwrap_or_default(),
            young,
        },
        caps,
        valid_from: valid_from.unwrap_or(today),
        valid_until: valid_until.unwrap_or(today),
        region_prefix: (!region.is_empty()).then(|| region.to_string()),
        unaffiliated_provider: input.unaffiliated_provider,
        excludes,
    };
    programmes::check(&p)?;
    Ok((
        p,
        Names {
            name_en,
            name_zh,
            sponsor_kind: sponsor_kind.unwrap_or(SponsorKind::Park),
            sponsor,
        },
    ))
}

/// What a programme is called and who funds it.
#[derive(Debug)]
struct Names {
    name_en: String,
    name_zh: String,
    sponsor_kind: SponsorKind,
    sponsor: String,
}

/// The rules' view of a stored programme; `excludes` are the programmes it may not be
/// combined with, whichever of the two named the other.
pub(crate) fn rules_of(m: &programme::Model, excludes: Vec<i64>) -> Programme {
    Programme {
        id: m.id,
        rates: Rates {
            domestic: m.rate_domestic_bp,
            other: m.rate_other_bp,
            young: m
                .young_rate_bp
                .zip(m.young_years.and_then(|y| u32::try_from(y).ok())),
        },
        caps: Caps {
            per_company_year: m.cap_company_year_fen,
            pool: m.cap_pool_fen,
            per_contract: m.cap_contract_fen,
        },
        valid_from: m.valid_from,
        valid_until: m.valid_until,
        region_prefix: m.region_prefix.clone(),
        unaffiliated_provider: m.unaffiliated_provider,
        excludes,
    }
}

/// The programmes `id` may not be combined with, both ways round.
pub(crate) async fn exclusions_of(db: &impl ConnectionTrait, id: i64) -> AppResult<Vec<i64>> {
    let rows = exclusion::Entity::find()
        .filter(
            Condition::any()
                .add(exclusion::Column::ProgrammeId.eq(id))
                .add(exclusion::Column::ExcludedId.eq(id)),
        )
        .all(db)
        .await?;
    let mut ids: Vec<i64> = rows
        .into_iter()
        .map(|r| {
            if r.programme_id == id {
                r.excluded_id
            } else {
                r.programme_id
            }
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

fn row_of(m: &programme::Model, excludes: Vec<i64>, enrolled: i64) -> ProgrammeRow {
    ProgrammeRow {
        id: m.id,
        name_en: m.name_en.clone(),
        name_zh: m.name_zh.clone(),
        sponsor_kind: Some(m.sponsor_kind),
        sponsor: m.sponsor.clone(),
        rate_domestic_bp: m.rate_domestic_bp,
        rate_other_bp: m.rate_other_bp,
        young_rate_bp: m.young_rate_bp,
        young_years: m.young_years,
        cap_company_year_fen: m.cap_company_year_fen,
        cap_pool_fen: m.cap_pool_fen,
        cap_contract_fen: m.cap_contract_fen,
        valid_from: Some(m.valid_from),
        valid_until: Some(m.valid_until),
        region_prefix: m.region_prefix.clone(),
        unaffiliated_provider: m.unaffiliated_provider,
        excludes,
        enrolled,
    }
}

/// The audit's picture of a programme.
fn snapshot(m: &programme::Model, excludes: &[i64]) -> serde_json::Value {
    json!({
        "name_en": m.name_en, "name_zh": m.name_zh, "sponsor_kind": m.sponsor_kind,
        "sponsor": m.sponsor, "rate_domestic_bp": m.rate_domestic_bp,
        "rate_other_bp": m.rate_other_bp, "young_rate_bp": m.young_rate_bp,
        "young_years": m.young_years, "cap_company_year_fen": m.cap_company_year_fen,
        "cap_pool_fen": m.cap_pool_fen, "cap_contract_fen": m.cap_contract_fen,
        "valid_from": m.valid_from, "valid_until": m.valid_until,
        "region_prefix": m.region_prefix, "unaffiliated_provider": m.unaffiliated_provider,
        "excludes": excludes,
    })
}

/// Every programme named in `excludes` exists (and is not `id`: `check` said so).
async fn check_excludes(db: &impl ConnectionTrait, excludes: &[i64]) -> AppResult<()> {
    if excludes.is_empty() {
        return Ok(());
    }
    let found = programme::Entity::find()
        .filter(programme::Column::Id.is_in(excludes.iter().copied()))
        .count(db)
        .await?;
    if found as usize != excludes.len() {
        return Err(AppError::invalid("excludes", "error.programme_unknown"));
    }
    Ok(())
}

/// Writes the programme's own exclusions (the ones it names).
async fn set_excludes(db: &impl ConnectionTrait, id: i64, excludes: &[i64]) -> AppResult<()> {
    exclusion::Entity::delete_many()
        .filter(exclusion::Column::ProgrammeId.eq(id))
        .exec(db)
        .await?;
    for &other in excludes {
        exclusion::ActiveModel {
            programme_id: Set(id),
            excluded_id: Set(other),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The programme's columns from a checked form.
fn fill(row: &mut programme::ActiveModel, p: &Programme, names: Names) {
    row.name_en = Set(names.name_en);
    row.name_zh = Set(names.name_zh);
    row.sponsor_kind = Set(names.sponsor_kind);
    row.sponsor = Set(names.sponsor);
    row.rate_domestic_bp = Set(p.rates.domestic);
    row.rate_other_bp = Set(p.rates.other);
    row.young_rate_bp = Set(p.rates.young.map(|(r, _)| r));
    row.young_years = Set(p.rates.young.map(|(_, y)| y as i32));
    row.cap_company_year_fen = Set(p.caps.per_company_year);
    row.cap_pool_fen = Set(p.caps.pool);
    row.cap_contract_fen = Set(p.caps.per_contract);
    row.valid_from = Set(p.valid_from);
    row.valid_until = Set(p.valid_until);
    row.region_prefix = Set(p.region_prefix.clone());
    row.unaffiliated_provider = Set(p.unaffiliated_provider);
    row.updated_at = Set(Utc::now());
}

/// Defines a programme; returns its id.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: ProgrammeInput,
) -> AppResult<i64> {
    actor.require(Role::Admin)?;
    let (p, names) = validate(0, &input)?;
    let txn = crate::txn::begin(db).await?;
    check_excludes(&txn, &p.excludes).await?;
    let mut row = programme::ActiveModel {
        created_by: Set(Some(actor.user_id)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    fill(&mut row, &p, names);
    let row = row.insert(&txn).await?;
    set_excludes(&txn, row.id, &p.excludes).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "programme.created",
            entity_type: "programme",
            entity_id: row.id.to_string(),
            before: None,
            after: Some(snapshot(&row, &p.excludes)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Changes a programme's definition. (What it has paid stays paid: statements keep their
/// split.)
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: ProgrammeInput,
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    let (p, names) = validate(id, &input)?;
    let txn = crate::txn::begin(db).await?;
    let before = programme::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    check_excludes(&txn, &p.excludes).await?;
    let before_excludes: Vec<i64> = exclusion::Entity::find()
        .filter(exclusion::Column::ProgrammeId.eq(id))
        .order_by_asc(exclusion::Column::ExcludedId)
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| e.excluded_id)
        .collect();
    let mut row: programme::ActiveModel = before.clone().into();
    fill(&mut row, &p, names);
    let after = row.update(&txn).await?;
    set_excludes(&txn, id, &p.excludes).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "programme.updated",
            entity_type: "programme",
            entity_id: id.to_string(),
            before: Some(snapshot(&before, &before_excludes)),
            after: Some(snapshot(&after, &p.excludes)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// How many startups each programme has enrolled now (counted by the database: one row per
/// programme, not one per enrolment).
async fn enrolled_counts(db: &impl ConnectionTrait) -> AppResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = enrolment::Entity::find()
        .select_only()
        .column(enrolment::Column::ProgrammeId)
        .column_as(enrolment::Column::Id.count(), "n")
        .filter(enrolment::Column::EndedAt.is_null())
        .group_by(enrolment::Column::ProgrammeId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Every programme's own exclusions, by programme.
async fn own_excludes(db: &impl ConnectionTrait) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut map: HashMap<i64, Vec<i64>> = HashMap::new();
    for e in exclusion::Entity::find()
        .order_by_asc(exclusion::Column::ExcludedId)
        .all(db)
        .await?
    {
        map.entry(e.programme_id).or_default().push(e.excluded_id);
    }
    Ok(map)
}

/// Every programme, the newest window first.
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<ProgrammeRow>> {
    actor.require(Role::Admin)?;
    let programmes = programme::Entity::find()
        .order_by_desc(programme::Column::ValidUntil)
        .order_by_asc(programme::Column::Id)
        .all(db)
        .await?;
    let counts = enrolled_counts(db).await?;
    let mut excludes = own_excludes(db).await?;
    Ok(programmes
        .iter()
        .map(|m| {
            row_of(
                m,
                excludes.remove(&m.id).unwrap_or_default(),
                counts.get(&m.id).copied().unwrap_or(0),
            )
        })
        .collect())
}

/// A programme, the others it may name as exclusions, and its enrolments (the current ones
/// first).
pub async fn detail(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<ProgrammeDetail> {
    actor.require(Role::Admin)?;
    let all = programme::Entity::find()
        .order_by_asc(programme::Column::Id)
        .all(db)
        .await?;
    let m = all.iter().find(|p| p.id == id).ok_or(AppError::NotFound)?;
    let excludes = own_excludes(db).await?.remove(&id).unwrap_or_default();
    let enrolments = super::enrolments::rows(db, enrolment::Column::ProgrammeId.eq(id)).await?;
    let enrolled = enrolments.iter().filter(|e| e.ended_at.is_none()).count() as i64;
    Ok(ProgrammeDetail {
        programme: row_of(m, excludes, enrolled),
        others: all
            .iter()
            .filter(|p| p.id != id)
            .map(|p| (p.id, p.name_en.clone(), p.name_zh.clone()))
            .collect(),
        enrolments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hangzhou() -> ProgrammeInput {
        ProgrammeInput {
            name_en: "Hangzhou compute voucher".into(),
            name_zh: "杭州算力券".into(),
            sponsor_kind: "city".into(),
            sponsor: "Hangzhou Economy and Information Bureau".into(),
            rate_domestic: "30".into(),
            rate_other: "20 %".into(),
            cap_company_year: "8,000,000".into(),
            valid_from: "2027-01-01".into(),
            valid_until: "2027-12-31".into(),
            region_prefix: "3301".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_form_is_read_into_the_rules_view() {
        let (p, names) = validate(0, &hangzhou()).unwrap();
        assert_eq!((p.rates.domestic, p.rates.other), (3000, 2000));
        assert_eq!(p.caps.per_company_year, Some(800_000_000));
        assert_eq!(p.caps.pool, None);
        assert_eq!(p.region_prefix.as_deref(), Some("3301"));
        assert_eq!(names.sponsor_kind, SponsorKind::City);
    }

    #[test]
    fn every_fault_of_a_form_is_named_at_once() {
        let bad = ProgrammeInput {
            name_en: " ".into(),
            sponsor_kind: "planet".into(),
            rate_domestic: "130".into(),
            rate_other: "x".into(),
            young_rate: "60".into(),
            cap_pool: "-5".into(),
            valid_from: "2027-13-01".into(),
            ..hangzhou()
        };
        let Err(AppError::InvalidFields { errors }) = validate(0, &bad) else {
            panic!("not refused field by field");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "sponsor_kind",
            "rate_domestic",
            "rate_other",
            "young_rate",
            "cap_pool",
            "valid_from",
        ] {
            assert!(fields.contains(&f), "{f} not named: {fields:?}");
        }
        // A name in one language is enough.
        let zh_only = ProgrammeInput {
            name_en: String::new(),
            ..hangzhou()
        };
        assert!(validate(0, &zh_only).is_ok());
    }

    #[test]
    fn contradicting_caps_are_refused_by_the_rules() {
        let bad = ProgrammeInput {
            cap_contract: "9,000,000".into(),
            ..hangzhou()
        };
        assert_eq!(
            validate(0, &bad).unwrap_err(),
            AppError::invalid("caps", "error.programme_caps_contradict")
        );
    }
}
