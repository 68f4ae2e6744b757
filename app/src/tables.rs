//! The admin tables' controls: sortable headers, filters and the pager.
use crate::components::Submit;
use crate::i18n::use_locale;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;
pub use wire::tables::*;

/// The table view a page's query string asks for.
pub fn query_from(map: &ParamsMap) -> TableQuery {
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
