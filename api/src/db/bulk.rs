//! Writing many rows at once: a campaign's messages, a synthetic registry.
//!
//! On PostgreSQL the rows go as one array per column, `INSERT … SELECT * FROM UNNEST($1, $2, …)`:
//! a statement of one parameter per column whatever the number of rows, planned in
//! microseconds, where a multi-row `VALUES` list of thousands of parameters is parsed and planned
//! afresh each time (bench/retention prints both side by side). SQLite has no arrays and takes
//! multi-row `VALUES` in chunks under its parameter limit.
//!
//! An array cannot hold SQL NULL through the driver, so the rows are grouped by which columns
//! they fill: a group's statement names only those, and the others take their column default.

use std::collections::BTreeMap;

use sea_orm::sea_query::ArrayType;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, DbBackend, DbErr, EntityTrait, IdenStatic, Iterable, Statement,
    TryInsertResult, Value,
};

/// Rows per multi-row `VALUES` statement: 500 rows of up to 65 columns stay under SQLite's
/// 32,766 parameters.
const VALUES_CHUNK: usize = 500;
/// Rows per `UNNEST` statement: not a parameter limit, a bound on one statement's memory.
const UNNEST_CHUNK: usize = 5_000;

/// Inserts `rows` on `conn` (a transaction, for all or nothing) and returns how many were
/// written. With `skip_conflicts_on`, a row whose value in that unique column is already taken
/// is skipped instead of failing the statement.
///
/// # Errors
/// The database refused a row; on PostgreSQL also a column of a type without an array form,
/// which is a programming error the tests meet first.
pub async fn insert<E, C>(
    conn: &C,
    rows: Vec<E::ActiveModel>,
    skip_conflicts_on: Option<E::Column>,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    match conn.get_database_backend() {
        DbBackend::Postgres => insert_unnest::<E, C>(conn, rows, skip_conflicts_on).await,
        _ => insert_values::<E, C>(conn, rows, skip_conflicts_on).await,
    }
}

async fn insert_values<E, C>(
    conn: &C,
    rows: Vec<E::ActiveModel>,
    skip_conflicts_on: Option<E::Column>,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows.by_ref().take(VALUES_CHUNK).collect();
        written += match skip_conflicts_on {
            None => E::insert_many(chunk).exec_without_returning(conn).await?,
            Some(column) => {
                match E::insert_many(chunk).on_conflict_do_nothing_on([column]).exec_without_returning(conn).await? {
                    TryInsertResult::Inserted(count) => count,
                    TryInsertResult::Conflicted | TryInsertResult::Empty => 0,
                }
            }
        };
    }
    Ok(written)
}

async fn insert_unnest<E, C>(
    conn: &C,
    rows: Vec<E::ActiveModel>,
    skip_conflicts_on: Option<E::Column>,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let columns: Vec<E::Column> = E::Column::iter().collect();
    // Rows by the columns they fill (as positions in `columns`), each row its values in that order.
    let mut groups: BTreeMap<Vec<usize>, Vec<Vec<Value>>> = BTreeMap::new();
    for row in rows {
        let (filled, values): (Vec<usize>, Vec<Value>) = columns
            .iter()
            .enumerate()
            .filter_map(|(at, column)| match row.get(*column) {
                ActiveValue::Set(value) | ActiveValue::Unchanged(value) if value.is_some() => Some((at, value)),
                _ => None,
            })
            .unzip();
        groups.entry(filled).or_default().push(values);
    }
    let table = E::default().table_name();
    let conflict = skip_conflicts_on
        .map(|column| format!(" ON CONFLICT ({}) DO NOTHING", quoted(column.as_str())))
        .unwrap_or_default();
    let mut written = 0;
    for (filled, rows) in groups {
        if filled.is_empty() {
            return Err(DbErr::Custom(format!("{table}: a row with no values to insert")));
        }
        let names: Vec<String> = filled.iter().map(|at| quoted(columns[*at].as_str())).collect();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(UNNEST_CHUNK).collect();
            let mut arrays: Vec<Vec<Value>> = (0..filled.len()).map(|_| Vec::with_capacity(chunk.len())).collect();
            for row in chunk {
                for (array, value) in arrays.iter_mut().zip(row) {
                    array.push(value);
                }
            }
            let mut casts = Vec::with_capacity(arrays.len());
            let mut values = Vec::with_capacity(arrays.len());
            for (position, array) in arrays.into_iter().enumerate() {
                let element = array.first().map_or(ArrayType::String, Value::array_type);
                let sql_type = array_element_type(&element).ok_or_else(|| {
                    DbErr::Custom(format!("{table}.{}: no PostgreSQL array for this type", names[position]))
                })?;
                casts.push(format!("${}::{sql_type}[]", position + 1));
                values.push(Value::Array(element, Some(Box::new(array))));
            }
            let sql = format!(
                "INSERT INTO {} ({}) SELECT * FROM UNNEST({}){conflict}",
                quoted(table),
                names.join(", "),
                casts.join(", ")
            );
            written += conn
                .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
                .await?
                .rows_affected();
        }
    }
    Ok(written)
}

/// The PostgreSQL type of an array's elements, for the types our entities use.
fn array_element_type(element: &ArrayType) -> Option<&'static str> {
    Some(match element {
        ArrayType::Bool => "bool",
        ArrayType::TinyInt | ArrayType::SmallInt => "int2",
        ArrayType::Int => "int4",
        ArrayType::BigInt => "int8",
        ArrayType::Float => "float4",
        ArrayType::Double => "float8",
        ArrayType::String | ArrayType::Char => "text",
        ArrayType::Bytes => "bytea",
        ArrayType::Uuid => "uuid",
        ArrayType::ChronoDate => "date",
        ArrayType::ChronoTime => "time",
        ArrayType::ChronoDateTime => "timestamp",
        ArrayType::ChronoDateTimeUtc | ArrayType::ChronoDateTimeLocal | ArrayType::ChronoDateTimeWithTimeZone => {
            "timestamptz"
        }
        _ => return None,
    })
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Leaves the database ready after a bulk load: planner statistics gathered and, on PostgreSQL,
/// the visibility map set (`VACUUM (ANALYZE)`), so that index-only scans work at once.
///
/// Without it, the first hour after an import runs on no statistics: the planner estimated 54
/// rows where there were 13,068, and a phone search took 324 ms at p50 instead of a few ms
/// (measured on 3.6 million volunteers). Autovacuum would get there, later.
///
/// # Errors
/// The database failed.
pub async fn ready_after_load(db: &sea_orm::DatabaseConnection) -> Result<(), DbErr> {
    let statement = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM (ANALYZE)",
        _ => "ANALYZE",
    };
    db.execute_unprepared(statement).await?;
    Ok(())
}
