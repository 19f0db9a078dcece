//! Client-side parameter interpolation, as cymysql and PyMySQL do it: `query % escaped_args`.
//!
//! Placeholders follow Python's %-formatting: `%s` takes the next positional parameter,
//! `%(name)s` a named one, and `%%` is a literal `%`. Placeholders are substituted wherever they
//! appear, inside SQL quotes too, exactly as PyMySQL does.

use super::error::InputError;
use super::escape::{write_literal, EscapeMode};
use super::value::Value;

/// The parameters of one statement: a Python tuple or a Python dict.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    /// Values for `%s` placeholders, in order.
    Positional(Vec<Value>),
    /// Values for `%(name)s` placeholders; a repeated name takes its last value, as in a dict.
    Named(Vec<(String, Value)>),
}

/// Substitutes SQL literals for the placeholders of `query`.
///
/// With no parameters the query is returned unchanged, without any `%` processing, so that
/// `LIKE 'a%'` needs no doubling; with parameters (even none), `%` must be doubled.
pub fn interpolate(query: &str, params: Option<&Params>, mode: EscapeMode) -> Result<String, InputError> {
    interpolate_with(query, params, mode, write_literal)
}

/// How a parameter becomes SQL text: [`write_literal`], or a caller's encoders in front of it.
pub trait LiteralWriter: FnMut(&mut String, &Value, EscapeMode) -> Result<(), InputError> {}
impl<F: FnMut(&mut String, &Value, EscapeMode) -> Result<(), InputError>> LiteralWriter for F {}

/// [`interpolate`] with each parameter written by `literal`.
pub fn interpolate_with(
    query: &str,
    params: Option<&Params>,
    mode: EscapeMode,
    literal: impl LiteralWriter,
) -> Result<String, InputError> {
    let Some(params) = params else {
        return Ok(query.to_owned());
    };
    let mut out = String::with_capacity(query.len().saturating_add(estimated_literals_len(params)));
    interpolate_into_with(&mut out, query, params, mode, literal)?;
    Ok(out)
}

/// Appends `query` with its placeholders filled from `params` to `out`, as [`interpolate`] does
/// with parameters; on an error, `out` holds part of the statement.
///
/// `executemany` renders every row of a multi-row INSERT straight into the statement with it.
pub fn interpolate_into(out: &mut String, query: &str, params: &Params, mode: EscapeMode) -> Result<(), InputError> {
    interpolate_into_with(out, query, params, mode, write_literal)
}

/// [`interpolate_into`] with each parameter written by `literal`.
pub fn interpolate_into_with(
    out: &mut String,
    query: &str,
    params: &Params,
    mode: EscapeMode,
    mut literal: impl LiteralWriter,
) -> Result<(), InputError> {
    let mut next_positional = 0usize;
    let bytes = query.as_bytes();
    // `start` is where the text not yet copied begins; every `%` found is ASCII, so slicing at
    // it or one byte past it always falls on a character boundary.
    let mut start = 0usize;
    while let Some(pct) = bytes.get(start..).and_then(|b| b.iter().position(|&c| c == b'%')).map(|i| start + i) {
        out.push_str(query.get(start..pct).unwrap_or_default());
        match bytes.get(pct + 1) {
            Some(b'%') => {
                out.push('%');
                start = pct + 2;
            }
            Some(b's') => {
                let Params::Positional(values) = params else {
                    return Err(InputError::Format(
                        "%s needs positional parameters, but named parameters were given".into(),
                    ));
                };
                let value = values
                    .get(next_positional)
                    .ok_or_else(|| InputError::Format("not enough arguments for format string".into()))?;
                literal(out, value, mode)?;
                next_positional += 1;
                start = pct + 2;
            }
            Some(b'(') => {
                let Params::Named(pairs) = params else {
                    return Err(InputError::Format("format requires a mapping".into()));
                };
                let close =
                    matching_paren(bytes, pct + 1).ok_or_else(|| InputError::Format("incomplete format key".into()))?;
                let name = query.get(pct + 2..close).unwrap_or_default();
                if bytes.get(close + 1) != Some(&b's') {
                    return Err(unsupported_conversion(query, close + 1));
                }
                let (_, value) = pairs
                    .iter()
                    .rev()
                    .find(|(key, _)| key == name)
                    .ok_or_else(|| InputError::Format(format!("KeyError: no parameter named {name:?}")))?;
                literal(out, value, mode)?;
                start = close + 2;
            }
            Some(_) => return Err(unsupported_conversion(query, pct + 1)),
            None => return Err(InputError::Format("incomplete format".into())),
        }
    }
    out.push_str(query.get(start..).unwrap_or_default());
    if let Params::Positional(values) = params {
        if next_positional < values.len() {
            return Err(InputError::Format("not all arguments converted during string formatting".into()));
        }
    }
    Ok(())
}

/// The index of the `)` closing the `(` at `open`, counting nested parentheses as Python does.
fn matching_paren(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in bytes.iter().enumerate().skip(open) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Python's error for a conversion other than `s` at byte `at` (reported as a character index).
fn unsupported_conversion(query: &str, at: usize) -> InputError {
    let Some(c) = query.get(at..).and_then(|rest| rest.chars().next()) else {
        return InputError::Format("incomplete format".into());
    };
    let index = query.get(..at).map_or(0, |head| head.chars().count());
    InputError::Format(format!("unsupported format character {c:?} (0x{:x}) at index {index}", u32::from(c)))
}

/// A guess of the rendered size of all parameters, to allocate the output once.
fn estimated_literals_len(params: &Params) -> usize {
    let one = |v: &Value| match v {
        Value::Text(s) | Value::Enum(s) | Value::Json(s) | Value::Decimal(s) => s.len() + s.len() / 16 + 2,
        Value::Bytes(b) | Value::Geometry(b) => b.len().saturating_mul(2) + 3,
        Value::Set(members) => members.iter().map(|m| m.len() + 1).sum::<usize>() + 2,
        _ => 28,
    };
    match params {
        Params::Positional(values) => values.iter().map(one).fold(0, usize::saturating_add),
        Params::Named(pairs) => pairs.iter().map(|(_, v)| one(v)).fold(0, usize::saturating_add),
    }
}

/// An `INSERT … VALUES (…)` statement cut around its row of placeholders, so that `executemany`
/// can send many rows in one statement (PyMySQL's `RE_INSERT_VALUES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertValues<'a> {
    /// From `INSERT`/`REPLACE` up to and including `VALUES` and the whitespace after it.
    pub prefix: &'a str,
    /// The parenthesised row of placeholders, e.g. `(%s, %s)`.
    pub values: &'a str,
    /// What follows the row: whitespace, or ` ON DUPLICATE KEY UPDATE …` to the end; else "".
    pub suffix: &'a str,
}

/// Splits an INSERT or REPLACE statement around its VALUES row, matching exactly what PyMySQL's
///
/// `\s*((?:INSERT|REPLACE)\b.+\bVALUES?\s*)(\(\s*(?:%s|%\(.+\)s)\s*(?:,\s*(?:%s|%\(.+\)s)\s*)*\))(\s*(?:ON DUPLICATE.*)?);?\s*\Z`
///
/// matches with IGNORECASE and DOTALL. As there, the greedy `.+` makes the last `VALUE(S)`
/// followed by a row of placeholders win. `None` for anything else (UPDATE, INSERT … SELECT).
pub fn split_insert_values(query: &str) -> Option<InsertValues<'_>> {
    let body = query.trim_start_matches(is_regex_space);
    let keyword_start = query.len() - body.len();
    let keyword_len = if starts_with_ignore_case(body, "INSERT") {
        6
    } else if starts_with_ignore_case(body, "REPLACE") {
        7
    } else {
        return None;
    };
    let keyword_end = keyword_start + keyword_len;
    if query.get(keyword_end..)?.chars().next().is_some_and(is_word) {
        return None;
    }
    let bytes = query.as_bytes();
    // The greedy `.+` (at least one character) tries the last VALUE keyword first.
    for at in (keyword_end + 1..=bytes.len().saturating_sub(5)).rev() {
        if !bytes.get(at..at + 5).is_some_and(|w| w.eq_ignore_ascii_case(b"VALUE")) {
            continue;
        }
        // `at` holds an ASCII letter, so both slices fall on character boundaries.
        let (Some(before), Some(after)) = (query.get(..at), query.get(at + 5..)) else {
            continue;
        };
        if before.chars().next_back().is_some_and(is_word) {
            continue;
        }
        let after = after.strip_prefix(['s', 'S']).unwrap_or(after);
        let row_start = query.len() - after.trim_start_matches(is_regex_space).len();
        if let Some((row_end, suffix)) = values_row_end(query, row_start) {
            return Some(InsertValues {
                prefix: query.get(keyword_start..row_start)?,
                values: query.get(row_start..row_end)?,
                suffix,
            });
        }
    }
    None
}

/// The end of the longest `(placeholder, …)` row starting at `start` that the rest of the
/// statement can follow, with the captured suffix; the longest is the one the regex's greedy
/// quantifiers find first.
fn values_row_end(query: &str, start: usize) -> Option<(usize, &str)> {
    // The states of a small NFA for `\(\s*P\s*(?:,\s*P\s*)*\)` with P = `%s | %\(.+\)s`.
    const EXPECT_PLACEHOLDER: u8 = 1;
    const AFTER_PERCENT: u8 = 2;
    const NAME_START: u8 = 4;
    const IN_NAME: u8 = 8;
    const AFTER_NAME_PAREN: u8 = 16;
    const AFTER_PLACEHOLDER: u8 = 32;

    let row = query.get(start..)?;
    let mut chars = row.char_indices();
    if chars.next()?.1 != '(' {
        return None;
    }
    let mut states = EXPECT_PLACEHOLDER;
    let mut best = None;
    for (i, c) in chars {
        let mut next = 0u8;
        if states & EXPECT_PLACEHOLDER != 0 {
            if is_regex_space(c) {
                next |= EXPECT_PLACEHOLDER;
            } else if c == '%' {
                next |= AFTER_PERCENT;
            }
        }
        if states & AFTER_PERCENT != 0 {
            if c == 's' || c == 'S' {
                next |= AFTER_PLACEHOLDER;
            } else if c == '(' {
                next |= NAME_START;
            }
        }
        // `.+` inside `%(…)s` matches any character, `)` and newlines included.
        if states & (NAME_START | IN_NAME) != 0 {
            next |= IN_NAME;
        }
        if states & IN_NAME != 0 && c == ')' {
            next |= AFTER_NAME_PAREN;
        }
        if states & AFTER_NAME_PAREN != 0 && (c == 's' || c == 'S') {
            next |= AFTER_PLACEHOLDER;
        }
        if states & AFTER_PLACEHOLDER != 0 {
            if is_regex_space(c) {
                next |= AFTER_PLACEHOLDER;
            } else if c == ',' {
                next |= EXPECT_PLACEHOLDER;
            } else if c == ')' {
                let end = start + i + 1;
                if let Some(suffix) = query.get(end..).and_then(statement_suffix) {
                    best = Some((end, suffix));
                }
            }
        }
        states = next;
        if states == 0 {
            break;
        }
    }
    best
}

/// The captured `(\s*(?:ON DUPLICATE.*)?)` if `rest` matches `\s*(?:ON DUPLICATE.*)?;?\s*\Z`.
fn statement_suffix(rest: &str) -> Option<&str> {
    let body = rest.trim_start_matches(is_regex_space);
    if starts_with_ignore_case(body, "ON DUPLICATE") {
        return Some(rest);
    }
    let tail = body.strip_prefix(';').unwrap_or(body);
    if tail.chars().all(is_regex_space) {
        return rest.get(..rest.len() - body.len());
    }
    None
}

/// Whether `s` starts with the ASCII word `word`, ignoring ASCII case.
fn starts_with_ignore_case(s: &str, word: &str) -> bool {
    s.as_bytes().get(..word.len()).is_some_and(|head| head.eq_ignore_ascii_case(word.as_bytes()))
}

/// Python's `\s` for str patterns: Unicode whitespace plus the separators U+001C..U+001F.
fn is_regex_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `\w` for str patterns.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKSLASH: EscapeMode = EscapeMode { no_backslash_escapes: false };
    const NO_BACKSLASH: EscapeMode = EscapeMode { no_backslash_escapes: true };

    fn positional(values: Vec<Value>) -> Params {
        Params::Positional(values)
    }

    fn named(pairs: &[(&str, Value)]) -> Params {
        Params::Named(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn programming(r: Result<String, InputError>) -> String {
        match r {
            Err(InputError::Format(msg)) => msg,
            other => panic!("expected a programming error, got {other:?}"),
        }
    }

    #[test]
    fn no_params_leaves_the_query_alone() {
        let q = "SELECT '%s', 'a%' LIKE '%%', %(x)s, %d";
        assert_eq!(interpolate(q, None, BACKSLASH).unwrap(), q);
    }

    #[test]
    fn positional_placeholders() {
        let p = positional(vec![Value::Int(1), Value::Text("it's".into()), Value::Null]);
        assert_eq!(
            interpolate("INSERT INTO t VALUES (%s, %s, %s)", Some(&p), BACKSLASH).unwrap(),
            "INSERT INTO t VALUES (1, 'it\\'s', NULL)"
        );
        assert_eq!(
            interpolate("INSERT INTO t VALUES (%s, %s, %s)", Some(&p), NO_BACKSLASH).unwrap(),
            "INSERT INTO t VALUES (1, 'it''s', NULL)"
        );
        // `%%` is a literal percent sign once parameters are given; `%s` inside quotes is
        // still a placeholder, as in PyMySQL.
        let p = positional(vec![Value::Text("x".into())]);
        assert_eq!(
            interpolate("SELECT 'a%%' LIKE '%s', 100%%", Some(&p), BACKSLASH).unwrap(),
            "SELECT 'a%' LIKE ''x'', 100%"
        );
        assert_eq!(interpolate("SELECT 1", Some(&positional(vec![])), BACKSLASH).unwrap(), "SELECT 1");
        assert_eq!(interpolate("%s", Some(&positional(vec![Value::UInt(7)])), BACKSLASH).unwrap(), "7");
        assert_eq!(interpolate("żółw %s😀", Some(&positional(vec![Value::Int(2)])), BACKSLASH).unwrap(), "żółw 2😀");
    }

    #[test]
    fn named_placeholders() {
        let p = named(&[("a", Value::Int(1)), ("b b", Value::Text("x".into())), ("a", Value::Int(2))]);
        assert_eq!(interpolate("%(a)s + %(b b)s = %(a)s %%", Some(&p), BACKSLASH).unwrap(), "2 + 'x' = 2 %");
        // Parentheses in a key nest, as in Python.
        let p = named(&[("f(x)", Value::Int(3))]);
        assert_eq!(interpolate("SELECT %(f(x))s", Some(&p), BACKSLASH).unwrap(), "SELECT 3");
        // Unused names are fine, as with a Python dict.
        let p = named(&[("unused", Value::Int(3))]);
        assert_eq!(interpolate("SELECT 1", Some(&p), BACKSLASH).unwrap(), "SELECT 1");
    }

    #[test]
    fn argument_count_errors() {
        let one = positional(vec![Value::Int(1)]);
        let two = positional(vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(programming(interpolate("%s %s", Some(&one), BACKSLASH)), "not enough arguments for format string");
        assert_eq!(
            programming(interpolate("%s", Some(&two), BACKSLASH)),
            "not all arguments converted during string formatting"
        );
        assert_eq!(
            programming(interpolate("SELECT 1", Some(&one), BACKSLASH)),
            "not all arguments converted during string formatting"
        );
    }

    #[test]
    fn format_errors() {
        let one = positional(vec![Value::Int(1)]);
        let msg = programming(interpolate("SELECT %d", Some(&one), BACKSLASH));
        assert_eq!(msg, "unsupported format character 'd' (0x64) at index 8");
        assert_eq!(programming(interpolate("SELECT %s %", Some(&one), BACKSLASH)), "incomplete format");
        assert!(programming(interpolate("é %é", Some(&one), BACKSLASH)).contains("at index 3"));
        assert!(programming(interpolate("%5s", Some(&one), BACKSLASH)).contains("'5'"));
        let p = named(&[("a", Value::Int(1))]);
        assert_eq!(programming(interpolate("%(a", Some(&p), BACKSLASH)), "incomplete format key");
        assert!(programming(interpolate("%(a)d", Some(&p), BACKSLASH)).contains("'d'"));
        assert!(programming(interpolate("%(a)", Some(&p), BACKSLASH)).contains("incomplete format"));
        assert!(programming(interpolate("%(b)s", Some(&p), BACKSLASH)).contains("KeyError"));
        assert_eq!(programming(interpolate("%(a)s", Some(&one), BACKSLASH)), "format requires a mapping");
        assert!(programming(interpolate("%s", Some(&p), BACKSLASH)).contains("named parameters"));
    }

    #[test]
    fn value_errors_propagate() {
        let p = positional(vec![Value::Double(f64::NAN)]);
        assert!(matches!(interpolate("%s", Some(&p), BACKSLASH), Err(InputError::Value(_))));
        let p = positional(vec![Value::Decimal("1; DROP TABLE t".into())]);
        assert!(matches!(interpolate("%s", Some(&p), BACKSLASH), Err(InputError::Value(_))));
    }

    fn split(q: &str) -> Option<(&str, &str, &str)> {
        split_insert_values(q).map(|m| (m.prefix, m.values, m.suffix))
    }

    #[test]
    fn splits_insert_values() {
        assert_eq!(
            split("INSERT INTO t (a, b) VALUES (%s, %s)"),
            Some(("INSERT INTO t (a, b) VALUES ", "(%s, %s)", ""))
        );
        assert_eq!(split("  insert into t values(%s)"), Some(("insert into t values", "(%s)", "")));
        assert_eq!(split("INSERT INTO t VALUE (%s,%s)"), Some(("INSERT INTO t VALUE ", "(%s,%s)", "")));
        assert_eq!(split("REPLACE INTO t VALUES ( %s , %s )"), Some(("REPLACE INTO t VALUES ", "( %s , %s )", "")));
        assert_eq!(split("INSERT\nINTO t\nVALUES\n(%s)\n"), Some(("INSERT\nINTO t\nVALUES\n", "(%s)", "\n")));
        assert_eq!(split("INSERT INTO t VALUES (%(a)s, %(b)s)"), Some(("INSERT INTO t VALUES ", "(%(a)s, %(b)s)", "")));
        assert_eq!(split("INSERT INTO t VALUES (%S)"), Some(("INSERT INTO t VALUES ", "(%S)", "")));
    }

    #[test]
    fn trailing_semicolon_and_whitespace_are_dropped() {
        assert_eq!(split("INSERT INTO t VALUES (%s);"), Some(("INSERT INTO t VALUES ", "(%s)", "")));
        assert_eq!(split("INSERT INTO t VALUES (%s) ;  \n"), Some(("INSERT INTO t VALUES ", "(%s)", " ")));
        assert_eq!(split("INSERT INTO t VALUES (%s);;"), None);
        assert_eq!(split("INSERT INTO t VALUES (%s); SELECT 1"), None);
    }

    #[test]
    fn on_duplicate_key_update_is_the_suffix() {
        assert_eq!(
            split("INSERT INTO t (a, b) VALUES (%s, %s) ON DUPLICATE KEY UPDATE b = %s"),
            Some(("INSERT INTO t (a, b) VALUES ", "(%s, %s)", " ON DUPLICATE KEY UPDATE b = %s"))
        );
        assert_eq!(
            split("insert into t values (%s) on duplicate key update a=values(a);"),
            Some(("insert into t values ", "(%s)", " on duplicate key update a=values(a);"))
        );
        // Not a suffix the regex knows: `ON  DUPLICATE` has two spaces.
        assert_eq!(split("INSERT INTO t VALUES (%s) ON  DUPLICATE KEY UPDATE a=1"), None);
    }

    #[test]
    fn the_last_values_row_of_placeholders_wins() {
        // The greedy `.+` in PyMySQL's regex prefers the later VALUES.
        assert_eq!(
            split("INSERT INTO t VALUES (%s) ON DUPLICATE KEY UPDATE a = VALUES(%s)"),
            Some(("INSERT INTO t VALUES (%s) ON DUPLICATE KEY UPDATE a = VALUES", "(%s)", ""))
        );
        // `%\(.+\)s` spans as far as it can.
        assert_eq!(
            split("INSERT INTO t VALUES (%(a)s) ON DUPLICATE KEY UPDATE x=(%(b)s)"),
            Some(("INSERT INTO t VALUES ", "(%(a)s) ON DUPLICATE KEY UPDATE x=(%(b)s)", ""))
        );
        // `values` inside an identifier is not the keyword (\b).
        assert_eq!(split("INSERT INTO my_values VALUES (%s)"), Some(("INSERT INTO my_values VALUES ", "(%s)", "")));
        assert_eq!(split("INSERT INTO myvalues(%s)"), None);
    }

    #[test]
    fn percent_signs_in_the_prefix_are_kept() {
        assert_eq!(split("INSERT INTO `t%%` (a) VALUES (%s)"), Some(("INSERT INTO `t%%` (a) VALUES ", "(%s)", "")));
        let prefix = split("INSERT INTO `t%%` (a) VALUES (%s)").unwrap().0;
        assert_eq!(interpolate(prefix, Some(&positional(vec![])), BACKSLASH).unwrap(), "INSERT INTO `t%` (a) VALUES ");
    }

    #[test]
    fn other_statements_do_not_split() {
        for q in [
            "INSERT INTO t SELECT * FROM u WHERE a = %s",
            "UPDATE t SET a = %s",
            "SELECT 'INSERT INTO t VALUES (%s)'",
            "INSERT INTO t VALUES (1, %s)",
            "INSERT INTO t VALUES (%s, 1)",
            "INSERT INTO t VALUES (%d)",
            "INSERT INTO t VALUES ()",
            "INSERT INTO t VALUES (%s), (%s)",
            "INSERT INTO t VALUES (%s",
            "INSERTINTO t VALUES (%s)",
            "INSERT INTO t VALUES (%()s)",
            "",
            "VALUES (%s)",
        ] {
            assert_eq!(split(q), None, "{q}");
        }
    }

    #[test]
    fn minimal_and_unicode_shapes() {
        // `.+` needs one character between the keyword and VALUES.
        assert_eq!(split("INSERT VALUES(%s)"), Some(("INSERT VALUES", "(%s)", "")));
        assert_eq!(
            split("INSERT\u{3000}INTO żółw VALUES\u{3000}(%s)"),
            Some(("INSERT\u{3000}INTO żółw VALUES\u{3000}", "(%s)", ""))
        );
        assert_eq!(split("INSERT INTO żVALUES (%s)"), None);
        assert_eq!(split("INSERT INTO t VALUES (%(ż)s)"), Some(("INSERT INTO t VALUES ", "(%(ż)s)", "")));
    }
}
