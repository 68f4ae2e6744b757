//! Schema migrations for Hatchery. Run at start-up and by `hatchery migrate`.
pub use sea_orm_migration::prelude::*;

mod m20261124_000001_accounts;
mod m20261124_000002_intake;
mod m20261124_000003_reviews;
mod m20261125_000004_teams_affiliations;
mod m20261125_000005_credits;
mod m20261125_000006_grant_alerts;
mod m20261125_000007_cohorts;
mod m20261125_000008_incubation;
mod m20261125_000009_api_tokens;
mod m20261125_000010_table_indexes;
mod m20261125_000011_next_milestone_index;
mod m20261206_000012_request_limits;
mod m20261206_000013_resource_dialect;
mod m20261206_000014_chat_channels;
mod m20261206_000015_user_time_zone;
mod m20261207_000016_prices;
mod m20261207_000017_programmes;
mod m20261207_000018_statements;
mod m20261207_000019_claims;
mod m20261207_000020_company_figures;
mod m20261207_000021_statement_runs;
mod m20261207_000022_grant_funding;
mod m20261207_000023_line_subsidies;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_accounts::Migration),
            Box::new(m20261124_000002_intake::Migration),
            Box::new(m20261124_000003_reviews::Migration),
            Box::new(m20261125_000004_teams_affiliations::Migration),
            Box::new(m20261125_000005_credits::Migration),
            Box::new(m20261125_000006_grant_alerts::Migration),
            Box::new(m20261125_000007_cohorts::Migration),
            Box::new(m20261125_000008_incubation::Migration),
            Box::new(m20261125_000009_api_tokens::Migration),
            Box::new(m20261125_000010_table_indexes::Migration),
            Box::new(m20261125_000011_next_milestone_index::Migration),
            Box::new(m20261206_000012_request_limits::Migration),
            Box::new(m20261206_000013_resource_dialect::Migration),
            Box::new(m20261206_000014_chat_channels::Migration),
            Box::new(m20261206_000015_user_time_zone::Migration),
            Box::new(m20261207_000016_prices::Migration),
            Box::new(m20261207_000017_programmes::Migration),
            Box::new(m20261207_000018_statements::Migration),
            Box::new(m20261207_000019_claims::Migration),
            Box::new(m20261207_000020_company_figures::Migration),
            Box::new(m20261207_000021_statement_runs::Migration),
            Box::new(m20261207_000022_grant_funding::Migration),
            Box::new(m20261207_000023_line_subsidies::Migration),
        ]
    }
}
