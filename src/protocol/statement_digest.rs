//! Statement digest text (MySQL's Performance Schema "statement digests", `STATEMENT_DIGEST_TEXT()`):
//! a statement with every literal value replaced by `?`, comments dropped and whitespace collapsed,
//! so statements that differ only in their values read the same, and no value shows.
//!
//! Strings, numbers, hex and bit literals, `%s` / `%(name)s` placeholders and `?` all become `?`; a
//! list of two or more of them in parentheses becomes `(...)`, and a run of such lists separated by
//! commas (the rows of a multi-row INSERT) one `(...)`. Double-quoted text counts as a string
//! literal whatever the sql_mode: reading an ANSI_QUOTES name as a value hides a name, while the
//! opposite would show a value. Identifiers and keywords are kept as written.

/// One piece of the digest being built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Text(&'a str),
    /// A literal value or a placeholder: `?`.
    Value,
    /// A parenthesized list of values: `(...)` (or `(?)` for a list of one).
    Values(usize),
    Space,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The end of the quoted text starting at `start` (on its opening quote `q`): past the closing quote,
/// or the end of `bytes` for an unterminated one. Backslash escapes and doubled quotes stay inside.
fn quoted_end(bytes: &[u8], start: usize, q: u8) -> usize {
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' && q != b'`' {
            i += 2;
            continue;
        }
        if b == q {
            if bytes.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// The end of the number starting at `start`, or `None` when what starts there is a name that
/// begins with digits (`1abc`, allowed in MySQL).
fn number_end(bytes: &[u8], start: usize) -> Option<usize> {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let word_end = |mut i: usize| {
        while is_word_byte(at(i)) {
            i += 1;
        }
        i
    };
    if at(start) == b'0' && matches!(at(start + 1), b'x' | b'X' | b'b' | b'B') {
        let end = word_end(start);
        let digits = bytes.get(start + 2..end).unwrap_or_default();
        let hex = matches!(at(start + 1), b'x' | b'X');
        let ok = !digits.is_empty()
            && digits.iter().all(|&d| if hex { d.is_ascii_hexdigit() } else { d == b'0' || d == b'1' });
        return ok.then_some(end);
    }
    let mut i = start;
    while at(i).is_ascii_digit() {
        i += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    if matches!(at(i), b'e' | b'E') {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    if is_word_byte(at(i)) {
        None
    } else {
        Some(i)
    }
}

/// Appends `token`, folding lists of values as they close.
fn push<'a>(out: &mut Vec<Token<'a>>, token: Token<'a>) {
    match token {
        Token::Space if matches!(out.last(), None | Some(Token::Space)) => {}
        Token::Text(")") => {
            // `(` value (`,` value)* `)`, spaces anywhere.
            let mut values = 0usize;
            let mut expect_value = true;
            let mut open = None;
            for (k, t) in out.iter().enumerate().rev() {
                match t {
                    Token::Space => {}
                    Token::Value if expect_value => {
                        values += 1;
                        expect_value = false;
                    }
                    Token::Text(",") if !expect_value => expect_value = true,
                    Token::Text("(") if !expect_value => {
                        open = Some(k);
                        break;
                    }
                    _ => break,
                }
            }
            let Some(open) = open else {
                out.push(token);
                return;
            };
            out.truncate(open);
            // A list following another across a comma joins it: the rows of one INSERT.
            let mut k = out.len();
            while k > 0 && out[k - 1] == Token::Space {
                k -= 1;
            }
            if k > 0 && out[k - 1] == Token::Text(",") {
                let mut j = k - 1;
                while j > 0 && out[j - 1] == Token::Space {
                    j -= 1;
                }
                if j > 0 {
                    if let Token::Values(n) = out[j - 1] {
                        out.truncate(j);
                        out[j - 1] = Token::Values(n + values);
                        return;
                    }
                }
            }
            out.push(Token::Values(values));
        }
        other => out.push(other),
    }
}

/// The digest text of `sql`. With `placeholders`, `%s`, `%(name)s` and `%%` are read as the
/// parameter markers of `execute(query, params)` (and `%%` as `%`); without, `%` is an operator.
pub fn digest_text(sql: &str, placeholders: bool) -> String {
    let bytes = sql.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let text = |from: usize, to: usize| sql.get(from..to).unwrap_or_default();
    let mut out: Vec<Token<'_>> = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        let b = at(i);
        let start = i;
        if b.is_ascii_whitespace() {
            while at(i).is_ascii_whitespace() && i < bytes.len() {
                i += 1;
            }
            push(&mut out, Token::Space);
        } else if b == b'#' || (b == b'-' && at(i + 1) == b'-' && (at(i + 2) <= b' ')) {
            while i < bytes.len() && at(i) != b'\n' {
                i += 1;
            }
            push(&mut out, Token::Space);
        } else if b == b'/' && at(i + 1) == b'*' {
            i += 2;
            while i < bytes.len() && !(at(i) == b'*' && at(i + 1) == b'/') {
                i += 1;
            }
            i = (i + 2).min(bytes.len());
            push(&mut out, Token::Space);
        } else if b == b'\'' || b == b'"' {
            i = quoted_end(bytes, i, b);
            push(&mut out, Token::Value);
        } else if b == b'`' {
            i = quoted_end(bytes, i, b);
            push(&mut out, Token::Text(text(start, i)));
        } else if b == b'?' {
            i += 1;
            push(&mut out, Token::Value);
        } else if b == b'%' && placeholders {
            match at(i + 1) {
                b'%' => {
                    i += 2;
                    push(&mut out, Token::Text("%"));
                }
                b's' => {
                    i += 2;
                    push(&mut out, Token::Value);
                }
                b'(' => match bytes.get(i..).and_then(|rest| rest.iter().position(|&c| c == b')')) {
                    Some(close) if at(i + close + 1) == b's' => {
                        i += close + 2;
                        push(&mut out, Token::Value);
                    }
                    _ => {
                        i += 1;
                        push(&mut out, Token::Text("%"));
                    }
                },
                _ => {
                    i += 1;
                    push(&mut out, Token::Text("%"));
                }
            }
        } else if b.is_ascii_digit()
            || (b == b'.' && at(i + 1).is_ascii_digit() && !matches!(out.last(), Some(Token::Text(_))))
        {
            match number_end(bytes, i) {
                Some(end) => {
                    i = end;
                    push(&mut out, Token::Value);
                }
                None => {
                    while is_word_byte(at(i)) {
                        i += 1;
                    }
                    push(&mut out, Token::Text(text(start, i)));
                }
            }
        } else if is_word_byte(b) {
            while is_word_byte(at(i)) {
                i += 1;
            }
            let word = text(start, i);
            // X'..', B'..', N'..' and introducers such as _utf8mb4'..' are literals.
            let prefix = matches!(word, "x" | "X" | "b" | "B" | "n" | "N") || word.starts_with('_');
            if prefix && at(i) == b'\'' {
                i = quoted_end(bytes, i, b'\'');
                push(&mut out, Token::Value);
            } else {
                push(&mut out, Token::Text(word));
            }
        } else {
            // One byte of punctuation (an ASCII byte: multi-byte characters are word bytes).
            i += 1;
            push(&mut out, Token::Text(text(start, i)));
        }
    }
    while out.last() == Some(&Token::Space) {
        out.pop();
    }
    let mut digest = String::with_capacity(sql.len().min(1024));
    for t in &out {
        match t {
            Token::Text(s) => digest.push_str(s),
            Token::Value => digest.push('?'),
            Token::Values(1) => digest.push_str("(?)"),
            Token::Values(_) => digest.push_str("(...)"),
            Token::Space if digest.is_empty() => {}
            Token::Space => digest.push(' '),
        }
    }
    digest
}

/// Whether `sql` may carry a password or a key in its text, so that only its digest may be
/// reported: account statements (`IDENTIFIED BY`, `SET PASSWORD`), replication set-up
/// (`MASTER_PASSWORD`, `SOURCE_PASSWORD`), `CREATE SERVER ... PASSWORD`, and the encryption
/// functions that take a key (`AES_ENCRYPT`, `DES_DECRYPT`, `ENCODE`, ...). Matched anywhere, in
/// any case, comments and literals included: a false alarm costs only detail.
pub fn may_carry_secret(sql: &str) -> bool {
    const MARKERS: [&[u8]; 6] = [b"PASSWORD", b"IDENTIFIED", b"ENCRYPT", b"DECRYPT", b"ENCODE", b"DECODE"];
    sql.as_bytes().windows(6).enumerate().any(|(i, w)| {
        MARKERS.iter().any(|m| {
            w.eq_ignore_ascii_case(&m[..6])
                && sql.as_bytes().get(i..i + m.len()).is_some_and(|s| s.eq_ignore_ascii_case(m))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_every_kind_become_question_marks() {
        let cases = [
            ("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?"),
            ("select a from t where name='O''Brien' and x=\"it\\\"s\"", "select a from t where name=? and x=?"),
            ("SELECT -1.5e10, .5, 0x1F, 0b101, X'ff', b'01', N'text', _utf8mb4'x'", "SELECT -?, ?, ?, ?, ?, ?, ?, ?"),
            ("SELECT t1.c2, 1abc FROM `t 3`", "SELECT t1.c2, 1abc FROM `t 3`"),
            ("SELECT col FROM t9 WHERE t9.col>=7", "SELECT col FROM t9 WHERE t9.col>=?"),
            ("SELECT 'unterminated", "SELECT ?"),
            ("SELECT ? , ?", "SELECT ? , ?"),
            ("SELECT 'é', `ü` FROM żółw WHERE a = 'żółw'", "SELECT ?, `ü` FROM żółw WHERE a = ?"),
        ];
        for (sql, want) in cases {
            assert_eq!(digest_text(sql, false), want, "{sql}");
        }
    }

    #[test]
    fn comments_go_and_whitespace_collapses() {
        let sql = "  SELECT /* a secret: 'x' */ 1\n\t-- trailing 2\n FROM t # more\n WHERE a=-3 ";
        assert_eq!(digest_text(sql, false), "SELECT ? FROM t WHERE a=-?");
        assert_eq!(digest_text("/*!40101 SET x = 5 */", false), "");
    }

    #[test]
    fn placeholders_are_values_only_in_execute_queries() {
        assert_eq!(digest_text("SELECT %s, %(name)s, '%s', 10 %% 3", true), "SELECT ?, ?, ?, ? % ?");
        // Without parameters `%` is the modulo operator and `s` a column.
        assert_eq!(digest_text("SELECT 10 %s FROM t", false), "SELECT ? %s FROM t");
        assert_eq!(digest_text("SELECT %(unclosed", true), "SELECT %(unclosed");
    }

    #[test]
    fn lists_of_values_fold_so_statements_differing_in_length_read_the_same() {
        let a = digest_text("SELECT * FROM t WHERE id IN (1, 2, 3)", false);
        let b = digest_text("SELECT * FROM t WHERE id IN (%s,%s)", true);
        assert_eq!(a, "SELECT * FROM t WHERE id IN (...)");
        assert_eq!(a, b);
        let rows = digest_text("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y') , (3,'z')", false);
        assert_eq!(rows, "INSERT INTO t (a, b) VALUES (...)");
        assert_eq!(digest_text("INSERT INTO t VALUES (%s),(%s)", true), "INSERT INTO t VALUES (...)");
        // One value in parentheses, and names, stay.
        assert_eq!(digest_text("SELECT f(1), (a, b) FROM t", false), "SELECT f(?), (a, b) FROM t");
        assert_eq!(digest_text("SELECT ((1, 2))", false), "SELECT ((...))");
    }

    #[test]
    fn no_value_survives_whatever_the_bytes() {
        // Hostile or broken input never panics and never shows a value.
        for (sql, want) in [
            ("'", "?"),
            ("\"\\", "?"),
            ("X'", "?"),
            ("_'", "?"),
            ("1e", "1e"),
            ("1e+", "1e+"),
            (".5", "?"),
            ("%(", "%("),
            ("%", "%"),
            ("/*", ""),
            ("--", ""),
            ("`", "`"),
            ("\u{0}", "\u{0}"),
        ] {
            assert_eq!(digest_text(sql, true), want, "{sql:?}");
        }
        // Not a hex literal but a name, as MySQL reads it.
        assert_eq!(digest_text("SELECT 0xZZ, 0x", false), "SELECT 0xZZ, 0x");
    }

    #[test]
    fn statements_that_may_carry_a_password_or_key_are_recognised() {
        for sql in [
            "ALTER USER u IDENTIFIED BY 'pw'",
            "create user u identified via ed25519 using password('pw')",
            "SET PASSWORD FOR u = PASSWORD('pw')",
            "CHANGE MASTER TO MASTER_HOST='h', MASTER_PASSWORD='pw'",
            "CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD='pw'",
            "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER 'u', PASSWORD 'pw')",
            "SELECT AES_ENCRYPT('x', 'key'), des_decrypt(y, 'k'), ENCODE('a', 'b')",
            "GRANT ALL ON *.* TO u /*!50000 IDENTIFIED BY 'pw' */",
        ] {
            assert!(may_carry_secret(sql), "{sql}");
        }
        for sql in ["SELECT 1", "INSERT INTO t VALUES ('a')", "UPDATE users SET name = 'p' WHERE id = 1", "PASS"] {
            assert!(!may_carry_secret(sql), "{sql}");
        }
    }
}
