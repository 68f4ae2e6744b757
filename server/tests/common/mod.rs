//! Test harness: the real router on a fresh database (SQLite, or PostgreSQL when
//! `HATCHERY_TEST_DATABASE=postgres`), a cookie jar, and a real SMTP listener.
#![allow(dead_code)]

pub mod slurm;

use app::state::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use hatchery::config::{Config, Database, Secret};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use tower::ServiceExt;

pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub fn use_postgres() -> bool {
    std::env::var("HATCHERY_TEST_DATABASE").as_deref() == Ok("postgres")
}

fn postgres_admin_url() -> String {
    std::env::var("HATCHERY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_db_name(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("HATCHERY_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A migrated template database, made once per schema version; each test clones it.
async fn postgres_template() -> String {
    use migration::MigratorTrait;
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for m in migration::Migrator::migrations() {
        m.name().hash(&mut hasher);
    }
    let name = format!("hatchery_tpl_{:x}", hasher.finish());
    let admin = sea_orm::Database::connect(postgres_admin_url())
        .await
        .expect("PostgreSQL is reachable");
    admin
        .execute_unprepared("SELECT pg_advisory_lock(724242)")
        .await
        .unwrap();
    let exists = admin
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ))
        .await
        .unwrap()
        .is_some();
    if !exists {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let tpl = sea_orm::Database::connect(with_db_name(&postgres_admin_url(), &name))
            .await
            .unwrap();
        hatchery::db::migrate(&tpl).await.unwrap();
        tpl.close().await.unwrap();
    }
    admin
        .execute_unprepared("SELECT pg_advisory_unlock(724242)")
        .await
        .unwrap();
    admin.close().await.unwrap();
    name
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    /// The PostgreSQL URL when testing on PostgreSQL, for a server process of the test's own.
    pub database_url: Option<String>,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_env(&[]).await
    }

    pub async fn with_env(extra: &[(&str, &str)]) -> TestApp {
        let data_dir = tempfile::tempdir().unwrap();
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert(
            "HATCHERY_DATA_DIR".into(),
            data_dir.path().display().to_string(),
        );
        env.insert("HATCHERY_PUBLIC_URL".into(), ORIGIN.into());
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        let mut config = Config::from_sources(&env).expect("test config is valid");
        let mut database_url = None;
        if use_postgres() {
            let template = postgres_template().await;
            let name = format!(
                "hatchery_test_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            );
            let admin = sea_orm::Database::connect(postgres_admin_url())
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .await
                .unwrap();
            admin.close().await.unwrap();
            let url = with_db_name(&postgres_admin_url(), &name);
            database_url = Some(url.clone());
            config.database = Database::Postgres(Secret::new(url));
        } else {
            assert!(matches!(config.database, Database::Sqlite(_)));
        }
        let state = hatchery::build_state(&config).await.expect("state builds");
        TestApp {
            router: hatchery::router::build(state.clone()),
            state,
            data_dir,
            database_url,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A page, as a browser with the given cookies and language would load it.
    pub async fn get(&self, path: &str, jar: &Jar) -> TestResponse {
        let req = Request::get(path)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ACCEPT, "text/html")
            .header(header::ACCEPT_LANGUAGE, jar.lang.clone())
            .header(header::COOKIE, jar.header())
            .body(Body::empty())
            .unwrap();
        let res = self.send(req).await;
        res
    }

    /// A form posted by a browser without JavaScript, from page `from`.
    pub async fn post_form(
        &self,
        path: &str,
        from: &str,
        fields: &[(&str, &str)],
        jar: &mut Jar,
    ) -> TestResponse {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter())
            .finish();
        let req = Request::post(path)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .header(header::REFERER, format!("{ORIGIN}{from}"))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::ACCEPT_LANGUAGE, jar.lang.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, jar.header())
            .body(Body::from(body))
            .unwrap();
        let res = self.send(req).await;
        jar.absorb(&res);
        res
    }

    pub async fn count<E>(&self, _entity: E) -> u64
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        E::find().count(self.db()).await.unwrap()
    }

    /// The newest email to an address, from the outbox, with its body as it is delivered
    /// (one-time links filled in).
    pub async fn last_mail_to(&self, to: &str) -> domain::mail::entity::Model {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
        let mut m = domain::mail::entity::Entity::find()
            .filter(domain::mail::entity::Column::ToAddress.eq(to))
            .order_by_desc(domain::mail::entity::Column::Id)
            .one(self.db())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no email to {to}"));
        m.body_text = domain::mail::outbox::delivered_body(&m);
        m
    }

    /// Registers, verifies and signs in an applicant; returns their cookie jar.
    pub async fn signed_in_applicant(&self, email: &str, name: &str) -> Jar {
        let mut jar = Jar::default();
        let res = self
            .post_form(
                "/api/register",
                "/register",
                &[
                    ("name", name),
                    ("email", email),
                    ("password", "correct horse battery"),
                ],
                &mut jar,
            )
            .await;
        assert_eq!(res.location(), "/login?notice=registered", "{}", res.body);
        let token = link_token(&self.last_mail_to(email).await.body_text, "/verify?token=");
        let res = self
            .post_form(
                "/api/verify_email",
                "/verify",
                &[("token", &token)],
                &mut jar,
            )
            .await;
        assert_eq!(res.location(), "/login?notice=verified");
        self.sign_in(email, "correct horse battery").await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Jar {
        let mut jar = Jar::default();
        let res = self
            .post_form(
                "/api/login",
                "/login",
                &[("email", email), ("password", password)],
                &mut jar,
            )
            .await;
        assert_eq!(
            res.location(),
            "/dashboard",
            "sign-in failed: {:?}",
            res.error_param()
        );
        jar
    }

    /// Creates a verified user with roles straight through the domain, as the CLI does.
    pub async fn user_with_roles(
        &self,
        email: &str,
        name: &str,
        roles: &[domain::auth::Role],
    ) -> i64 {
        domain::auth::users::create_user(self.db(), email, name, "correct horse battery", roles)
            .await
            .unwrap()
    }

    /// A verified user with one role and a live session, made straight in the database (no
    /// sign-in, so no sign-in limit); returns their id and cookie jar.
    pub async fn person(&self, email: &str, name: &str, role: &str) -> (i64, Jar) {
        use domain::auth::entity::{session as login, user, user_role};
        use sea_orm::{ActiveModelTrait, Set};
        let now = chrono::Utc::now();
        let u = user::ActiveModel {
            email: Set(email.into()),
            name: Set(name.into()),
            password_hash: Set("not-a-password".into()),
            locale: Set("en".into()),
            email_verified_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            cluster_login: Set(None),
            ..Default::default()
        }
        .insert(self.db())
        .await
        .unwrap();
        user_role::ActiveModel {
            user_id: Set(u.id),
            role: Set(domain::auth::Role::parse(role).expect("a role")),
            granted_at: Set(now),
        }
        .insert(self.db())
        .await
        .unwrap();
        let token = domain::auth::tokens::new_token();
        login::ActiveModel {
            id: Set(domain::auth::tokens::hash_token(&token)),
            user_id: Set(u.id),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::days(1)),
            last_seen_at: Set(now),
        }
        .insert(self.db())
        .await
        .unwrap();
        let mut jar = Jar::default();
        jar.cookies.insert("hatchery_session".into(), token);
        (u.id, jar)
    }

    /// A startup with one founder (`person`, signed up through the pages), admitted as an intake
    /// decision does, the founder's cluster login set when given; returns the startup's id.
    pub async fn incubating_startup(
        &self,
        email: &str,
        person: &str,
        startup: &str,
        login: Option<&str>,
    ) -> i64 {
        use domain::startups::entity::startup as s;
        use sea_orm::{ActiveModelTrait, ColumnTrait, IntoActiveModel, QueryFilter, Set};
        let mut jar = self.signed_in_applicant(email, person).await;
        let res = self
            .post_form(
                "/api/save_startup",
                "/startup",
                &[
                    ("name", startup),
                    ("sector", "language"),
                    ("stage", "seed"),
                    ("team_size", "5"),
                    ("founders", person),
                ],
                &mut jar,
            )
            .await;
        assert_eq!(res.location(), "/startup?notice=saved");
        let row = s::Entity::find()
            .filter(s::Column::Name.eq(startup))
            .one(self.db())
            .await
            .unwrap()
            .unwrap();
        let mut a = row.clone().into_active_model();
        a.status = Set(domain::startups::incubation::StartupStatus::Incubating);
        a.update(self.db()).await.unwrap();
        if let Some(login) = login {
            let u = domain::auth::entity::user::Entity::find()
                .filter(domain::auth::entity::user::Column::Email.eq(email))
                .one(self.db())
                .await
                .unwrap()
                .unwrap();
            let mut u = u.into_active_model();
            u.cluster_login = Set(Some(login.into()));
            u.update(self.db()).await.unwrap();
        }
        row.id
    }

    /// A park with GPU credit: an admin (`admin@park.cn`, signed in as `admin`), an incubating
    /// startup whose founder is signed in as `founder`, a resource (backend `none`), a grant of
    /// `gpu_hours` on it valid from yesterday for 90 days, and a write API token.
    pub async fn credit_park(&self, gpu_hours: &str) -> CreditPark {
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        self.user_with_roles("admin@park.cn", "Admin", &[domain::auth::Role::Admin])
            .await;
        let actor = self.actor("admin@park.cn").await;
        let (_, admin) = self.person("ops@park.cn", "Ops", "admin").await;
        let (_, mut founder) = self.person("li@deeppark.cn", "Li Lei", "applicant").await;
        let res = self
            .post_form(
                "/api/save_startup",
                "/startup",
                &[
                    ("name", "DeepPark AI"),
                    ("sector", "language"),
                    ("stage", "seed"),
                    ("team_size", "5"),
                    ("founders", "Li Lei"),
                ],
                &mut founder,
            )
            .await;
        assert_eq!(res.location(), "/startup?notice=saved");
        let s = domain::startups::entity::startup::Entity::find()
            .one(self.db())
            .await
            .unwrap()
            .unwrap();
        let mut a = s.clone().into_active_model();
        a.status = Set(domain::startups::incubation::StartupStatus::Incubating);
        a.update(self.db()).await.unwrap();
        let resource = domain::credits::resources::save(
            self.db(),
            &actor,
            None,
            domain::credits::resources::ResourceInput {
                name: "Turing A800".into(),
                gpu_model: "A800".into(),
                backend: "none".into(),
                cluster: "turing".into(),
                account_pattern: "startup-{id}".into(),
                base_url: String::new(),
                secret: String::new(),
                repair_mode: "auto".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let now = chrono::Utc::now();
        let input_time =
            |t: chrono::DateTime<chrono::Utc>| domain::time::Zone::default().input_value(&t);
        let grant = domain::credits::grants::create(
            self.db(),
            &self.state.settings,
            &actor,
            domain::credits::grants::GrantInput {
                startup_id: s.id,
                resource_id: resource,
                gpu_hours: gpu_hours.into(),
                valid_from: input_time(now - chrono::Duration::days(1)),
                valid_until: input_time(now + chrono::Duration::days(90)),
                reason: "Seed programme".into(),
                funding: String::new(),
                tranches: vec![],
            },
        )
        .await
        .unwrap();
        let (_, token) = domain::admin::tokens::issue(self.db(), &actor, "Slurm push", "write")
            .await
            .unwrap();
        CreditPark {
            admin,
            founder,
            startup: s.id,
            resource,
            grant,
            token,
        }
    }

    /// Sends a JSON API request with a bearer token.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<String>,
    ) -> TestResponse {
        self.send(api_request(method, path, token, body)).await
    }

    pub async fn actor(&self, email: &str) -> domain::access::Actor {
        let jar = self.sign_in(email, "correct horse battery").await;
        let token = jar.cookies.get("hatchery_session").unwrap().clone();
        domain::auth::sessions::session_actor(self.db(), &self.state.settings, &token)
            .await
            .unwrap()
            .unwrap()
    }
}

/// The cohort form's fields, valid, with enrolment open now.
pub fn cohort_form(capacity: &str) -> Vec<(String, String)> {
    let now = chrono::Utc::now();
    let input_time =
        |t: chrono::DateTime<chrono::Utc>| domain::time::Zone::default().input_value(&t);
    let day = |d: i64| {
        domain::time::Zone::default()
            .date(&(now + chrono::Duration::days(d)))
            .format("%Y-%m-%d")
            .to_string()
    };
    [
        ("id", "0".to_string()),
        ("title_en", "Fine-tuning LLMs".to_string()),
        ("title_zh", "大模型微调".to_string()),
        ("track", "ai_engineering".to_string()),
        ("description_en", "Six evenings on fine-tuning.".to_string()),
        ("description_zh", "六个晚上学习微调。".to_string()),
        ("capacity", capacity.to_string()),
        (
            "enrol_opens_at",
            input_time(now - chrono::Duration::days(1)),
        ),
        (
            "enrol_closes_at",
            input_time(now + chrono::Duration::days(7)),
        ),
        ("starts_on", day(10)),
        ("ends_on", day(40)),
        ("location", "Turing Town, Building 3, Room 201".to_string()),
        ("completion_percent", "60".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// What `TestApp::credit_park` made.
pub struct CreditPark {
    pub admin: Jar,
    pub founder: Jar,
    pub startup: i64,
    pub resource: i64,
    pub grant: i64,
    pub token: String,
}

/// A JSON API request with a bearer token, as the park's other systems send one.
pub fn api_request(method: &str, path: &str, token: &str, body: Option<String>) -> Request<Body> {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ACCEPT, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    }
}

/// Pulls the token out of a link in an email body.
pub fn link_token(body: &str, marker: &str) -> String {
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} link in: {body}"))
        + marker.len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

#[derive(Clone)]
pub struct Jar {
    pub cookies: HashMap<String, String>,
    pub lang: String,
}

impl Default for Jar {
    fn default() -> Self {
        Jar {
            cookies: HashMap::new(),
            lang: "en-US,en;q=0.9".into(),
        }
    }
}

impl Jar {
    pub fn chinese() -> Self {
        Jar {
            cookies: HashMap::new(),
            lang: "zh-CN,zh;q=0.9".into(),
        }
    }

    pub fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn absorb(&mut self, res: &TestResponse) {
        for v in res.headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let first = v.split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// Where the browser ends up: the redirect's address, or for a rejected no-JS form drawn
    /// again, the page's address its script restores.
    pub fn location(&self) -> String {
        let loc = self
            .headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .or_else(|| self.redrawn_address())
            .unwrap_or_default();
        // Leptos leaves a bare `?` when it strips stale error parameters from the referer.
        let loc = loc.strip_prefix(ORIGIN).map(str::to_string).unwrap_or(loc);
        loc.strip_suffix('?').map(str::to_string).unwrap_or(loc)
    }

    /// The error a no-JS form post carries back to its page, decoded: from the redirect's
    /// address, or, when the rejected form's page was drawn again, from the page's address
    /// that its script puts back in the address bar (`history.replaceState`).
    pub fn error_param(&self) -> Option<domain::error::AppError> {
        use base64::Engine;
        let loc = self.location();
        let url = url::Url::parse(&format!("{ORIGIN}{loc}")).ok()?;
        let err = url.query_pairs().find(|(k, _)| k == "__err")?.1.to_string();
        let bytes = base64::engine::general_purpose::URL_SAFE.decode(err).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The page address a rejected no-JS form's redrawn page restores, if it is one.
    pub fn redrawn_address(&self) -> Option<String> {
        let start = self.body.find("history.replaceState(null,\"\",")? + 29;
        let rest = &self.body[start..];
        let end = rest.find(");")?;
        serde_json::from_str::<String>(&rest[..end]).ok()
    }

    pub fn error_key(&self) -> String {
        self.error_param()
            .map(|e| e.message_key().to_string())
            .unwrap_or_else(|| format!("no error; location {}", self.location()))
    }
}

/// A minimal SMTP server on a loopback port: enough protocol for lettre to deliver to it.
pub struct SmtpSink {
    pub port: u16,
    pub messages: std::sync::Arc<tokio::sync::Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.ok();
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(buf) = data.as_mut() {
                            if line == "." {
                                store.lock().await.push(std::mem::take(buf));
                                data = None;
                                write.write_all(b"250 2.0.0 queued\r\n").await.ok();
                            } else {
                                buf.push_str(line.strip_prefix('.').unwrap_or(&line));
                                buf.push('\n');
                            }
                            continue;
                        }
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") {
                            b"250-sink\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("DATA") {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        } else if upper.starts_with("QUIT") {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        } else {
                            b"250 ok\r\n"
                        };
                        write.write_all(reply).await.ok();
                    }
                });
            }
        });
        SmtpSink { port, messages }
    }
}
