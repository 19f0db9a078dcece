//! The README's Rust 0.3 guest (examples/p3-guest: a `wasi:cli/command` of its own that uses
//! cymysql-wasi as a library over `wasi:sockets@0.3`) run as a command against the real MariaDB.

use std::sync::OnceLock;

use host_test::command::{CommandHost, Network, Output, Stdio};
use host_test::server::shared as server;

/// More than one batch of `query_stream` (256 rows), so the guest reads the socket again.
const USERS: usize = 600;

/// The URL of the database `p3_guest`, whose `users` table is the one the guest lists: three
/// named users, then `user4` .. `user600`.
fn database_url() -> String {
    static CREATED: OnceLock<()> = OnceLock::new();
    CREATED.get_or_init(|| {
        server()
            .admin_sql(&format!(
                "DROP DATABASE IF EXISTS p3_guest; CREATE DATABASE p3_guest; USE p3_guest; \
                 CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(40)) CHARACTER SET utf8mb4; \
                 INSERT INTO users VALUES (1, 'Ada'), (2, 'Grace'), (3, 'Zoë'); \
                 INSERT INTO users SELECT seq, CONCAT('user', seq) FROM seq_4_to_{USERS};"
            ))
            .expect("create p3_guest.users");
    });
    server().url("p3_guest")
}

fn run(env: &[(&str, &str)]) -> Output {
    CommandHost::p3_guest().run(&[], env, &Network::default(), Stdio::Capture).expect("the guest does not trap")
}

#[test]
fn lists_the_users_it_streamed() {
    let url = database_url();
    let out = run(&[("DATABASE_URL", &url)]);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{out:?}");
    let mut expected = String::from("1 Ada\n2 Grace\n3 Zoë\n");
    for id in 4..=USERS {
        expected.push_str(&format!("{id} user{id}\n"));
    }
    expected.push_str(&format!("{USERS} users\n"));
    assert_eq!(out.stdout, expected);
}

#[test]
fn a_wrong_password_exits_1_with_the_typed_error_and_no_password() {
    let url = database_url();
    let (head, host) = url.split_once('@').expect("user:password@host");
    let (user, password) = head.rsplit_once(':').expect("user:password");
    let wrong = "not-the-password-5d1c";
    let out = run(&[("DATABASE_URL", &format!("{user}:{wrong}@{host}"))]);
    assert_eq!((out.status, out.stdout.as_str()), (1, ""), "{out:?}");
    // Operational is the PEP 249 class of ER_ACCESS_DENIED_ERROR; 28000 its SQLSTATE.
    assert!(
        out.stderr.starts_with("OperationalError: (1045, '28000') Access denied for user 'root'@")
            && out.stderr.ends_with("(using password: YES)\n"),
        "{out:?}"
    );
    assert!(!out.stderr.contains(wrong) && !out.stderr.contains(password), "{out:?}");
}

#[test]
fn without_a_database_url_exits_1_with_a_programming_error() {
    let out = run(&[]);
    assert_eq!((out.status, out.stdout.as_str(), out.stderr.as_str()), (1, "", "ProgrammingError: set DATABASE_URL\n"));
}

#[test]
fn the_readme_shows_the_guest_that_is_built_and_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = std::fs::read_to_string(root.join("examples/p3-guest/src/lib.rs")).expect("the guest's source");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let shown = &source[source.find("use std::rc::Rc;").expect("the example starts at its first use")..];
    assert!(
        readme.contains(&format!("```rust\n{shown}```\n")),
        "README.md must show examples/p3-guest/src/lib.rs from `use std::rc::Rc;` on"
    );
}
