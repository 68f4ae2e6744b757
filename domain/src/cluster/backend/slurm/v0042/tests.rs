//! v0.0.42's translation against real replies of Slurm 24.11.5 (`../fixtures`).
use super::jobs::base_state;
use super::*;

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

const ASSOCIATIONS: &str = include_str!("../fixtures/associations.json");
const ASSOCIATIONS_LIMITS: &str = include_str!("../fixtures/associations_limits.json");
const ASSOCIATIONS_NOTHING: &str = include_str!("../fixtures/associations_nothing.json");
const QOS: &str = include_str!("../fixtures/qos.json");
const JOBS_FINISHED: &str = include_str!("../fixtures/jobs_finished.json");
const JOBS_RUNNING: &str = include_str!("../fixtures/jobs_running.json");
const CTLD_JOBS: &str = include_str!("../fixtures/ctld_jobs.json");

#[test]
fn numbers_read_and_write_as_set_infinite_number() {
    let unset = json!({"set": false, "infinite": true, "number": 0});
    assert_eq!(Number::read(Some(&unset)), Number::Unset);
    assert_eq!(Number::read(None), Number::Unset);
    let five = json!({"set": true, "infinite": false, "number": 5});
    assert_eq!(Number::read(Some(&five)), Number::Value(5));
    assert_eq!(Number::read(Some(&five)).value(), Some(5));
    let inf = json!({"set": true, "infinite": true, "number": 0});
    assert_eq!(Number::read(Some(&inf)), Number::Infinite);
    for n in [Number::Unset, Number::Infinite, Number::Value(7)] {
        assert_eq!(Number::read(Some(&n.to_json())), n);
    }
    assert_eq!(Number::Unset.to_json(), unset);
}

#[test]
fn reads_account_member_and_partition_rows_keyed_by_name() {
    let rows = associations(&fixture(ASSOCIATIONS), "ci2411");
    let keys: Vec<(Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|a| (a.user.as_deref(), a.partition.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            (None, None),
            (Some("alice"), None),
            (Some("bob"), None),
            (Some("carol"), Some("debug"))
        ]
    );
    let own = &rows[0];
    assert!(own.is_account_row());
    assert!(!rows[3].is_account_row());
    assert_eq!(own.account, "startup-1");
    assert_eq!(own.parent.as_deref(), Some("root"));
    assert_eq!(rows[1].parent, None);
    assert_eq!(own.qos, ["normal"]);
    assert_eq!(own.default_qos, None);
    assert_eq!(own.gpu_minutes, None);
    assert_eq!(
        rows[3].key(),
        AssocKey {
            cluster: "ci2411".into(),
            account: "startup-1".into(),
            user: "carol".into(),
            partition: "debug".into()
        }
    );
    // Every row has id 0: the key is the only way to tell them apart.
    let ids: Vec<i64> = fixture(ASSOCIATIONS)["associations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [0, 0, 0, 0]);
    let mut distinct: Vec<AssocKey> = rows.iter().map(Assoc::key).collect();
    distinct.dedup();
    assert_eq!(distinct.len(), 4);
    assert!(associations(&fixture(ASSOCIATIONS), "other").is_empty());
}

#[test]
fn reads_the_gpu_cap_from_the_group_minutes_list() {
    let rows = associations(&fixture(ASSOCIATIONS_LIMITS), "ci2411");
    let own = rows.iter().find(|a| a.is_account_row()).unwrap();
    assert_eq!(own.gpu_minutes, Some(600));
    // GrpTRES gres/gpu=2 is another list: not the cap.
    assert_eq!(gpu_count(own.max.pointer("/tres/total")), Some(2));
    assert_eq!(
        Number::read(own.max.pointer("/jobs/active")),
        Number::Value(5)
    );
    assert_eq!(
        Number::read(own.max.pointer("/jobs/accruing")),
        Number::Unset
    );
}

#[test]
fn nothing_found_is_an_empty_reply_not_an_error() {
    let body = ASSOCIATIONS_NOTHING;
    match classify(200, body) {
        Ok(Reply::NothingFound(v)) => assert!(associations(&v, "ci2411").is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(classify(200, ASSOCIATIONS), Ok(Reply::Json(_))));
}

#[test]
fn an_update_sends_every_limit_back_and_changes_only_the_cap() {
    let rows = associations(&fixture(ASSOCIATIONS_LIMITS), "ci2411");
    let own = rows.iter().find(|a| a.is_account_row()).unwrap();
    let row = association_update(
        own,
        &AssocChange {
            gpu_minutes: Some(Some(1200)),
            qos: None,
        },
    );
    assert_eq!(row["user"], "");
    assert_eq!(row["partition"], "");
    assert_eq!(row["account"], "startup-1");
    assert_eq!(row["cluster"], "ci2411");
    // Every other TRES list and scalar of `max` is as read.
    let read_max = &own.max;
    for list in [
        "/tres/total",
        "/tres/group/active",
        "/tres/minutes/per/job",
        "/tres/per/job",
        "/tres/per/node",
        "/tres/minutes/total",
    ] {
        assert_eq!(row["max"].pointer(list), read_max.pointer(list), "{list}");
    }
    assert_eq!(row["max"]["jobs"], read_max["jobs"]);
    assert_eq!(row["max"]["per"], read_max["per"]);
    assert_eq!(
        row["max"]["tres"]["group"]["minutes"],
        json!([{"type": "gres", "name": "gpu", "count": 1200}])
    );
    assert!(row.get("qos").is_none());
    // What the reply to this body looks like when applied.
    assert!(matches!(
        classify(200, r#"{"errors":[],"warnings":[]}"#),
        Ok(Reply::Json(_))
    ));
}

#[test]
fn an_update_keeps_other_tres_in_the_cap_list_and_can_remove_the_cap() {
    let mut own = associations(&fixture(ASSOCIATIONS_LIMITS), "ci2411")
        .into_iter()
        .find(|a| a.is_account_row())
        .unwrap();
    own.max["tres"]["group"]["minutes"] = json!([
        {"type": "cpu", "name": "", "id": 1, "count": 1000},
        {"type": "gres", "name": "gpu", "id": 1001, "count": 800}
    ]);
    let removed = association_update(
        &own,
        &AssocChange {
            gpu_minutes: Some(None),
            qos: None,
        },
    );
    assert_eq!(
        removed["max"]["tres"]["group"]["minutes"],
        json!([{"type": "cpu", "name": "", "id": 1, "count": 1000}])
    );
    let kept = association_update(&own, &AssocChange::default());
    assert_eq!(
        kept["max"]["tres"]["group"]["minutes"],
        own.max["tres"]["group"]["minutes"]
    );
}

#[test]
fn an_update_attaches_the_qos_as_the_only_one_and_default() {
    let rows = associations(&fixture(ASSOCIATIONS), "ci2411");
    let row = association_update(
        &rows[0],
        &AssocChange {
            gpu_minutes: None,
            qos: Some((vec!["startup-1".into()], "startup-1".into())),
        },
    );
    assert_eq!(row["qos"], json!(["startup-1"]));
    assert_eq!(row["default"], json!({"qos": "startup-1"}));
    // A blank row (just created) still sends the lists, empty.
    let blank = association_update(
        &Assoc::blank("ci2411", "startup-9", None),
        &AssocChange {
            gpu_minutes: Some(Some(60)),
            qos: None,
        },
    );
    assert_eq!(
        blank,
        json!({"account": "startup-9", "cluster": "ci2411", "user": "", "partition": "",
               "max": {"tres": {"group": {"minutes": [{"type": "gres", "name": "gpu", "count": 60}]}}}})
    );
    let body = associations_body(vec![row, blank]);
    assert_eq!(body["associations"].as_array().unwrap().len(), 2);
}

#[test]
fn accounts_association_creates_account_and_row_in_one_call() {
    let accounts = vec!["startup-1".to_string()];
    let body = accounts_association_body(&NewAccount {
        accounts: &accounts,
        cluster: "ci2411",
        parent: "root",
        description: "startup one",
        organization: "acme",
        gpu_minutes: Some(600),
        qos: None,
    });
    assert_eq!(
        body,
        json!({"association_condition": {"accounts": ["startup-1"], "clusters": ["ci2411"],
                 "association": {"parent": "root",
                                 "grptresmins": [{"type": "gres", "name": "gpu", "count": 600}]}},
               "account": {"description": "startup one", "organization": "acme"}})
    );
    let with_qos = accounts_association_body(&NewAccount {
        accounts: &accounts,
        cluster: "ci2411",
        parent: "hatchery-park",
        description: "d",
        organization: "o",
        gpu_minutes: None,
        qos: Some("startup-1"),
    });
    assert_eq!(
        with_qos["association_condition"]["association"],
        json!({"parent": "hatchery-park", "qoslevel": ["startup-1"], "defaultqos": "startup-1"})
    );
    // The real replies: added (200), then the same body again (304, empty).
    let added = include_str!("../fixtures/accounts_association_added.json");
    match classify(200, added) {
        Ok(Reply::Json(v)) => {
            assert!(v["added_accounts"].as_str().unwrap().contains("startup-1"));
            assert_eq!(v.pointer("/meta/slurm/release"), Some(&json!("24.11.5")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(classify(304, ""), Ok(Reply::Unchanged));
}

#[test]
fn accounts_carry_description_and_organization() {
    let body = accounts_body(&[("startup-1", "Acme AI"), ("startup-2", "Beta")]);
    assert_eq!(
        body["accounts"][0],
        json!({"name": "startup-1", "organization": "Acme AI", "description": "Hatchery: Acme AI"})
    );
    assert_eq!(body["accounts"][1]["name"], "startup-2");
    let read = fixture(include_str!("../fixtures/accounts.json"));
    let startup = accounts(&read).into_iter().find(|a| a.name == "startup-1");
    assert_eq!(
        startup,
        Some(Account {
            name: "startup-1".into(),
            description: "Hatchery: Acme AI".into(),
            organization: "acme ai".into()
        })
    );
}

#[test]
fn members_of_many_accounts_are_added_in_two_calls_without_moving_defaults() {
    let v = json!({"users": [
        {"name": "root", "default": {"account": ""}, "associations": []},
        {"name": "alice", "default": {"account": "startup-9"}, "associations": [
            {"account": "startup-9", "cluster": "ci2411", "partition": "", "user": "alice", "id": 31},
            {"account": "startup-2", "cluster": "ci2411", "partition": "", "user": "alice", "id": 32},
            {"account": "other", "cluster": "elsewhere", "partition": "", "user": "alice", "id": 33}]}]});
    assert_eq!(
        users(&v, "ci2411"),
        [
            User {
                name: "root".into(),
                default_account: String::new(),
                accounts: vec![]
            },
            User {
                name: "alice".into(),
                default_account: "startup-9".into(),
                accounts: vec!["startup-9".into(), "startup-2".into()]
            }
        ]
    );
    // Only users that do not exist yet are created, with the account they join as default.
    assert_eq!(
        default_accounts_body(&[("bob", "startup-1")]),
        json!({"users": [{"name": "bob", "default": {"account": "startup-1"}}]})
    );
    // One association row per membership, with no `partition` (see member_rows_body).
    assert_eq!(
        member_rows_body("ci2411", &[("startup-1", "alice"), ("startup-2", "bob")]),
        json!({"associations": [
            {"account": "startup-1", "cluster": "ci2411", "user": "alice"},
            {"account": "startup-2", "cluster": "ci2411", "user": "bob"}]})
    );
    let added = include_str!("../fixtures/users_association_added.json");
    assert!(matches!(classify(200, added), Ok(Reply::Json(_))));
    assert_eq!(
        member_query("startup-1", "ci2411", "carol"),
        [
            ("account", "startup-1"),
            ("cluster", "ci2411"),
            ("user", "carol")
        ]
    );
}

#[test]
fn reads_a_qos_cap_and_flags() {
    let list = qos_list(&fixture(QOS));
    assert_eq!(list.len(), 1);
    let q = &list[0];
    assert_eq!(q.id, 2);
    assert_eq!(q.name, "startup-2");
    assert_eq!(q.flags, ["DENY_LIMIT", "NO_DECAY"]);
    assert_eq!(q.gpu_minutes, Some(300));
    assert!(q.enforces(300));
    assert!(!q.enforces(301));
    let mut decaying = q.clone();
    decaying.flags = vec!["DENY_LIMIT".into()];
    assert!(!decaying.enforces(300));
}

#[test]
fn a_qos_write_always_sends_the_flags_with_the_cap() {
    let new = qos_row("startup-1", "Hatchery: Acme", 120, None);
    assert_eq!(
        new,
        json!({"name": "startup-1", "description": "Hatchery: Acme",
               "flags": ["NO_DECAY", "DENY_LIMIT"],
               "limits": {"max": {"tres": {"minutes": {"total": [
                   {"type": "gres", "name": "gpu", "count": 120}]}}}}})
    );
    let mut read = qos_list(&fixture(QOS)).remove(0);
    read.flags.push("NO_RESERVE".into());
    read.minutes_total = json!([{"type": "cpu", "name": "", "id": 1, "count": 9},
                                {"type": "gres", "name": "gpu", "id": 1001, "count": 300}]);
    let update = qos_row("startup-2", "Hatchery: Beta", 400, Some(&read));
    assert_eq!(
        update["flags"],
        json!(["DENY_LIMIT", "NO_DECAY", "NO_RESERVE"])
    );
    assert_eq!(
        update["limits"]["max"]["tres"]["minutes"]["total"],
        json!([{"type": "cpu", "name": "", "id": 1, "count": 9},
               {"type": "gres", "name": "gpu", "count": 400}])
    );
    assert_eq!(
        qos_body(vec![new, update])["qos"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn counts_gpu_minutes_of_finished_jobs_from_state_arrays() {
    let jobs = finished_jobs(&fixture(JOBS_FINISHED), "ci2411");
    // Jobs 1-5: COMPLETED 2×20 s, 2×20 s, 1×5 s, FAILED 1×3 s, CANCELLED 1×13 s. Each
    // job is rounded to the nearest GPU-minute, as with v0.0.38: the short ones round to 0.
    let got: Vec<(&str, i64)> = jobs
        .iter()
        .map(|j| (j.job_ref.as_str(), j.gpu_minutes))
        .collect();
    assert_eq!(
        got,
        [("ci2411:1:1796552553", 1), ("ci2411:2:1796552573", 1)]
    );
    assert!(jobs.iter().all(|j| j.account == "startup-1"));
    assert_eq!(jobs[0].ended_at.timestamp(), 1796552573);
    // The energy TRES is -2 in every job: it is not a count.
    let v = fixture(JOBS_FINISHED);
    assert_eq!(
        v.pointer("/jobs/0/tres/allocated/1/count"),
        Some(&json!(-2))
    );
    // What Slurm charged: 2×20 + 2×20 + 5 + 3 + 13 GPU-seconds.
    assert_eq!(gpu_seconds(&v), 101);
}

#[test]
fn running_and_pending_jobs_are_not_usage_yet() {
    let v = fixture(JOBS_RUNNING);
    assert!(finished_jobs(&v, "ci2411").is_empty());
    // Job 1 had run 6 s on 2 GPUs; the pending ones have no allocation.
    assert_eq!(gpu_seconds(&v), 12);
}

#[test]
fn live_jobs_say_when_a_grant_is_used_up() {
    let jobs = live_jobs(&fixture(CTLD_JOBS));
    let states: Vec<(i64, &str, &str, bool)> = jobs
        .iter()
        .map(|j| {
            (
                j.job_id,
                j.state.as_str(),
                j.reason.as_str(),
                j.held_by_gpu_cap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (1, "RUNNING", "None", false),
            (2, "PENDING", "QOSGrpGRESMinutes", true),
            (3, "PENDING", "QOSGrpGRESMinutes", true)
        ]
    );
    assert!(jobs.iter().all(|j| j.qos == "startup-1"));
}

#[test]
fn base_state_skips_flags() {
    assert_eq!(
        base_state(Some(&json!(["COMPLETING", "RUNNING"]))).as_deref(),
        Some("RUNNING")
    );
    assert_eq!(
        base_state(Some(&json!(["CANCELLED", "REQUEUED"]))).as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(base_state(Some(&json!("COMPLETED"))), None);
}

#[test]
fn the_jobs_window_starts_at_the_last_import() {
    assert_eq!(
        jobs_query("startup-1", None),
        [("account", "startup-1".to_string())]
    );
    let since = Utc.timestamp_opt(1796552596, 0).unwrap();
    assert_eq!(
        jobs_query("startup-1", Some(since)),
        [
            ("account", "startup-1".to_string()),
            ("start_time", "1796552596".to_string())
        ]
    );
}

fn failure(status: u16, body: &str) -> Failure {
    classify(status, body).expect_err("a failure")
}

#[test]
fn tells_a_bad_token_from_a_missing_one_and_from_a_daemon_that_is_down() {
    assert_eq!(
        failure(401, "Authentication failure"),
        Failure::NoCredentials
    );
    assert!(matches!(
        failure(502, include_str!("../fixtures/error_7000.json")),
        Failure::BadToken(m) if m.contains("authentication error")
    ));
    assert!(matches!(
        failure(511, include_str!("../fixtures/error_1007.json")),
        Failure::BadToken(m) if m.contains("1007")
    ));
    // slurmdbd down: the same 502 and 7000, without "authentication".
    assert!(matches!(
        failure(
            502,
            include_str!("../fixtures/error_7000_slurmdbd_down.json")
        ),
        Failure::Unavailable(_)
    ));
    assert!(matches!(
        failure(
            502,
            include_str!("../fixtures/error_1800_slurmctld_down.json")
        ),
        Failure::Unavailable(_)
    ));
}

#[test]
fn schema_errors_and_permission_are_told_apart() {
    for (file, number) in [
        (include_str!("../fixtures/error_9200.json"), "9200"),
        (include_str!("../fixtures/error_9207.json"), "9207"),
        (include_str!("../fixtures/error_9208.json"), "9208"),
    ] {
        match failure(500, file) {
            Failure::Invalid(m) => assert!(m.contains(number) && m.contains("#/"), "{m}"),
            other => panic!("{number}: {other:?}"),
        }
    }
    assert!(matches!(
        failure(500, include_str!("../fixtures/error_2002.json")),
        Failure::Denied(m) if m.contains("permission denied")
    ));
    assert!(matches!(
        failure(404, include_str!("../fixtures/error_2017.json")),
        Failure::NotFound(_)
    ));
    assert!(matches!(
        failure(400, "Unable to parse query."),
        Failure::Invalid(_)
    ));
    assert!(matches!(failure(503, "<html>"), Failure::Other(_)));
    // 200 that still carries errors is not a success.
    assert!(matches!(
        failure(200, include_str!("../fixtures/error_2002.json")),
        Failure::Denied(_)
    ));
    let errs = errors(&fixture(include_str!("../fixtures/error_9200.json")));
    assert_eq!(
        errs[0].to_string(),
        "Unable to resolve path (9200): Missing required field 'user' in dictionary at #/associations[0]/user/"
    );
}
