//! What a person's dashboard says about them: their startup and its application, and the
//! reviews waiting for them. Two statements per role at most, each by the person's own rows.
use super::DashboardSummary;
use crate::access::Actor;
use crate::error::AppResult;
use crate::intake::entity::{self as round, application};
use crate::review::entity::assignment;
use crate::startups::entity::{member, startup};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use wire::auth::Role;
use wire::intake::ApplicationStatus;
use wire::review::AssignmentStatus;
use wire::startups::incubation::StartupStatus;

/// Applications that still wait for reviews (a decided one needs none).
const UNDECIDED: [ApplicationStatus; 2] =
    [ApplicationStatus::Submitted, ApplicationStatus::InReview];

pub async fn summary(db: &DatabaseConnection, actor: &Actor) -> AppResult<DashboardSummary> {
    let mut out = DashboardSummary::default();
    if actor.has(Role::Applicant) {
        let mine = member::Entity::find()
            .select_only()
            .column(member::Column::StartupId)
            .filter(member::Column::UserId.eq(actor.user_id))
            .into_query();
        if let Some(s) = startup::Entity::find()
            .filter(startup::Column::Id.in_subquery(mine))
            .one(db)
            .await?
        {
            // Only an applicant's card tells where their application stands.
            let newest = if s.status != StartupStatus::Applicant {
                None
            } else {
                application::Entity::find()
                    .filter(application::Column::StartupId.eq(s.id))
                    .order_by_desc(application::Column::Id)
                    .one(db)
                    .await?
            };
            out.application_open = newest.map(|a| a.status).filter(|st| {
                matches!(
                    st,
                    ApplicationStatus::Draft
                        | ApplicationStatus::Submitted
                        | ApplicationStatus::InReview
                        | ApplicationStatus::Waitlisted
                )
            });
            out.startup = Some((s.name, s.status));
        }
    }
    if actor.has(Role::Mentor) {
        let open = || {
            assignment::Entity::find()
                .filter(assignment::Column::MentorId.eq(actor.user_id))
                .filter(assignment::Column::Status.eq(AssignmentStatus::Assigned))
                .filter(
                    assignment::Column::ApplicationId.in_subquery(
                        application::Entity::find()
                            .select_only()
                            .column(application::Column::Id)
                            .filter(application::Column::Status.is_in(UNDECIDED))
                            .into_query(),
                    ),
                )
        };
        out.reviews_open = open().count(db).await? as i64;
        if out.reviews_open > 0 {
            let rounds = application::Entity::find()
                .select_only()
                .column(application::Column::RoundId)
                .filter(
                    application::Column::Id.in_subquery(
                        open()
                            .select_only()
                            .column(assignment::Column::ApplicationId)
                            .into_query(),
                    ),
                )
                .into_query();
            out.next_review_due = round::Entity::find()
                .filter(round::Column::Id.in_subquery(rounds))
                .filter(round::Column::ReviewDeadline.is_not_null())
                .order_by_asc(round::Column::ReviewDeadline)
                .one(db)
                .await?
                .and_then(|r| r.review_deadline);
        }
    }
    Ok(out)
}
