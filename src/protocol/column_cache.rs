//! The column definitions of the last result set, kept with their wire bytes.
//!
//! A statement run again (the point query of a loop) is described by the same ColumnDefinition41
//! packets every time. Parsing them costs five strings per column, more than decoding the row
//! they describe; comparing the bytes with the last result's costs a `memcmp`.

use std::rc::Rc;

use super::column::Column;
use crate::protocol::error::ProtocolError;

/// Definitions larger than this in total are parsed every time rather than kept.
const MAX_CACHED_BYTES: usize = 64 * 1024;

/// Parses the column definitions of a result set, reusing the last result's when the bytes match.
#[derive(Debug, Default)]
pub struct ColumnCache {
    /// The last result's definition packets, back to back, and where each ends.
    raw: Vec<u8>,
    ends: Vec<usize>,
    columns: Option<Rc<[Column]>>,
    /// The result being read: how many packets so far and, once one differs from the cache,
    /// their bytes and columns (while all match, the cache already holds both).
    count: usize,
    incoming_raw: Vec<u8>,
    incoming_ends: Vec<usize>,
    parsed: Vec<Column>,
    matching: bool,
    /// Set once the result's definitions outgrow MAX_CACHED_BYTES: their bytes are no longer copied.
    uncacheable: bool,
    /// Memory the result's definitions take so far (columns and copied bytes).
    held: usize,
}

impl ColumnCache {
    /// Starts reading the definitions of a new result set.
    pub fn start(&mut self) {
        self.count = 0;
        self.incoming_raw.clear();
        self.incoming_ends.clear();
        self.parsed.clear();
        self.matching = self.columns.is_some();
        self.uncacheable = false;
        self.held = 0;
    }

    /// The memory the definitions read since `start` take, for the caller's result limit.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Takes the next ColumnDefinition41 packet; an error is the error of parsing this packet.
    pub fn push(&mut self, packet: &[u8]) -> Result<(), ProtocolError> {
        let index = self.count;
        self.count += 1;
        if self.matching {
            let start = index.checked_sub(1).and_then(|i| self.ends.get(i)).copied().unwrap_or(0);
            let cached = self.ends.get(index).and_then(|&end| self.raw.get(start..end));
            if cached.is_some_and(|c| same_bytes(c, packet)) {
                let column = self.columns.as_ref().and_then(|c| c.get(index));
                self.held += column.map_or(0, Column::memory_size);
                return Ok(());
            }
            // The packets before this one matched: their bytes and columns are the cached ones.
            self.matching = false;
            self.incoming_raw.extend_from_slice(self.raw.get(..start).unwrap_or_default());
            self.incoming_ends.extend(self.ends.iter().take(index));
            if let Some(columns) = &self.columns {
                self.parsed.extend(columns.iter().take(index).cloned());
            }
        }
        // Parsed first: a packet that fails must not be kept, or the next result holding the
        // same bytes would take them from the cache unchecked.
        let column = Column::parse(packet)?;
        // Definitions too large to keep are not copied either, so hostile ones are held only once.
        if self.incoming_raw.len() + packet.len() > MAX_CACHED_BYTES {
            self.uncacheable = true;
            self.incoming_raw = Vec::new();
            self.incoming_ends = Vec::new();
        }
        if !self.uncacheable {
            self.incoming_raw.extend_from_slice(packet);
            self.incoming_ends.push(self.incoming_raw.len());
            self.held += packet.len();
        }
        self.held += column.memory_size();
        self.parsed.push(column);
        Ok(())
    }

    /// The columns of the result just read.
    pub fn finish(&mut self) -> Rc<[Column]> {
        if self.matching {
            if let Some(columns) = &self.columns {
                if self.count == columns.len() {
                    return columns.clone();
                }
                // Fewer columns than last time, each matching: a prefix of the cached ones.
                let end = self.count.checked_sub(1).and_then(|i| self.ends.get(i)).copied().unwrap_or(0);
                self.incoming_raw.extend_from_slice(self.raw.get(..end).unwrap_or_default());
                self.incoming_ends.extend(self.ends.iter().take(self.count));
                self.parsed.extend(columns.iter().take(self.count).cloned());
            }
        }
        let columns: Rc<[Column]> = std::mem::take(&mut self.parsed).into();
        if !self.uncacheable && self.incoming_raw.len() <= MAX_CACHED_BYTES {
            std::mem::swap(&mut self.raw, &mut self.incoming_raw);
            std::mem::swap(&mut self.ends, &mut self.incoming_ends);
            self.columns = Some(columns.clone());
        } else {
            self.raw = Vec::new();
            self.ends = Vec::new();
            self.incoming_raw = Vec::new();
            self.columns = None;
        }
        columns
    }
}

/// Byte equality eight bytes at a time: wasm32's `memcmp` is a loop over single bytes.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails_equal = a_words.remainder() == b_words.remainder();
    tails_equal && a_words.zip(b_words).all(|(x, y)| word(x) == word(y))
}

fn word(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `SELECT id FROM test.t` against MariaDB 10.11.19, captured (as in column.rs).
    const ID_COLUMN: &[u8] =
        b"\x03def\x04test\x01t\x01t\x02id\x02id\x0c\x3f\x00\x0b\x00\x00\x00\x03\x03\x50\x00\x00\x00";
    /// The same column aliased `x`.
    const X_COLUMN: &[u8] = b"\x03def\x04test\x01t\x01t\x01x\x02id\x0c\x3f\x00\x0b\x00\x00\x00\x03\x03\x50\x00\x00\x00";

    fn read(cache: &mut ColumnCache, packets: &[&[u8]]) -> Rc<[Column]> {
        cache.start();
        for p in packets {
            cache.push(p).unwrap();
        }
        cache.finish()
    }

    fn names(columns: &[Column]) -> Vec<&str> {
        columns.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn the_same_definitions_are_shared_not_parsed_again() {
        let mut cache = ColumnCache::default();
        let first = read(&mut cache, &[ID_COLUMN, X_COLUMN]);
        let second = read(&mut cache, &[ID_COLUMN, X_COLUMN]);
        assert!(Rc::ptr_eq(&first, &second));
        assert_eq!(names(&second), ["id", "x"]);
    }

    #[test]
    fn different_definitions_are_parsed() {
        let mut cache = ColumnCache::default();
        read(&mut cache, &[ID_COLUMN, X_COLUMN]);
        // A differing packet after a matching one, fewer columns, more columns, another order.
        assert_eq!(names(&read(&mut cache, &[ID_COLUMN, ID_COLUMN])), ["id", "id"]);
        let fewer = read(&mut cache, &[ID_COLUMN]);
        assert_eq!(names(&fewer), ["id"]);
        assert!(Rc::ptr_eq(&fewer, &read(&mut cache, &[ID_COLUMN])), "the shorter result is cached in turn");
        assert_eq!(names(&read(&mut cache, &[ID_COLUMN, X_COLUMN, ID_COLUMN])), ["id", "x", "id"]);
        assert_eq!(names(&read(&mut cache, &[X_COLUMN, ID_COLUMN, ID_COLUMN])), ["x", "id", "id"]);
        assert_eq!(names(&read(&mut cache, &[X_COLUMN, ID_COLUMN, ID_COLUMN])), ["x", "id", "id"]);
    }

    #[test]
    fn same_bytes_compares_every_byte() {
        let a: Vec<u8> = (0..40).collect();
        for len in 0..a.len() {
            assert!(same_bytes(&a[..len], &a[..len]));
            for at in 0..len {
                let mut b = a[..len].to_vec();
                b[at] ^= 1;
                assert!(!same_bytes(&a[..len], &b), "len {len}, byte {at}");
            }
        }
        assert!(!same_bytes(&a[..8], &a[..9]));
    }

    #[test]
    fn large_definitions_are_counted_and_not_copied() {
        let mut cache = ColumnCache::default();
        read(&mut cache, &[ID_COLUMN]);
        // A definition with a 100 KiB column name: parsed, counted, neither copied nor cached.
        let mut big = b"\x03def\x04test\x01t\x01t\xfd\x00\x90\x01".to_vec();
        big.extend(std::iter::repeat_n(b'n', 0x19000));
        big.extend_from_slice(b"\x02id\x0c\x3f\x00\x0b\x00\x00\x00\x03\x03\x50\x00\x00\x00");
        cache.start();
        cache.push(ID_COLUMN).unwrap();
        cache.push(&big).unwrap();
        assert!(cache.held_bytes() >= 0x19000, "{}", cache.held_bytes());
        assert!(cache.incoming_raw.capacity() == 0, "the definitions' bytes are not kept");
        let columns = cache.finish();
        assert_eq!(columns[1].name.len(), 0x19000);
        assert!(cache.columns.is_none() && cache.raw.is_empty());
        cache.start();
        assert_eq!(cache.held_bytes(), 0);
        assert_eq!(names(&read(&mut cache, &[ID_COLUMN])), ["id"]);
    }

    #[test]
    fn a_bad_definition_is_reported_when_it_arrives() {
        let mut cache = ColumnCache::default();
        read(&mut cache, &[ID_COLUMN, X_COLUMN]);
        cache.start();
        cache.push(ID_COLUMN).unwrap();
        assert!(cache.push(&X_COLUMN[..5]).is_err());
        // The next result starts afresh.
        assert_eq!(names(&read(&mut cache, &[ID_COLUMN, X_COLUMN])), ["id", "x"]);
    }

    #[test]
    fn a_bad_definition_is_never_cached() {
        // Found by the column_definitions fuzz target: finishing a result whose last packet
        // failed kept that packet's bytes, and the same bytes were then taken as valid.
        let bad = &X_COLUMN[..5];
        let mut cache = ColumnCache::default();
        cache.start();
        cache.push(ID_COLUMN).unwrap();
        assert!(cache.push(bad).is_err());
        assert_eq!(names(&cache.finish()), ["id"]);
        cache.start();
        cache.push(ID_COLUMN).unwrap();
        assert!(cache.push(bad).is_err(), "the bad packet is parsed again, not taken from the cache");
    }
}
