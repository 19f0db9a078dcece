//! A reader for MySQL option files (`my.cnf`), as the client library reads them for
//! `read_default_file` / `read_default_group`.
//!
//! The rules follow `search_default_file_with_buffers()` in MySQL's and MariaDB's
//! `mysys/my_default.c`, so a file means here what it means to the `mysql` command-line client:
//!
//! - lines starting with `#` or `;` are comments; `#` outside quotes also ends a value
//!   (`password=abc#def` is `abc`, as in MySQL: quote values that contain `#`);
//! - `[group]` starts a group; group names compare case-insensitively;
//! - `key`, `key=value` and `key = value`; a key without a value gives the value `""`;
//! - a value wrapped in matching `'..'` or `".."` loses the quotes;
//! - the escapes `\n \t \r \b \s \\ \' \"` are processed in every value, quoted or not
//!   (an unknown escape keeps its backslash, so `C:\temp` still needs `C:\\temp` or `C:/temp`);
//! - `!include` and `!includedir` are skipped: reading other files is the caller's business;
//! - the `loose-` prefix, which only tells the client not to fail on unknown options, is dropped;
//! - a NUL byte is kept in its value, where MySQL's C reader would silently cut the line: values
//!   that cannot be sent are then refused by `ConnectOptions::validate` at connect, not shortened.

/// Reads the options of the named groups of a `my.cnf` text, in file order.
///
/// Keys are normalised to lower case with `-` turned into `_` (`default-character-set` gives
/// `default_character_set`). Options of other groups, and options before the first group
/// header, are left out. When a key occurs twice, both pairs are returned: the caller lets the
/// later one win, as the client library does.
pub fn parse_option_file(text: &str, groups: &[&str]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    // MySQL ignores (with a warning) options that come before any group header.
    let mut in_selected_group = false;

    // Files saved by Windows editors may start with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for raw_line in text.lines() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('!') {
            // `!include FILE` / `!includedir DIR`: the caller decides which files to read.
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            in_selected_group = match header.find(']') {
                Some(end) => {
                    let name = header.get(..end).unwrap_or_default().trim();
                    groups.iter().any(|g| g.trim().eq_ignore_ascii_case(name))
                }
                // A header without `]` is an error for MySQL; its options must not leak into
                // the group before it.
                None => false,
            };
            continue;
        }
        if !in_selected_group {
            continue;
        }
        if let Some(pair) = parse_option_line(line) {
            pairs.push(pair);
        }
    }
    pairs
}

/// Splits one `key[=value]` line (already trimmed, not a comment) into a normalised pair.
fn parse_option_line(line: &str) -> Option<(String, String)> {
    let line = remove_end_comment(line).trim_end();
    let (raw_key, raw_value) = match line.split_once('=') {
        Some((key, value)) => (key, value.trim()),
        None => (line, ""),
    };
    let key = normalize_key(raw_key.trim());
    if key.is_empty() {
        return None;
    }
    Some((key, unquote_and_unescape(raw_value)))
}

/// `Default-Character-Set` → `default_character_set`; `loose-compress` → `compress`.
fn normalize_key(key: &str) -> String {
    let key = key.to_ascii_lowercase().replace('-', "_");
    match key.strip_prefix("loose_") {
        Some(rest) => rest.to_string(),
        None => key,
    }
}

/// Cuts the line at the first `#` outside quotes, as MySQL's `remove_end_comment()` does.
fn remove_end_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (pos, c) in line.char_indices() {
        if (c == '\'' || c == '"') && !escaped {
            match quote {
                None => quote = Some(c),
                Some(open) if open == c => quote = None,
                Some(_) => {}
            }
        }
        if quote.is_none() && c == '#' {
            return line.get(..pos).unwrap_or(line);
        }
        // A backslash only protects a quote character inside a quoted value.
        escaped = quote.is_some() && c == '\\' && !escaped;
    }
    line
}

/// Strips one pair of matching surrounding quotes, then processes backslash escapes.
fn unquote_and_unescape(value: &str) -> String {
    let inner =
        ['\'', '"'].iter().find_map(|&q| value.strip_prefix(q).and_then(|rest| rest.strip_suffix(q))).unwrap_or(value);

    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('s') => out.push(' '),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some(other) => {
                // MySQL keeps unknown escapes verbatim, backslash included.
                out.push('\\');
                out.push(other);
            }
            // A trailing backslash is literal.
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MY_CNF: &str = "\
# /etc/mysql/my.cnf: the MariaDB configuration file
!includedir /etc/mysql/conf.d/
!include /etc/mysql/extra.cnf

stray-before-group = ignored

[client-server]
port = 3307

[Client]
# Full-line comment
; another full-line comment
user = app_user
password = \"s3cr#t pa\\\"ss\"   # trailing comment after a quoted value
host=db.example.com
port=3306
default-character-set=utf8mb4
socket = /run/mysqld/mysqld.sock
compress
loose-local-infile = 1
init-command='SET NAMES utf8mb4\\sCOLLATE utf8mb4_general_ci'
sql-mode = STRICT_TRANS_TABLES,NO_ZERO_DATE # comment after an unquoted value
ssl-ca = C:\\\\certs\\\\ca.pem

[mysqldump]
quick
max_allowed_packet = 16M

[cymysql]
DataBase = reports
user = override_user
empty_value =
";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_client_group_of_a_realistic_file() {
        let got = parse_option_file(MY_CNF, &["client"]);
        assert_eq!(
            got,
            pairs(&[
                ("user", "app_user"),
                ("password", "s3cr#t pa\"ss"),
                ("host", "db.example.com"),
                ("port", "3306"),
                ("default_character_set", "utf8mb4"),
                ("socket", "/run/mysqld/mysqld.sock"),
                ("compress", ""),
                ("local_infile", "1"),
                ("init_command", "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci"),
                ("sql_mode", "STRICT_TRANS_TABLES,NO_ZERO_DATE"),
                ("ssl_ca", "C:\\certs\\ca.pem"),
            ])
        );
    }

    #[test]
    fn reads_several_groups_in_file_order() {
        let got = parse_option_file(MY_CNF, &["cymysql", "client-server"]);
        assert_eq!(
            got,
            pairs(&[("port", "3307"), ("database", "reports"), ("user", "override_user"), ("empty_value", ""),])
        );
    }

    #[test]
    fn group_names_are_case_insensitive() {
        let text = "[CLIENT]\nuser=a\n[client]\nuser=b\n";
        assert_eq!(parse_option_file(text, &["Client"]), pairs(&[("user", "a"), ("user", "b")]));
    }

    #[test]
    fn options_outside_selected_groups_are_ignored() {
        assert!(parse_option_file(MY_CNF, &["mysqld"]).is_empty());
        assert!(parse_option_file(MY_CNF, &[]).is_empty());
        assert!(parse_option_file("user=x\n", &["client"]).is_empty());
    }

    #[test]
    fn hash_outside_quotes_starts_a_comment_as_in_mysql() {
        let got = parse_option_file("[client]\npassword=abc#def\nuser='o#k'\n", &["client"]);
        assert_eq!(got, pairs(&[("password", "abc"), ("user", "o#k")]));
    }

    #[test]
    fn quotes_and_escapes() {
        let text = "[client]\n\
                    a='single'\n\
                    b=\"double\"\n\
                    c='mismatched\"\n\
                    d=tab\\there\n\
                    e='it\\'s'\n\
                    f=unknown\\qescape\n\
                    g=trailing\\\n\
                    h=''\n\
                    i=\"a\\nb\\\\c\\rd\\be\"\n";
        let got = parse_option_file(text, &["client"]);
        assert_eq!(
            got,
            pairs(&[
                ("a", "single"),
                ("b", "double"),
                ("c", "'mismatched\""),
                ("d", "tab\there"),
                ("e", "it's"),
                ("f", "unknown\\qescape"),
                ("g", "trailing\\"),
                ("h", ""),
                ("i", "a\nb\\c\rd\u{8}e"),
            ])
        );
    }

    #[test]
    fn tolerates_crlf_bom_and_malformed_lines() {
        let text = "\u{feff}[client]\r\nuser = win\r\n= no key\r\n[broken\r\nhost=hidden\r\n";
        assert_eq!(parse_option_file(text, &["client"]), pairs(&[("user", "win")]));
    }

    #[test]
    fn non_ascii_values_survive() {
        let text = "[client]\npassword=\"pässwörd ✓\" # ü\n";
        assert_eq!(parse_option_file(text, &["client"]), pairs(&[("password", "pässwörd ✓")]));
    }

    #[test]
    fn a_nul_is_kept_not_cut() {
        let text = "[client]\nuser=root\0evil\npassword='a\0b'\n";
        assert_eq!(parse_option_file(text, &["client"]), pairs(&[("user", "root\0evil"), ("password", "a\0b")]));
    }
}
