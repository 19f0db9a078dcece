//! `callproc`: calling a stored procedure (`CALL`) the way PyMySQL and cymysql do.
//!
//! Each argument goes into a user variable `@_<procname>_<n>` with one `SET`, then
//! `CALL procname(@_procname_0, ...)` runs, so OUT and INOUT parameters are left in those
//! variables for a later `SELECT @_procname_0, ...`. Every result set the procedure returns, and
//! the final status result of the CALL, are reached through `nextset`.

use super::cursor::{Cursor, DictCursor};
use crate::error::Error;
use crate::protocol::interpolate::Params;
use crate::protocol::value::Value;

/// The name is written unquoted into the SQL and into user variable names: only characters that
/// an unquoted identifier (and a user variable name) may hold, and dots between schema and name.
fn check_procname(procname: &str) -> Result<(), Error> {
    let fine = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '.';
    if procname.is_empty() || !procname.chars().all(fine) || procname.starts_with('.') || procname.ends_with('.') {
        return Err(Error::Programming(format!(
            "callproc: {procname:?} is not a procedure name (letters, digits, _ and $, optionally schema.name)"
        )));
    }
    Ok(())
}

/// The user variable that carries argument `n` of `procname`.
fn variable(procname: &str, n: usize) -> String {
    format!("@_{procname}_{n}")
}

impl Cursor {
    /// Calls stored procedure `procname` with `args` (PEP 249 `callproc`, PyMySQL's semantics).
    ///
    /// Returns the arguments unchanged, as PyMySQL does: OUT and INOUT values are read afterwards
    /// with `SELECT @_procname_0, @_procname_1, ...`, after every result set (`nextset`).
    pub async fn callproc(&mut self, procname: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
        check_procname(procname)?;
        if !args.is_empty() {
            // No '%' can be in the name, so the placeholders are the only ones in the statement.
            let sets: Vec<String> = (0..args.len()).map(|n| format!("{}=%s", variable(procname, n))).collect();
            self.execute(&format!("SET {}", sets.join(",")), Some(&Params::Positional(args.to_vec()))).await?;
        }
        let vars: Vec<String> = (0..args.len()).map(|n| variable(procname, n)).collect();
        self.execute(&format!("CALL {procname}({})", vars.join(",")), None).await?;
        Ok(args.to_vec())
    }
}

impl DictCursor {
    /// [`Cursor::callproc`] with dict rows.
    pub async fn callproc(&mut self, procname: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
        self.cursor_mut().callproc(procname, args).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedure_names() {
        for fine in ["p", "my_proc", "db.p", "p$1", "żółw"] {
            assert!(check_procname(fine).is_ok(), "{fine}");
        }
        for bad in ["", "p; DROP TABLE t", "p()", "`p`", ".p", "p.", "p%s", "p -- x", "p'"] {
            assert!(matches!(check_procname(bad), Err(Error::Programming(_))), "{bad:?}");
        }
        assert_eq!(variable("db.p", 2), "@_db.p_2");
    }
}
