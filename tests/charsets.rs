//! Connection character sets of the `charsets` feature through the component: text round trips
//! per character set, and an injection corpus per character set under both escaping modes, the
//! multibyte attacks (a 0x5C trail byte, a character whose encoder writes a backslash) included.

use crate::common;

use common::*;
use host_test::driver::{Conn, ErrorKind, Params, Session, Value};

/// Every connection character set the feature adds, with text that only it (and Unicode) holds.
const CHARSETS: &[(&str, &str)] = &[
    ("gbk", "中文 縗乗俓 ‐"),
    ("cp932", "日本語 ソ表予 ① ｶﾅ"),
    ("euckr", "한국어 漢字 똠"),
    ("latin2", "żółw ĄĘ ő"),
    ("cp1250", "żółw Šš „quotes“"),
    ("cp1251", "Привет ёЁ №"),
    ("cp1256", "مرحبا ، ؟"),
    ("cp1257", "Ąčę ž ų"),
    ("koi8r", "Привет ═"),
    ("latin7", "Ąčę ž ’"),
    ("macroman", "café ƒ ∑ π"),
];

/// Characters whose encoding ends in 0x5C (a backslash) as a trail byte, per character set.
const TRAIL_5C: &[(&str, &str)] = &[("gbk", "縗乗俓‐"), ("cp932", "ソ表予―")];

fn pos(values: Vec<Value>) -> Params {
    Params::Positional(values)
}

fn connect_as(s: &mut Session, charset: &str, sql_mode: Option<&str>) -> Conn {
    let mut o = options(s);
    o.charset = Some(charset.into());
    o.sql_mode = sql_mode.map(str::to_string);
    s.connect(&o).unwrap().unwrap_or_else(|e| panic!("{charset}: {e:?}"))
}

fn query(
    s: &mut Session,
    c: Conn,
    sql: &str,
    params: Vec<Value>,
) -> Result<Vec<Vec<Value>>, host_test::driver::DbError> {
    let cur = s.cursor(c).unwrap();
    let r = s.execute(cur, sql, Some(&pos(params))).unwrap().and_then(|_| s.fetchall(cur).unwrap());
    s.drop_cursor(cur).unwrap();
    r
}

fn one(s: &mut Session, c: Conn, sql: &str, params: Vec<Value>) -> Value {
    let rows = query(s, c, sql, params).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    rows.into_iter().next().and_then(|r| r.into_iter().next()).unwrap()
}

fn utf8_hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn text_round_trips_in_every_charset() {
    let mut s = session();
    let reader = connect(&mut s);
    for &(cs, sample) in CHARSETS {
        let c = connect_as(&mut s, cs, None);
        assert_eq!(scalar(&mut s, c, "SELECT @@character_set_client"), text(cs));
        // Decoded from the connection's character set.
        assert_eq!(one(&mut s, c, "SELECT %s", vec![text(sample)]), text(sample), "{cs}");
        // The server received the characters, not bytes read some other way.
        let hex = one(&mut s, c, "SELECT HEX(CONVERT(%s USING utf8mb4))", vec![text(sample)]);
        assert_eq!(hex, text(&utf8_hex(sample)), "{cs}");
        let t = fresh_table(&mut s, c, &format!("cs_{cs}"), &format!("v TEXT CHARACTER SET {cs}"));
        query(&mut s, c, &format!("INSERT INTO {t} VALUES (%s)"), vec![text(sample)]).unwrap();
        s.commit(c).unwrap().unwrap();
        // A fresh snapshot on the reader, which sees the new table.
        s.commit(reader).unwrap().unwrap();
        // Stored as those characters: a utf8mb4 connection reads the same text.
        assert_eq!(scalar(&mut s, reader, &format!("SELECT v FROM {t}")), text(sample), "{cs}");
        // Column values in their own character set are decoded by the column's collation.
        exec(&mut s, reader, "SET character_set_results = NULL");
        let cur = s.cursor(reader).unwrap();
        s.execute(cur, &format!("SELECT v FROM {t}"), None).unwrap().unwrap();
        assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![text(sample)]], "{cs}");
        let charset = s.description(cur).unwrap().unwrap()[0].charset;
        assert_ne!(charset, 45, "{cs}: the column came in its own collation");
        s.drop_cursor(cur).unwrap();
        exec(&mut s, reader, "SET character_set_results = utf8mb4");
        s.close(c).unwrap().unwrap();
    }
}

/// Strings that break out of a quoted literal when a driver escapes for another character set
/// or SQL mode than the server parses with.
fn corpus(cs: &str) -> Vec<String> {
    let mut attacks: Vec<String> = [
        "' OR '1'='1",
        "\\' OR 1=1 -- ",
        "\\\\' OR 1=1 -- ",
        "'' OR 1=1 -- ",
        "\" OR \"1\"=\"1",
        "x\\",
        "\0' OR 1=1 -- ",
        "\u{1a}'; DROP TABLE t -- ",
        "\n' OR 1=1 #",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for &(_, chars) in TRAIL_5C.iter().filter(|(name, _)| *name == cs) {
        for c in chars.chars() {
            attacks.push(format!("{c}' OR 1=1 -- "));
            attacks.push(format!("{c}\\' OR 1=1 -- "));
            attacks.push(format!("{c}"));
            attacks.push(format!("{c}\\"));
            attacks.push(format!("a{c}'{c}' OR '{c}'='{c}"));
        }
    }
    attacks
}

#[test]
fn injection_corpus_fails_in_every_charset_and_mode() {
    let mut s = session();
    for &(cs, _) in CHARSETS {
        for mode in [None, Some("NO_BACKSLASH_ESCAPES")] {
            let c = connect_as(&mut s, cs, mode);
            let t = fresh_table(&mut s, c, &format!("inj_{cs}"), &format!("id INT, v VARCHAR(64) CHARACTER SET {cs}"));
            exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1, 'secret')"));
            for attack in corpus(cs) {
                // Read back as one literal, byte for byte the characters sent.
                assert_eq!(
                    one(&mut s, c, "SELECT %s", vec![text(&attack)]),
                    text(&attack),
                    "{cs} {mode:?}: {attack:?}"
                );
                let hits = one(&mut s, c, &format!("SELECT COUNT(*) FROM {t} WHERE v = %s"), vec![text(&attack)]);
                assert_eq!(hits, Value::Int(0), "{cs} {mode:?}: {attack:?}");
                // Stored and found as exactly that text.
                query(&mut s, c, &format!("INSERT INTO {t} VALUES (2, %s)"), vec![text(&attack)]).unwrap();
                let found =
                    one(&mut s, c, &format!("SELECT COUNT(*) FROM {t} WHERE id = 2 AND v = %s"), vec![text(&attack)]);
                assert_eq!(found, Value::Int(1), "{cs} {mode:?}: {attack:?}");
                exec(&mut s, c, &format!("DELETE FROM {t} WHERE id = 2"));
            }
            // Bytes go as hexadecimal literals: a gbk lead byte before a quote stays data.
            let raw = b"\xbf' OR 1=1 -- \xbf\\".to_vec();
            assert_eq!(one(&mut s, c, "SELECT %s", vec![Value::Bytes(raw.clone())]), Value::Bytes(raw));
            assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), Value::Int(1), "{cs} {mode:?}");
            s.close(c).unwrap().unwrap();
        }
    }
}

#[test]
fn characters_the_server_would_misread_are_refused() {
    let mut s = session();
    // Shift_JIS encoders write U+00A5 as 0x5C, which cp932 reads as a backslash: the quote that
    // follows would end the literal. The driver refuses the character instead.
    let c = connect_as(&mut s, "cp932", None);
    let cur = s.cursor(c).unwrap();
    for attack in ["¥' OR 1=1 -- ", "‾' OR 1=1"] {
        let e = s.execute(cur, "SELECT %s", Some(&pos(vec![text(attack)]))).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Data, None);
        assert!(e.message.contains("cp932"), "{e:?}");
    }
    let g = connect_as(&mut s, "gbk", None);
    let e = query(&mut s, g, "SELECT %s", vec![text("😀'")]).unwrap_err();
    assert_kind(&e, ErrorKind::Data, None);
    // Both connections carry on.
    assert_eq!(one(&mut s, c, "SELECT %s", vec![text("ソ'")]), text("ソ'"));
    assert_eq!(one(&mut s, g, "SELECT %s", vec![text("縗'")]), text("縗'"));
}

#[test]
fn charsets_that_cannot_be_carried_say_why() {
    let mut s = session();
    let c = connect(&mut s);
    for (cs, why) in
        [("big5", "different characters"), ("sjis", "different characters"), ("ucs2", "client character set")]
    {
        let e = s.set_charset(c, cs).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::NotSupported, None);
        assert!(e.message.contains(why), "{cs}: {e:?}");
    }
    // A raw SET NAMES to one of them: parameters are refused rather than escaped wrongly.
    exec(&mut s, c, "SET NAMES big5");
    let e = query(&mut s, c, "SELECT %s", vec![text("x")]).unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
    // A raw SET NAMES to a carried one is followed.
    exec(&mut s, c, "SET NAMES gbk");
    assert_eq!(one(&mut s, c, "SELECT %s", vec![text("縗' OR 1=1 -- ")]), text("縗' OR 1=1 -- "));
    s.set_charset(c, "cp1251").unwrap().unwrap();
    assert_eq!(one(&mut s, c, "SELECT %s", vec![text("ёЁ'")]), text("ёЁ'"));
}
