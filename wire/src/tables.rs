//! Admin tables: the search, filters, sort and page that travel in a list's URL, the controls
//! every list shows (filter form, sortable headers, pager, CSV link), and on the server the
//! helpers that turn them into one indexed query.
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
