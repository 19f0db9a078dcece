//! Connection character sets and the encodings of result columns.
//!
//! Only encodings whose tables we carry are accepted as the connection character set: with any
//! other, the bytes we send would not mean what the server reads, and for multibyte character
//! sets such as gbk or sjis a byte 0x5C (`\`) inside a character would break escaping. The Unicode
//! ones, latin1 and ascii are always carried; gbk, cp932, euckr and the single-byte sets of
//! [`legacy_charset`](super::legacy_charset) come with the `charsets` feature.

use std::borrow::Cow;

use super::error::InputError;
#[cfg(feature = "charsets")]
use super::legacy_charset::{legacy_of_collation, Legacy, CHARSETS as LEGACY_CHARSETS};

/// How the characters of a MySQL character set are laid out as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `utf8mb4`: UTF-8, all of Unicode.
    Utf8mb4,
    /// `utf8mb3` (`utf8` before MySQL 8.0.30 / MariaDB 10.6): UTF-8 limited to the BMP.
    Utf8mb3,
    /// MySQL's `latin1`, which is Windows code page 1252, not ISO 8859-1.
    Latin1,
    /// `ascii`: 7-bit US-ASCII.
    Ascii,
    /// `binary`: bytes without a character set.
    Binary,
    /// gbk, cp932, euckr, cp1251 and the others encoding_rs carries (feature `charsets`).
    #[cfg(feature = "charsets")]
    Legacy(Legacy),
}

/// A character set the client can use for its connection (`SET NAMES`, handshake collation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset {
    /// The character set name, as the caller spelt it for `utf8` / `utf8mb3`.
    pub name: &'static str,
    /// The id of the character set's default collation, sent in the handshake response.
    pub collation_id: u16,
    /// How strings are encoded under this character set.
    pub encoding: Encoding,
}

/// The character sets we can speak, with their default collations.
static SUPPORTED: [Charset; 6] = [
    Charset { name: "utf8mb4", collation_id: 45, encoding: Encoding::Utf8mb4 },
    Charset { name: "utf8mb3", collation_id: 33, encoding: Encoding::Utf8mb3 },
    // Kept apart from utf8mb3 so `SET NAMES` uses the name servers before MariaDB 10.6 know.
    Charset { name: "utf8", collation_id: 33, encoding: Encoding::Utf8mb3 },
    Charset { name: "latin1", collation_id: 8, encoding: Encoding::Latin1 },
    Charset { name: "ascii", collation_id: 11, encoding: Encoding::Ascii },
    Charset { name: "binary", collation_id: 63, encoding: Encoding::Binary },
];

/// Why a character set MySQL or MariaDB knows cannot be the connection character set here.
#[derive(Clone, Copy)]
enum Refusal {
    /// Its table comes with the `charsets` feature, which this build lacks.
    WithoutFeature { multibyte: bool },
    /// The server's table and the only encoding we carry disagree on some characters.
    TablesDiffer { multibyte: bool, sequences: u16 },
    /// No encoding of it is carried at all.
    NoTables,
    /// The server refuses it as `character_set_client` (ucs2, utf16, utf32).
    NotAClientCharset,
}

/// MySQL and MariaDB character sets we know but do not speak. `TablesDiffer` counts the byte
/// sequences MariaDB 10.11 and encoding_rs read as different characters.
const UNSUPPORTED: &[(&str, Refusal)] = {
    use Refusal::*;
    &[
        ("big5", TablesDiffer { multibyte: true, sequences: 267 }),
        ("dec8", NoTables),
        ("cp850", NoTables),
        ("hp8", NoTables),
        ("koi8r", WithoutFeature { multibyte: false }),
        ("latin2", WithoutFeature { multibyte: false }),
        ("swe7", NoTables),
        ("ujis", TablesDiffer { multibyte: true, sequences: 381 }),
        ("sjis", TablesDiffer { multibyte: true, sequences: 7 }),
        ("hebrew", TablesDiffer { multibyte: false, sequences: 1 }),
        ("tis620", TablesDiffer { multibyte: false, sequences: 10 }),
        ("euckr", WithoutFeature { multibyte: true }),
        ("koi8u", TablesDiffer { multibyte: false, sequences: 3 }),
        ("gb2312", TablesDiffer { multibyte: true, sequences: 2 }),
        ("greek", TablesDiffer { multibyte: false, sequences: 2 }),
        ("cp1250", WithoutFeature { multibyte: false }),
        ("gbk", WithoutFeature { multibyte: true }),
        ("latin5", TablesDiffer { multibyte: false, sequences: 25 }),
        ("armscii8", NoTables),
        ("ucs2", NotAClientCharset),
        ("cp866", TablesDiffer { multibyte: false, sequences: 2 }),
        ("keybcs2", NoTables),
        ("macce", NoTables),
        ("macroman", WithoutFeature { multibyte: false }),
        ("cp852", NoTables),
        ("latin7", WithoutFeature { multibyte: false }),
        ("cp1251", WithoutFeature { multibyte: false }),
        ("utf16", NotAClientCharset),
        ("utf16le", NotAClientCharset),
        ("cp1256", WithoutFeature { multibyte: false }),
        ("cp1257", WithoutFeature { multibyte: false }),
        ("utf32", NotAClientCharset),
        ("geostd8", NoTables),
        ("cp932", WithoutFeature { multibyte: true }),
        ("eucjpms", TablesDiffer { multibyte: true, sequences: 374 }),
        ("gb18030", WithoutFeature { multibyte: true }),
    ]
};

/// The connection character sets the `charsets` feature adds.
#[cfg(feature = "charsets")]
fn legacy_charsets() -> &'static [Charset] {
    &LEGACY_CHARSETS
}
#[cfg(not(feature = "charsets"))]
fn legacy_charsets() -> &'static [Charset] {
    &[]
}

/// The sentence of the error for a character set refused for `why`.
fn refusal_message(name: &str, why: Refusal) -> String {
    const MISREAD: &str = "sending UTF-8 bytes labelled as a multibyte character set would defeat \
                           escaping (a 0x5C byte inside a character reads as a backslash)";
    match why {
        Refusal::WithoutFeature { multibyte } => format!(
            "character set {name}: this component was built without the charsets feature, which \
             carries its tables{}; use utf8mb4",
            if multibyte { format!(", and {MISREAD}") } else { String::new() }
        ),
        Refusal::TablesDiffer { multibyte, sequences } => format!(
            "character set {name}: the server's table and the encoding this client carries read \
             {sequences} byte sequence(s) as different characters, so text would change on its way{}; \
             use utf8mb4",
            if multibyte { format!(", and without its own tables {MISREAD}") } else { String::new() }
        ),
        Refusal::NoTables => format!(
            "character set {name}: this client carries no encoding tables for it, so strings \
             could not be encoded for it or decoded from it; use utf8mb4"
        ),
        Refusal::NotAClientCharset => {
            format!("character set {name}: the server does not accept it as a client character set; use utf8mb4")
        }
    }
}

/// Looks up a connection character set by name (case-insensitive).
///
/// Known MySQL character sets we do not carry give [`InputError::UnsupportedCharset`] with the
/// reason; names MySQL does not know give [`InputError::UnknownCharset`].
pub fn charset_by_name(name: &str) -> Result<&'static Charset, InputError> {
    if let Some(cs) = SUPPORTED.iter().chain(legacy_charsets()).find(|cs| cs.name.eq_ignore_ascii_case(name)) {
        return Ok(cs);
    }
    match UNSUPPORTED.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)) {
        Some((known, why)) => Err(InputError::UnsupportedCharset(refusal_message(known, *why))),
        None => Err(InputError::UnknownCharset(format!("unknown character set: {name:?}"))),
    }
}

/// The encoding of values in a column whose ColumnDefinition41 carries collation `id`.
///
/// Collations of character sets we do not decode fall back to [`Encoding::Utf8mb4`]: their
/// bytes are then kept as text only if they happen to be valid UTF-8, and as bytes otherwise.
pub fn encoding_of_collation(id: u16) -> Encoding {
    match id {
        63 => Encoding::Binary,
        45 | 46 | 224..=247 => Encoding::Utf8mb4,
        33 | 76 | 83 | 192..=215 | 223 => Encoding::Utf8mb3,
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => Encoding::Latin1,
        11 | 65 => Encoding::Ascii,
        #[cfg(feature = "charsets")]
        id if legacy_of_collation(id).is_some() => legacy_of_collation(id).map_or(Encoding::Utf8mb4, Encoding::Legacy),
        // MariaDB's utf8mb3 collations beyond the MySQL range (croatian, myanmar, thai_520_w2).
        576..=578 => Encoding::Utf8mb3,
        // MariaDB's NO PAD variants are numbered 1024 + the id of their PAD SPACE twin.
        1024..=2047 => encoding_of_collation(id - 1024),
        // MariaDB's UCA 14.0.0 collations carry the character set in bits 8..11: 0 is utf8mb3.
        2048..=4095 if (id >> 8) & 0x07 == 0 => Encoding::Utf8mb3,
        // Everything else at or above 255 is utf8mb4 (MySQL 8's 0900 collations, MariaDB's
        // utf8mb4 UCA 14.0.0 ones), and unknown character sets fall back to UTF-8 validation.
        _ => Encoding::Utf8mb4,
    }
}

/// Windows-1252 characters at bytes 0x80..=0x9F; `None` where cp1252 leaves the byte undefined
/// and MySQL maps it to the code point of the same number.
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// The character MySQL's latin1 assigns to byte `b`.
fn latin1_char(b: u8) -> char {
    match b.checked_sub(0x80).and_then(|i| CP1252_HIGH.get(usize::from(i))) {
        Some(Some(c)) => *c,
        // ASCII, 0xA0..=0xFF and the five undefined bytes map to the same code point.
        _ => char::from(b),
    }
}

/// The latin1 byte for `c`, if latin1 can represent it.
fn latin1_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    match code {
        0x00..=0x7F | 0xA0..=0xFF | 0x81 | 0x8D | 0x8F | 0x90 | 0x9D => u8::try_from(code).ok(),
        _ => CP1252_HIGH.iter().position(|m| *m == Some(c)).and_then(|i| u8::try_from(i).ok()).map(|i| 0x80 | i),
    }
}

impl Encoding {
    /// Encodes `s` for sending; [`InputError::Value`] if a character has no representation.
    ///
    /// `Binary` sends the UTF-8 bytes unchanged, as the server stores them.
    pub fn encode<'a>(&self, s: &'a str) -> Result<Cow<'a, [u8]>, InputError> {
        match self {
            Encoding::Utf8mb4 | Encoding::Binary => Ok(Cow::Borrowed(s.as_bytes())),
            Encoding::Utf8mb3 => match s.chars().find(|c| u32::from(*c) > 0xFFFF) {
                None => Ok(Cow::Borrowed(s.as_bytes())),
                Some(c) => Err(unencodable(c, "utf8mb3")),
            },
            Encoding::Ascii => match s.chars().find(|c| !c.is_ascii()) {
                None => Ok(Cow::Borrowed(s.as_bytes())),
                Some(c) => Err(unencodable(c, "ascii")),
            },
            Encoding::Latin1 if s.is_ascii() => Ok(Cow::Borrowed(s.as_bytes())),
            Encoding::Latin1 => s
                .chars()
                .map(|c| latin1_byte(c).ok_or_else(|| unencodable(c, "latin1")))
                .collect::<Result<Vec<u8>, InputError>>()
                .map(Cow::Owned),
            #[cfg(feature = "charsets")]
            Encoding::Legacy(cs) => cs.encode(s),
        }
    }

    /// Decodes bytes received in this encoding; `None` if they are not valid in it.
    ///
    /// `Binary` has no characters, so it accepts exactly the bytes that are valid UTF-8.
    pub fn decode<'a>(&self, b: &'a [u8]) -> Option<Cow<'a, str>> {
        match self {
            Encoding::Utf8mb4 | Encoding::Binary => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            // A UTF-8 lead byte of 0xF0 or above starts a character outside the BMP.
            Encoding::Utf8mb3 => match std::str::from_utf8(b) {
                Ok(s) if !b.iter().any(|&x| x >= 0xF0) => Some(Cow::Borrowed(s)),
                _ => None,
            },
            Encoding::Ascii if b.is_ascii() => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Encoding::Ascii => None,
            Encoding::Latin1 if b.is_ascii() => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Encoding::Latin1 => Some(Cow::Owned(b.iter().map(|&x| latin1_char(x)).collect())),
            #[cfg(feature = "charsets")]
            Encoding::Legacy(cs) => cs.decode(b),
        }
    }
}

/// The error for a character that an encoding cannot represent.
fn unencodable(c: char, charset: &str) -> InputError {
    InputError::Value(format!("character {c:?} (U+{:04X}) cannot be encoded in {charset}", u32::from(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_names_are_case_insensitive() {
        let cs = charset_by_name("UTF8MB4").unwrap();
        assert_eq!((cs.name, cs.collation_id, cs.encoding), ("utf8mb4", 45, Encoding::Utf8mb4));
        assert_eq!(charset_by_name("utf8").unwrap().collation_id, 33);
        assert_eq!(charset_by_name("utf8").unwrap().name, "utf8");
        assert_eq!(charset_by_name("Utf8mb3").unwrap().encoding, Encoding::Utf8mb3);
        assert_eq!(charset_by_name("latin1").unwrap().collation_id, 8);
        assert_eq!(charset_by_name("ASCII").unwrap().collation_id, 11);
        assert_eq!(charset_by_name("binary").unwrap().encoding, Encoding::Binary);
    }

    #[test]
    fn known_but_unsupported_names_are_not_supported() {
        // Tables that disagree with the server's, multibyte: the reason names escaping too.
        for name in ["big5", "sjis", "gb2312", "ujis", "eucjpms"] {
            match charset_by_name(name) {
                Err(InputError::UnsupportedCharset(msg)) => {
                    assert!(msg.starts_with(&format!("character set {name}:")), "{msg}");
                    assert!(msg.contains("different characters") && msg.contains("escaping"), "{msg}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        for name in ["ucs2", "utf16", "utf32", "latin5", "koi8u", "dec8", "swe7"] {
            assert!(matches!(charset_by_name(name), Err(InputError::UnsupportedCharset(_))), "{name}");
        }
        match charset_by_name("utf16") {
            Err(InputError::UnsupportedCharset(msg)) => assert!(msg.contains("client character set"), "{msg}"),
            other => panic!("{other:?}"),
        }
        match charset_by_name("armscii8") {
            Err(InputError::UnsupportedCharset(msg)) => assert!(msg.contains("encoding tables"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(feature = "charsets")]
    #[test]
    fn the_charsets_feature_adds_legacy_charsets() {
        for (name, id) in [("gbk", 28), ("GB18030", 248), ("cp932", 95), ("euckr", 19), ("cp1251", 51), ("latin2", 9)] {
            let cs = charset_by_name(name).unwrap();
            assert_eq!(cs.collation_id, id, "{name}");
            assert!(matches!(cs.encoding, Encoding::Legacy(_)), "{name}");
            assert_eq!(encoding_of_collation(id), cs.encoding, "{name}");
            assert_eq!(encoding_of_collation(id + 1024), cs.encoding, "{name} NO PAD");
        }
    }

    #[cfg(not(feature = "charsets"))]
    #[test]
    fn without_the_charsets_feature_legacy_charsets_say_why() {
        for name in ["gbk", "cp932", "latin2"] {
            match charset_by_name(name) {
                Err(InputError::UnsupportedCharset(msg)) => assert!(msg.contains("charsets feature"), "{msg}"),
                other => panic!("{name}: {other:?}"),
            }
            assert_eq!(encoding_of_collation(28), Encoding::Utf8mb4);
        }
    }

    #[test]
    fn unknown_names_are_programming_errors() {
        for name in ["", "utf-8", "klingon", "utf8mb4 "] {
            assert!(matches!(charset_by_name(name), Err(InputError::UnknownCharset(_))), "{name:?}");
        }
    }

    #[test]
    fn collations_map_to_encodings() {
        use Encoding::*;
        let cases: &[(u16, Encoding)] = &[
            (63, Binary),
            (45, Utf8mb4),
            (46, Utf8mb4),
            (224, Utf8mb4),
            (247, Utf8mb4),
            (255, Utf8mb4),
            (309, Utf8mb4),
            (33, Utf8mb3),
            (83, Utf8mb3),
            (192, Utf8mb3),
            (215, Utf8mb3),
            (223, Utf8mb3),
            (577, Utf8mb3),
            (608, Utf8mb4),
            (5, Latin1),
            (8, Latin1),
            (47, Latin1),
            (94, Latin1),
            (11, Ascii),
            (65, Ascii),
            // MariaDB NO PAD collations.
            (1032, Latin1),
            (1057, Utf8mb3),
            (1069, Utf8mb4),
            (1089, Ascii),
            (1107, Utf8mb3),
            (1248, Utf8mb4),
            // MariaDB UCA 14.0.0: utf8mb3_uca1400_ai_ci, utf8mb4_uca1400_ai_ci, _as_cs.
            (2048, Utf8mb3),
            (2304, Utf8mb4),
            (2307, Utf8mb4),
            // Unknown or undecoded character sets fall back to UTF-8 validation.
            (1, Utf8mb4),
            (0, Utf8mb4),
            (u16::MAX, Utf8mb4),
        ];
        for &(id, enc) in cases {
            assert_eq!(encoding_of_collation(id), enc, "collation {id}");
        }
    }

    #[test]
    fn utf8_encodings() {
        assert_eq!(Encoding::Utf8mb4.encode("a😀").unwrap().as_ref(), "a😀".as_bytes());
        assert!(matches!(Encoding::Utf8mb4.encode("x").unwrap(), Cow::Borrowed(_)));
        assert_eq!(Encoding::Utf8mb3.encode("żółw€").unwrap().as_ref(), "żółw€".as_bytes());
        match Encoding::Utf8mb3.encode("a😀") {
            Err(InputError::Value(msg)) => assert!(msg.contains("U+1F600"), "{msg}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(Encoding::Utf8mb4.decode("😀".as_bytes()).as_deref(), Some("😀"));
        assert_eq!(Encoding::Utf8mb3.decode("żółw".as_bytes()).as_deref(), Some("żółw"));
        assert_eq!(Encoding::Utf8mb3.decode("😀".as_bytes()), None);
        assert_eq!(Encoding::Utf8mb4.decode(b"\xff\xfe"), None);
        assert_eq!(Encoding::Utf8mb4.decode(b"\xc3"), None);
    }

    #[test]
    fn ascii_and_binary() {
        assert_eq!(Encoding::Ascii.encode("abc").unwrap().as_ref(), b"abc");
        assert!(matches!(Encoding::Ascii.encode("é"), Err(InputError::Value(_))));
        assert_eq!(Encoding::Ascii.decode(b"abc").as_deref(), Some("abc"));
        assert_eq!(Encoding::Ascii.decode(b"ab\x80"), None);
        assert_eq!(Encoding::Binary.encode("é").unwrap().as_ref(), "é".as_bytes());
        assert_eq!(Encoding::Binary.decode(b"\x00x").as_deref(), Some("\0x"));
        assert_eq!(Encoding::Binary.decode(b"\xff"), None);
    }

    #[test]
    fn latin1_is_cp1252() {
        let enc = Encoding::Latin1;
        assert_eq!(enc.encode("€").unwrap().as_ref(), b"\x80");
        assert_eq!(enc.encode("café ÿ").unwrap().as_ref(), b"caf\xe9 \xff");
        assert_eq!(enc.encode("‚ƒ„…†‡ˆ‰Š‹ŒŽ").unwrap().as_ref(), b"\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8e");
        assert_eq!(
            enc.encode("‘’“”•–—˜™š›œžŸ").unwrap().as_ref(),
            b"\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9e\x9f"
        );
        // The five bytes cp1252 leaves undefined stand for the C1 controls of the same number.
        assert_eq!(enc.encode("\u{81}\u{8d}\u{8f}\u{90}\u{9d}").unwrap().as_ref(), b"\x81\x8d\x8f\x90\x9d");
        for bad in ["\u{80}", "\u{9f}", "ł", "😀", "\u{100}"] {
            assert!(matches!(enc.encode(bad), Err(InputError::Value(_))), "{bad:?}");
        }
        assert_eq!(enc.decode(b"caf\xe9").as_deref(), Some("café"));
        assert_eq!(enc.decode(b"\x80\x9f\xa0").as_deref(), Some("€Ÿ\u{a0}"));
        assert_eq!(enc.decode(b"\x81\x8d\x8f\x90\x9d").as_deref(), Some("\u{81}\u{8d}\u{8f}\u{90}\u{9d}"));
        assert!(matches!(enc.decode(b"plain"), Some(Cow::Borrowed("plain"))));
    }

    #[test]
    fn latin1_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255u8).collect();
        let text = Encoding::Latin1.decode(&all).unwrap();
        assert_eq!(text.chars().count(), 256);
        assert_eq!(Encoding::Latin1.encode(&text).unwrap().as_ref(), all.as_slice());
    }
}
