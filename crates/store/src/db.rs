//! The small SQL executor both backends implement: a query is SQL text plus typed parameters, a row is
//! read by column name. All store logic ([`crate::sql_store`]) is written once against this; the
//! backends differ only in dialect (a few clauses) and in how they lock.

use async_trait::async_trait;
use tts_core::{Error, ErrorCode, Result};

/// Which SQL dialect a backend speaks; the few clauses that differ are chosen by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter. Only the types the schema uses: text, 64-bit integers, bytes (each nullable).
#[derive(Clone, Debug)]
pub(crate) enum Param {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Option<Vec<u8>>),
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_string()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(Some(v))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Param::Text(v)
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Param::Text(v.map(str::to_string))
    }
}
impl From<&Option<String>> for Param {
    fn from(v: &Option<String>) -> Self {
        Param::Text(v.clone())
    }
}
impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}
impl From<Vec<u8>> for Param {
    fn from(v: Vec<u8>) -> Self {
        Param::Bytes(Some(v))
    }
}
impl From<&[u8]> for Param {
    fn from(v: &[u8]) -> Self {
        Param::Bytes(Some(v.to_vec()))
    }
}

/// SQL text, its parameters (`$1`, `$2`, … in both dialects) and what it does (for error messages).
#[derive(Debug)]
pub(crate) struct Query {
    pub what: &'static str,
    pub sql: String,
    pub params: Vec<Param>,
}

impl Query {
    pub fn new(what: &'static str, sql: impl Into<String>) -> Self {
        Query {
            what,
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    pub fn bind(mut self, value: impl Into<Param>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Appends a parameter and returns its placeholder (`$n`), for SQL built piece by piece.
    pub fn push_param(&mut self, value: impl Into<Param>) -> String {
        self.params.push(value.into());
        format!("${}", self.params.len())
    }
}

/// Typed access to one column of a result row; `None` is SQL NULL.
pub(crate) trait DbRow: Send {
    fn text(&self, column: &str) -> std::result::Result<Option<String>, String>;
    fn int(&self, column: &str) -> std::result::Result<Option<i64>, String>;
    fn bytes(&self, column: &str) -> std::result::Result<Option<Vec<u8>>, String>;
}

/// Reads a row of `table`; a missing, NULL-where-required or mistyped column is an
/// [`ErrorCode::Store`] error naming `table.column`, never a panic.
pub(crate) struct RowReader {
    row: Box<dyn DbRow>,
    table: &'static str,
}

impl RowReader {
    pub fn new(row: Box<dyn DbRow>, table: &'static str) -> Self {
        RowReader { row, table }
    }

    pub fn malformed(&self, column: &str, problem: impl std::fmt::Display) -> Error {
        malformed(self.table, column, problem)
    }

    pub fn opt_text(&self, column: &str) -> Result<Option<String>> {
        self.row.text(column).map_err(|e| self.malformed(column, e))
    }

    pub fn text(&self, column: &str) -> Result<String> {
        self.opt_text(column)?
            .ok_or_else(|| self.malformed(column, "is NULL"))
    }

    pub fn opt_int(&self, column: &str) -> Result<Option<i64>> {
        self.row.int(column).map_err(|e| self.malformed(column, e))
    }

    pub fn int(&self, column: &str) -> Result<i64> {
        self.opt_int(column)?
            .ok_or_else(|| self.malformed(column, "is NULL"))
    }

    pub fn bytes(&self, column: &str) -> Result<Vec<u8>> {
        self.row
            .bytes(column)
            .map_err(|e| self.malformed(column, e))?
            .ok_or_else(|| self.malformed(column, "is NULL"))
    }
}

pub(crate) fn malformed(table: &str, column: &str, problem: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::Store,
        format!("malformed row in the store: `{table}.{column}` {problem}"),
    )
    .with_field(format!("{table}.{column}"))
}

/// How a transaction starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Takes the write lock up front (SQLite `BEGIN IMMEDIATE`; PostgreSQL: an ordinary transaction,
    /// the caller locks rows with `FOR UPDATE`).
    Immediate,
    /// Serialises schema migrations across processes (SQLite `BEGIN IMMEDIATE`; PostgreSQL a
    /// transaction-scoped advisory lock keyed by the current schema).
    Migrate,
}

#[async_trait]
pub(crate) trait Db: Send + Sync + 'static {
    fn dialect(&self) -> Dialect;
    async fn execute(&self, query: Query) -> Result<u64>;
    async fn fetch_all(&self, query: Query) -> Result<Vec<Box<dyn DbRow>>>;
    async fn begin(&self, mode: Begin) -> Result<Box<dyn DbTx>>;
    /// Backend housekeeping after writes that must be visible in the main file (SQLite checkpoint).
    async fn checkpoint(&self) -> Result<()>;
    async fn close(&self);
}

/// An open transaction; dropping it without `commit` rolls back.
#[async_trait]
pub(crate) trait DbTx: Send {
    async fn execute(&mut self, query: Query) -> Result<u64>;
    async fn fetch_all(&mut self, query: Query) -> Result<Vec<Box<dyn DbRow>>>;
    /// Runs several `;`-separated statements without parameters (migration scripts).
    async fn execute_script(&mut self, what: &'static str, sql: &'static str) -> Result<()>;
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// A database failure as the product's error: says what was being done, keeps the driver's error as
/// the source. Driver messages carry no parameter values, so no secret leaks through here.
pub(crate) fn db_error(what: &str, err: sqlx::Error) -> Error {
    Error::new(
        ErrorCode::Store,
        format!("database error while trying to {what}: {err}"),
    )
    .with_source(err)
}
