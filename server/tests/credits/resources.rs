//! Compute resources: the admin's form, its checks, and who may see it.
use super::*;

#[tokio::test]
async fn admins_configure_compute_resources() {
    let mut p = park().await;
    for (field, value, key) in [
        ("name", "", "error.resource_name_invalid"),
        ("backend", "kubernetes", "error.backend_invalid"),
        (
            "account_pattern",
            "Startup {id}",
            "error.account_pattern_invalid",
        ),
        (
            "account_pattern",
            "startup",
            "error.account_pattern_invalid",
        ),
        ("base_url", "ftp://cluster", "error.base_url_invalid"),
        ("cluster", " ", "error.cluster_required"),
    ] {
        let mut fields = vec![
            ("name", "Turing H100"),
            ("gpu_model", "H100"),
            ("backend", "slurm"),
            ("cluster", "ci"),
            ("account_pattern", "startup-{id}"),
            ("base_url", "http://127.0.0.1:6820"),
            ("repair_mode", "approve"),
        ];
        for f in fields.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let res = post(&mut p, "/api/save_resource", &fields).await;
        assert_eq!(res.error_key(), key, "{field}={value}");
    }
    let res = post(
        &mut p,
        "/api/save_resource",
        &[
            ("name", "Partner cloud"),
            ("gpu_model", "Ascend 910B"),
            ("backend", "http"),
            ("cluster", "partner"),
            ("account_pattern", "hatchery-{id}"),
            ("base_url", "https://alloc.partner.example.cn/v1"),
            ("secret", "short"),
            ("repair_mode", "auto"),
        ],
    )
    .await;
    assert_eq!(res.error_key(), "error.secret_too_short");
    assert_eq!(p.app.count(resource::Entity).await, 0);

    // (A Slurm resource is checked against its cluster before it is saved: see slurm2411.rs.)
    let id = add_resource(
        &mut p,
        "Turing H100",
        "http",
        "https://alloc.turing.example.cn/v1/",
        "fedcba9876543210",
    )
    .await;
    let r = resource::Entity::find_by_id(id)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(r
        .settings
        .contains("\"base_url\":\"https://alloc.turing.example.cn/v1\""));
    let res = post(
        &mut p,
        "/api/save_resource",
        &[
            ("name", "Turing H100"),
            ("gpu_model", "A800"),
            ("backend", "none"),
            ("cluster", "ci"),
            ("account_pattern", "startup-{id}"),
            ("repair_mode", "approve"),
        ],
    )
    .await;
    assert_eq!(res.error_key(), "error.resource_name_taken");

    // Editing keeps a stored secret when the field is left empty.
    let http = add_resource(
        &mut p,
        "Partner",
        "http",
        "https://alloc.example.cn",
        "0123456789abcdef",
    )
    .await;
    let res = post(
        &mut p,
        "/api/save_resource",
        &[
            ("id", &http.to_string()),
            ("name", "Partner cloud"),
            ("gpu_model", "Ascend 910B"),
            ("backend", "http"),
            ("cluster", "partner"),
            ("account_pattern", "hatchery-{id}"),
            ("base_url", "https://alloc.example.cn"),
            ("repair_mode", "auto"),
        ],
    )
    .await;
    assert_eq!(res.location(), "/admin/resources?notice=saved");
    let r = resource::Entity::find_by_id(http)
        .one(p.app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(r.settings.contains("0123456789abcdef") && r.name == "Partner cloud");
    let page = p
        .app
        .get(&format!("/admin/resources/{http}"), &p.admin)
        .await;
    assert!(page.body.contains("A secret is stored") && !page.body.contains("0123456789abcdef"));

    // Only admins.
    let mut founder = p.founder.clone();
    let res = p
        .app
        .post_form(
            "/api/save_resource",
            "/admin",
            &[("name", "x")],
            &mut founder,
        )
        .await;
    assert_eq!(res.error_param(), Some(AppError::Forbidden));
    let page = p.app.get("/admin/resources", &founder).await;
    assert_eq!(page.status, axum::http::StatusCode::FORBIDDEN);
}
