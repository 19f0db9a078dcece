//! COM_STMT_EXECUTE: runs a prepared statement with its parameters in the binary protocol.
//!
//! The request carries a NULL bitmap, the new-params-bound flag, each parameter's type (with the
//! unsigned flag) and the values. Types are sent with every execution: a parameter that was NULL
//! last time may be an integer now. A parameter already sent as long data has its type but no value.

use super::binary_value::{param_type, write_param};
use super::charset::Encoding;
use super::error::InputError;
use super::value::Value;

/// The command byte of COM_STMT_EXECUTE.
pub const COM_STMT_EXECUTE: u8 = 0x17;

/// `flags` of COM_STMT_EXECUTE: no cursor, the result is sent whole.
pub const CURSOR_TYPE_NO_CURSOR: u8 = 0x00;
/// `flags` of COM_STMT_EXECUTE: open a read-only cursor, rows come with COM_STMT_FETCH.
pub const CURSOR_TYPE_READ_ONLY: u8 = 0x01;

/// The COM_STMT_EXECUTE packet for statement `statement_id` with `params` (one per `?`), the
/// parameters whose indexes are in `long_data` having been sent with COM_STMT_SEND_LONG_DATA.
///
/// Text is encoded in `encoding`, the connection's character set (character_set_client).
pub fn com_stmt_execute(
    statement_id: u32,
    flags: u8,
    params: &[Value],
    long_data: &[usize],
    encoding: Encoding,
) -> Result<Vec<u8>, InputError> {
    let mut p = Vec::with_capacity(16 + params.len() * 10);
    p.push(COM_STMT_EXECUTE);
    p.extend_from_slice(&statement_id.to_le_bytes());
    p.push(flags);
    // The iteration count is always 1.
    p.extend_from_slice(&1u32.to_le_bytes());
    if params.is_empty() {
        return Ok(p);
    }
    let bitmap_at = p.len();
    p.resize(bitmap_at + params.len().div_ceil(8), 0);
    for (i, v) in params.iter().enumerate() {
        if matches!(v, Value::Null) {
            if let Some(b) = p.get_mut(bitmap_at + i / 8) {
                *b |= 1 << (i % 8);
            }
        }
    }
    // new-params-bound-flag: the types follow.
    p.push(1);
    for v in params {
        let (t, flag) = param_type(v);
        p.extend_from_slice(&[t, flag]);
    }
    for (i, v) in params.iter().enumerate() {
        if !long_data.contains(&i) {
            write_param(&mut p, v, encoding)?;
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::binary_row::tests::captured;
    use crate::protocol::value::{Date, DateTime, Time};

    fn execute(params: &[Value]) -> Vec<u8> {
        com_stmt_execute(1, CURSOR_TYPE_NO_CURSOR, params, &[], Encoding::Utf8mb4).unwrap()
    }

    #[test]
    fn matches_a_request_the_server_accepted() {
        // The server answered this request with the captured row (ti = -128).
        assert_eq!(
            com_stmt_execute(7, CURSOR_TYPE_NO_CURSOR, &[Value::Int(-128)], &[], Encoding::Utf8mb4).unwrap(),
            captured::EXECUTE
        );
    }

    #[test]
    fn without_parameters_there_is_no_bitmap() {
        assert_eq!(execute(&[]), b"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00");
        assert_eq!(
            com_stmt_execute(2, CURSOR_TYPE_READ_ONLY, &[], &[], Encoding::Utf8mb4).unwrap(),
            b"\x17\x02\x00\x00\x00\x01\x01\x00\x00\x00"
        );
    }

    #[test]
    fn nulls_set_their_bit_and_send_no_value() {
        let mut params = vec![Value::Int(1); 10];
        params[0] = Value::Null;
        params[9] = Value::Null;
        let p = execute(&params);
        // Ten parameters: two bitmap bytes, then the flag, then ten types.
        assert_eq!(&p[10..13], b"\x01\x02\x01");
        assert_eq!(&p[13..15], b"\x06\x00");
        assert_eq!(&p[31..33], b"\x06\x00");
        assert_eq!(p.len(), 33 + 8 * 8);
    }

    #[test]
    fn every_type_with_its_unsigned_flag_and_bytes() {
        let head = b"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01";
        let case = |v: Value, types: &[u8], value: &[u8]| {
            let mut want = head.to_vec();
            want.extend_from_slice(types);
            want.extend_from_slice(value);
            assert_eq!(execute(std::slice::from_ref(&v)), want, "{v:?}");
        };
        case(Value::Int(-2), b"\x08\x00", &(-2i64).to_le_bytes());
        case(Value::UInt(u64::MAX), b"\x08\x80", &[0xff; 8]);
        case(Value::Bit(5), b"\x08\x80", b"\x05\x00\x00\x00\x00\x00\x00\x00");
        case(Value::Year(2024), b"\x02\x80", b"\xe8\x07");
        case(Value::Float(1.5), b"\x04\x00", &1.5f32.to_le_bytes());
        case(Value::Double(-2.25), b"\x05\x00", &(-2.25f64).to_le_bytes());
        case(Value::Decimal("-1.50".into()), b"\xf6\x00", b"\x05-1.50");
        case(Value::Text("żółw".into()), b"\xfd\x00", b"\x07\xc5\xbc\xc3\xb3\xc5\x82w");
        case(Value::Enum("b".into()), b"\xfd\x00", b"\x01b");
        case(Value::Set(vec!["x".into(), "z".into()]), b"\xfd\x00", b"\x03x,z");
        case(Value::Json("{}".into()), b"\xfd\x00", b"\x02{}");
        case(Value::Bytes(vec![0, 0xff]), b"\xfc\x00", b"\x02\x00\xff");
        case(Value::Geometry(vec![1, 2, 3]), b"\xfc\x00", b"\x03\x01\x02\x03");
        case(Value::Date(Date { year: 0, month: 0, day: 0 }), b"\x0a\x00", b"\x04\x00\x00\x00\x00");
        let dt = DateTime {
            date: Date { year: 2024, month: 2, day: 29 },
            hour: 23,
            minute: 59,
            second: 58,
            microsecond: 123456,
        };
        case(Value::DateTime(dt), b"\x0c\x00", b"\x0b\xe8\x07\x02\x1d\x17\x3b\x3a\x40\xe2\x01\x00");
        case(Value::Timestamp(dt), b"\x07\x00", b"\x0b\xe8\x07\x02\x1d\x17\x3b\x3a\x40\xe2\x01\x00");
        // -838:59:59.999999 is 34 days and 22 hours, negative.
        let t = Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 999999 };
        case(Value::Time(t), b"\x0b\x00", b"\x0c\x01\x22\x00\x00\x00\x16\x3b\x3b\x3f\x42\x0f\x00");
        assert_eq!(execute(&[Value::Null]), b"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x01\x01\x06\x00");
    }

    #[test]
    fn text_is_encoded_for_the_connection() {
        let p = com_stmt_execute(1, 0, &[Value::Text("é".into())], &[], Encoding::Latin1).unwrap();
        assert_eq!(p.last_chunk::<2>(), Some(&[1, 0xe9]));
        assert!(com_stmt_execute(1, 0, &[Value::Text("ż".into())], &[], Encoding::Latin1).is_err());
    }

    #[test]
    fn values_without_a_stored_form_are_refused() {
        for v in [
            Value::Double(f64::NAN),
            Value::Float(f32::INFINITY),
            Value::Set(vec!["a,b".into()]),
            Value::Time(Time { microseconds: 1_000_000, ..Time::default() }),
        ] {
            assert!(com_stmt_execute(1, 0, std::slice::from_ref(&v), &[], Encoding::Utf8mb4).is_err(), "{v:?}");
        }
    }

    #[test]
    fn long_data_parameters_keep_their_type_but_send_no_value() {
        let p = com_stmt_execute(1, 0, &[Value::Bytes(vec![9; 3]), Value::Int(1)], &[0], Encoding::Utf8mb4).unwrap();
        let mut want = b"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\xfc\x00\x08\x00".to_vec();
        want.extend_from_slice(&1i64.to_le_bytes());
        assert_eq!(p, want);
    }
}
