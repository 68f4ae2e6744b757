//! Admin tables: the search, filters, sort and page that travel in a list's URL, the controls
//! every list shows (filter form, sortable headers, pager, CSV link), and on the server the
//! helpers that turn them into one indexed query.
use crate::components::Submit;
use crate::i18n::use_locale;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

/// Rows per page of every admin table.
pub const PER_PAGE: u64 = 50;
/// Pages past this are refused: a deeper look goes through the filters or the CSV export.
pub const MAX_PAGE: u64 = 2_000;
/// At most this many rows go into one CSV file.
pub const EXPORT_LIMIT: u64 = 100_000;

/// One table's view, as in its URL: `?q=…&status=…&of=…&sort=…&dir=asc|desc&page=N`.
/// `status` and `of` are the table's two filters (what they filter is the table's own).
/// Past the first page, the pager's links also name the row the page starts after (`after`,
/// the previous page's last row) or ends before (`before`): a page is then found through the
/// index like the first one, however deep (`page` only numbers it). A bare `page=N` still
/// works, by offset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableQuery {
    pub q: String,
    pub status: String,
    pub of: String,
    pub sort: String,
    pub dir: String,
    pub page: u64,
    pub after: Option<i64>,
    pub before: Option<i64>,
}

impl TableQuery {
    pub fn from_map(map: &ParamsMap) -> Self {
        let get = |k: &str| map.get(k).unwrap_or_default();
        TableQuery {
            q: get("q"),
            status: get("status"),
            of: get("of"),
            sort: get("sort"),
            dir: get("dir"),
            page: map
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or_default(),
            after: map.get("after").and_then(|p| p.parse().ok()),
            before: map.get("before").and_then(|p| p.parse().ok()),
        }
    }

    /// The URL query without the page (for CSV links and the pager), encoded.
    pub fn filters(&self) -> String {
        [
            ("q", &self.q),
            ("status", &self.status),
            ("of", &self.of),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// `path?…` for the same view on another page.
    pub fn href(&self, path: &str, page: u64) -> String {
        self.href_at(path, page, None)
    }

    /// `path?…` for the same view on page `page`, which starts after (`Cursor::After`) or ends
    /// before (`Cursor::Before`) the row with the given id.
    pub fn href_at(&self, path: &str, page: u64, cursor: Option<Cursor>) -> String {
        let mut query = self.filters();
        if page > 0 {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&format!("page={page}"));
            match cursor {
                Some(Cursor::After(id)) => query.push_str(&format!("&after={id}")),
                Some(Cursor::Before(id)) => query.push_str(&format!("&before={id}")),
                None => {}
            }
        }
        if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        }
    }

    /// Whether the rows go in descending order (`dir`, else the column's natural order).
    pub fn descending(&self, natural_desc: bool) -> bool {
        match self.dir.as_str() {
            "asc" => false,
            "desc" => true,
            _ => natural_desc,
        }
    }

    /// The same view sorted by `key`: a second click on the sorted column turns the order over.
    pub fn sorted_by(&self, key: &str, natural_desc: bool, current_key: &str) -> TableQuery {
        let dir = if current_key == key {
            if self.descending(natural_desc) {
                "asc"
            } else {
                "desc"
            }
        } else if natural_desc {
            "desc"
        } else {
            "asc"
        };
        TableQuery {
            sort: key.to_string(),
            dir: dir.to_string(),
            page: 0,
            after: None,
            before: None,
            ..self.clone()
        }
    }
}

fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

impl<R> TablePage<R> {
    /// The same page with each row turned into another type.
    pub fn map<T>(self, f: impl FnMut(R) -> T) -> TablePage<T> {
        TablePage {
            rows: self.rows.into_iter().map(f).collect(),
            page: self.page,
            more: self.more,
            keys: self.keys,
        }
    }
}

/// Where a page is, by a row next to it: see `TableQuery`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    After(i64),
    Before(i64),
}

/// One page of a table. Tables are not counted (some grow to millions of rows): one more row
/// than the page is read to know whether a next page exists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TablePage<R> {
    pub rows: Vec<R>,
    pub page: u64,
    pub more: bool,
    /// The ids of the page's first and last rows, when its neighbours can be found by them
    /// (the sort's value is never NULL).
    pub keys: Option<(i64, i64)>,
}

/// A sortable column: its URL key, its label's message key, and whether it sorts
/// newest/largest first on the first click.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    pub desc: bool,
}

pub const fn col(key: &'static str, label: &'static str, desc: bool) -> Column {
    Column { key, label, desc }
}

/// A table's sort: the key in the URL when it names one of `columns`, else the first column's.
pub fn sort_key<'a>(query: &TableQuery, columns: &'a [Column]) -> &'a Column {
    columns
        .iter()
        .find(|c| c.key == query.sort)
        .unwrap_or(&columns[0])
}

/// A header cell that sorts the table by its column (and shows the current order).
#[component]
pub fn SortTh(
    path: &'static str,
    query: TableQuery,
    columns: &'static [Column],
    key: &'static str,
) -> impl IntoView {
    let locale = use_locale();
    let Some(column) = columns.iter().find(|c| c.key == key) else {
        return ().into_any();
    };
    let current = sort_key(&query, columns);
    let active = current.key == key;
    let desc = query.descending(current.desc);
    let href = query.sorted_by(key, column.desc, current.key).href(path, 0);
    let aria = active.then_some(if desc { "descending" } else { "ascending" });
    let arrow = if active {
        if desc {
            " ↓"
        } else {
            " ↑"
        }
    } else {
        ""
    };
    view! {
        <th aria-sort=aria><a class="sort" href=href>{locale.t(column.label)}{arrow}</a></th>
    }
    .into_any()
}

/// The filter form above a table: a search box, the table's own filters (children), and
/// links to clear the filters and to download the filtered rows as CSV.
#[component]
pub fn TableFilters(
    path: &'static str,
    csv: &'static str,
    query: TableQuery,
    #[prop(into)] search_label: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let locale = use_locale();
    let csv_href = {
        let q = query.filters();
        if q.is_empty() {
            csv.to_string()
        } else {
            format!("{csv}?{q}")
        }
    };
    view! {
        <form method="get" action=path class="card filters" role="search">
            <div class="field">
                <label for="f-q">{search_label}</label>
                <input id="f-q" name="q" type="search" value=query.q.clone() maxlength="100"/>
            </div>
            {children.map(|c| c())}
            {(!query.sort.is_empty()).then(|| view! { <input type="hidden" name="sort" value=query.sort.clone()/> })}
            {(!query.dir.is_empty()).then(|| view! { <input type="hidden" name="dir" value=query.dir.clone()/> })}
            <div class="actions">
                <Submit testid="table-filter">{locale.t("table.filter")}</Submit>
                <a href=path>{locale.t("table.clear")}</a>
                <a href=csv_href data-testid="table-csv" rel="nofollow" download>{locale.t("table.csv")}</a>
            </div>
        </form>
    }
}

/// A `<select>` filter: "all" and then each value with its label.
#[component]
pub fn FilterSelect(
    name: &'static str,
    #[prop(into)] label: String,
    value: String,
    options: Vec<(String, String)>,
) -> impl IntoView {
    let locale = use_locale();
    let id = format!("f-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name>
                <option value="" selected=value.is_empty()>{locale.t("table.all")}</option>
                {options.into_iter().map(|(v, l)| {
                    let selected = v == value;
                    view! { <option value=v selected=selected>{l}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

/// Previous and next links under a table: by the rows at the page's ends where it has them
/// (`keys`), else by page number.
#[component]
pub fn TablePager(
    path: &'static str,
    query: TableQuery,
    page: u64,
    more: bool,
    keys: Option<(i64, i64)>,
) -> impl IntoView {
    let prev = (page > 0).then(|| {
        let cursor = keys
            .filter(|_| page > 1)
            .map(|(first, _)| Cursor::Before(first));
        query.href_at(path, page - 1, cursor)
    });
    let next =
        more.then(|| query.href_at(path, page + 1, keys.map(|(_, last)| Cursor::After(last))));
    view! { <Pager page prev next/> }
}

/// Previous and next links under a list, given their addresses, with the page's number.
#[component]
pub fn Pager(page: u64, prev: Option<String>, next: Option<String>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <nav class="pager" aria-label=locale.t("pager.label")>
            {prev.map(|href| view! { <a href=href rel="prev">{locale.t("pager.prev")}</a> })}
            <span>{locale.t_with("table.page", &[("page", &(page + 1).to_string())])}</span>
            {next.map(|href| view! { <a href=href rel="next">{locale.t("pager.next")}</a> })}
        </nav>
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Turning a table's URL into a query: checked search text, a whitelisted sort with the id
    //! as tie-break (so pages never overlap), and one page read with one extra row.
    use super::{Column, TablePage, TableQuery, MAX_PAGE, PER_PAGE};
    use crate::error::{AppError, AppResult};
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr, SubQueryStatement};
    use sea_orm::{
        ConnectionTrait, EntityTrait, FromQueryResult, Order, QueryOrder, QuerySelect, QueryTrait,
        Select,
    };

    /// The search text as a case-insensitive `LIKE` pattern, or `None` when the box is empty.
    pub fn search(query: &TableQuery) -> AppResult<Option<String>> {
        let q = query.q.trim();
        if q.is_empty() {
            return Ok(None);
        }
        if q.chars().count() > 100 {
            return Err(AppError::invalid("q", "error.too_long"));
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
        let column = super::sort_key(query, columns);
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
            (Some(id), None) => Some(super::Cursor::After(id)),
            (None, Some(id)) => Some(super::Cursor::Before(id)),
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
        let backwards = matches!(cursor, Some(super::Cursor::Before(_)));
        // Kept only for a backwards read that may have to fall back to the first page.
        let first_page = backwards.then(|| {
            let mut first = stmt.clone();
            first.limit(PER_PAGE + 1);
            first
        });
        match cursor {
            Some(super::Cursor::After(row) | super::Cursor::Before(row)) => {
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
            if self.done || self.offset >= super::EXPORT_LIMIT {
                return Ok(None);
            }
            let size = Ord::min(EXPORT_BATCH, super::EXPORT_LIMIT - self.offset);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_keep_the_view_and_encode_it() {
        let q = TableQuery {
            q: "清河 & co".into(),
            status: "active".into(),
            sort: "name".into(),
            dir: "asc".into(),
            page: 3,
            ..Default::default()
        };
        assert_eq!(
            q.href("/admin/grants", 0),
            "/admin/grants?q=%E6%B8%85%E6%B2%B3+%26+co&status=active&sort=name&dir=asc"
        );
        assert!(q.href("/admin/grants", 4).ends_with("&page=4"));
        assert_eq!(TableQuery::default().href("/x", 0), "/x");
        assert_eq!(TableQuery::default().href("/x", 2), "/x?page=2");
    }

    #[test]
    fn a_second_click_turns_the_order_over() {
        const COLS: &[Column] = &[col("created", "x", true), col("name", "y", false)];
        let q = TableQuery::default();
        assert_eq!(sort_key(&q, COLS).key, "created");
        let by_name = q.sorted_by("name", false, "created");
        assert_eq!(
            (by_name.sort.as_str(), by_name.dir.as_str()),
            ("name", "asc")
        );
        let again = by_name.sorted_by("name", false, "name");
        assert_eq!(again.dir, "desc");
        let created = q.sorted_by("created", true, "created");
        assert_eq!(created.dir, "asc");
    }
}
