//! `hatchery demo` loads a park whose derived data agree with the rules that would have made
//! them — grant counters and running balances, tranches, the cluster's desired allocations,
//! application and review states, cohort places, attendance and certificates — on SQLite and
//! on PostgreSQL, refuses a database that holds data, and leaves the app working on top.
mod common;

use common::TestApp;
use domain::credits::entity::{grant, resource, sync_job};
use hatchery::demo::{self, DemoError, Options};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Statement,
};

/// Also the harness's password, so that `TestApp::actor` signs demo accounts in.
const PASSWORD: &str = "correct horse battery";

async fn load(app: &TestApp, startups: usize, seed: u64) -> Result<demo::Summary, DemoError> {
    demo::load(
        app.db(),
        Options {
            startups,
            seed,
            password: Some(PASSWORD.into()),
        },
    )
    .await
}

/// The first column of every row of a query, as text (ids, names).
async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    let db = app.db();
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"))
        .iter()
        .map(|r| {
            r.try_get_by_index::<i64>(0)
                .map(|n| n.to_string())
                .or_else(|_| r.try_get_by_index::<String>(0))
                .unwrap()
        })
        .collect()
}

async fn number(app: &TestApp, sql: &str) -> i64 {
    column(app, sql).await[0].parse().unwrap()
}

/// Each query selects what breaks a rule; none may find anything.
async fn none_break(app: &TestApp, rules: &[(&str, &str)]) {
    for (rule, sql) in rules {
        let found = column(app, sql).await;
        assert!(found.is_empty(), "{rule}: {found:?}");
    }
}

const STATEMENT_RULES: &[(&str, &str)] = &[
    (
        "a statement's parts add up to its charges",
        "SELECT id FROM statements WHERE park_fen + subsidy_fen + own_fen <> amount_fen \
           OR park_fen < 0 OR subsidy_fen < 0 OR own_fen < 0",
    ),
    (
        "a statement's lines are its jobs and add up to it",
        "SELECT s.id FROM statements s LEFT JOIN (SELECT l.statement_id, COUNT(*) AS n, \
           CAST(SUM(c.amount_fen) AS BIGINT) AS amount, CAST(SUM(l.park_fen) AS BIGINT) AS park, \
           CAST(SUM(l.subsidy_fen) AS BIGINT) AS subsidy, CAST(SUM(l.own_fen) AS BIGINT) AS own \
         FROM statement_lines l JOIN charges c ON c.id = l.charge_id GROUP BY l.statement_id) x \
           ON x.statement_id = s.id \
         WHERE x.statement_id IS NULL OR x.n <> s.jobs OR x.amount <> s.amount_fen \
           OR x.park <> s.park_fen OR x.subsidy <> s.subsidy_fen OR x.own <> s.own_fen",
    ),
    (
        "a statement's jobs are its startup's, with its provider, in its month",
        "SELECT l.id FROM statement_lines l JOIN statements s ON s.id = l.statement_id \
           JOIN charges c ON c.id = l.charge_id \
         WHERE c.startup_id <> s.startup_id OR c.provider <> s.provider OR c.period <> s.period",
    ),
    (
        "a job is on one statement at most",
        "SELECT charge_id FROM statement_lines GROUP BY charge_id HAVING COUNT(*) > 1",
    ),
    (
        "every charge is a consumed ledger entry's job, at the price in force that day",
        "SELECT c.id FROM charges c LEFT JOIN ledger_entries e ON e.resource_id = c.resource_id \
           AND e.external_ref = c.job_ref AND e.kind = 'consumed' \
         WHERE e.id IS NULL OR -e.minutes <> c.gpu_minutes OR c.fen_per_gpu_hour IS NULL \
           OR c.fen_per_gpu_hour <> (SELECT p.fen_per_gpu_hour FROM resource_prices p \
             WHERE p.resource_id = c.resource_id AND p.starts_on <= c.ended_on \
             ORDER BY p.starts_on DESC LIMIT 1)",
    ),
    (
        "a paid statement carries its invoice and payment; an issued one who issued it",
        "SELECT id FROM statements WHERE issued_at IS NULL OR issued_by IS NULL \
           OR (status = 'paid' AND (invoice_no = '' OR payment_ref = '' OR paid_at IS NULL))",
    ),
];

const LEDGER_RULES: &[(&str, &str)] = &[
    (
        "a grant's counters are the sums of its ledger entries by kind",
        "SELECT g.id FROM grants g LEFT JOIN (SELECT grant_id, \
           CAST(SUM(CASE WHEN kind IN ('granted', 'tranche_released') THEN minutes ELSE 0 END) AS BIGINT) AS granted, \
           CAST(SUM(CASE WHEN kind = 'adjusted' THEN minutes ELSE 0 END) AS BIGINT) AS adjusted, \
           CAST(SUM(CASE WHEN kind = 'consumed' THEN -minutes ELSE 0 END) AS BIGINT) AS consumed, \
           CAST(SUM(CASE WHEN kind IN ('expired', 'revoked') THEN -minutes ELSE 0 END) AS BIGINT) AS forfeited \
         FROM ledger_entries GROUP BY grant_id) l ON l.grant_id = g.id \
         WHERE l.grant_id IS NULL OR g.granted_minutes <> l.granted OR g.adjusted_minutes <> l.adjusted \
           OR g.consumed_minutes <> l.consumed OR g.forfeited_minutes <> l.forfeited",
    ),
    (
        "every entry's balance is the running sum of its grant's entries",
        "SELECT id FROM (SELECT id, balance_after, \
           CAST(SUM(minutes) OVER (PARTITION BY grant_id ORDER BY id) AS BIGINT) AS running \
         FROM ledger_entries) x WHERE balance_after <> running",
    ),
    (
        "the last entry's balance is what the grant has left",
        "SELECT g.id FROM grants g JOIN ledger_entries e \
           ON e.id = (SELECT MAX(id) FROM ledger_entries WHERE grant_id = g.id) \
         WHERE e.balance_after <> g.granted_minutes + g.adjusted_minutes - g.consumed_minutes - g.forfeited_minutes",
    ),
    (
        "a grant's history starts with its issue, in time order",
        "SELECT g.id FROM grants g JOIN ledger_entries e \
           ON e.id = (SELECT MIN(id) FROM ledger_entries WHERE grant_id = g.id) \
         WHERE e.kind <> 'granted' OR e.startup_id <> g.startup_id OR e.resource_id <> g.resource_id",
    ),
    (
        "entries of a grant are in time order",
        "SELECT b.id FROM ledger_entries a JOIN ledger_entries b \
           ON b.grant_id = a.grant_id AND b.id = (SELECT MIN(id) FROM ledger_entries WHERE grant_id = a.grant_id AND id > a.id) \
         WHERE b.created_at < a.created_at",
    ),
    (
        "entries move the balance the way their kind says",
        "SELECT id FROM ledger_entries WHERE balance_after < 0 \
           OR (kind IN ('granted', 'tranche_released') AND minutes <= 0) \
           OR (kind IN ('consumed', 'expired', 'revoked') AND minutes >= 0) \
           OR kind NOT IN ('granted', 'tranche_released', 'adjusted', 'consumed', 'expired', 'revoked') \
           OR (kind = 'consumed') <> (external_ref IS NOT NULL)",
    ),
    (
        "expired and revoked grants hold nothing",
        "SELECT id FROM grants WHERE status IN ('expired', 'revoked') \
           AND granted_minutes + adjusted_minutes - consumed_minutes - forfeited_minutes <> 0",
    ),
    (
        "only admitted startups hold grants",
        "SELECT g.id FROM grants g JOIN startups s ON s.id = g.startup_id \
         WHERE s.status NOT IN ('incubating', 'graduated', 'exited')",
    ),
    (
        "a released tranche is one ledger entry of its minutes",
        "SELECT g.id FROM grants g WHERE \
           (SELECT COALESCE(CAST(SUM(minutes) AS BIGINT), 0) FROM grant_tranches WHERE grant_id = g.id AND status = 'released') \
           <> (SELECT COALESCE(CAST(SUM(minutes) AS BIGINT), 0) FROM ledger_entries WHERE grant_id = g.id AND kind = 'tranche_released') \
           OR (SELECT COUNT(*) FROM grant_tranches WHERE grant_id = g.id AND status = 'released') \
           <> (SELECT COUNT(*) FROM ledger_entries WHERE grant_id = g.id AND kind = 'tranche_released')",
    ),
    (
        "tranches follow their milestone and their grant",
        "SELECT t.id FROM grant_tranches t JOIN milestones m ON m.id = t.milestone_id \
           JOIN grants g ON g.id = t.grant_id \
         WHERE m.startup_id <> g.startup_id \
           OR (t.status = 'released' AND (m.status <> 'done' OR t.released_at IS NULL)) \
           OR (t.status = 'pending' AND (m.status <> 'planned' OR g.status NOT IN ('active', 'suspended'))) \
           OR t.status NOT IN ('released', 'pending', 'cancelled')",
    ),
];

const INTAKE_RULES: &[(&str, &str)] = &[
    (
        "an application's status follows its submission, reviews and decision",
        "SELECT a.id FROM applications a WHERE \
           (a.status = 'draft' AND (a.submitted_at IS NOT NULL OR a.profile_snapshot IS NOT NULL)) \
           OR (a.status <> 'draft' AND (a.submitted_at IS NULL OR a.profile_snapshot IS NULL)) \
           OR (a.status IN ('draft', 'submitted') AND EXISTS (SELECT 1 FROM review_assignments x WHERE x.application_id = a.id)) \
           OR (a.status = 'in_review' AND NOT EXISTS (SELECT 1 FROM review_assignments x WHERE x.application_id = a.id AND x.status <> 'recused')) \
           OR ((a.decided_at IS NOT NULL) <> (a.status IN ('accepted', 'rejected', 'waitlisted')))",
    ),
    (
        "a decided application has submitted reviews",
        "SELECT a.id FROM applications a WHERE a.status IN ('accepted', 'rejected', 'waitlisted') \
           AND NOT EXISTS (SELECT 1 FROM review_assignments x WHERE x.application_id = a.id AND x.status = 'submitted')",
    ),
    (
        "the timeline ends in the application's status",
        "SELECT a.id FROM applications a JOIN application_events e \
           ON e.id = (SELECT MAX(id) FROM application_events WHERE application_id = a.id) \
         WHERE e.status <> a.status",
    ),
    (
        "a submitted review scores every criterion of its round, 1 to 5; no other review has scores",
        "SELECT x.id FROM review_assignments x JOIN applications a ON a.id = x.application_id \
         WHERE (x.status = 'submitted' AND ( \
             (SELECT COUNT(*) FROM review_scores s JOIN rubric_criteria c ON c.id = s.criterion_id \
               WHERE s.assignment_id = x.id AND c.round_id = a.round_id AND s.score BETWEEN 1 AND 5) \
             <> (SELECT COUNT(*) FROM rubric_criteria c WHERE c.round_id = a.round_id) \
             OR x.recommendation IS NULL OR x.submitted_at IS NULL OR x.feedback_applicant = '')) \
           OR (x.status <> 'submitted' AND (x.recommendation IS NOT NULL \
             OR EXISTS (SELECT 1 FROM review_scores s WHERE s.assignment_id = x.id))) \
           OR ((x.status = 'recused') <> (x.conflict_reason IS NOT NULL))",
    ),
    (
        "reviewers are mentors",
        "SELECT x.id FROM review_assignments x WHERE NOT EXISTS \
           (SELECT 1 FROM user_roles r WHERE r.user_id = x.mentor_id AND r.role = 'mentor')",
    ),
    (
        "a startup is admitted exactly when one of its applications was accepted",
        "SELECT s.id FROM startups s WHERE (s.status <> 'applicant') <> \
           EXISTS (SELECT 1 FROM applications a WHERE a.startup_id = s.id AND a.status = 'accepted')",
    ),
    (
        "admitted startups have a residency; alumni an end",
        "SELECT id FROM startups WHERE (status <> 'applicant' AND (residency_from IS NULL OR residency_until IS NULL)) \
           OR ((status IN ('graduated', 'exited')) <> (ended_at IS NOT NULL AND end_reason IS NOT NULL))",
    ),
    (
        "a signed-off milestone has its sign-off, evidence or notes",
        "SELECT id FROM milestones WHERE \
           (status = 'done' AND (evidence IS NULL OR signed_off_by IS NULL OR signed_off_at IS NULL)) \
           OR (status = 'missed' AND (notes IS NULL OR signed_off_by IS NULL OR signed_off_at IS NULL)) \
           OR (status = 'planned' AND (signed_off_by IS NOT NULL OR signed_off_at IS NOT NULL))",
    ),
];

const PLACES: &str = "(SELECT COUNT(*) FROM enrolments e WHERE e.cohort_id = c.id AND e.status IN ('enrolled', 'completed'))";
const SESSIONS: &str = "(SELECT COUNT(*) FROM cohort_sessions s WHERE s.cohort_id = c.id)";

fn cohort_rules(today: &str) -> Vec<(&'static str, String)> {
    let attended = |user: &str| {
        format!(
            "(SELECT COUNT(*) FROM attendance a JOIN cohort_sessions s ON s.id = a.session_id \
              WHERE s.cohort_id = c.id AND a.user_id = {user} AND a.present)"
        )
    };
    vec![
        (
            "places taken stay within the capacity, and a waitlist means a full cohort",
            format!(
                "SELECT c.id FROM cohorts c WHERE {PLACES} > c.capacity OR (EXISTS \
                   (SELECT 1 FROM enrolments e WHERE e.cohort_id = c.id AND e.status = 'waitlisted') \
                   AND {PLACES} <> c.capacity)"
            ),
        ),
        (
            "completed enrolments, and only they, have a certificate",
            "SELECT e.id FROM enrolments e LEFT JOIN certificates k ON k.enrolment_id = e.id \
             WHERE (e.status = 'completed') <> (k.id IS NOT NULL) \
               OR (k.id IS NOT NULL AND (k.user_id <> e.user_id OR k.cohort_id <> e.cohort_id))"
                .into(),
        ),
        (
            "a certificate counts the sessions as they were when it was issued",
            format!(
                "SELECT k.id FROM certificates k JOIN cohorts c ON c.id = k.cohort_id \
                 WHERE k.sessions_total <> {SESSIONS} \
                   OR k.sessions_attended * 100 < c.completion_percent * k.sessions_total \
                   OR k.sessions_attended > {}",
                attended("k.user_id")
            ),
        ),
        (
            "whoever reached the threshold has completed",
            format!(
                "SELECT e.id FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id \
                 WHERE e.status = 'enrolled' AND {} * 100 >= c.completion_percent * {SESSIONS}",
                attended("e.user_id")
            ),
        ),
        (
            "only people holding a place attend",
            "SELECT a.session_id FROM attendance a JOIN cohort_sessions s ON s.id = a.session_id \
             WHERE NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.cohort_id = s.cohort_id \
               AND e.user_id = a.user_id AND e.status IN ('enrolled', 'completed'))"
                .into(),
        ),
        (
            "each session and each enrolment took the roster lock",
            format!(
                "SELECT c.id FROM cohorts c WHERE c.roster_version < {SESSIONS} + \
                   (SELECT COUNT(*) FROM enrolments e WHERE e.cohort_id = c.id)"
            ),
        ),
        (
            "a finished cohort with people in it has attendance",
            format!(
                "SELECT c.id FROM cohorts c WHERE c.ends_on < '{today}' AND {PLACES} > 0 \
                   AND NOT EXISTS (SELECT 1 FROM attendance a JOIN cohort_sessions s ON s.id = a.session_id \
                   WHERE s.cohort_id = c.id)"
            ),
        ),
    ]
}

/// Every rule the demo's derived data must keep. `applied`: every allocation's newest sync job
/// is done (as the demo leaves them; a change made since queues a new one).
async fn check_invariants(app: &TestApp, applied: bool) {
    none_break(app, LEDGER_RULES).await;
    none_break(app, INTAKE_RULES).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let rules = cohort_rules(&today);
    let rules: Vec<(&str, &str)> = rules.iter().map(|(r, s)| (*r, s.as_str())).collect();
    none_break(app, &rules).await;

    // The newest sync job of every allocation holds what the database wants on the cluster.
    let db = app.db();
    let targets: Vec<(i64, i64)> = grant::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.startup_id, g.resource_id))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(!targets.is_empty());
    for (startup_id, resource_id) in targets {
        let r = resource::Entity::find_by_id(resource_id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let want = domain::cluster::allocation::desired(db, &r, startup_id)
            .await
            .unwrap();
        let job = sync_job::Entity::find()
            .filter(sync_job::Column::StartupId.eq(startup_id))
            .filter(sync_job::Column::ResourceId.eq(resource_id))
            .order_by_desc(sync_job::Column::Id)
            .one(db)
            .await
            .unwrap()
            .expect("every allocation has a sync job");
        let had: domain::cluster::backend::Desired = serde_json::from_str(&job.desired).unwrap();
        assert_eq!(had, want, "startup {startup_id} on resource {resource_id}");
        if applied {
            assert_eq!(job.status, domain::credits::SyncStatus::Done);
        }
    }
}

#[tokio::test]
async fn the_demo_park_keeps_every_rule_and_loads_once() {
    let app = TestApp::new().await;
    let startups = 40;
    let summary = load(&app, startups, 7).await.expect("the demo loads");

    // A park of the size asked for, with about 100 ledger entries per startup.
    assert_eq!(summary.rows_of("startups"), startups);
    let entries = summary.rows_of("ledger_entries");
    assert!(
        (60 * startups..=140 * startups).contains(&entries),
        "{entries} ledger entries"
    );
    assert_eq!(
        number(&app, "SELECT COUNT(*) FROM ledger_entries").await,
        entries as i64
    );
    for (what, sql) in [
        (
            "application statuses",
            "SELECT DISTINCT status FROM applications ORDER BY 1",
        ),
        (
            "startup statuses",
            "SELECT DISTINCT status FROM startups ORDER BY 1",
        ),
        (
            "grant statuses",
            "SELECT DISTINCT status FROM grants ORDER BY 1",
        ),
        (
            "milestone statuses",
            "SELECT DISTINCT status FROM milestones ORDER BY 1",
        ),
        (
            "enrolment statuses",
            "SELECT DISTINCT status FROM enrolments ORDER BY 1",
        ),
    ] {
        let found = column(&app, sql).await;
        let want: &[&str] = match what {
            "application statuses" => &["accepted", "draft", "in_review", "rejected"],
            "startup statuses" => &["applicant", "graduated", "incubating"],
            "grant statuses" => &["active", "expired"],
            "milestone statuses" => &["done", "missed", "planned"],
            _ => &["completed", "enrolled"],
        };
        for w in want {
            assert!(found.iter().any(|f| f == w), "{what}: {found:?} lacks {w}");
        }
    }
    for table in [
        "review_scores",
        "attendance",
        "certificates",
        "startup_mentors",
        "funding_programmes",
        "programme_enrolments",
    ] {
        assert!(summary.rows_of(table) > 0, "{table} is empty");
    }
    // The city's voucher enrols only startups registered in its region.
    assert_eq!(
        number(
            &app,
            "SELECT COUNT(*) FROM programme_enrolments e JOIN funding_programmes p \
             ON p.id = e.programme_id JOIN startups s ON s.id = e.startup_id \
             WHERE p.region_prefix IS NOT NULL \
             AND (s.credit_code IS NULL \
             OR SUBSTR(s.credit_code, 3, LENGTH(p.region_prefix)) <> p.region_prefix)"
        )
        .await,
        0
    );
    // A year of statements: each one's parts add up, its lines are its jobs and sum to it,
    // every job is charged once and on one statement at most, at the price in force.
    for table in ["charges", "statements", "statement_lines"] {
        assert!(summary.rows_of(table) > 0, "{table} is empty");
    }
    none_break(&app, STATEMENT_RULES).await;
    // Jobs on hours a team bought are billed with the programmes' share; a firm's figures are
    // recorded within its stay.
    assert!(
        number(
            &app,
            "SELECT COUNT(*) FROM statements WHERE subsidy_fen > 0"
        )
        .await
            > 0,
        "some statement carries a subsidy"
    );
    assert!(number(&app, "SELECT COUNT(*) FROM statements WHERE own_fen > 0").await > 0);
    for table in ["headcounts", "financings"] {
        assert!(summary.rows_of(table) > 0, "{table} is empty");
    }
    none_break(
        &app,
        &[(
            "a headcount is recorded during the firm's stay, by one of its team",
            "SELECT h.id FROM headcounts h JOIN startups s ON s.id = h.startup_id \
               LEFT JOIN startup_members m ON m.startup_id = h.startup_id AND m.user_id = h.recorded_by \
             WHERE s.status = 'applicant' OR m.user_id IS NULL OR h.employees < 1",
        )],
    )
    .await;
    // Both languages: Chinese names and texts as well as English ones.
    let names = column(&app, "SELECT name FROM startups").await;
    assert!(names.iter().any(|n| !n.is_ascii()));
    assert!(names.iter().any(|n| n.is_ascii()));
    check_invariants(&app, true).await;

    // The load is one audit entry, not one per row.
    assert_eq!(app.count(domain::audit::entity::Entity).await, 1);
    assert_eq!(
        column(&app, "SELECT action FROM audit_log").await,
        ["demo.loaded"]
    );

    // A second load is refused and changes nothing.
    let again = load(&app, 5, 8).await;
    assert!(
        matches!(&again, Err(DemoError::NotEmpty(found)) if found.contains("users")),
        "{:?}",
        again.err()
    );
    assert_eq!(
        app.count(domain::startups::entity::startup::Entity).await,
        startups as u64
    );

    // The app works on top: the demo accounts sign in with the password, new rows get fresh
    // ids (PostgreSQL's sequences moved past the demo's), and the ledger stays balanced.
    let admin = app.actor(&summary.showcase.admin).await;
    let jar = app.sign_in(&summary.showcase.founder, PASSWORD).await;
    let page = app.get("/credits", &jar).await;
    assert_eq!(page.status, 200);
    let showcase = &column(&app, "SELECT name FROM startups WHERE id = 1").await[0];
    assert!(page.body.contains(showcase.as_str()), "{}", page.body);
    // The report's GPU-hours granted over the whole history are the grants list's: issued,
    // released and adjusted.
    let all_time = domain::admin::overview::kpis(
        app.db(),
        &admin,
        app.state.settings.park_zone,
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        all_time.gpu_minutes_granted,
        number(
            &app,
            "SELECT CAST(SUM(granted_minutes + adjusted_minutes) AS BIGINT) FROM grants"
        )
        .await
    );
    assert!(
        number(
            &app,
            "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'adjusted'"
        )
        .await
            > 0,
        "the demo park has adjustments"
    );

    // The pages each role opens first show the demo's rows.
    let pages: [(&str, &[&str]); 4] = [
        (
            &summary.showcase.admin,
            &[
                "/dashboard",
                "/admin/rounds",
                "/admin/rounds/6/applications",
                "/admin/rounds/5/decisions",
                "/admin/grants",
                "/admin/grants/1",
                "/admin/startups",
                "/startups/1",
                "/admin/cohorts",
                "/admin/cohorts/1",
                "/admin/report",
                "/admin/sync",
            ],
        ),
        (
            &summary.showcase.mentor,
            &["/reviews", "/mentoring", "/startups/1"],
        ),
        (
            &summary.showcase.founder,
            &["/startup", "/applications", "/cohorts", "/dashboard"],
        ),
        (&summary.showcase.applicant, &["/applications", "/startup"]),
    ];
    for (who, paths) in pages {
        let jar = app.sign_in(who, PASSWORD).await;
        for path in paths {
            let page = app.get(path, &jar).await;
            assert_eq!(page.status, 200, "{who} {path}");
        }
    }
    app.user_with_roles(
        "newcomer@park.cn",
        "Newcomer",
        &[domain::auth::Role::Mentor],
    )
    .await;
    let active = grant::Entity::find()
        .filter(grant::Column::Status.eq("active"))
        .order_by_asc(grant::Column::Id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    domain::credits::grants::adjust(
        app.db(),
        &app.state.settings,
        &admin,
        active.id,
        "25",
        "Top-up after the demo",
    )
    .await
    .unwrap();
    check_invariants(&app, false).await;
    assert_eq!(
        number(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'demo.loaded'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_same_seed_makes_the_same_park() {
    let (a, b) = (TestApp::new().await, TestApp::new().await);
    load(&a, 12, 99).await.unwrap();
    load(&b, 12, 99).await.unwrap();
    for sql in [
        "SELECT name FROM startups ORDER BY id",
        "SELECT email FROM users ORDER BY id",
        "SELECT CAST(SUM(minutes) AS BIGINT) FROM ledger_entries",
        "SELECT COUNT(*) FROM attendance",
    ] {
        assert_eq!(column(&a, sql).await, column(&b, sql).await, "{sql}");
    }
    assert_eq!(
        grant::Entity::find().count(a.db()).await.unwrap(),
        grant::Entity::find().count(b.db()).await.unwrap()
    );
}
