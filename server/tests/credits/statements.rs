//! Charges and statements: imported jobs priced at the price in force on the day they ended;
//! a month's statement split into park credit, a programme's subsidy (stopping at its cap)
//! and the startup's own payment; each step of its life in order, with its evidence, audited;
//! a correction when jobs come in after it was issued; who may read what.
use super::*;
use domain::credits::entity::charge;
use domain::settlement::entity::{statement, statement_line_subsidy, statement_subsidy};
use wire::settlement::statements::StatementStatus;

fn today() -> chrono::NaiveDate {
    domain::time::Zone::default().today()
}

fn this_month() -> String {
    today().format("%Y-%m").to_string()
}

/// A job of `minutes` GPU-minutes that ended a minute ago.
async fn job(p: &Park, resource: i64, reference: &str, minutes: i64) {
    let imported = domain::credits::grants::record_usage(
        p.app.db(),
        &p.app.state.settings,
        p.startup,
        resource,
        reference,
        minutes,
        Utc::now() - Duration::minutes(1),
    )
    .await
    .unwrap();
    assert!(imported, "{reference}");
}

async fn statements_of(app: &TestApp) -> Vec<statement::Model> {
    statement::Entity::find()
        .order_by_asc(statement::Column::Id)
        .all(app.db())
        .await
        .unwrap()
}

async fn advance(p: &mut Park, id: i64, to: &str, extra: &[(&str, &str)]) -> common::TestResponse {
    let id = id.to_string();
    let mut fields = vec![("id", id.as_str()), ("to", to)];
    fields.extend_from_slice(extra);
    post(p, "/api/advance_statement", &fields).await
}

async fn audits(app: &TestApp, action: &str) -> usize {
    domain::audit::entity::Entity::find()
        .filter(domain::audit::entity::Column::Action.eq(action))
        .count(app.db())
        .await
        .unwrap() as usize
}

#[tokio::test]
async fn a_months_statement_splits_the_bill_and_moves_on_step_by_step() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    let res = grant_hours(&mut p, startup, r, "10").await;
    assert_eq!(res.error_param(), None);
    let id = r.to_string();
    let res = post(
        &mut p,
        "/api/add_price",
        &[
            ("resource_id", &id),
            ("yuan_per_gpu_hour", "10"),
            ("starts_on", &today().to_string()),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    // The park's subsidy: 30 % of what the credit leaves, at most ¥1,000 a year.
    let year = today().format("%Y").to_string();
    let res = post(
        &mut p,
        "/api/save_programme",
        &[
            ("id", "0"),
            ("name_en", "Park compute subsidy"),
            ("name_zh", "园区算力补贴"),
            ("sponsor_kind", "park"),
            ("sponsor", "Turing Town"),
            ("rate_domestic", "30"),
            ("rate_other", "30"),
            ("cap_company_year", "1,000"),
            ("valid_from", &format!("{year}-01-01")),
            ("valid_until", &format!("{year}-12-31")),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    let programme = domain::settlement::entity::programme::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let (startup, prog) = (p.startup.to_string(), programme.to_string());
    let res = post(
        &mut p,
        "/api/enrol_in_programme",
        &[
            ("startup_id", &startup),
            ("programme_id", &prog),
            ("cap", ""),
            ("reason", "Incubating"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());

    // 6 h on credit (¥60); 10 h of which 4 on credit (¥40) and 6 overdrawn (¥60: 30 % is
    // ¥18); 1,000 h (¥10,000: 30 % would be ¥3,000, the cap leaves ¥982).
    job(&p, r, "ci:1:0", 360).await;
    job(&p, r, "ci:2:0", 600).await;
    job(&p, r, "ci:3:0", 60_000).await;
    let charges = charge::Entity::find()
        .order_by_asc(charge::Column::Id)
        .all(p.app.db())
        .await
        .unwrap();
    let seen: Vec<_> = charges
        .iter()
        .map(|c| {
            (
                c.job_ref.as_str(),
                c.covered_minutes,
                c.fen_per_gpu_hour,
                c.amount_fen,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("ci:1:0", 360, Some(1000), 6_000),
            ("ci:2:0", 240, Some(1000), 10_000),
            ("ci:3:0", 0, Some(1000), 1_000_000),
        ]
    );
    assert!(charges.iter().all(|c| c.period == this_month()));

    // Only admins prepare, and only a month that has begun.
    let month = this_month();
    let res = p
        .app
        .post_form(
            "/api/prepare_statements",
            "/statements",
            &[("period", &month)],
            &mut p.founder,
        )
        .await;
    assert_eq!(res.error_key(), "error.forbidden");
    let next = (today() + Duration::days(40)).format("%Y-%m").to_string();
    let res = post(&mut p, "/api/prepare_statements", &[("period", &next)]).await;
    assert_eq!(res.error_key(), "error.period_future");
    let res = post(&mut p, "/api/prepare_statements", &[("period", "March")]).await;
    assert_eq!(res.error_key(), "error.period_invalid");
    assert!(statements_of(&p.app).await.is_empty());

    // Asked twice before the worker comes by, the month is prepared once.
    let res = post(&mut p, "/api/prepare_statements", &[("period", &month)]).await;
    assert_eq!(
        res.location(),
        format!("/statements?of={month}&notice=statements_requested")
    );
    assert!(
        statements_of(&p.app).await.is_empty(),
        "the worker prepares"
    );
    let page = p.app.get("/statements", &p.admin).await;
    assert!(page.body.contains("Waiting for the worker."));
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let runs = domain::settlement::entity::statement_run::Entity::find()
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].created, runs[0].attempts),
        ("done", 1, 0)
    );
    let page = p.app.get("/statements", &p.admin).await;
    assert!(
        page.body
            .contains("Done: 1 new, 0 computed again, 0 unchanged."),
        "{}",
        page.body.len()
    );
    assert_eq!(audits(&p.app, "statements.requested").await, 1);
    let all = statements_of(&p.app).await;
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(
        (
            s.status,
            s.jobs,
            s.amount_fen,
            s.park_fen,
            s.subsidy_fen,
            s.own_fen
        ),
        (
            StatementStatus::Draft,
            3,
            1_016_000,
            10_000,
            100_000,
            906_000
        )
    );
    let subsidies = statement_subsidy::Entity::find()
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(
        subsidies
            .iter()
            .map(|x| (x.programme_id, x.amount_fen))
            .collect::<Vec<_>>(),
        [(programme, 100_000)]
    );
    // The programme's share of each job: ¥18 of the second, ¥982 of the third.
    let db = p.app.db().clone();
    let shares = || async {
        statement_line_subsidy::Entity::find()
            .order_by_asc(statement_line_subsidy::Column::ChargeId)
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|x| (x.charge_id, x.programme_id, x.amount_fen))
            .collect::<Vec<_>>()
    };
    let recorded = shares().await;
    assert_eq!(
        recorded,
        [
            (charges[1].id, programme, 1_800),
            (charges[2].id, programme, 98_200)
        ]
    );
    // Statements made before the shares were kept get them from the migration that adds them
    // (one programme on the statement: the job's whole subsidy is its).
    {
        use migration::MigratorTrait;
        migration::Migrator::down(p.app.db(), Some(1))
            .await
            .unwrap();
        migration::Migrator::up(p.app.db(), None).await.unwrap();
    }
    assert_eq!(shares().await, recorded);
    // Prepared again, a draft is computed again to the same figures.
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let again = statements_of(&p.app).await;
    assert_eq!((again.len(), again[0].subsidy_fen), (1, 100_000));
    assert_eq!(shares().await, recorded, "replaced, not added to");
    assert_eq!(audits(&p.app, "statement.drafted").await, 1);
    assert_eq!(audits(&p.app, "statement.recomputed").await, 1);

    // The page shows the three parts; the founder does not see a draft.
    let page = p.app.get(&format!("/statements/{}", s.id), &p.admin).await;
    assert!(page.body.contains("¥10,160.00"), "{}", page.body);
    assert!(page.body.contains("¥9,060.00"));
    assert!(page.body.contains("Park compute subsidy"));
    let page = p
        .app
        .get(&format!("/statements/{}", s.id), &p.founder)
        .await;
    assert_eq!(page.status, axum::http::StatusCode::NOT_FOUND);

    // One step at a time, each refusal named, nothing changed by it.
    let res = advance(
        &mut p,
        s.id,
        "paid",
        &[("invoice_no", "INV-1"), ("payment_ref", "TX-1")],
    )
    .await;
    assert_eq!(res.error_key(), "error.statement_not_issued");
    let res = advance(&mut p, s.id, "claimed", &[]).await;
    assert_eq!(res.error_key(), "error.statement_step_claims");
    let res = advance(
        &mut p,
        s.id,
        "issued",
        &[
            ("contract_no", "HT-2027-001"),
            ("contract_date", "2027-02-30"),
        ],
    )
    .await;
    assert_eq!(res.error_key(), "error.date_invalid");
    let res = advance(
        &mut p,
        s.id,
        "issued",
        &[
            ("contract_no", "HT-2027-001"),
            ("contract_date", &today().to_string()),
        ],
    )
    .await;
    assert_eq!(
        res.location(),
        format!("/statements/{}?notice=statement_moved", s.id)
    );
    let res = advance(&mut p, s.id, "issued", &[]).await;
    assert_eq!(res.error_key(), "error.statement_issued_already");
    let res = advance(&mut p, s.id, "paid", &[]).await;
    match res.error_param() {
        Some(AppError::InvalidFields { errors }) => {
            let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["invoice_no", "payment_ref"]);
        }
        other => panic!("{other:?}"),
    }
    let issued = statements_of(&p.app).await.remove(0);
    assert_eq!(issued.status, StatementStatus::Issued);
    assert_eq!(issued.invoice_no, "");
    assert_eq!(issued.contract_no, "HT-2027-001");
    let res = advance(
        &mut p,
        s.id,
        "paid",
        &[("invoice_no", "INV-2027-0042"), ("payment_ref", "TX-77")],
    )
    .await;
    assert_eq!(res.error_param(), None);
    assert_eq!(audits(&p.app, "statement.issued").await, 1);
    assert_eq!(audits(&p.app, "statement.paid").await, 1);

    // The founder reads it now, and downloads its jobs; a mentor reads none.
    let page = p
        .app
        .get(&format!("/statements/{}", s.id), &p.founder)
        .await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    assert!(page.body.contains("INV-2027-0042"), "{}", page.body);
    let csv = p
        .app
        .get(&format!("/statements/{}/jobs.csv", s.id), &p.founder)
        .await;
    assert_eq!(csv.status, axum::http::StatusCode::OK);
    assert!(csv.body.contains("ci:3:0"), "{}", csv.body);
    assert!(csv.body.contains("10000.00"), "{}", csv.body);
    assert_eq!(csv.body.lines().count(), 4);
    let list = p.app.get("/statements", &p.founder).await;
    assert!(list.body.contains(&format!("data-statement=\"{}\"", s.id)));
    p.app
        .user_with_roles("wang@park.cn", "Mentor Wang", &[Role::Mentor])
        .await;
    let mentor = p.app.sign_in("wang@park.cn", "correct horse battery").await;
    for path in [
        "/statements".to_string(),
        format!("/statements/{}", s.id),
        format!("/statements/{}/jobs.csv", s.id),
    ] {
        let res = p.app.get(&path, &mentor).await;
        assert_eq!(res.status, axum::http::StatusCode::FORBIDDEN, "{path}");
    }

    // A job imported after the statement was issued: preparing the month again corrects it.
    // The correction replaces the statement it corrects, so the cap counts it once.
    job(&p, r, "ci:4:0", 60).await;
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let all = statements_of(&p.app).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], {
        let mut paid = issued.clone();
        paid.status = StatementStatus::Paid;
        paid.invoice_no = "INV-2027-0042".into();
        paid.payment_ref = "TX-77".into();
        paid.paid_by = all[0].paid_by;
        paid.paid_at = all[0].paid_at;
        paid.updated_at = all[0].updated_at;
        paid
    });
    let c = &all[1];
    assert_eq!(
        (c.revision, c.corrects_id, c.status, c.jobs),
        (1, Some(s.id), StatementStatus::Draft, 4)
    );
    assert_eq!((c.amount_fen, c.subsidy_fen), (1_017_000, 100_000));
    assert_eq!(c.contract_no, "HT-2027-001");
    let page = p.app.get(&format!("/statements/{}", s.id), &p.admin).await;
    assert!(page.body.contains(&format!("/statements/{}", c.id)));

    // Another provider's bill the same month: a statement of its own, and the year's cap,
    // spent on the first, leaves its share nothing.
    let res = post(
        &mut p,
        "/api/save_resource",
        &[
            ("name", "Ascend 910B"),
            ("gpu_model", "910B"),
            ("backend", "none"),
            ("cluster", "ascend"),
            ("account_pattern", "startup-{id}"),
            ("repair_mode", "approve"),
            ("provider", "Huawei Cloud"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let ascend = resource::Entity::find()
        .filter(resource::Column::Name.eq("Ascend 910B"))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let sid = p.startup;
    let res = grant_hours(&mut p, sid, ascend, "1").await;
    assert_eq!(res.error_param(), None);
    let id = ascend.to_string();
    let res = post(
        &mut p,
        "/api/add_price",
        &[
            ("resource_id", &id),
            ("yuan_per_gpu_hour", "6"),
            ("starts_on", &today().to_string()),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    job(&p, ascend, "ascend:1:0", 600).await;
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let other = statements_of(&p.app)
        .await
        .into_iter()
        .find(|x| x.provider == "Huawei Cloud")
        .expect("a statement for the other provider");
    assert_eq!(
        (
            other.amount_fen,
            other.park_fen,
            other.subsidy_fen,
            other.own_fen
        ),
        (6_000, 600, 0, 5_400)
    );
}

#[tokio::test]
async fn a_claim_takes_the_paid_statements_of_its_months_and_is_reimbursed() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let startup = p.startup;
    let res = grant_hours(&mut p, startup, r, "1").await;
    assert_eq!(res.error_param(), None);
    let id = r.to_string();
    let res = post(
        &mut p,
        "/api/add_price",
        &[
            ("resource_id", &id),
            ("yuan_per_gpu_hour", "10"),
            ("starts_on", &today().to_string()),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let year = today().format("%Y").to_string();
    let res = post(
        &mut p,
        "/api/save_programme",
        &[
            ("id", "0"),
            ("name_en", "City voucher"),
            ("sponsor_kind", "city"),
            ("sponsor", "The city"),
            ("rate_domestic", "30"),
            ("rate_other", "30"),
            ("cap_pool", "1,000,000"),
            ("valid_from", &format!("{year}-01-01")),
            ("valid_until", &format!("{year}-12-31")),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    let programme = domain::settlement::entity::programme::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let (s_id, prog) = (startup.to_string(), programme.to_string());
    let res = post(
        &mut p,
        "/api/enrol_in_programme",
        &[
            ("startup_id", &s_id),
            ("programme_id", &prog),
            ("cap", ""),
            ("reason", "Registered here"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    // A district programme pays 10 % beside it; the city's claim shows only the city's share.
    let res = post(
        &mut p,
        "/api/save_programme",
        &[
            ("id", "0"),
            ("name_en", "District voucher"),
            ("sponsor_kind", "district"),
            ("sponsor", "The district"),
            ("rate_domestic", "10"),
            ("rate_other", "10"),
            ("cap_pool", "1,000,000"),
            ("valid_from", &format!("{year}-01-01")),
            ("valid_until", &format!("{year}-12-31")),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    let district = domain::settlement::entity::programme::Entity::find()
        .filter(domain::settlement::entity::programme::Column::NameEn.eq("District voucher"))
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let res = post(
        &mut p,
        "/api/enrol_in_programme",
        &[
            ("startup_id", &s_id),
            ("programme_id", &district),
            ("cap", ""),
            ("reason", "District firm"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    // 1 h on credit, 9 h beyond it: ¥90, of which the city pays 30 %, ¥27, the district 10 %.
    job(&p, r, "ci:1:0", 600).await;
    let month = this_month();
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let s = statements_of(&p.app).await.remove(0);
    assert_eq!(
        (s.park_fen, s.subsidy_fen, s.own_fen),
        (1_000, 3_600, 5_400)
    );

    let file = |from: &str, until: &str| {
        vec![
            ("programme_id".to_string(), prog.clone()),
            ("from".to_string(), from.to_string()),
            ("until".to_string(), until.to_string()),
        ]
    };
    let send = |fields: Vec<(String, String)>| fields;
    // Not paid yet: nothing to claim, and nothing changes.
    let fields = send(file(&month, &month));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = post(&mut p, "/api/file_claim", &refs).await;
    assert_eq!(res.error_key(), "error.claim_nothing");
    assert_eq!(audits(&p.app, "claim.filed").await, 0);
    let res = advance(&mut p, s.id, "issued", &[]).await;
    assert_eq!(res.error_param(), None);
    let res = advance(
        &mut p,
        s.id,
        "paid",
        &[("invoice_no", "INV-9"), ("payment_ref", "TX-9")],
    )
    .await;
    assert_eq!(res.error_param(), None);
    // Months the wrong way round, or not begun.
    let next = (today() + Duration::days(40)).format("%Y-%m").to_string();
    for (from, until, key) in [
        (month.as_str(), "2000-01", "error.claim_months_order"),
        (month.as_str(), next.as_str(), "error.period_future"),
        ("", month.as_str(), "error.period_invalid"),
    ] {
        let fields = send(file(from, until));
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = post(&mut p, "/api/file_claim", &refs).await;
        assert_eq!(res.error_key(), key, "{from}..{until}");
    }
    // Founders file nothing.
    let fields = send(file(&month, &month));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = p
        .app
        .post_form("/api/file_claim", "/admin/claims", &refs, &mut p.founder)
        .await;
    assert_eq!(res.error_key(), "error.forbidden");
    let res = post(&mut p, "/api/file_claim", &refs).await;
    assert!(
        res.location().starts_with("/admin/claims/"),
        "{}",
        res.location()
    );
    assert!(res.location().ends_with("?notice=claim_filed"));
    let claim = domain::settlement::entity::claim::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claim.statements, claim.total_fen), (1, 2_700));
    assert_eq!(
        statements_of(&p.app).await[0].status,
        StatementStatus::Claimed
    );
    // Claimed once: the same months again find nothing.
    let res = post(&mut p, "/api/file_claim", &refs).await;
    assert_eq!(res.error_key(), "error.claim_nothing");

    // The claim's page, its CSV and the dashboard.
    let page = p
        .app
        .get(&format!("/admin/claims/{}", claim.id), &p.admin)
        .await;
    assert!(
        page.body.contains("INV-9") && page.body.contains("¥27.00"),
        "{}",
        page.body
    );
    let csv = p
        .app
        .get(&format!("/admin/claims/{}/jobs.csv", claim.id), &p.admin)
        .await;
    assert!(
        csv.body.contains("ci:1:0") && csv.body.contains("INV-9"),
        "{}",
        csv.body
    );
    // The job's amount, park credit, the city's share, the district's, the founder's.
    let header = csv.body.lines().next().unwrap();
    assert!(
        header
            .ends_with("amount_yuan,park_credit_yuan,subsidy_yuan,other_programmes_yuan,own_yuan"),
        "{header}"
    );
    assert!(
        csv.body.contains(",100.00,10.00,27.00,9.00,54.00"),
        "{}",
        csv.body
    );
    let founder_csv = p
        .app
        .get(&format!("/admin/claims/{}/jobs.csv", claim.id), &p.founder)
        .await;
    assert_eq!(founder_csv.status, axum::http::StatusCode::FORBIDDEN);
    let overview = p.app.get("/admin/claims", &p.admin).await;
    assert!(overview.body.contains("¥999,973.00"), "{}", overview.body);

    // Reimbursed with the sponsor's reference, once.
    let cid = claim.id.to_string();
    let res = post(
        &mut p,
        "/api/reimburse_claim",
        &[("id", &cid), ("sponsor_ref", " ")],
    )
    .await;
    assert_eq!(res.error_key(), "error.sponsor_ref_required");
    let res = post(
        &mut p,
        "/api/reimburse_claim",
        &[("id", &cid), ("sponsor_ref", "CZ-2027-88")],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let res = post(
        &mut p,
        "/api/reimburse_claim",
        &[("id", &cid), ("sponsor_ref", "CZ-2027-88")],
    )
    .await;
    assert_eq!(res.error_key(), "error.claim_reimbursed_already");
    assert_eq!(
        statements_of(&p.app).await[0].status,
        StatementStatus::Reimbursed
    );
    assert_eq!(audits(&p.app, "claim.filed").await, 1);
    assert_eq!(audits(&p.app, "claim.reimbursed").await, 1);
    assert_eq!(audits(&p.app, "statement.claimed").await, 1);
    assert_eq!(audits(&p.app, "statement.reimbursed").await, 1);

    // The API reads claims with a read token, in the same figures.
    let actor = p.app.actor("admin@park.cn").await;
    let (_, token) = domain::admin::tokens::issue(p.app.db(), &actor, "Finance", "read")
        .await
        .unwrap();
    let json =
        |r: &common::TestResponse| serde_json::from_str::<serde_json::Value>(&r.body).unwrap();
    let res = p.app.api("GET", "/api/v1/claims", &token, None).await;
    assert_eq!(res.status, axum::http::StatusCode::OK, "{}", res.body);
    let list = json(&res);
    assert_eq!(list[0]["id"], serde_json::json!(claim.id));
    assert_eq!(list[0]["status"], serde_json::json!("reimbursed"));
    assert_eq!(list[0]["total_fen"], serde_json::json!(2_700));
    assert_eq!(list[0]["sponsor_ref"], serde_json::json!("CZ-2027-88"));
    let res = p
        .app
        .api("GET", &format!("/api/v1/claims/{}", claim.id), &token, None)
        .await;
    assert_eq!(res.status, axum::http::StatusCode::OK, "{}", res.body);
    let d = json(&res);
    assert_eq!(d["statements"][0]["claimed_fen"], serde_json::json!(2_700));
    assert_eq!(d["startups"][0]["startup_id"], serde_json::json!(p.startup));
    let res = p
        .app
        .api("GET", "/api/v1/claims/999999", &token, None)
        .await;
    assert_eq!(res.status, axum::http::StatusCode::NOT_FOUND);
    let res = p.app.api("GET", "/api/v1/claims", "hat_wrong", None).await;
    assert_eq!(res.status, axum::http::StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_request_whose_asker_is_no_longer_an_admin_is_given_up() {
    let p = park().await;
    let (ops, mut ops_jar) = p.app.person("ops@park.cn", "Ops", "admin").await;
    let month = this_month();
    let res = p
        .app
        .post_form(
            "/api/prepare_statements",
            "/statements",
            &[("period", &month)],
            &mut ops_jar,
        )
        .await;
    assert_eq!(res.error_param(), None);
    domain::auth::entity::user_role::Entity::delete_many()
        .filter(domain::auth::entity::user_role::Column::UserId.eq(ops))
        .exec(p.app.db())
        .await
        .unwrap();
    let ran =
        domain::settlement::statements::run_due(p.app.db(), p.app.state.settings.park_zone, 10)
            .await
            .unwrap();
    assert_eq!(ran, 1);
    let run = domain::settlement::entity::statement_run::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (run.status.as_str(), run.last_error.as_str(), run.attempts),
        ("dead", "error.forbidden", 1)
    );
    // Nothing more to run; the admins see why it stopped.
    let again =
        domain::settlement::statements::run_due(p.app.db(), p.app.state.settings.park_zone, 10)
            .await
            .unwrap();
    assert_eq!(again, 0);
    let page = p.app.get("/statements", &p.admin).await;
    assert!(page.body.contains("Given up: "), "{}", page.body.len());
}

#[tokio::test]
async fn hours_the_startup_bought_raise_its_limit_and_are_billed_to_it() {
    let mut p = park().await;
    let r = add_resource(&mut p, "Turing H100", "none", "", "").await;
    let (startup, rid) = (p.startup.to_string(), r.to_string());
    let id = p.startup;
    let res = grant_hours(&mut p, id, r, "1").await;
    assert_eq!(res.error_param(), None);
    let from = input_time(Utc::now() - Duration::hours(1));
    let until = input_time(Utc::now() + Duration::days(90));
    let bought = |funding: &'static str| {
        vec![
            ("startup_id", startup.clone()),
            ("resource_id", rid.clone()),
            ("gpu_hours", "10".to_string()),
            ("valid_from", from.clone()),
            ("valid_until", until.clone()),
            ("reason", "Bought 10 h".to_string()),
            ("funding", funding.to_string()),
        ]
    };
    let bad = bought("free");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = post(&mut p, "/api/create_grant", &bad).await;
    assert_eq!(res.error_key(), "error.grant_funding_invalid");
    let good = bought("own");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = post(&mut p, "/api/create_grant", &good).await;
    assert_eq!(res.error_param(), None, "{}", res.location());
    let own = grant::Entity::find()
        .order_by_desc(grant::Column::Id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own.funding, domain::credits::GrantFunding::Own);
    // Both raise the limit the cluster holds the startup to: 11 h.
    assert_eq!(desired_limit(&newest_job(&p.app).await), 660);
    let page = p
        .app
        .get(&format!("/admin/grants/{}", own.id), &p.admin)
        .await;
    assert!(page.body.contains("The startup (hours it bought)"));

    // ¥10 an hour, a 30 % programme. A 5-hour job: the park's hour first (¥10), then 4 of
    // the bought hours (¥40), of which the programme pays ¥12 and the startup ¥28.
    let res = post(
        &mut p,
        "/api/add_price",
        &[
            ("resource_id", &rid),
            ("yuan_per_gpu_hour", "10"),
            ("starts_on", &today().to_string()),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let year = today().format("%Y").to_string();
    let res = post(
        &mut p,
        "/api/save_programme",
        &[
            ("id", "0"),
            ("name_en", "Park compute subsidy"),
            ("name_zh", "园区算力补贴"),
            ("sponsor_kind", "park"),
            ("sponsor", "Turing Town"),
            ("rate_domestic", "30"),
            ("rate_other", "30"),
            ("valid_from", &format!("{year}-01-01")),
            ("valid_until", &format!("{year}-12-31")),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    let programme = domain::settlement::entity::programme::Entity::find()
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let res = post(
        &mut p,
        "/api/enrol_in_programme",
        &[
            ("startup_id", &startup),
            ("programme_id", &programme),
            ("cap", ""),
            ("reason", "Incubating"),
        ],
    )
    .await;
    assert_eq!(res.error_param(), None);
    job(&p, r, "ci:5:0", 300).await;
    let grants = grant::Entity::find()
        .order_by_asc(grant::Column::Id)
        .all(p.app.db())
        .await
        .unwrap();
    assert_eq!(
        grants
            .iter()
            .map(|g| (g.consumed_minutes, g.remaining_minutes()))
            .collect::<Vec<_>>(),
        [(60, 0), (240, 360)],
        "the park's hour first, then the bought ones"
    );
    let month = this_month();
    let res = prepare(&mut p, &month).await;
    assert_eq!(res.error_param(), None);
    let s = &statements_of(&p.app).await[0];
    assert_eq!(
        (s.amount_fen, s.park_fen, s.subsidy_fen, s.own_fen),
        (5_000, 1_000, 1_200, 2_800)
    );
}
