//! Turning a table's URL into a query: checked search text, a whitelisted sort with the id
//! as tie-break (so pages never overlap), and one page read with one extra row; past the first
//! page, by key (the row next to the page) rather than by offset.
use crate::error::{AppError, AppResult};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr, SubQueryStatement};
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, Order, QueryOrder, QuerySelect, QueryTrait,
    Select,
};
pub use wire::tables::*;

/// The search text as a case-insensitive `LIKE` pattern, or `None` when the box is empty.
pub fn search(query: &TableQuery) -> AppResult<Option<String>> {
    pattern(&query.q, "q")
}

/// Text typed into search box `field` as a case-insensitive `LIKE` pattern (its wildcards
/// escaped), or `None` when it is empty.
pub fn pattern(text: &str, field: &str) -> AppResult<Option<String>> {
    let q = text.trim();
    if q.is_empty() {
        return Ok(None);
    }
    if q.chars().count() > 100 {
        return Err(AppError::invalid(field, "error.too_long"));
    }
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    Ok(Some(format!("%{escaped}%")))
}

/// `lower(expr) LIKE pattern` with `\` as the escape character.
pub fn like(expr: impl Into<SimpleExpr>, pattern: &str) -> SimpleExpr {
    Expr::expr(Func::lower(expr.into())).like(LikeExpr::new(pattern).escape('\\'))
}

/// A filter value that must be one of `allowed` (empty = no filter).
pub fn one_of<'a>(value: &'a str, allowed: &[&str], field: &str) -> AppResult<Option<&'a str>> {
    match value.trim() {
        "" => Ok(None),
        v if allowed.contains(&v) => Ok(Some(v)),
        _ => Err(AppError::invalid(field, "error.filter_invalid")),
    }
}

/// A filter value that must name one of `allowed`'s states (empty = no filter).
pub fn state_of<S: Copy + std::fmt::Display>(
    value: &str,
    allowed: &[S],
    field: &str,
) -> AppResult<Option<S>> {
    match value.trim() {
        "" => Ok(None),
        v => allowed
            .iter()
            .find(|s| s.to_string() == v)
            .copied()
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, "error.filter_invalid")),
    }
}

/// A filter value that must be an id (empty = no filter).
pub fn id_filter(value: &str, field: &str) -> AppResult<Option<i64>> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::invalid(field, "error.filter_invalid")),
    }
}

/// The table's sort, checked against its columns: an unknown key or direction is refused.
pub fn sort<'a>(query: &TableQuery, columns: &'a [Column]) -> AppResult<(&'a Column, Order)> {
    if !query.sort.is_empty() && !columns.iter().any(|c| c.key == query.sort) {
        return Err(AppError::invalid("sort", "error.sort_invalid"));
    }
    if !matches!(query.dir.as_str(), "" | "asc" | "desc") {
        return Err(AppError::invalid("dir", "error.sort_invalid"));
    }
    let column = sort_key(query, columns);
    let order = if query.descending(column.desc) {
        Order::Desc
    } else {
        Order::Asc
    };
    Ok((column, order))
}

/// A table's select with its order: by `by`, then by `id` the same way (so equal values
/// keep a stable order and pages never overlap). Kept apart so a page can be found from a
/// row next to it (`page_as`).
pub struct Sorted<E: EntityTrait> {
    pub select: Select<E>,
    by: SimpleExpr,
    id: SimpleExpr,
    order: Order,
    keyset: bool,
}

impl<E: EntityTrait> Sorted<E> {
    /// The same order on a select changed by `f` (more columns, say).
    pub fn map(self, f: impl FnOnce(Select<E>) -> Select<E>) -> Self {
        Sorted {
            select: f(self.select),
            ..self
        }
    }

    /// The sort's value can be NULL, which compares to nothing: pages are then found by
    /// their offset.
    pub fn nullable(self, nullable: bool) -> Self {
        Sorted {
            keyset: !nullable,
            ..self
        }
    }
}

impl<E: EntityTrait> From<Sorted<E>> for Select<E> {
    fn from(sorted: Sorted<E>) -> Select<E> {
        sorted.select
    }
}

/// Orders `select` by `by` and then by `id` the same way.
pub fn order<E: EntityTrait>(
    select: Select<E>,
    by: impl Into<SimpleExpr>,
    id: impl Into<SimpleExpr>,
    order: Order,
) -> Sorted<E> {
    let (by, id) = (by.into(), id.into());
    Sorted {
        select: select
            .order_by(by.clone(), order.clone())
            .order_by(id.clone(), order.clone()),
        by,
        id,
        order,
        keyset: true,
    }
}

/// The page's offset, refusing pages past `MAX_PAGE`.
pub fn offset(page: u64) -> AppResult<u64> {
    if page > MAX_PAGE {
        return Err(AppError::invalid("page", "error.page_too_deep"));
    }
    Ok(page * PER_PAGE)
}

/// The column each row's id is read into beside the model.
const KEY: &str = "table_row_key";

/// Reads the page `query` names (one query) of `sorted`, which must already be filtered.
pub async fn page<E>(
    db: &impl ConnectionTrait,
    sorted: Sorted<E>,
    query: &TableQuery,
) -> AppResult<TablePage<E::Model>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
{
    page_as::<E, E::Model>(db, sorted, query).await
}

/// `page`, reading each row as `M` (a model with joined columns, say).
///
/// With a cursor (`after` or `before`), the rows are those past the cursor row's place in
/// the order, `(by, id) > (by of that row, its id)`, the value read by a subquery on the
/// same select: an index lookup instead of the rows an offset walks over. Without one, or
/// when the sort's value can be NULL, by offset.
pub async fn page_as<E, M>(
    db: &impl ConnectionTrait,
    sorted: Sorted<E>,
    query: &TableQuery,
) -> AppResult<TablePage<M>>
where
    E: EntityTrait,
    M: FromQueryResult + Sized + Send + Sync,
{
    let cursor = match (query.after, query.before) {
        (Some(id), None) => Some(Cursor::After(id)),
        (None, Some(id)) => Some(Cursor::Before(id)),
        (None, None) => None,
        (Some(_), Some(_)) => return Err(AppError::invalid("page", "error.filter_invalid")),
    };
    let cursor = cursor.filter(|_| sorted.keyset && query.page > 0);
    let Sorted {
        select,
        by,
        id,
        order,
        keyset,
    } = sorted;
    let mut stmt = select.into_query();
    stmt.expr_as(id.clone(), sea_orm::sea_query::Alias::new(KEY));
    let backwards = matches!(cursor, Some(Cursor::Before(_)));
    // Kept only for a backwards read that may have to fall back to the first page.
    let first_page = backwards.then(|| {
        let mut first = stmt.clone();
        first.limit(PER_PAGE + 1);
        first
    });
    match cursor {
        Some(Cursor::After(row) | Cursor::Before(row)) => {
            let mut value = stmt.clone();
            value
                .clear_selects()
                .expr(by.clone())
                .and_where(id.clone().eq(row))
                .clear_order_by()
                .limit(1);
            let value =
                SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(value)));
            let rows = Expr::tuple([by.clone(), id.clone()]);
            let place = Expr::tuple([value, Expr::val(row)]);
            // Forwards in the table's order, or backwards from the cursor.
            let later = matches!(order, Order::Desc) == backwards;
            stmt.and_where(if later {
                rows.gt(place)
            } else {
                rows.lt(place)
            });
            let reading = if backwards { flip(&order) } else { order };
            stmt.clear_order_by()
                .order_by_expr(by, reading.clone())
                .order_by_expr(id, reading);
        }
        None => {
            stmt.offset(offset(query.page)?);
        }
    }
    stmt.limit(PER_PAGE + 1);
    let (mut rows, mut ids) = read::<M>(db, &stmt).await?;
    let mut page = query.page;
    let mut more = rows.len() as u64 > PER_PAGE;
    if backwards {
        // Read backwards from the row after the page, which is there.
        rows.truncate(PER_PAGE as usize);
        ids.truncate(PER_PAGE as usize);
        rows.reverse();
        ids.reverse();
        if let (false, Some(first_page)) = (more, &first_page) {
            // Nothing lies before these rows any more (some went away): the first page.
            (rows, ids) = read::<M>(db, first_page).await?;
            page = 0;
            more = rows.len() as u64 > PER_PAGE;
        } else {
            more = true;
        }
    }
    rows.truncate(PER_PAGE as usize);
    ids.truncate(PER_PAGE as usize);
    let keys = keyset
        .then(|| ids.first().copied().zip(ids.last().copied()))
        .flatten();
    Ok(TablePage {
        rows,
        page,
        more,
        keys,
    })
}

/// The rows of `stmt` as `M`, with each one's id (`KEY`).
async fn read<M: FromQueryResult>(
    db: &impl ConnectionTrait,
    stmt: &sea_orm::sea_query::SelectStatement,
) -> AppResult<(Vec<M>, Vec<i64>)> {
    let found = db
        .query_all_raw(db.get_database_backend().build(stmt))
        .await?;
    let mut rows = Vec::with_capacity(found.len());
    let mut ids = Vec::with_capacity(found.len());
    for row in &found {
        rows.push(M::from_query_result(row, "")?);
        ids.push(row.try_get::<i64>("", KEY)?);
    }
    Ok((rows, ids))
}

fn flip(order: &Order) -> Order {
    match order {
        Order::Desc => Order::Asc,
        _ => Order::Desc,
    }
}

/// Rows per read while exporting.
pub const EXPORT_BATCH: u64 = 5_000;

/// Reads a filtered, ordered select in batches for a CSV export, keeping memory flat;
/// it stops after `EXPORT_LIMIT` rows.
pub struct Batches<E: EntityTrait> {
    select: Select<E>,
    offset: u64,
    done: bool,
}

impl<E: EntityTrait> Batches<E> {
    pub fn new(select: impl Into<Select<E>>) -> Self {
        Batches {
            select: select.into(),
            offset: 0,
            done: false,
        }
    }

    pub async fn next(&mut self, db: &impl ConnectionTrait) -> AppResult<Option<Vec<E::Model>>>
    where
        E::Model: FromQueryResult + Sized + Send + Sync,
    {
        self.next_as::<E::Model>(db).await
    }

    /// `next`, reading each row as `M`.
    pub async fn next_as<M>(&mut self, db: &impl ConnectionTrait) -> AppResult<Option<Vec<M>>>
    where
        M: FromQueryResult + Sized + Send + Sync,
    {
        if self.done || self.offset >= EXPORT_LIMIT {
            return Ok(None);
        }
        let size = Ord::min(EXPORT_BATCH, EXPORT_LIMIT - self.offset);
        let rows = self
            .select
            .clone()
            .offset(self.offset)
            .limit(size)
            .into_model::<M>()
            .all(db)
            .await?;
        self.offset += rows.len() as u64;
        self.done = (rows.len() as u64) < size;
        Ok((!rows.is_empty()).then_some(rows))
    }
}
