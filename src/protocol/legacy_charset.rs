//! MySQL character sets other than the Unicode ones and latin1, through `encoding_rs` (feature
//! `charsets`).
//!
//! A character set is carried only where the server's table and encoding_rs (the WHATWG
//! Encoding Standard) give the same character for every byte sequence both define; this was
//! checked sequence by sequence against MariaDB 10.11 and is kept so by tests/charsets.rs.
//!
//! Escaping works on characters, before encoding, and is sound only if the server splits our
//! bytes into the same characters. So every non-ASCII character is encoded on its own and must
//! come out as exactly one character by the server's own rule (`ismbchar` in MySQL's
//! strings/ctype-*.c): a lone byte that is no lead byte, or one whole multibyte sequence. A
//! character that would not (a `¥` that Shift_JIS encoders write as 0x5C, a sequence the server
//! would read as a lone byte and a backslash) is refused instead of being sent.

use std::borrow::Cow;

use encoding_rs::{EncoderResult, Encoding as WhatwgEncoding};

use super::charset::{Charset, Encoding};
use super::error::InputError;

/// A MySQL character set whose bytes encoding_rs encodes and decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// `gbk` (Simplified Chinese, code page 936).
    Gbk,
    /// `gb18030` (MySQL 8.0 only; MariaDB has no gb18030).
    Gb18030,
    /// `cp932` (Windows-31J, the Windows flavour of Shift_JIS).
    Cp932,
    /// `euckr` (EUC-KR with the Unified Hangul Code extension, code page 949).
    Euckr,
    /// `latin2` (ISO 8859-2).
    Latin2,
    /// `cp1250` (Windows Central European).
    Cp1250,
    /// `cp1251` (Windows Cyrillic).
    Cp1251,
    /// `cp1256` (Windows Arabic).
    Cp1256,
    /// `cp1257` (Windows Baltic).
    Cp1257,
    /// `koi8r` (KOI8-R Russian).
    Koi8r,
    /// `latin7` (ISO 8859-13 Baltic).
    Latin7,
    /// `macroman` (Mac Roman).
    Macroman,
}

/// The character sets as connection character sets, with their default collations.
pub(super) static CHARSETS: [Charset; 12] = [
    legacy("gbk", 28, Legacy::Gbk),
    legacy("gb18030", 248, Legacy::Gb18030),
    legacy("cp932", 95, Legacy::Cp932),
    legacy("euckr", 19, Legacy::Euckr),
    legacy("latin2", 9, Legacy::Latin2),
    legacy("cp1250", 26, Legacy::Cp1250),
    legacy("cp1251", 51, Legacy::Cp1251),
    legacy("cp1256", 57, Legacy::Cp1256),
    legacy("cp1257", 59, Legacy::Cp1257),
    legacy("koi8r", 7, Legacy::Koi8r),
    legacy("latin7", 41, Legacy::Latin7),
    legacy("macroman", 39, Legacy::Macroman),
];

const fn legacy(name: &'static str, collation_id: u16, cs: Legacy) -> Charset {
    Charset { name, collation_id, encoding: Encoding::Legacy(cs) }
}

/// Every collation id MariaDB 10.11 and MySQL 8.0 give each character set below 1024 (MariaDB
/// numbers the NO PAD twins 1024 + these).
const COLLATIONS: &[(Legacy, &[u16])] = &[
    (Legacy::Gbk, &[28, 87]),
    (Legacy::Gb18030, &[248, 249, 250]),
    (Legacy::Cp932, &[95, 96]),
    (Legacy::Euckr, &[19, 85]),
    (Legacy::Latin2, &[2, 9, 21, 27, 77]),
    (Legacy::Cp1250, &[26, 34, 44, 66, 99]),
    (Legacy::Cp1251, &[14, 23, 50, 51, 52]),
    (Legacy::Cp1256, &[57, 67]),
    (Legacy::Cp1257, &[29, 58, 59]),
    (Legacy::Koi8r, &[7, 74]),
    (Legacy::Latin7, &[20, 41, 42, 79]),
    (Legacy::Macroman, &[39, 53]),
];

/// The character set of collation `id` (below 1024), if it is one of these.
pub(super) fn legacy_of_collation(id: u16) -> Option<Legacy> {
    COLLATIONS.iter().find(|(_, ids)| ids.contains(&id)).map(|(cs, _)| *cs)
}

impl Legacy {
    /// The character set's name in MySQL.
    pub fn name(self) -> &'static str {
        CHARSETS.iter().find(|c| c.encoding == Encoding::Legacy(self)).map_or("?", |c| c.name)
    }

    /// The encoding_rs encoding with the same table.
    fn whatwg(self) -> &'static WhatwgEncoding {
        match self {
            Legacy::Gbk => encoding_rs::GBK,
            Legacy::Gb18030 => encoding_rs::GB18030,
            Legacy::Cp932 => encoding_rs::SHIFT_JIS,
            Legacy::Euckr => encoding_rs::EUC_KR,
            Legacy::Latin2 => encoding_rs::ISO_8859_2,
            Legacy::Cp1250 => encoding_rs::WINDOWS_1250,
            Legacy::Cp1251 => encoding_rs::WINDOWS_1251,
            Legacy::Cp1256 => encoding_rs::WINDOWS_1256,
            Legacy::Cp1257 => encoding_rs::WINDOWS_1257,
            Legacy::Koi8r => encoding_rs::KOI8_R,
            Legacy::Latin7 => encoding_rs::ISO_8859_13,
            Legacy::Macroman => encoding_rs::MACINTOSH,
        }
    }

    /// Whether the server reads `b` as the first byte of a multibyte character.
    fn is_lead(self, b: u8) -> bool {
        match self {
            Legacy::Gbk | Legacy::Gb18030 | Legacy::Euckr => (0x81..=0xFE).contains(&b),
            Legacy::Cp932 => matches!(b, 0x81..=0x9F | 0xE0..=0xFC),
            _ => false,
        }
    }

    /// The length of the multibyte character the server reads at the start of `b`, or 0 if it
    /// reads none there (MySQL's `ismbchar`).
    fn mb_len(self, b: &[u8]) -> usize {
        let second = match b {
            [lead, second, ..] if self.is_lead(*lead) => *second,
            _ => return 0,
        };
        let two = match self {
            Legacy::Gbk | Legacy::Gb18030 => matches!(second, 0x40..=0x7E | 0x80..=0xFE),
            Legacy::Cp932 => matches!(second, 0x40..=0x7E | 0x80..=0xFC),
            Legacy::Euckr => matches!(second, 0x41..=0x5A | 0x61..=0x7A | 0x81..=0xFE),
            _ => false,
        };
        if two {
            return 2;
        }
        match (self, b) {
            (Legacy::Gb18030, [_, 0x30..=0x39, 0x81..=0xFE, 0x30..=0x39, ..]) => 4,
            _ => 0,
        }
    }

    /// Whether the server splits `b` into characters exactly where the bytes say: every byte at
    /// or above 0x80 either starts a whole multibyte character or is no lead byte.
    fn well_formed(self, mut b: &[u8]) -> bool {
        while let Some(&first) = b.first() {
            let len = match self.mb_len(b) {
                0 if self.is_lead(first) => return false,
                0 => 1,
                n => n,
            };
            b = b.get(len..).unwrap_or_default();
        }
        true
    }

    /// Encodes `s`; [`InputError::Value`] for a character that has no representation, or whose
    /// bytes the server would not read back as that one character.
    pub fn encode(self, s: &str) -> Result<Cow<'_, [u8]>, InputError> {
        if s.is_ascii() {
            return Ok(Cow::Borrowed(s.as_bytes()));
        }
        let mut encoder = self.whatwg().new_encoder();
        let mut out = Vec::with_capacity(s.len());
        let mut utf8 = [0u8; 4];
        // The longest sequence any of these writes is gb18030's four bytes.
        let mut bytes = [0u8; 8];
        for c in s.chars() {
            if c.is_ascii() {
                out.push(c as u8);
                continue;
            }
            // None of these encoders keeps state between characters, so `last` stays false.
            let (result, _, written) =
                encoder.encode_from_utf8_without_replacement(c.encode_utf8(&mut utf8), &mut bytes, false);
            let encoded = bytes.get(..written).unwrap_or_default();
            let one_character = match encoded {
                [single] => *single >= 0x80 && !self.is_lead(*single),
                _ => encoded.len() >= 2 && self.mb_len(encoded) == encoded.len(),
            };
            if result != EncoderResult::InputEmpty || !one_character {
                return Err(InputError::Value(format!(
                    "character {c:?} (U+{:04X}) cannot be encoded in {}",
                    u32::from(c),
                    self.name()
                )));
            }
            out.extend_from_slice(encoded);
        }
        Ok(Cow::Owned(out))
    }

    /// Decodes bytes received in this character set; `None` if they are not valid in it.
    pub fn decode(self, b: &[u8]) -> Option<Cow<'_, str>> {
        if !self.well_formed(b) {
            return None;
        }
        self.whatwg().decode_without_bom_handling_and_without_replacement(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(cs: Legacy, s: &str) -> Vec<u8> {
        cs.encode(s).unwrap().into_owned()
    }

    #[test]
    fn multibyte_round_trips() {
        let cases: &[(Legacy, &str, &[u8])] = &[
            (Legacy::Gbk, "中文 'x'", b"\xd6\xd0\xce\xc4 'x'"),
            (Legacy::Cp932, "日本ソ", b"\x93\xfa\x96\x7b\x83\x5c"),
            (Legacy::Euckr, "한국", b"\xc7\xd1\xb1\xb9"),
            (Legacy::Gb18030, "€😀", b"\xa2\xe3\x94\x39\xfc\x36"),
            (Legacy::Cp1251, "Привет", b"\xcf\xf0\xe8\xe2\xe5\xf2"),
            (Legacy::Latin2, "żółw", b"\xbf\xf3\xb3w"),
        ];
        for &(cs, text, bytes) in cases {
            assert_eq!(enc(cs, text), bytes, "{cs:?}");
            assert_eq!(cs.decode(bytes).as_deref(), Some(text), "{cs:?}");
        }
    }

    #[test]
    fn a_trail_byte_0x5c_stays_inside_its_character() {
        // 0xBF5C in gbk and 0x835C in cp932: the server reads the 0x5C as part of the character.
        let gbk = enc(Legacy::Gbk, "縗");
        assert_eq!(gbk, b"\xbf\x5c");
        assert!(Legacy::Gbk.well_formed(b"\xbf\x5c\x5c\x27"));
        assert_eq!(enc(Legacy::Cp932, "ソ"), b"\x83\x5c");
    }

    #[test]
    fn characters_that_would_split_differently_are_refused() {
        // Shift_JIS encoders write U+00A5 and U+203E as 0x5C and 0x7E; the server reads a backslash.
        for c in ["¥", "‾"] {
            match Legacy::Cp932.encode(c) {
                Err(InputError::Value(msg)) => assert!(msg.contains("cp932"), "{msg}"),
                other => panic!("{c}: {other:?}"),
            }
        }
        assert!(matches!(Legacy::Gbk.encode("😀"), Err(InputError::Value(_))));
        assert!(matches!(Legacy::Euckr.encode("한😀"), Err(InputError::Value(_))));
        assert!(matches!(Legacy::Cp1251.encode("é"), Err(InputError::Value(_))));
    }

    #[test]
    fn malformed_bytes_are_not_text() {
        // A lead byte followed by a quote, a lead byte at the end, gb18030's four-byte form in gbk.
        for b in [&b"\xbf\x27"[..], b"ab\x81", b"\x81\x30\x81\x30"] {
            assert_eq!(Legacy::Gbk.decode(b), None, "{b:?}");
        }
        assert_eq!(Legacy::Cp932.decode(b"\x83"), None);
        assert_eq!(Legacy::Euckr.decode(b"\xc7\x27"), None);
        assert_eq!(Legacy::Gb18030.decode(b"\x81\x30\x81\x30").as_deref(), Some("\u{80}"));
        assert!(matches!(Legacy::Koi8r.decode(b"plain"), Some(Cow::Borrowed("plain"))));
    }

    #[test]
    fn every_collation_maps_back() {
        for &(cs, ids) in COLLATIONS {
            let charset = CHARSETS.iter().find(|c| c.encoding == Encoding::Legacy(cs)).unwrap();
            assert_eq!(cs.name(), charset.name);
            assert!(ids.contains(&charset.collation_id), "{}", charset.name);
            for &id in ids {
                assert_eq!(legacy_of_collation(id), Some(cs), "{id}");
            }
        }
        assert_eq!(legacy_of_collation(45), None);
    }
}
