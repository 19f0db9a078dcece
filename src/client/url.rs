//! Connection URLs (`mysql://user:pass@host:port/db?charset=..`), turned into [`ConnectOptions`]
//! (option files are in [`option_file`](super::option_file)).
//!
//! Errors from this module never quote the password, nor anything from the part of the URL
//! before the host where a mistyped password could end up: they name the faulty component
//! instead, because connection strings end up in logs.

use std::time::Duration;

use crate::client::options::{
    ConnectOptions, CursorClass, DecimalFormat, Endpoint, HaOptions, JsonFormat, SslOptions, Strategy, TemporalFormat,
};
use crate::error::Error;

/// The MySQL classic protocol port, used when the URL names none.
const DEFAULT_PORT: u16 = 3306;

/// PyMySQL's upper bound for `connect_timeout` (one year), also applied here.
const MAX_CONNECT_TIMEOUT_SECS: f64 = 31_536_000.0;

/// Longest query key quoted back in an error message.
const MAX_QUOTED_KEY_LEN: usize = 64;

/// Parses a `mysql://` (or `mariadb://`) connection URL.
///
/// The form is `mysql://[user[:password]@]host[:port][/database][?key=value&...]`, where the
/// host may be an IPv6 literal in brackets (`[::1]:3306`). User, password, database and query
/// values are percent-decoded (`+` is a space in the query, as in HTML forms). Missing parts
/// keep the values of [`ConnectOptions::default()`], except the user, which is empty.
///
/// Query keys: `charset`, `connect_timeout`, `read_timeout`, `write_timeout` and
/// `statement_timeout` (seconds), `sql_mode`, `init_command`,
/// `autocommit` and `local_infile` (`true`/`false`), `compress` (`zlib` or `zstd`),
/// `client_flag` (a number), `ssl` (`true`, `false`, `verify_ca`, `verify_identity`),
/// `allow_cleartext_password` and `get_server_public_key` (`true`/`false`), `server_public_key`
/// (PEM text, percent-encoded, `+` as `%2B`) and `max_result_bytes` (bytes, with an optional `K`,
/// `M` or `G` suffix as in my.cnf, e.g. `64M`), `prepared_execution` (`true`/`false`) and
/// `statement_cache_size` (a number).
/// Result conversions: `decimal` (`text`, the default, or `double`), `temporal` (`record`, the
/// default, or `iso-text`), `json` (`json`, the default, or `text`); `cursorclass` (`Cursor`,
/// `DictCursor`, `SSCursor` or `SSDictCursor`) picks what `default_cursor` makes.
/// A host list `h1:3306,h2:3307,h3` fills [`ConnectOptions::ha`], with `ha` (`sequential`,
/// the default, `loadbalance` or `replication`), `retry_down_after` (seconds), `failover`, `read_only`
/// (under `replication`, a connection to a replica), and for Galera clusters `galera` (take only Synced nodes) and `wsrep_sync_wait` (causal reads).
/// An unknown key or an invalid value is an [`Error::Programming`], and so is a value that cannot
/// be sent in its field (a `%00` in the user name, database or a query value: see
/// [`ConnectOptions::validate`]).
pub fn parse_url(url: &str) -> Result<ConnectOptions, Error> {
    let (scheme, rest) =
        url.split_once("://").ok_or_else(|| invalid("the URL must start with mysql:// or mariadb://"))?;
    if !scheme.eq_ignore_ascii_case("mysql") && !scheme.eq_ignore_ascii_case("mariadb") {
        // The scheme is quoted only when it looks like one, so a malformed URL whose "scheme"
        // is really `user:password@host` is not echoed.
        return Err(if is_scheme_like(scheme) {
            invalid(&format!("unsupported URL scheme '{scheme}': expected mysql:// or mariadb://"))
        } else {
            invalid("the URL must start with mysql:// or mariadb://")
        });
    }

    // The authority ends at the first '/', '?' or '#', as in the WHATWG URL standard.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after_authority) = rest.split_at(authority_end);
    if after_authority.contains('#') {
        return Err(invalid("the URL has a '#' fragment: percent-encode '#' as %23 in passwords and values"));
    }
    let (path, query) = match after_authority.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (after_authority, None),
    };

    let mut opts = ConnectOptions { user: String::new(), ..ConnectOptions::default() };

    // The last '@' separates the user info, so an unencoded '@' in a password still works.
    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            let (user, passwd) = match userinfo.split_once(':') {
                Some((user, passwd)) => (user, Some(passwd)),
                None => (userinfo, None),
            };
            opts.user = percent_decode(user, false, "user name")?;
            if let Some(passwd) = passwd {
                opts.passwd = percent_decode(passwd, false, "password")?;
            }
            host_port
        }
        None => authority,
    };
    // A host list, `h1:3306,h2:3307,h3`: the first is the host, all are the list.
    let mut endpoints = Vec::new();
    for part in host_port.split(',') {
        let (host, port) = split_host_port(part)?;
        endpoints.push(Endpoint { host: if host.is_empty() { opts.host.clone() } else { host.to_string() }, port });
    }
    if let Some(first) = endpoints.first() {
        opts.host.clone_from(&first.host);
        opts.port = first.port;
    }
    if endpoints.len() > 1 {
        if endpoints.iter().any(|e| e.host.is_empty()) || host_port.split(',').any(str::is_empty) {
            return Err(invalid("a host of the URL's host list is empty"));
        }
        opts.ha = Some(HaOptions { endpoints, ..HaOptions::single("", 0) });
    }

    let db = path.strip_prefix('/').unwrap_or(path);
    if !db.is_empty() {
        opts.db = Some(percent_decode(db, false, "database name")?);
    }

    for param in query.unwrap_or_default().split('&') {
        if param.is_empty() {
            continue;
        }
        let (raw_key, raw_value) = param.split_once('=').unwrap_or((param, ""));
        let key = percent_decode(raw_key, true, "query parameter name")?;
        let value = percent_decode(raw_value, true, "query parameter value")?;
        apply_query_param(&mut opts, &key, value)?;
    }
    opts.validate()?;
    Ok(opts)
}

/// Applies one decoded `key=value` of the URL's query.
fn apply_query_param(opts: &mut ConnectOptions, key: &str, value: String) -> Result<(), Error> {
    match key {
        "charset" => {
            if value.is_empty() {
                return Err(invalid("URL parameter 'charset' must not be empty"));
            }
            opts.charset = value;
        }
        "connect_timeout" => opts.connect_timeout = Some(parse_timeout(key, &value)?),
        "read_timeout" => opts.read_timeout = Some(parse_timeout(key, &value)?),
        "write_timeout" => opts.write_timeout = Some(parse_timeout(key, &value)?),
        "statement_timeout" => opts.statement_timeout = Some(parse_timeout(key, &value)?),
        "sql_mode" => opts.sql_mode = Some(value),
        "init_command" => opts.init_command = Some(value),
        "autocommit" => opts.autocommit = Some(parse_bool(key, &value)?),
        "local_infile" => opts.local_infile = parse_bool(key, &value)?,
        "allow_cleartext_password" => opts.allow_cleartext_password = parse_bool(key, &value)?,
        "get_server_public_key" => opts.get_server_public_key = parse_bool(key, &value)?,
        // Checked at connect, with the other connection-time checks.
        "server_public_key" => opts.server_public_key = Some(value),
        "max_result_bytes" => opts.max_result_bytes = parse_size(&value)?,
        "prepared_execution" => opts.prepared_execution = parse_bool(key, &value)?,
        "statement_cache_size" => {
            opts.statement_cache_size = value
                .parse()
                .map_err(|_| invalid("URL parameter 'statement_cache_size' must be a number of statements"))?
        }
        "ha" => {
            let strategy = Strategy::from_name(&value)
                .ok_or_else(|| invalid("URL parameter 'ha' must be sequential, loadbalance or replication"))?;
            ha_of(opts).strategy = strategy;
        }
        "retry_down_after" => ha_of(opts).retry_down_after = parse_timeout(key, &value)?,
        "failover" => ha_of(opts).failover = parse_bool(key, &value)?,
        "galera" => ha_of(opts).galera = parse_bool(key, &value)?,
        "read_only" => ha_of(opts).read_only = parse_bool(key, &value)?,
        "wsrep_sync_wait" => {
            let mask = value.parse::<u8>().ok().filter(|m| *m <= 15);
            ha_of(opts).wsrep_sync_wait =
                Some(mask.ok_or_else(|| invalid("URL parameter 'wsrep_sync_wait' must be a number from 0 to 15"))?);
        }
        "compress" => match value.as_str() {
            "zlib" | "zstd" => opts.compress = Some(value),
            _ => return Err(invalid("URL parameter 'compress' must be 'zlib' or 'zstd'")),
        },
        "decimal" => {
            opts.conversions.decimal = match value.as_str() {
                "text" => DecimalFormat::Text,
                "double" => DecimalFormat::Double,
                _ => return Err(invalid("URL parameter 'decimal' must be 'text' or 'double'")),
            };
        }
        "temporal" => {
            opts.conversions.temporal = match value.as_str() {
                "record" => TemporalFormat::Record,
                "iso-text" | "iso_text" => TemporalFormat::IsoText,
                _ => return Err(invalid("URL parameter 'temporal' must be 'record' or 'iso-text'")),
            };
        }
        "json" => {
            opts.conversions.json = match value.as_str() {
                "json" => JsonFormat::Json,
                "text" => JsonFormat::Text,
                _ => return Err(invalid("URL parameter 'json' must be 'json' or 'text'")),
            };
        }
        "cursorclass" => {
            opts.cursorclass = CursorClass::from_name(&value).ok_or_else(|| {
                invalid("URL parameter 'cursorclass' must be Cursor, DictCursor, SSCursor or SSDictCursor")
            })?;
        }
        "client_flag" => {
            opts.client_flag = value
                .parse::<u32>()
                .map_err(|_| invalid("URL parameter 'client_flag' must be an unsigned 32-bit number"))?;
        }
        "ssl" => {
            opts.ssl = match value.as_str() {
                "false" | "0" => None,
                "true" | "1" => Some(SslOptions::default()),
                "verify_ca" => Some(SslOptions { verify_cert: true, ..SslOptions::default() }),
                "verify_identity" => {
                    Some(SslOptions { verify_cert: true, verify_identity: true, ..SslOptions::default() })
                }
                _ => return Err(invalid("URL parameter 'ssl' must be true, false, verify_ca or verify_identity")),
            };
        }
        _ => {
            // Keys are quoted only when they look like identifiers: a password containing an
            // unencoded '?' spills into the query, and must not reach a log through here.
            let looks_like_key = !key.is_empty()
                && key.len() <= MAX_QUOTED_KEY_LEN
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            return Err(if looks_like_key {
                invalid(&format!("unknown URL parameter '{key}'"))
            } else {
                invalid("unknown URL parameter (a password with '?' must be percent-encoded)")
            });
        }
    }
    Ok(())
}

/// The URL's host list, made of its one host when the URL names only one.
fn ha_of(opts: &mut ConnectOptions) -> &mut HaOptions {
    let (host, port) = (opts.host.clone(), opts.port);
    opts.ha.get_or_insert_with(|| HaOptions::single(&host, port))
}

/// Splits `host[:port]` or `[v6]:port`; the port defaults to 3306.
fn split_host_port(host_port: &str) -> Result<(&str, u16), Error> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (v6, after) =
            bracketed.split_once(']').ok_or_else(|| invalid("unterminated '[' in the URL's IPv6 host"))?;
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(invalid("invalid IPv6 address in the URL's host"));
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| invalid("unexpected text after the URL's IPv6 host"))?),
        };
        (v6, port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(digits) => digits
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| invalid("the URL's port must be a number from 1 to 65535"))?,
    };
    Ok((host, port))
}

/// A timeout in seconds, fractions allowed; 0 < t <= one year.
fn parse_timeout(key: &str, value: &str) -> Result<Duration, Error> {
    let bad =
        || invalid(&format!("URL parameter '{key}' must be a number of seconds greater than 0 and at most 31536000"));
    timeout_secs(value).ok_or_else(bad)
}

/// Seconds as PyMySQL takes them for its timeouts: greater than 0, at most one year.
pub(super) fn timeout_secs(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if !(secs > 0.0 && secs <= MAX_CONNECT_TIMEOUT_SECS) {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// A byte count greater than 0, with an optional 1024-based `K`, `M` or `G` suffix (my.cnf style).
fn parse_size(value: &str) -> Result<u64, Error> {
    let bad = || {
        invalid("URL parameter 'max_result_bytes' must be a number of bytes greater than 0 (suffix K, M or G allowed)")
    };
    let (digits, shift) = match value.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&value[..value.len() - 1], 10),
        Some(b'M') => (&value[..value.len() - 1], 20),
        Some(b'G') => (&value[..value.len() - 1], 30),
        _ => (value, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(1 << shift).filter(|&n| n > 0).ok_or_else(bad)
}

fn parse_bool(key: &str, value: &str) -> Result<bool, Error> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(invalid(&format!("URL parameter '{key}' must be true or false"))),
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`), requiring UTF-8.
///
/// `what` names the component in the error; the text itself is never quoted since it may be
/// (part of) a password.
fn percent_decode(text: &str, plus_is_space: bool, what: &str) -> Result<String, Error> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'%' => {
                let decoded = match rest {
                    [hi, lo, ..] => hex_value(*hi).zip(hex_value(*lo)).map(|(h, l)| (h << 4) | l),
                    _ => None,
                };
                let decoded =
                    decoded.ok_or_else(|| invalid(&format!("invalid percent-encoding in the URL's {what}")))?;
                bytes.push(decoded);
                rest = rest.get(2..).unwrap_or_default();
            }
            b'+' if plus_is_space => bytes.push(b' '),
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).map_err(|_| invalid(&format!("the URL's {what} is not UTF-8 after percent-decoding")))
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn is_scheme_like(scheme: &str) -> bool {
    scheme.len() <= 32
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
}

fn invalid(message: &str) -> Error {
    Error::Programming(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let opts = parse_url(
            "mysql://app:s3cret@db.example.com:3307/shop?charset=latin1&connect_timeout=2.5\
             &sql_mode=ANSI_QUOTES&init_command=SET%20%40x%3D1&autocommit=true&compress=zlib\
             &local_infile=true&client_flag=65536&ssl=verify_identity&allow_cleartext_password=yes\
             &get_server_public_key=on&server_public_key=-----BEGIN%20PUBLIC%20KEY-----%0AMIIB%0A-----END%20PUBLIC%20KEY-----%0A",
        )
        .unwrap();
        assert_eq!(opts.user, "app");
        assert_eq!(opts.passwd, "s3cret");
        assert_eq!(opts.host, "db.example.com");
        assert_eq!(opts.port, 3307);
        assert_eq!(opts.db.as_deref(), Some("shop"));
        assert_eq!(opts.charset, "latin1");
        assert_eq!(opts.connect_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(opts.sql_mode.as_deref(), Some("ANSI_QUOTES"));
        assert_eq!(opts.init_command.as_deref(), Some("SET @x=1"));
        assert_eq!(opts.autocommit, Some(true));
        assert_eq!(opts.compress.as_deref(), Some("zlib"));
        assert!(opts.local_infile);
        assert_eq!(opts.client_flag, 65536);
        assert!(opts.allow_cleartext_password);
        assert!(opts.get_server_public_key);
        assert_eq!(
            opts.server_public_key.as_deref(),
            Some("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n")
        );
        let ssl = opts.ssl.unwrap();
        assert!(ssl.verify_cert && ssl.verify_identity);
    }

    #[test]
    fn prepared_execution_and_the_statement_cache_size() {
        let defaults = parse_url("mysql://h/").unwrap();
        assert_eq!((defaults.prepared_execution, defaults.statement_cache_size), (false, 16));
        let o = parse_url("mysql://h/?prepared_execution=true&statement_cache_size=0").unwrap();
        assert_eq!((o.prepared_execution, o.statement_cache_size), (true, 0));
        for bad in ["prepared_execution=yes2", "statement_cache_size=-1", "statement_cache_size=many"] {
            assert!(parse_url(&format!("mysql://h/?{bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn max_result_bytes_takes_a_size() {
        let size = |v: &str| parse_url(&format!("mysql://h/?max_result_bytes={v}")).map(|o| o.max_result_bytes);
        assert_eq!(parse_url("mysql://h/").unwrap().max_result_bytes, 256 << 20);
        assert_eq!(size("1048576"), Ok(1 << 20));
        assert_eq!(size("64k"), Ok(64 << 10));
        assert_eq!(size("64M"), Ok(64 << 20));
        assert_eq!(size("2G"), Ok(2 << 30));
        for bad in ["0", "", "M", "-1", "1.5M", "1T", "99999999999999999999", "17179869184G"] {
            let e = size(bad).unwrap_err();
            assert!(matches!(&e, Error::Programming(m) if m.contains("max_result_bytes")), "{bad}: {e:?}");
        }
    }

    #[test]
    fn minimal_url_keeps_defaults() {
        let opts = parse_url("mariadb://localhost").unwrap();
        let defaults = ConnectOptions::default();
        assert_eq!(opts.user, "");
        assert_eq!(opts.passwd, "");
        assert_eq!(opts.host, "localhost");
        assert_eq!(opts.port, 3306);
        assert_eq!(opts.db, None);
        assert_eq!(opts.charset, defaults.charset);
        assert_eq!(opts.autocommit, defaults.autocommit);
        assert_eq!(opts.connect_timeout, defaults.connect_timeout);
        assert_eq!(opts.ssl, None);
        assert!(!opts.allow_cleartext_password);
        assert!(!opts.get_server_public_key);
        assert_eq!(opts.server_public_key, None);

        let opts = parse_url("MySQL:///").unwrap();
        assert_eq!(opts.host, "localhost");
        assert_eq!(opts.db, None);
    }

    #[test]
    fn conversions_and_cursorclass() {
        let o = parse_url("mysql://u@h/db?decimal=double&temporal=iso-text&json=text&cursorclass=DictCursor").unwrap();
        assert_eq!(o.conversions.decimal, DecimalFormat::Double);
        assert_eq!(o.conversions.temporal, TemporalFormat::IsoText);
        assert_eq!(o.conversions.json, JsonFormat::Text);
        assert_eq!(o.cursorclass, CursorClass::DictCursor);
        let o = parse_url("mysql://u@h/db?decimal=text&temporal=record&json=json&cursorclass=sscursor").unwrap();
        assert!(o.conversions.is_default());
        assert_eq!(o.cursorclass, CursorClass::SSCursor);
        let o = parse_url("mysql://u@h/db").unwrap();
        assert!(o.conversions.is_default() && o.cursorclass == CursorClass::Cursor);
        for bad in ["decimal=float", "temporal=iso8601", "json=object", "cursorclass=Dict2"] {
            let e = parse_url(&format!("mysql://u@h/db?{bad}")).unwrap_err();
            let key = bad.split('=').next().unwrap_or_default();
            assert!(matches!(&e, Error::Programming(m) if m.contains(key)), "{bad}: {e:?}");
        }
    }

    #[test]
    fn ipv6_literals() {
        let opts = parse_url("mysql://root@[::1]:3310/test").unwrap();
        assert_eq!(opts.host, "::1");
        assert_eq!(opts.port, 3310);
        assert_eq!(opts.user, "root");
        let opts = parse_url("mysql://[fe80::1:2]/").unwrap();
        assert_eq!(opts.host, "fe80::1:2");
        assert_eq!(opts.port, 3306);
        assert!(parse_url("mysql://[::1/").is_err());
        assert!(parse_url("mysql://[::1]x/").is_err());
        assert!(parse_url("mysql://[zz]/").is_err());
    }

    #[test]
    fn percent_decoding_of_credentials_and_db() {
        let opts = parse_url("mysql://us%40er:p%3Aa%2Fss%20w%C3%B6rd+@h/my%2Ddb%20x").unwrap();
        assert_eq!(opts.user, "us@er");
        // '+' is literal outside the query.
        assert_eq!(opts.passwd, "p:a/ss wörd+");
        assert_eq!(opts.db.as_deref(), Some("my-db x"));
        let opts = parse_url("mysql://u@h/?init_command=SET+NAMES+utf8mb4").unwrap();
        assert_eq!(opts.init_command.as_deref(), Some("SET NAMES utf8mb4"));
    }

    #[test]
    fn unencoded_at_and_colon_in_password() {
        let opts = parse_url("mysql://user:p@ss:w@host:3308/db").unwrap();
        assert_eq!(opts.user, "user");
        assert_eq!(opts.passwd, "p@ss:w");
        assert_eq!(opts.host, "host");
        assert_eq!(opts.port, 3308);
        let opts = parse_url("mysql://user:@host").unwrap();
        assert_eq!(opts.passwd, "");
    }

    #[test]
    fn timeouts_in_seconds() {
        let opts = parse_url("mysql://h/?read_timeout=30&write_timeout=0.25&statement_timeout=1.5").unwrap();
        assert_eq!(opts.read_timeout, Some(Duration::from_secs(30)));
        assert_eq!(opts.write_timeout, Some(Duration::from_millis(250)));
        assert_eq!(opts.statement_timeout, Some(Duration::from_millis(1500)));
        let defaults = parse_url("mysql://h/").unwrap();
        assert_eq!((defaults.read_timeout, defaults.write_timeout, defaults.statement_timeout), (None, None, None));
        for key in ["read_timeout", "write_timeout", "statement_timeout"] {
            for value in ["0", "-2", "NaN", "inf", "soon", "31536001"] {
                let e = parse_url(&format!("mysql://h/?{key}={value}")).unwrap_err();
                assert!(e.to_string().contains(key), "{e}");
            }
        }
    }

    #[test]
    fn ssl_variants() {
        assert_eq!(parse_url("mysql://h/?ssl=false").unwrap().ssl, None);
        assert_eq!(parse_url("mysql://h/?ssl=true").unwrap().ssl, Some(SslOptions::default()));
        let ssl = parse_url("mysql://h/?ssl=verify_ca").unwrap().ssl.unwrap();
        assert!(ssl.verify_cert && !ssl.verify_identity);
        assert!(parse_url("mysql://h/?ssl=maybe").is_err());
    }

    #[test]
    fn errors_are_programming_errors_naming_the_problem() {
        let err = parse_url("mysql://h/db?charset=utf8&colour=blue").unwrap_err();
        assert!(matches!(err, Error::Programming(_)));
        assert!(err.to_string().contains("'colour'"), "{err}");

        for bad in [
            "mysql://h:99999/",
            "mysql://h:0/",
            "mysql://h:port/",
            "mysql://h/?connect_timeout=soon",
            "mysql://h/?connect_timeout=0",
            "mysql://h/?connect_timeout=-1",
            "mysql://h/?connect_timeout=NaN",
            "mysql://h/?connect_timeout=inf",
            "mysql://h/?client_flag=-1",
            "mysql://h/?client_flag=4294967296",
            "mysql://h/?autocommit=perhaps",
            "mysql://h/?local_infile=",
            "mysql://h/?allow_cleartext_password=maybe",
            "mysql://h/?compress=lz4",
            "mysql://h/?charset=",
            "mysql://h/db%",
            "mysql://h/db%4",
            "mysql://h/db%zz",
            "mysql://h/db%ff",
            "mysql://h/db#frag",
            "postgres://h/db",
            "h:3306/db",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert!(matches!(err, Error::Programming(_)), "{bad}: {err:?}");
        }
        let err = parse_url("postgres://h/db").unwrap_err();
        assert!(err.to_string().contains("'postgres'"), "{err}");
    }

    #[test]
    fn errors_never_contain_the_password() {
        const SECRET: &str = "Hunter2Secret";
        let bad_urls = [
            format!("mysql://root:{SECRET}@h:notaport/db"),
            format!("mysql://root:{SECRET}@h/db?connect_timeout=x"),
            format!("mysql://root:{SECRET}@h/db?unknown_key=1"),
            format!("mysql://root:{SECRET}%zz@h/db"),
            format!("mysql://root:{SECRET}%ff@h/db"),
            format!("mysql://root:{SECRET}@[::1/db"),
            format!("mysql://root:{SECRET}#x@h/db"),
            format!("mysql://root:pre?{SECRET}@h/db"),
            format!("mysql://root:pre?{SECRET}"),
            format!("mysql://root:pre/{SECRET}@h/db%"),
            format!("mysql://root:123?{SECRET}@h/db"),
            format!("mysql://root:{SECRET}@h/db?ssl=sometimes"),
            format!("root:{SECRET}@h/db"),
            format!("root:{SECRET}@h://x"),
        ];
        for url in &bad_urls {
            let err = parse_url(url).unwrap_err();
            assert!(!err.to_string().contains(SECRET), "Display leaks: {err}");
            assert!(!format!("{err:?}").contains(SECRET), "Debug leaks: {err:?}");
            assert!(!format!("{err:#?}").contains(SECRET), "Debug leaks: {err:#?}");
        }
        // A colon inside the password is part of it, not a port.
        assert_eq!(parse_url(&format!("mysql://root:{SECRET}:9@h")).unwrap().passwd, format!("{SECRET}:9"));
    }

    #[test]
    fn percent_encoded_nul_is_refused_where_it_cannot_travel() {
        let cases = [
            ("mysql://root%00%05AAAAAevil_db%00evil_plugin@host/realdb", "user"),
            ("mysql://root%00%00@host/", "user"),
            ("mysql://root@host/real%00db", "db"),
            ("mysql://root@host/db?charset=utf8mb4%00", "charset"),
            ("mysql://root@host/db?sql_mode=ANSI%00", "sql_mode"),
            ("mysql://root@host/db?init_command=SET+%40a%3D1%00DROP", "init_command"),
        ];
        for (url, field) in cases {
            match parse_url(url) {
                Err(Error::Programming(m)) => {
                    assert!(m.starts_with(field) && m.contains("NUL"), "{url}: {m}");
                    assert!(!m.contains("evil"), "{m}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        // Other parameters refuse a NUL through their own checks.
        for url in ["mysql://h/?compress=zlib%00", "mysql://h/?autocommit=1%00", "mysql://h/?connect_timeout=1%00"] {
            assert!(matches!(parse_url(url), Err(Error::Programming(_))), "{url}");
        }
        // Raw control characters in the host, which is not percent-decoded.
        assert!(matches!(parse_url("mysql://root@db\texample/x"), Err(Error::Programming(_))));
        // The password is checked by the plugin that would send it: native_password hashes any byte.
        assert_eq!(parse_url("mysql://root:pa%00ss@host/").unwrap().passwd, "pa\0ss");
    }
}
