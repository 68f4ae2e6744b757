//! The `hatchery` binary as an operator uses it.
use std::io::Write;
use std::process::{Command, Stdio};

fn hatchery(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hatchery"))
        .args(args)
        .env_clear()
        .env("HATCHERY_DATA_DIR", data_dir)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_first_admin_is_created_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = hatchery(dir.path(), &["migrate"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("hatchery.db").exists());

    let out = hatchery(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "Admin@Park.cn",
            "--name",
            "Park Admin",
            "--role",
            "admin",
        ],
        "a long enough password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("<admin@park.cn>"));

    // Again: refused, with the reason in words.
    let out = hatchery(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "admin@park.cn",
            "--name",
            "Twice",
            "--role",
            "admin",
        ],
        "a long enough password\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    let out = hatchery(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "m@park.cn",
            "--name",
            "M",
            "--role",
            "wizard",
        ],
        "a long enough password\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role \"wizard\""));

    let out = hatchery(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "m@park.cn",
            "--name",
            "M",
            "--role",
            "mentor",
        ],
        "short\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
}

#[test]
fn the_demo_loads_into_an_empty_database_only() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "demo",
        "--startups",
        "5",
        "--password",
        "a long enough password",
    ];
    let out = hatchery(dir.path(), &args, "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ledger_entries"), "{stdout}");
    assert!(stdout.contains("admin@demo.hatchery.example"), "{stdout}");
    assert!(stdout.contains("a long enough password"), "{stdout}");

    // Again: refused, with what is there and what to do instead.
    let out = hatchery(dir.path(), &args, "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already holds data"), "{err}");
    assert!(err.contains("HATCHERY_DATA_DIR"), "{err}");
}

#[test]
fn a_bad_setting_stops_the_server_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hatchery"))
        .arg("serve")
        .env_clear()
        .env("HATCHERY_DATA_DIR", dir.path())
        .env("HATCHERY_ADDR", "not-an-address")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("HATCHERY_ADDR"), "{err}");
}
