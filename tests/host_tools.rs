//! The host's own pieces, without a component: what the command-line tool prints, the network
//! policy of `host-test run`, and the throwaway server. (Integration tests of host-test rather
//! than unit tests of its library, so that scripts/test does not compile the library, with its
//! wasmtime bindings, a second time as a test harness.)

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};

use host_test::command::{Allowed, Network};
use host_test::driver::{Column, DbError, ErrorKind, Value};
use host_test::render::*;
use host_test::server::{percent_encode, random_password, shared, sql_string, TestServer};
use serde_json::{json, Value as Json};

mod render {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal("plain ż 😀 \\ text"), "plain ż 😀 \\ text");
        assert_eq!(terminal("\u{1b}[31mred\u{7}\r\n\0\t"), "\\x1b[31mred\\x07\\r\\n\\0\\t");
        assert_eq!(terminal("a\u{7f}b\u{9b}c\u{85}"), "a\\x7fb\\u{009b}c\\u{0085}");
        assert_eq!(terminal("x\u{202e}y\u{2066}z"), "x\\u{202e}y\\u{2066}z");
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = terminal(&c.to_string());
            assert!(shown.starts_with('\\') && !shown.chars().any(char::is_control), "{c:?} -> {shown:?}");
        }
    }

    #[test]
    fn long_text_is_cut_with_a_marker() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "abc[... 1 more characters]");
        assert_eq!(cut("żółwie", 2), "żó[... 4 more characters]");
        let long = "x".repeat(1_000_000);
        let shown = cut(&long, MESSAGE_LIMIT);
        assert!(shown.starts_with(&"x".repeat(MESSAGE_LIMIT)), "{}", &shown[..20]);
        assert!(shown.ends_with("x[... 999000 more characters]"), "{}", &shown[shown.len() - 40..]);
    }

    fn db_error(kind: ErrorKind, code: Option<u16>, sqlstate: Option<&str>, message: &str) -> DbError {
        DbError { kind, code, sqlstate: sqlstate.map(str::to_string), message: message.to_string(), retryable: false }
    }

    #[test]
    fn errors_in_the_mariadb_clients_format() {
        let syntax =
            db_error(ErrorKind::Programming, Some(1064), Some("42000"), "You have an error in your SQL syntax");
        assert_eq!(error(&syntax), "ERROR 1064 (42000): You have an error in your SQL syntax");
        let refused = db_error(
            ErrorKind::Operational,
            Some(2003),
            None,
            "Can't connect to MySQL server on '127.0.0.1:1' (connection refused)",
        );
        assert_eq!(
            error(&refused),
            "ERROR 2003 (HY000): Can't connect to MySQL server on '127.0.0.1:1' (connection refused)"
        );
        let no_code = db_error(ErrorKind::Programming, None, None, "unknown option 'x'");
        assert_eq!(error(&no_code), "ERROR: ProgrammingError: unknown option 'x'");
        let hostile = db_error(
            ErrorKind::Operational,
            Some(1105),
            Some("HY\u{1b}00"),
            &format!("\u{1b}]0;owned\u{7}{}", "y".repeat(5000)),
        );
        let shown = error(&hostile);
        assert!(shown.starts_with("ERROR 1105 (HY\\x1b00): \\x1b]0;owned\\x07yyy"), "{}", &shown[..40]);
        assert!(shown.ends_with("[... 4010 more characters]"), "{}", &shown[shown.len() - 40..]);
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn non_finite_floats_are_not_null_in_json() {
        assert_eq!(json_value(&Value::Double(f64::INFINITY)), json!("Infinity"));
        assert_eq!(json_value(&Value::Double(f64::NEG_INFINITY)), json!("-Infinity"));
        assert_eq!(json_value(&Value::Double(f64::NAN)), json!("NaN"));
        assert_eq!(json_value(&Value::Float(f32::NAN)), json!("NaN"));
        assert_eq!(json_value(&Value::Float(f32::NEG_INFINITY)), json!("-Infinity"));
        assert_eq!(json_value(&Value::Double(-0.0)).to_string(), "-0.0");
        assert_eq!(json_value(&Value::Float(0.5)), json!(0.5));
        assert_eq!(json_value(&Value::Null), Json::Null);
    }

    #[test]
    fn table_escapes_cells_and_column_names() {
        let column = |name: &str| Column {
            name: name.to_string(),
            org_name: String::new(),
            table: String::new(),
            org_table: String::new(),
            schema: String::new(),
            type_code: 253,
            length: 0,
            decimals: 0,
            flags: 0,
            charset: 45,
            nullable: true,
        };
        let t = table(&[column("a\u{1b}[2J")], &[vec![Value::Text("x\ry\u{7}".into())]]);
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(t.contains("| a\\x1b[2J |") && t.contains("| x\\ry\\x07 |"), "{t}");
    }
}

mod network {
    use super::*;

    #[test]
    fn the_network_policy_allows_what_it_names_and_nothing_else() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        let default = Network::default();
        assert!(default.permits(addr("127.0.0.1:3306")) && default.permits(addr("[::1]:3306")));
        assert!(!default.permits(addr("10.0.0.7:3306")));
        let listed = Network {
            any: false,
            loopback: false,
            allow: vec!["10.0.0.7".parse().unwrap(), "10.0.0.8:3306".parse().unwrap()],
        };
        assert!(listed.permits(addr("10.0.0.7:1")) && listed.permits(addr("10.0.0.8:3306")));
        assert!(!listed.permits(addr("10.0.0.8:3307")) && !listed.permits(addr("127.0.0.1:3306")));
        assert!(Network { any: true, ..listed }.permits(addr("192.0.2.1:3306")));
        assert_eq!("[::1]".parse::<Allowed>(), Ok(Allowed::Ip("::1".parse().unwrap())));
        assert!("db.internal".parse::<Allowed>().is_err());
    }
}

mod server {
    use super::*;

    fn process_alive(pid: u32) -> bool {
        Command::new("kill").arg("-0").arg(pid.to_string()).stderr(Stdio::null()).status().unwrap().success()
    }

    /// Runs the mariadb client over TCP with the given extra arguments; true if it succeeded.
    fn tcp_login(server: &TestServer, args: &[&str]) -> bool {
        Command::new(server.client())
            .arg("--no-defaults")
            .arg("-h127.0.0.1")
            .arg(format!("-P{}", server.port))
            .args(args)
            .args(["-e", "SELECT 1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    #[test]
    fn server_starts_is_locked_down_and_stops_on_drop() {
        let server = TestServer::start().unwrap();
        assert_eq!(server.admin_sql("SELECT 1+1").unwrap().trim(), "2");
        assert_eq!(server.admin_sql("SHOW DATABASES LIKE 'test'").unwrap().trim(), "test");
        assert_eq!(
            server.admin_sql("SELECT @@character_set_server, @@max_allowed_packet").unwrap().trim(),
            "utf8mb4\t268435456"
        );
        assert_eq!(
            server
                .admin_sql("SELECT COUNT(*) FROM mysql.user WHERE User = '' OR authentication_string = ''")
                .unwrap()
                .trim(),
            // Only mariadb.sys (locked, no password) remains without one.
            "1"
        );

        assert!(!tcp_login(&server, &["-unobody"]), "an anonymous login succeeded");
        assert!(!tcp_login(&server, &["-uroot"]), "root logged in without a password");
        let password = format!("-p{}", server.root_password);
        assert!(tcp_login(&server, &["-uroot", &password]), "root@127.0.0.1 cannot log in");
        assert!(server.url("test").starts_with("mysql://root:"));
        assert!(!format!("{server:?}").contains(&server.root_password));

        let (pid, datadir, port) = (server.pid(), server.datadir().to_path_buf(), server.port);
        assert!(process_alive(pid));
        drop(server);
        assert!(!process_alive(pid), "mariadbd {pid} survived the drop");
        assert!(!datadir.exists(), "{} was not removed", datadir.display());
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
    }

    #[test]
    fn shared_server_is_started_once() {
        let first: *const TestServer = shared();
        let second: *const TestServer = shared();
        assert_eq!(first, second);
        assert_eq!(shared().admin_sql("SELECT 'shared'").unwrap().trim(), "shared");
    }

    #[test]
    fn helpers() {
        assert_eq!(sql_string("it's a \\ test"), "'it''s a \\\\ test'");
        assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
        let password = random_password();
        assert_eq!(password.len(), 24);
        assert!(password.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(password, random_password());
    }
}
