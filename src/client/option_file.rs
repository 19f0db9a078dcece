//! Option files (`my.cnf`, `read_default_file` and `read_default_group`): the values they give
//! fill the connection options the caller left at their defaults, as in cymysql and PyMySQL.

use super::options::ConnectOptions;
use super::transport::Runtime;
use super::url::timeout_secs;
use crate::error::Error;
use crate::protocol::option_file::parse_option_file;

/// Which connection parameters the caller gave explicitly, so that they win over the values
/// of an option file (as in cymysql and PyMySQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Explicit {
    /// `host` was passed to `connect()`.
    pub host: bool,
    /// `user` was passed to `connect()`.
    pub user: bool,
    /// `passwd` (or `password`) was passed to `connect()`.
    pub passwd: bool,
    /// `db` (or `database`) was passed to `connect()`.
    pub db: bool,
    /// `port` was passed to `connect()`.
    pub port: bool,
    /// `charset` was passed to `connect()`.
    pub charset: bool,
}

/// Applies the options read from an option file (see
/// [`parse_option_file`]) to `opts`.
///
/// Pairs are applied in order, so a later pair wins over an earlier one; a field the caller set
/// explicitly (per `explicit`) is left alone. Keys used: `user`, `password`/`passwd`, `host`,
/// `port`, `database`/`db`, `default-character-set` (→ `charset`), `socket` (→ `unix_socket`),
/// `init-command`, `sql-mode`, `get-server-public-key`, and `read-timeout` / `write-timeout`
/// (seconds, as MariaDB Connector/C reads them). The last five only fill fields that are still
/// unset (or off), because [`ConnectOptions`] cannot tell an explicit value from a default there.
/// Keys may use `-` or `_`. Other keys (`compress`, `ssl-*`, server options) are ignored, and so
/// is a `port` that is not a number from 1 to 65535, a `get-server-public-key` that is not a
/// boolean, or a timeout that is not a positive number of seconds, since this function cannot
/// fail. Values are not checked here: [`ConnectOptions::validate`] refuses those that cannot be
/// sent, at connect.
pub fn apply_option_file(opts: &mut ConnectOptions, pairs: &[(String, String)], explicit: &Explicit) {
    let mut socket = None;
    let mut init_command = None;
    let mut sql_mode = None;
    let mut get_server_public_key = None;
    let mut read_timeout = None;
    let mut write_timeout = None;
    for (key, value) in pairs {
        match key.to_ascii_lowercase().replace('-', "_").as_str() {
            "user" if !explicit.user => opts.user.clone_from(value),
            "password" | "passwd" if !explicit.passwd => opts.passwd.clone_from(value),
            "host" if !explicit.host => opts.host.clone_from(value),
            "port" if !explicit.port => {
                if let Some(port) = value.trim().parse::<u16>().ok().filter(|&p| p != 0) {
                    opts.port = port;
                }
            }
            "database" | "db" if !explicit.db => opts.db = Some(value.clone()),
            "default_character_set" if !explicit.charset => opts.charset.clone_from(value),
            // Collected first so the last occurrence in the file wins over earlier ones, while
            // a value already in `opts` still wins over the file.
            "socket" => socket = Some(value),
            "init_command" => init_command = Some(value),
            "sql_mode" => sql_mode = Some(value),
            // A bare key turns the option on, as in MySQL's option files.
            "get_server_public_key" => match value.trim().to_ascii_lowercase().as_str() {
                "" | "1" | "true" | "on" | "yes" => get_server_public_key = Some(true),
                "0" | "false" | "off" | "no" => get_server_public_key = Some(false),
                _ => {}
            },
            "read_timeout" => read_timeout = timeout_secs(value).or(read_timeout),
            "write_timeout" => write_timeout = timeout_secs(value).or(write_timeout),
            _ => {}
        }
    }
    if !opts.get_server_public_key {
        opts.get_server_public_key = get_server_public_key.unwrap_or(false);
    }
    if opts.unix_socket.is_none() {
        opts.unix_socket = socket.cloned();
    }
    if opts.init_command.is_none() {
        opts.init_command = init_command.cloned();
    }
    if opts.sql_mode.is_none() {
        opts.sql_mode = sql_mode.cloned();
    }
    opts.read_timeout = opts.read_timeout.or(read_timeout);
    opts.write_timeout = opts.write_timeout.or(write_timeout);
}

/// Reads `read_default_file` and fills the options the caller left at their defaults.
pub(super) fn apply_default_file(options: &mut ConnectOptions, path: &str, runtime: &dyn Runtime) -> Result<(), Error> {
    let text = runtime.read_file(path)?;
    let mut groups = vec!["client"];
    if let Some(g) = options.read_default_group.as_deref() {
        groups.push(g);
    }
    let pairs = parse_option_file(&text, &groups);
    let defaults = ConnectOptions::default();
    let explicit = Explicit {
        host: options.host != defaults.host,
        user: options.user != defaults.user,
        passwd: options.passwd != defaults.passwd,
        db: options.db != defaults.db,
        port: options.port != defaults.port,
        charset: options.charset != defaults.charset,
    };
    apply_option_file(options, &pairs, &explicit);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::url::parse_url;
    use std::time::Duration;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn option_file_timeouts_fill_unset_ones() {
        let mut opts = ConnectOptions::default();
        let file = pairs(&[("read-timeout", "20"), ("write_timeout", "x"), ("read_timeout", "-1")]);
        apply_option_file(&mut opts, &file, &Explicit::default());
        assert_eq!(opts.read_timeout, Some(Duration::from_secs(20)), "an invalid later value is ignored");
        assert_eq!(opts.write_timeout, None);
        let mut opts = ConnectOptions { write_timeout: Some(Duration::from_secs(3)), ..ConnectOptions::default() };
        apply_option_file(&mut opts, &pairs(&[("write-timeout", "9")]), &Explicit::default());
        assert_eq!(opts.write_timeout, Some(Duration::from_secs(3)), "the caller's value wins");
    }

    #[test]
    fn option_file_fills_fields_not_given_explicitly() {
        let mut opts = ConnectOptions::default();
        let file = pairs(&[
            ("user", "file_user"),
            ("password", "file_pw"),
            ("host", "file-host"),
            ("port", "3310"),
            ("database", "file_db"),
            ("default-character-set", "latin1"),
            ("socket", "/run/mysqld/mysqld.sock"),
            ("init_command", "SET @a=1"),
            ("sql-mode", "ANSI"),
            ("compress", ""),
        ]);
        apply_option_file(&mut opts, &file, &Explicit::default());
        assert_eq!(opts.user, "file_user");
        assert_eq!(opts.passwd, "file_pw");
        assert_eq!(opts.host, "file-host");
        assert_eq!(opts.port, 3310);
        assert_eq!(opts.db.as_deref(), Some("file_db"));
        assert_eq!(opts.charset, "latin1");
        assert_eq!(opts.unix_socket.as_deref(), Some("/run/mysqld/mysqld.sock"));
        assert_eq!(opts.init_command.as_deref(), Some("SET @a=1"));
        assert_eq!(opts.sql_mode.as_deref(), Some("ANSI"));
        assert_eq!(opts.compress, None);
    }

    #[test]
    fn explicit_arguments_win_over_the_file() {
        let mut opts = ConnectOptions {
            host: "arg-host".into(),
            user: "arg_user".into(),
            passwd: "arg_pw".into(),
            db: Some("arg_db".into()),
            port: 3399,
            charset: "utf8mb4".into(),
            unix_socket: Some("/arg.sock".into()),
            init_command: Some("SET @arg=1".into()),
            ..ConnectOptions::default()
        };
        let explicit = Explicit { host: true, user: true, passwd: true, db: true, port: true, charset: true };
        let file = pairs(&[
            ("user", "f"),
            ("passwd", "f"),
            ("host", "f"),
            ("port", "1"),
            ("db", "f"),
            ("default_character_set", "latin1"),
            ("socket", "/f.sock"),
            ("init-command", "SET @f=1"),
        ]);
        let before = opts.clone();
        apply_option_file(&mut opts, &file, &explicit);
        assert!(opts == before, "{opts:?}");
    }

    #[test]
    fn later_pairs_win_and_bad_ports_are_ignored() {
        let mut opts = ConnectOptions::default();
        let file = pairs(&[
            ("user", "first"),
            ("user", "second"),
            ("passwd", "one"),
            ("password", "two"),
            ("port", "3310"),
            ("port", "not-a-port"),
            ("port", "70000"),
            ("socket", "/a.sock"),
            ("socket", "/b.sock"),
            ("USER", "third"),
        ]);
        apply_option_file(&mut opts, &file, &Explicit { host: true, ..Explicit::default() });
        assert_eq!(opts.user, "third");
        assert_eq!(opts.passwd, "two");
        assert_eq!(opts.port, 3310);
        assert_eq!(opts.unix_socket.as_deref(), Some("/b.sock"));
        assert_eq!(opts.host, "localhost");
    }

    #[test]
    fn url_and_option_file_together() {
        let text = "[client]\nuser=file_user\npassword=\"file pw\"\nport=3311\n";
        let mut opts = parse_url("mysql://url_user@db.local/app").unwrap();
        let file = crate::protocol::option_file::parse_option_file(text, &["client"]);
        let explicit = Explicit { host: true, user: true, db: true, ..Explicit::default() };
        apply_option_file(&mut opts, &file, &explicit);
        assert_eq!(opts.user, "url_user");
        assert_eq!(opts.passwd, "file pw");
        assert_eq!(opts.host, "db.local");
        assert_eq!(opts.port, 3311);
        assert_eq!(opts.db.as_deref(), Some("app"));
    }

    #[test]
    fn option_file_get_server_public_key() {
        let mut opts = ConnectOptions::default();
        apply_option_file(&mut opts, &pairs(&[("get-server-public-key", "")]), &Explicit::default());
        assert!(opts.get_server_public_key, "a bare key turns it on");
        let mut opts = ConnectOptions::default();
        let file = pairs(&[("get_server_public_key", "1"), ("get_server_public_key", "0")]);
        apply_option_file(&mut opts, &file, &Explicit::default());
        assert!(!opts.get_server_public_key, "the last occurrence wins");
        let mut opts = ConnectOptions { get_server_public_key: true, ..ConnectOptions::default() };
        apply_option_file(&mut opts, &pairs(&[("get-server-public-key", "off")]), &Explicit::default());
        assert!(opts.get_server_public_key, "the caller's choice wins over the file");
        let mut opts = ConnectOptions::default();
        apply_option_file(&mut opts, &pairs(&[("get-server-public-key", "maybe")]), &Explicit::default());
        assert!(!opts.get_server_public_key);
    }

    #[test]
    fn option_file_values_with_nul_are_refused_at_validation() {
        let text = "[client]\nuser=root\0evil\ndatabase=db\0x\n";
        let file = crate::protocol::option_file::parse_option_file(text, &["client"]);
        let mut opts = ConnectOptions::default();
        apply_option_file(&mut opts, &file, &Explicit::default());
        match opts.validate() {
            Err(Error::Programming(m)) => assert!(m.starts_with("user") && !m.contains("evil"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
