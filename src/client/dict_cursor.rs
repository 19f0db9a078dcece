//! Dict cursors (cymysql's `DictCursor` and `SSDictCursor`): rows as (column name, value) pairs.

use std::rc::Rc;

use super::connection::Connection;
use super::cursor::{Cursor, Row};
use crate::error::Error;
use crate::protocol::column::Column;
use crate::protocol::interpolate::Params;
use crate::protocol::value::Value;

/// A row of a dict cursor: column keys shared by every row of the result, and the values.
#[derive(Debug, Clone, PartialEq)]
pub struct DictRow {
    pub keys: Rc<[String]>,
    pub values: Vec<Value>,
}

impl DictRow {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.iter().position(|k| k == key).and_then(|i| self.values.get(i))
    }

    /// (key, value) pairs in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.keys.iter().map(String::as_str).zip(self.values.iter())
    }
}

/// Dict keys for a result's columns: the column name; a name already taken gets `table.name`
/// (cymysql's rule), and if that is taken too, `name#N` with N the 1-based column position.
pub fn dict_keys(columns: &[Column]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let mut key = c.name.clone();
        if keys.contains(&key) {
            key = format!("{}.{}", c.table, c.name);
            if c.table.is_empty() || keys.contains(&key) {
                key = format!("{}#{}", c.name, i + 1);
            }
        }
        keys.push(key);
    }
    keys
}

impl Connection {
    /// A cursor returning rows as (column name, value) pairs.
    pub fn dict_cursor(&self) -> DictCursor {
        DictCursor::new(self.cursor())
    }

    /// An unbuffered dict cursor (cymysql's `SSDictCursor`).
    pub fn ss_dict_cursor(&self) -> DictCursor {
        DictCursor::new(self.ss_cursor())
    }
}

/// A cursor whose rows are [`DictRow`]s.
pub struct DictCursor {
    inner: Cursor,
    keys: Option<(u64, Rc<[String]>)>,
}

impl DictCursor {
    fn new(mut inner: Cursor) -> Self {
        inner.dict = true;
        DictCursor { inner, keys: None }
    }

    /// The tuple cursor underneath, for description, rowcount and the like.
    pub fn cursor(&self) -> &Cursor {
        &self.inner
    }

    pub fn cursor_mut(&mut self) -> &mut Cursor {
        &mut self.inner
    }

    fn keys(&mut self) -> Rc<[String]> {
        let id = self.inner.result_id;
        match &self.keys {
            Some((k, keys)) if *k == id && self.inner.columns.is_some() => keys.clone(),
            _ => {
                let keys: Rc<[String]> = dict_keys(self.inner.description().unwrap_or(&[])).into();
                self.keys = Some((id, keys.clone()));
                keys
            }
        }
    }

    fn wrap(&mut self, values: Row) -> DictRow {
        DictRow { keys: self.keys(), values }
    }

    pub async fn execute(&mut self, query: &str, params: Option<&Params>) -> Result<u64, Error> {
        self.keys = None;
        self.inner.execute(query, params).await
    }

    pub async fn executemany(&mut self, query: &str, seq_of_params: &[Params]) -> Result<u64, Error> {
        self.keys = None;
        self.inner.executemany(query, seq_of_params).await
    }

    pub async fn fetchone(&mut self) -> Result<Option<DictRow>, Error> {
        Ok(self.inner.fetchone().await?.map(|r| self.wrap(r)))
    }

    pub async fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<DictRow>, Error> {
        let rows = self.inner.fetchmany(size).await?;
        Ok(rows.into_iter().map(|r| self.wrap(r)).collect())
    }

    pub async fn fetchall(&mut self) -> Result<Vec<DictRow>, Error> {
        let rows = self.inner.fetchall().await?;
        Ok(rows.into_iter().map(|r| self.wrap(r)).collect())
    }

    pub async fn nextset(&mut self) -> Result<bool, Error> {
        self.keys = None;
        self.inner.nextset().await
    }

    pub async fn close(&mut self) -> Result<(), Error> {
        self.inner.close().await
    }
}
