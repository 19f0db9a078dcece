//! Conversions between the crate's types and the WIT types, at the component edge only.

use std::rc::Rc;
use std::time::Duration;

use super::exports::cymysql::aio::types as wit;
use crate::client::column_batch::{ColumnBatch, ColumnData, VarLen};
use crate::client::cursor::{Cursor, DictCursor, DictRow, ScrollMode};
use crate::client::events::{Event, EventLog, EventOptions, StatementText};
use crate::client::options::{
    ConnectOptions, Conversions, CursorClass, DecimalFormat, Endpoint, HaOptions, JsonFormat, SslOptions, Strategy,
    TemporalFormat,
};
use crate::client::pool::PoolMetrics;
use crate::client::pool::PoolOptions;
use crate::error::{Error, ErrorKind};
use crate::protocol::column::Column;
use crate::protocol::interpolate::Params;
use crate::protocol::value::{Date, DateTime, Time, Value};

pub fn error_out(e: &Error) -> wit::Error {
    let kind = match e.kind() {
        ErrorKind::Interface => wit::ErrorKind::Interface,
        ErrorKind::Database => wit::ErrorKind::Database,
        ErrorKind::Data => wit::ErrorKind::Data,
        ErrorKind::Operational => wit::ErrorKind::Operational,
        ErrorKind::Integrity => wit::ErrorKind::Integrity,
        ErrorKind::Internal => wit::ErrorKind::Internal,
        ErrorKind::Programming => wit::ErrorKind::Programming,
        ErrorKind::NotSupported => wit::ErrorKind::NotSupported,
    };
    wit::Error {
        kind,
        code: e.code(),
        sqlstate: e.sqlstate().map(str::to_string),
        message: e.message(),
        retryable: e.is_retryable(),
    }
}

fn datetime_out(d: DateTime) -> wit::Datetime {
    wit::Datetime {
        year: d.date.year,
        month: d.date.month,
        day: d.date.day,
        hour: d.hour,
        minute: d.minute,
        second: d.second,
        microsecond: d.microsecond,
    }
}

fn datetime_in(d: wit::Datetime) -> DateTime {
    DateTime {
        date: Date { year: d.year, month: d.month, day: d.day },
        hour: d.hour,
        minute: d.minute,
        second: d.second,
        microsecond: d.microsecond,
    }
}

pub fn value_out(v: Value) -> wit::Value {
    match v {
        Value::Null => wit::Value::Null,
        Value::Int(i) => wit::Value::Int(i),
        Value::UInt(u) => wit::Value::Uint(u),
        Value::Float(f) => wit::Value::Float(f),
        Value::Double(f) => wit::Value::Double(f),
        Value::Decimal(s) => wit::Value::Decimal(s),
        Value::Text(s) => wit::Value::Text(s),
        Value::Bytes(b) => wit::Value::Bytes(b),
        Value::Date(d) => wit::Value::Date(wit::Date { year: d.year, month: d.month, day: d.day }),
        Value::DateTime(d) => wit::Value::Datetime(datetime_out(d)),
        Value::Timestamp(d) => wit::Value::Timestamp(datetime_out(d)),
        Value::Time(t) => wit::Value::Time(wit::Time {
            negative: t.negative,
            hours: t.hours,
            minutes: t.minutes,
            seconds: t.seconds,
            microseconds: t.microseconds,
        }),
        Value::Year(y) => wit::Value::Year(y),
        Value::Json(s) => wit::Value::Json(s),
        Value::Bit(b) => wit::Value::Bit(b),
        Value::Enum(s) => wit::Value::Enum(s),
        Value::Set(s) => wit::Value::Set(s),
        Value::Geometry(b) => wit::Value::Geometry(b),
    }
}

pub fn value_in(v: wit::Value) -> Value {
    match v {
        wit::Value::Null => Value::Null,
        wit::Value::Int(i) => Value::Int(i),
        wit::Value::Uint(u) => Value::UInt(u),
        wit::Value::Float(f) => Value::Float(f),
        wit::Value::Double(f) => Value::Double(f),
        wit::Value::Decimal(s) => Value::Decimal(s),
        wit::Value::Text(s) => Value::Text(s),
        wit::Value::Bytes(b) => Value::Bytes(b),
        wit::Value::Date(d) => Value::Date(Date { year: d.year, month: d.month, day: d.day }),
        wit::Value::Datetime(d) => Value::DateTime(datetime_in(d)),
        wit::Value::Timestamp(d) => Value::Timestamp(datetime_in(d)),
        wit::Value::Time(t) => Value::Time(Time {
            negative: t.negative,
            hours: t.hours,
            minutes: t.minutes,
            seconds: t.seconds,
            microseconds: t.microseconds,
        }),
        wit::Value::Year(y) => Value::Year(y),
        wit::Value::Json(s) => Value::Json(s),
        wit::Value::Bit(b) => Value::Bit(b),
        wit::Value::Enum(s) => Value::Enum(s),
        wit::Value::Set(s) => Value::Set(s),
        wit::Value::Geometry(b) => Value::Geometry(b),
    }
}

pub fn warning_out(w: crate::client::conveniences::Warning) -> wit::Warning {
    wit::Warning { level: w.level, code: w.code, message: w.message }
}

pub fn row_out(row: Vec<Value>) -> Vec<wit::Value> {
    row.into_iter().map(value_out).collect()
}

pub fn dict_row_out(row: DictRow) -> Vec<(String, wit::Value)> {
    row.keys.iter().cloned().zip(row.values.into_iter().map(value_out)).collect()
}

/// A column batch: its vectors move into the WIT records as they are, nothing is copied.
pub fn column_batch_out(b: ColumnBatch) -> wit::ColumnBatch {
    let var_len = |v: VarLen| wit::VarLen { ends: v.ends, data: v.data };
    let columns = b
        .columns
        .into_iter()
        .map(|c| wit::ColumnValues {
            nulls: c.nulls,
            data: match c.data {
                ColumnData::Int(v) => wit::ColumnData::Int(v),
                ColumnData::UInt(v) => wit::ColumnData::Uint(v),
                ColumnData::Double(v) => wit::ColumnData::Double(v),
                ColumnData::Text(v) => wit::ColumnData::Text(var_len(v)),
                ColumnData::Bytes(v) => wit::ColumnData::Bytes(var_len(v)),
            },
        })
        .collect();
    wit::ColumnBatch { rows: b.rows, columns }
}

/// A list of rows, each converted by `row` (`row_out` or `dict_row_out`).
pub fn rows_out<R, T>(rows: Vec<R>, row: fn(R) -> T) -> Vec<T> {
    rows.into_iter().map(row).collect()
}

/// The tuple cursor under either kind of cursor: what both report and set alike.
pub trait AsCursor {
    fn plain(&self) -> &Cursor;
    fn plain_mut(&mut self) -> &mut Cursor;
}

impl AsCursor for Cursor {
    fn plain(&self) -> &Cursor {
        self
    }

    fn plain_mut(&mut self) -> &mut Cursor {
        self
    }
}

impl AsCursor for DictCursor {
    fn plain(&self) -> &Cursor {
        self.cursor()
    }

    fn plain_mut(&mut self) -> &mut Cursor {
        self.cursor_mut()
    }
}

/// A cursor's `description`: its columns, or none before a statement with a result set.
pub fn description_out(c: &Cursor) -> Option<Vec<wit::Column>> {
    c.description().map(|cols| cols.iter().map(column_out).collect())
}

/// A cursor's `arraysize` for the WIT's `u32`.
pub fn arraysize_out(c: &Cursor) -> u32 {
    count(c.arraysize())
}

/// A `fetchmany` size.
pub fn size_in(size: Option<u32>) -> Option<usize> {
    size.map(|n| n as usize)
}

/// The parameter sets of `executemany`.
pub fn params_list_in(seq: Vec<wit::Params>) -> Vec<Params> {
    seq.into_iter().map(params_in).collect()
}

pub fn params_in(p: wit::Params) -> Params {
    match p {
        wit::Params::Positional(v) => Params::Positional(v.into_iter().map(value_in).collect()),
        wit::Params::Named(v) => Params::Named(v.into_iter().map(|(k, v)| (k, value_in(v))).collect()),
    }
}

pub fn column_out(c: &Column) -> wit::Column {
    wit::Column {
        name: c.name.clone(),
        org_name: c.org_name.clone(),
        table: c.table.clone(),
        org_table: c.org_table.clone(),
        schema: c.schema.clone(),
        type_code: c.column_type,
        length: c.length,
        decimals: c.decimals,
        flags: c.flags,
        charset: c.charset,
        nullable: c.is_nullable(),
    }
}

/// A timeout option: a positive, finite number of seconds, or none.
pub fn timeout_in(what: &str, seconds: Option<f64>) -> Result<Option<Duration>, Error> {
    match seconds {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Some(Duration::from_secs_f64(s))),
        Some(_) => Err(Error::Programming(format!("{what} must be a positive number of seconds"))),
    }
}

/// A pool's time setting: a non-negative, finite number of seconds.
pub fn pool_seconds(what: &str, s: f64) -> Result<Duration, Error> {
    if s.is_finite() && (0.0..1e9).contains(&s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(Error::Programming(format!("{what} must be a non-negative number of seconds")))
    }
}

/// The settings of `create-pool`, which names only these three beside the connection options.
pub fn pool_settings(minsize: u32, maxsize: u32, pool_recycle: Option<f64>) -> Result<PoolOptions, Error> {
    let pool_recycle = pool_recycle.map(|v| pool_seconds("pool-recycle", v)).transpose()?;
    Ok(PoolOptions { minsize: minsize as usize, maxsize: maxsize as usize, pool_recycle, ..PoolOptions::default() })
}

/// A count for the WIT's `u32`, saturating.
pub fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Each world declares its own `pool-options` and `pool-counters` records (the same fields), so
/// their conversions are written once here and stamped out in each world's pool module.
macro_rules! pool_records {
    ($wit:ident) => {
        fn settings_in(s: $wit::PoolOptions) -> Result<PoolOptions, Error> {
            Ok(PoolOptions {
                minsize: s.minsize as usize,
                maxsize: s.maxsize as usize,
                pool_recycle: s.pool_recycle.map(|v| pool_seconds("pool-recycle", v)).transpose()?,
                acquire_timeout: s.acquire_timeout.map(|v| pool_seconds("acquire-timeout", v)).transpose()?,
                ping_after_idle: pool_seconds("ping-after-idle", s.ping_after_idle)?,
                reset_on_release: s.reset_on_release,
            })
        }

        fn settings_out(s: &PoolOptions) -> $wit::PoolOptions {
            $wit::PoolOptions {
                minsize: count(s.minsize),
                maxsize: count(s.maxsize),
                pool_recycle: s.pool_recycle.map(|d| d.as_secs_f64()),
                acquire_timeout: s.acquire_timeout.map(|d| d.as_secs_f64()),
                ping_after_idle: s.ping_after_idle.as_secs_f64(),
                reset_on_release: s.reset_on_release,
            }
        }

        fn counters_out(c: PoolCounters) -> $wit::PoolCounters {
            $wit::PoolCounters {
                created: c.created,
                closed: c.closed,
                acquired: c.acquired,
                waited: c.waited,
                timed_out: c.timed_out,
                evicted: c.evicted,
                in_use: c.in_use,
            }
        }
    };
}
pub(super) use pool_records;

/// A cursor's statement-timeout: none follows the connection, 0 means no limit.
pub fn cursor_statement_timeout(seconds: Option<f64>) -> Result<Option<Option<Duration>>, Error> {
    match seconds {
        None => Ok(None),
        Some(0.0) => Ok(Some(None)),
        Some(s) => timeout_in("statement-timeout", Some(s)).map(Some),
    }
}

pub fn options_in(o: wit::ConnectOptions) -> Result<ConnectOptions, Error> {
    let connect_timeout = timeout_in("connect-timeout", o.connect_timeout)?;
    let read_timeout = timeout_in("read-timeout", o.read_timeout)?;
    let write_timeout = timeout_in("write-timeout", o.write_timeout)?;
    let statement_timeout = timeout_in("statement-timeout", o.statement_timeout)?;
    Ok(ConnectOptions {
        host: o.host,
        user: o.user,
        passwd: o.passwd,
        db: o.db,
        port: o.port,
        unix_socket: o.unix_socket,
        charset: o.charset.unwrap_or_else(|| "utf8mb4".into()),
        sql_mode: o.sql_mode,
        read_default_file: o.read_default_file,
        read_default_group: o.read_default_group,
        client_flag: o.client_flag,
        init_command: o.init_command,
        connect_timeout,
        read_timeout,
        write_timeout,
        statement_timeout,
        ssl: o.ssl.map(|s| SslOptions {
            ca: s.ca,
            cert: s.cert,
            key: s.key,
            verify_cert: s.verify_cert,
            verify_identity: s.verify_identity,
        }),
        compress: o.compress,
        zstd_compression_level: o.zstd_compression_level,
        named_pipe: o.named_pipe,
        autocommit: o.autocommit,
        local_infile: o.local_infile,
        allow_cleartext_password: o.allow_cleartext_password,
        get_server_public_key: o.get_server_public_key,
        server_public_key: o.server_public_key,
        max_result_bytes: o.max_result_bytes,
        ha: o.ha.map(ha_in).transpose()?,
        // Set by `options_and_log_in`, which keeps a handle on the log.
        events: EventOptions::default(),
        prepared_execution: o.prepared_execution,
        statement_cache_size: o.statement_cache_size as usize,
        conversions: conversions_in(o.conversions),
        converters: Default::default(),
        cursorclass: cursorclass_in(o.cursorclass),
    })
}

/// The most events an event log keeps, whatever the caller asks: each is a few hundred bytes.
const MAX_EVENT_LOG: u32 = 1 << 16;

/// The connection options and, when `event-log` asks for one, the log their events go to.
pub fn options_and_log_in(mut o: wit::ConnectOptions) -> Result<(ConnectOptions, Option<Rc<EventLog>>), Error> {
    let wanted = o.event_log.take();
    let mut options = options_in(o)?;
    let log = wanted.map(|w| {
        let log = EventLog::new(w.capacity.min(MAX_EVENT_LOG) as usize);
        let statement_text = match w.statement_text {
            wit::StatementText::Digest => StatementText::Digest,
            wit::StatementText::Query => StatementText::Query,
            wit::StatementText::Full => StatementText::Full,
        };
        options.events = EventOptions { listener: Some(log.clone()), statement_text };
        log
    });
    Ok((options, log))
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Takes every event `log` kept (none without a log).
pub fn take_events(log: Option<&Rc<EventLog>>) -> Vec<wit::Event> {
    let Some(log) = log else { return Vec::new() };
    log.take()
        .into_iter()
        .map(|e| match e {
            Event::Statement(s) => wit::Event::Statement(wit::StatementEvent {
                text: s.text,
                host: s.host,
                connection_id: s.connection_id,
                duration_ns: nanos(s.duration),
                rows: s.rows,
                affected_rows: s.affected_rows,
                error: s.error.as_ref().map(error_out),
            }),
            Event::Connect(c) => wit::Event::Connect(wit::ConnectEvent {
                host: c.host,
                connection_id: c.connection_id,
                duration_ns: nanos(c.duration),
                error: c.error.as_ref().map(error_out),
            }),
        })
        .collect()
}

pub fn pool_metrics_out(m: PoolMetrics) -> wit::PoolMetrics {
    wit::PoolMetrics {
        size: m.size,
        free: m.free,
        waiting: m.waiting,
        hosts: m
            .hosts
            .into_iter()
            .map(|h| wit::HostMetrics {
                host: h.endpoint.host,
                port: h.endpoint.port,
                open: h.open,
                in_use: h.in_use,
                created: h.created,
                failed: h.failed,
                marked_down: h.marked_down,
                down: h.down,
            })
            .collect(),
    }
}

fn conversions_in(c: wit::Conversions) -> Conversions {
    Conversions {
        decimal: match c.decimal {
            wit::DecimalFormat::Text => DecimalFormat::Text,
            wit::DecimalFormat::Double => DecimalFormat::Double,
        },
        temporal: match c.temporal {
            wit::TemporalFormat::Record => TemporalFormat::Record,
            wit::TemporalFormat::IsoText => TemporalFormat::IsoText,
        },
        json: match c.json {
            wit::JsonFormat::Json => JsonFormat::Json,
            wit::JsonFormat::Text => JsonFormat::Text,
        },
    }
}

fn conversions_out(c: Conversions) -> wit::Conversions {
    wit::Conversions {
        decimal: match c.decimal {
            DecimalFormat::Text => wit::DecimalFormat::Text,
            DecimalFormat::Double => wit::DecimalFormat::Double,
        },
        temporal: match c.temporal {
            TemporalFormat::Record => wit::TemporalFormat::Record,
            TemporalFormat::IsoText => wit::TemporalFormat::IsoText,
        },
        json: match c.json {
            JsonFormat::Json => wit::JsonFormat::Json,
            JsonFormat::Text => wit::JsonFormat::Text,
        },
    }
}

fn cursorclass_in(c: wit::CursorClass) -> CursorClass {
    match c {
        wit::CursorClass::Cursor => CursorClass::Cursor,
        wit::CursorClass::DictCursor => CursorClass::DictCursor,
        wit::CursorClass::SsCursor => CursorClass::SSCursor,
        wit::CursorClass::SsDictCursor => CursorClass::SSDictCursor,
    }
}

fn cursorclass_out(c: CursorClass) -> wit::CursorClass {
    match c {
        CursorClass::Cursor => wit::CursorClass::Cursor,
        CursorClass::DictCursor => wit::CursorClass::DictCursor,
        CursorClass::SSCursor => wit::CursorClass::SsCursor,
        CursorClass::SSDictCursor => wit::CursorClass::SsDictCursor,
    }
}

/// A `scroll` mode.
pub fn scroll_mode_in(m: wit::ScrollMode) -> ScrollMode {
    match m {
        wit::ScrollMode::Relative => ScrollMode::Relative,
        wit::ScrollMode::Absolute => ScrollMode::Absolute,
    }
}

fn ha_in(h: wit::HaOptions) -> Result<HaOptions, Error> {
    Ok(HaOptions {
        endpoints: h.endpoints.into_iter().map(|e| Endpoint { host: e.host, port: e.port }).collect(),
        strategy: match h.strategy {
            wit::HaStrategy::Sequential => Strategy::Sequential,
            wit::HaStrategy::Loadbalance => Strategy::LoadBalance,
            wit::HaStrategy::Replication => Strategy::Replication,
        },
        retry_down_after: pool_seconds("retry-down-after", h.retry_down_after)?,
        failover: h.failover,
        galera: h.galera,
        read_only: h.read_only,
        wsrep_sync_wait: match h.wsrep_sync_wait {
            Some(m) if m > 15 => return Err(Error::Programming("wsrep-sync-wait must be 0 to 15".into())),
            m => m,
        },
    })
}

fn ha_out(h: &HaOptions) -> wit::HaOptions {
    wit::HaOptions {
        endpoints: h.endpoints.iter().map(|e| wit::Endpoint { host: e.host.clone(), port: e.port }).collect(),
        strategy: match h.strategy {
            Strategy::Sequential => wit::HaStrategy::Sequential,
            Strategy::LoadBalance => wit::HaStrategy::Loadbalance,
            Strategy::Replication => wit::HaStrategy::Replication,
        },
        retry_down_after: h.retry_down_after.as_secs_f64(),
        failover: h.failover,
        galera: h.galera,
        wsrep_sync_wait: h.wsrep_sync_wait,
        read_only: h.read_only,
    }
}

pub fn options_out(o: &ConnectOptions) -> wit::ConnectOptions {
    wit::ConnectOptions {
        host: o.host.clone(),
        user: o.user.clone(),
        passwd: o.passwd.clone(),
        db: o.db.clone(),
        port: o.port,
        unix_socket: o.unix_socket.clone(),
        charset: Some(o.charset.clone()),
        sql_mode: o.sql_mode.clone(),
        read_default_file: o.read_default_file.clone(),
        read_default_group: o.read_default_group.clone(),
        client_flag: o.client_flag,
        init_command: o.init_command.clone(),
        connect_timeout: o.connect_timeout.map(|d| d.as_secs_f64()),
        read_timeout: o.read_timeout.map(|d| d.as_secs_f64()),
        write_timeout: o.write_timeout.map(|d| d.as_secs_f64()),
        statement_timeout: o.statement_timeout.map(|d| d.as_secs_f64()),
        ssl: o.ssl.as_ref().map(|s| wit::SslOptions {
            ca: s.ca.clone(),
            cert: s.cert.clone(),
            key: s.key.clone(),
            verify_cert: s.verify_cert,
            verify_identity: s.verify_identity,
        }),
        compress: o.compress.clone(),
        zstd_compression_level: o.zstd_compression_level,
        named_pipe: o.named_pipe,
        autocommit: o.autocommit,
        local_infile: o.local_infile,
        allow_cleartext_password: o.allow_cleartext_password,
        get_server_public_key: o.get_server_public_key,
        server_public_key: o.server_public_key.clone(),
        ha: o.ha.as_ref().map(ha_out),
        max_result_bytes: o.max_result_bytes,
        // A listener of the Rust API has no WIT form; a log is asked for by the caller.
        event_log: None,
        prepared_execution: o.prepared_execution,
        statement_cache_size: u32::try_from(o.statement_cache_size).unwrap_or(u32::MAX),
        conversions: conversions_out(o.conversions),
        cursorclass: cursorclass_out(o.cursorclass),
    }
}
