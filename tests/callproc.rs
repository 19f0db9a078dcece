//! `callproc` through the component, with PyMySQL's semantics: arguments in `@_<proc>_<n>`,
//! every result set through nextset, OUT and INOUT values read back with a SELECT.

use crate::common;

use common::*;
use host_test::driver::{Conn, ErrorKind, Session, Value};

/// Creates procedure `name` with `signature` and `body`, replacing an earlier one.
fn procedure(s: &mut Session, c: Conn, name: &str, signature: &str, body: &str) {
    exec(s, c, &format!("DROP PROCEDURE IF EXISTS {name}"));
    exec(s, c, &format!("CREATE PROCEDURE {name}({signature}) BEGIN {body} END"));
}

#[test]
fn in_out_inout_and_several_result_sets() {
    let mut s = session();
    let c = connect(&mut s);
    procedure(
        &mut s,
        c,
        "cp_multi",
        "IN a INT, OUT b VARCHAR(40), INOUT c INT, IN d VARCHAR(40)",
        "SELECT a AS first; SELECT a + 1 AS second, d AS echoed; SET b = CONCAT('out:', a, d); SET c = c * 10;",
    );
    let cur = s.cursor(c).unwrap();
    let hostile = text("x'); DROP PROCEDURE cp_multi; -- \\");
    let args = vec![Value::Int(5), Value::Null, Value::Int(7), hostile.clone()];
    // The arguments come back unchanged, as in PyMySQL.
    assert_eq!(s.callproc(cur, "cp_multi", &args).unwrap().unwrap(), args);
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(5)]]);
    assert!(s.nextset(cur).unwrap().unwrap());
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(6), hostile.clone()]]);
    // The CALL's own status result, then nothing.
    assert!(s.nextset(cur).unwrap().unwrap());
    assert_eq!(s.description(cur).unwrap(), None);
    assert!(!s.nextset(cur).unwrap().unwrap());
    let Value::Text(h) = &hostile else { unreachable!() };
    assert_eq!(
        rows(&mut s, c, "SELECT @_cp_multi_0, @_cp_multi_1, @_cp_multi_2, @_cp_multi_3"),
        vec![vec![Value::Int(5), text(&format!("out:5{h}")), Value::Int(70), hostile.clone()]]
    );
    // The procedure is still there: the hostile argument stayed data.
    assert_eq!(
        scalar(&mut s, c, "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_NAME = 'cp_multi'"),
        Value::Int(1)
    );
}

#[test]
fn no_arguments_unbuffered_and_dict_cursors() {
    let mut s = session();
    let c = connect(&mut s);
    procedure(&mut s, c, "cp_plain", "", "SELECT 1 AS one UNION ALL SELECT 2;");
    let ss = s.ss_cursor(c).unwrap();
    assert_eq!(s.callproc(ss, "cp_plain", &[]).unwrap().unwrap(), vec![]);
    assert_eq!(s.fetchone(ss).unwrap().unwrap(), Some(vec![Value::Int(1)]));
    assert_eq!(s.fetchone(ss).unwrap().unwrap(), Some(vec![Value::Int(2)]));
    assert!(s.nextset(ss).unwrap().unwrap());
    assert!(!s.nextset(ss).unwrap().unwrap());
    // Qualified by its schema, with dict rows.
    let d = s.dict_cursor(c).unwrap();
    assert_eq!(s.dict_callproc(d, "test.cp_plain", &[]).unwrap().unwrap(), vec![]);
    let got = s.dict_fetchall(d).unwrap().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], vec![("one".to_string(), Value::Int(1))]);
}

#[test]
fn bad_names_and_missing_procedures_are_errors_and_the_connection_carries_on() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    for bad in ["", "p; DROP TABLE t", "p()", "p'", "p%s"] {
        let e = s.callproc(cur, bad, &[Value::Int(1)]).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
    }
    // ER_SP_DOES_NOT_EXIST from the server.
    let e = s.callproc(cur, "cp_no_such_procedure", &[Value::Int(1)]).unwrap().unwrap_err();
    assert_eq!(e.code, Some(1305), "{e:?}");
    assert_eq!(scalar(&mut s, c, "SELECT @_cp_no_such_procedure_0"), Value::Int(1));
    assert_eq!(scalar(&mut s, c, "SELECT 2"), Value::Int(2));
}
