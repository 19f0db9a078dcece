//! Checked reading and writing of the protocol's basic data types
//! (fixed-length integers, length-encoded integers and strings, NUL-terminated strings).

use crate::protocol::error::ProtocolError;

/// A cursor over one packet's payload; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    #[inline]
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let end = self.pos.checked_add(n).ok_or(ProtocolError::Truncated(what))?;
        let s = self.buf.get(self.pos..end).ok_or(ProtocolError::Truncated(what))?;
        self.pos = end;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<(), ProtocolError> {
        self.take(n, what).map(|_| ())
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, ProtocolError> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, ProtocolError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        let b = self.take(3, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A length-encoded integer; `None` for the 0xFB marker that stands for NULL in rows.
    pub fn lenenc_int_or_null(&mut self, what: &'static str) -> Result<Option<u64>, ProtocolError> {
        Ok(match self.u8(what)? {
            0xFB => None,
            0xFC => Some(self.u16(what)? as u64),
            0xFD => Some(self.u24(what)? as u64),
            0xFE => Some(self.u64(what)?),
            0xFF => return Err(ProtocolError::InvalidValue(what)),
            b => Some(b as u64),
        })
    }

    pub fn lenenc_int(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        self.lenenc_int_or_null(what)?.ok_or(ProtocolError::InvalidValue(what))
    }

    /// A length-encoded string; `None` for NULL.
    #[inline]
    pub fn lenenc_bytes_or_null(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, ProtocolError> {
        // Every cell of every row comes through here, and nearly all are shorter than 251 bytes:
        // their one-byte length is read without the general integer path.
        if let Some(&len) = self.buf.get(self.pos).filter(|&&b| b < 0xFB) {
            self.pos += 1;
            return self.take(usize::from(len), what).map(Some);
        }
        match self.lenenc_int_or_null(what)? {
            None => Ok(None),
            Some(n) => {
                let n = usize::try_from(n).map_err(|_| ProtocolError::Truncated(what))?;
                self.take(n, what).map(Some)
            }
        }
    }

    pub fn lenenc_bytes(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        self.lenenc_bytes_or_null(what)?.ok_or(ProtocolError::InvalidValue(what))
    }

    /// A NUL-terminated string; the NUL is consumed.
    pub fn null_terminated(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let rest = &self.buf[self.pos..];
        let n = rest.iter().position(|&b| b == 0).ok_or(ProtocolError::Truncated(what))?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    /// A NUL-terminated string whose NUL may be missing at the end of the packet
    /// (some servers omit it after the auth plugin name).
    pub fn null_terminated_or_rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == 0) {
            Some(n) => {
                self.pos += n + 1;
                &rest[..n]
            }
            None => self.rest(),
        }
    }
}

/// Appends a length-encoded integer.
pub fn put_lenenc_int(out: &mut Vec<u8>, v: u64) {
    if v < 251 {
        out.push(v as u8);
    } else if v < 1 << 16 {
        out.push(0xFC);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v < 1 << 24 {
        out.push(0xFD);
        out.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
    } else {
        out.push(0xFE);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends a length-encoded string.
pub fn put_lenenc_bytes(out: &mut Vec<u8>, s: &[u8]) {
    put_lenenc_int(out, s.len() as u64);
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenenc_round_trip() {
        for v in [0u64, 250, 251, 65535, 65536, (1 << 24) - 1, 1 << 24, u64::MAX] {
            let mut out = Vec::new();
            put_lenenc_int(&mut out, v);
            assert_eq!(Reader::new(&out).lenenc_int("n").unwrap(), v);
        }
    }

    #[test]
    fn truncated_reads_are_errors() {
        assert_eq!(Reader::new(&[0xFC, 1]).lenenc_int("n"), Err(ProtocolError::Truncated("n")));
        assert!(Reader::new(&[5, b'a']).lenenc_bytes("s").is_err());
        assert!(Reader::new(b"abc").null_terminated("s").is_err());
        assert_eq!(Reader::new(&[0xFB]).lenenc_bytes_or_null("s"), Ok(None));
        assert!(Reader::new(&[0xFE, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).lenenc_bytes("s").is_err());
    }
}
