//! `%s` / `%(name)s` placeholders turned into the `?` of a server-side prepared statement, for
//! running a cymysql-style `execute(query, params)` prepared instead of interpolated.
//!
//! Unlike client-side interpolation, which substitutes wherever a placeholder appears (as PyMySQL
//! does), only placeholders in SQL text become parameters: inside a quoted string, a backticked
//! name or a comment, `%s` stays text, since the server would not take a `?` there either. `%%` is
//! `%` everywhere, as Python's formatting makes it.

use super::error::InputError;
use super::escape::EscapeMode;
use super::interpolate::Params;
use super::value::Value;

/// The statement with `?` for each placeholder, and the parameters in `?` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub sql: String,
    pub params: Vec<Value>,
}

/// Where the scanner is: in SQL text, or inside something that ends with a given delimiter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Sql,
    Quoted(u8),
    LineComment,
    BlockComment,
}

/// Maps `query`'s placeholders to `?` and collects the values they name, in order.
///
/// The errors are those of interpolation: a positional placeholder with named parameters, a
/// missing name, too few or too many values.
pub fn to_question_marks(query: &str, params: &Params, mode: EscapeMode) -> Result<Prepared, InputError> {
    let bytes = query.as_bytes();
    let mut sql = String::with_capacity(query.len());
    let mut values = Vec::new();
    let mut next_positional = 0usize;
    let mut within = Within::Sql;
    let mut start = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match within {
            Within::Quoted(q) => {
                if b == b'\\' && !mode.no_backslash_escapes && q != b'`' {
                    i += 2;
                    continue;
                }
                if b == q {
                    // A doubled quote stays inside the string.
                    if bytes.get(i + 1) == Some(&q) {
                        i += 2;
                        continue;
                    }
                    within = Within::Sql;
                }
            }
            Within::LineComment => {
                if b == b'\n' {
                    within = Within::Sql;
                }
            }
            Within::BlockComment => {
                if b == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    within = Within::Sql;
                    i += 2;
                    continue;
                }
            }
            Within::Sql => match b {
                b'\'' | b'"' | b'`' => within = Within::Quoted(b),
                b'#' => within = Within::LineComment,
                b'-' if bytes.get(i + 1) == Some(&b'-') && bytes.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) => {
                    within = Within::LineComment
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    within = Within::BlockComment;
                    i += 2;
                    continue;
                }
                _ => {}
            },
        }
        if b != b'%' {
            i += 1;
            continue;
        }
        // Every `%` is ASCII: slicing at it or past it falls on a character boundary.
        sql.push_str(query.get(start..i).unwrap_or_default());
        let in_sql = within == Within::Sql;
        match bytes.get(i + 1) {
            Some(b'%') => {
                sql.push('%');
                i += 2;
            }
            Some(b's') if in_sql => {
                let Params::Positional(all) = params else {
                    return Err(InputError::Format(
                        "%s needs positional parameters, but named parameters were given".into(),
                    ));
                };
                let value = all
                    .get(next_positional)
                    .ok_or_else(|| InputError::Format("not enough arguments for format string".into()))?;
                values.push(value.clone());
                next_positional += 1;
                sql.push('?');
                i += 2;
            }
            Some(b'(') if in_sql => {
                let Params::Named(pairs) = params else {
                    return Err(InputError::Format("format requires a mapping".into()));
                };
                let close = bytes
                    .get(i + 2..)
                    .and_then(|rest| rest.iter().position(|&c| c == b')'))
                    .map(|p| i + 2 + p)
                    .ok_or_else(|| InputError::Format("incomplete format key".into()))?;
                if bytes.get(close + 1) != Some(&b's') {
                    return Err(InputError::Format("unsupported format character".into()));
                }
                let name = query.get(i + 2..close).unwrap_or_default();
                let (_, value) = pairs
                    .iter()
                    .rev()
                    .find(|(key, _)| key == name)
                    .ok_or_else(|| InputError::Format(format!("KeyError: no parameter named {name:?}")))?;
                values.push(value.clone());
                sql.push('?');
                i = close + 2;
            }
            // Inside a string, comment or name a `%` that is not `%%` is text.
            Some(_) if !in_sql => {
                sql.push('%');
                i += 1;
            }
            Some(_) => return Err(InputError::Format("unsupported format character".into())),
            None => return Err(InputError::Format("incomplete format".into())),
        }
        start = i;
    }
    sql.push_str(query.get(start..).unwrap_or_default());
    if let Params::Positional(all) = params {
        if next_positional < all.len() {
            return Err(InputError::Format("not all arguments converted during string formatting".into()));
        }
    }
    Ok(Prepared { sql, params: values })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKSLASH: EscapeMode = EscapeMode { no_backslash_escapes: false };

    fn pos(values: Vec<Value>) -> Params {
        Params::Positional(values)
    }

    fn map(q: &str, p: &Params) -> Prepared {
        to_question_marks(q, p, BACKSLASH).unwrap()
    }

    #[test]
    fn positional_and_named_placeholders_become_question_marks() {
        let p = map("SELECT %s, %s", &pos(vec![Value::Int(1), Value::Null]));
        assert_eq!(p, Prepared { sql: "SELECT ?, ?".into(), params: vec![Value::Int(1), Value::Null] });
        let named = Params::Named(vec![("a".into(), Value::Int(1)), ("b".into(), Value::Int(2))]);
        let p = map("SELECT %(b)s + %(a)s + %(b)s", &named);
        assert_eq!(p.sql, "SELECT ? + ? + ?");
        assert_eq!(p.params, vec![Value::Int(2), Value::Int(1), Value::Int(2)]);
        assert_eq!(map("SELECT 10 %% 3", &pos(vec![])).sql, "SELECT 10 % 3");
    }

    #[test]
    fn strings_names_and_comments_are_left_alone() {
        let one = pos(vec![Value::Int(1)]);
        for (q, want) in [
            ("SELECT '%s', %s", "SELECT '%s', ?"),
            ("SELECT \"%s\", %s", "SELECT \"%s\", ?"),
            ("SELECT `a%s`, %s", "SELECT `a%s`, ?"),
            ("SELECT 'it''s %s', %s", "SELECT 'it''s %s', ?"),
            ("SELECT 'a\\'%s', %s", "SELECT 'a\\'%s', ?"),
            ("SELECT %s -- %s\n", "SELECT ? -- %s\n"),
            ("SELECT %s # %s", "SELECT ? # %s"),
            ("SELECT /* %s */ %s", "SELECT /* %s */ ?"),
            ("SELECT 'LIKE a%' , %s", "SELECT 'LIKE a%' , ?"),
            ("SELECT 5--%s\n", "SELECT 5--?\n"),
        ] {
            assert_eq!(map(q, &one).sql, want, "{q}");
        }
        // Without backslash escapes a backslash ends nothing: the quote after it closes the string.
        let mode = EscapeMode { no_backslash_escapes: true };
        assert_eq!(to_question_marks("SELECT 'a\\', %s", &one, mode).unwrap().sql, "SELECT 'a\\', ?");
    }

    #[test]
    fn format_errors_match_interpolation() {
        let err = |q: &str, p: &Params| to_question_marks(q, p, BACKSLASH).unwrap_err();
        assert!(matches!(err("SELECT %s, %s", &pos(vec![Value::Int(1)])), InputError::Format(_)));
        assert!(matches!(err("SELECT %s", &pos(vec![Value::Int(1), Value::Int(2)])), InputError::Format(_)));
        assert!(matches!(err("SELECT %(x)s", &pos(vec![])), InputError::Format(_)));
        assert!(matches!(err("SELECT %s", &Params::Named(vec![])), InputError::Format(_)));
        assert!(matches!(err("SELECT %(x)s", &Params::Named(vec![])), InputError::Format(_)));
        assert!(matches!(err("SELECT %d", &pos(vec![])), InputError::Format(_)));
        assert!(matches!(err("SELECT %", &pos(vec![])), InputError::Format(_)));
        assert!(matches!(err("SELECT %(x", &Params::Named(vec![])), InputError::Format(_)));
    }

    #[test]
    fn any_text_maps_without_panicking() {
        let p = pos(vec![Value::Int(1)]);
        for q in ["", "%", "'", "'%s", "/*", "/* %s", "--", "`%s", "\\", "'\\", "%(", "%()s", "żółw %s 😀"] {
            let _ = to_question_marks(q, &p, BACKSLASH);
            let _ = to_question_marks(q, &Params::Named(vec![(String::new(), Value::Null)]), BACKSLASH);
        }
        assert_eq!(map("żółw %s 😀", &p).sql, "żółw ? 😀");
    }
}
