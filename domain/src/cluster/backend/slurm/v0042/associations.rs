//! v0.0.42 associations and accounts: reading rows, updating one without clearing its TRES
//! lists, and making an account with its association in one call.
use super::*;

/// What names an association: `id` is always 0 in v0.0.41+ reads (the real id only shows in
/// `GET /user/NAME?with_assocs` and in job records). Empty strings, not None, for the account's
/// own row (`user`) and for "any partition", as Slurm sends them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssocKey {
    pub cluster: String,
    pub account: String,
    pub user: String,
    pub partition: String,
}

/// One association row, as far as Hatchery cares, plus its limits as read so that an update
/// can send them back.
#[derive(Clone, Debug, PartialEq)]
pub struct Assoc {
    pub cluster: String,
    pub account: String,
    /// None for the account's own association; a member's login otherwise.
    pub user: Option<String>,
    /// None unless the row is for one partition only.
    pub partition: Option<String>,
    /// The parent account (only account rows have one).
    pub parent: Option<String>,
    /// GrpTRESMins for gres/gpu (`max.tres.group.minutes`).
    pub gpu_minutes: Option<i64>,
    /// The QOS the row may use, and its default QOS.
    pub qos: Vec<String>,
    pub default_qos: Option<String>,
    /// `max` exactly as read: every TRES list and scalar of the row's limits.
    pub max: Value,
}

impl Assoc {
    pub fn key(&self) -> AssocKey {
        AssocKey {
            cluster: self.cluster.clone(),
            account: self.account.clone(),
            user: self.user.clone().unwrap_or_default(),
            partition: self.partition.clone().unwrap_or_default(),
        }
    }

    /// The account's own row (not a member's, not a partition's).
    pub fn is_account_row(&self) -> bool {
        self.user.is_none() && self.partition.is_none()
    }

    /// A row that does not exist yet, as an update of it would start from: no limits.
    pub fn blank(cluster: &str, account: &str, user: Option<&str>) -> Assoc {
        Assoc {
            cluster: cluster.to_string(),
            account: account.to_string(),
            user: user.map(str::to_string),
            partition: None,
            parent: None,
            gpu_minutes: None,
            qos: Vec::new(),
            default_qos: None,
            max: json!({}),
        }
    }
}

/// The rows of `GET /associations/` on `cluster`. A reply that found nothing (200 with a
/// warning) has an empty list, as has a reply without one.
pub fn associations(v: &Value, cluster: &str) -> Vec<Assoc> {
    let Some(rows) = v.get("associations").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .filter(|r| r.get("cluster").and_then(Value::as_str) == Some(cluster))
        .filter_map(|r| {
            Some(Assoc {
                cluster: cluster.to_string(),
                account: non_empty(text(r, "account"))?,
                user: non_empty(text(r, "user")),
                partition: non_empty(text(r, "partition")),
                parent: non_empty(text(r, "parent_account")),
                gpu_minutes: gpu_count(r.pointer("/max/tres/group/minutes")),
                qos: strings(r.get("qos")),
                default_qos: r
                    .pointer("/default/qos")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .and_then(non_empty),
                max: r.get("max").cloned().unwrap_or_else(|| json!({})),
            })
        })
        .collect()
}

/// What an update of one association changes; everything else is sent back as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssocChange {
    /// GrpTRESMins gres/gpu: `Some(None)` removes the cap, `None` keeps it.
    pub gpu_minutes: Option<Option<i64>>,
    /// The QOS list and default QOS: `Some` replaces both (the default must be in the list).
    pub qos: Option<(Vec<String>, String)>,
}

/// One row of a `POST /associations/` update. It names the row by (cluster, account, user,
/// partition), all four required ("" for none: without `user` the reply is a 500, 9200), and
/// sends `max` back whole: a TRES list left out of an update is cleared (GrpTRES, MaxTRES, …
/// all lost when only `group.minutes` is sent), while scalars left out are kept. Never use it
/// to create an account's row (that makes a broken one): see [`accounts_association_body`].
pub fn association_update(read: &Assoc, change: &AssocChange) -> Value {
    let mut max = match &read.max {
        Value::Object(_) => read.max.clone(),
        _ => json!({}),
    };
    let minutes = match change.gpu_minutes {
        Some(limit) => with_gpu(read.max.pointer("/tres/group/minutes"), limit),
        None => read
            .max
            .pointer("/tres/group/minutes")
            .cloned()
            .unwrap_or_else(|| json!([])),
    };
    set_path(&mut max, &["tres", "group", "minutes"], minutes);
    let mut row = json!({
        "account": read.account,
        "cluster": read.cluster,
        "user": read.user.as_deref().unwrap_or(""),
        "partition": read.partition.as_deref().unwrap_or(""),
        "max": max,
    });
    if let Some((list, default)) = &change.qos {
        row["qos"] = json!(list);
        row["default"] = json!({"qos": default});
    }
    row
}

/// Puts `value` at `path` inside `target`, making the objects on the way.
fn set_path(target: &mut Value, path: &[&str], value: Value) {
    let mut at = target;
    for key in &path[..path.len() - 1] {
        if !at.get(*key).is_some_and(Value::is_object) {
            at[*key] = json!({});
        }
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
}

/// `POST /associations/` with many rows at once (v0.0.42 applies each).
pub fn associations_body(rows: Vec<Value>) -> Value {
    json!({ "associations": rows })
}

/// An account with its own association, in one call (the only way that makes a sound account
/// row). `association` uses sacctmgr-like flat names. Several accounts can share one call when
/// their settings are equal; the same body again is 304 (nothing changed). For an account
/// that exists it adds what is missing and changes nothing else.
pub struct NewAccount<'a> {
    pub accounts: &'a [String],
    pub cluster: &'a str,
    pub parent: &'a str,
    pub description: &'a str,
    pub organization: &'a str,
    /// GrpTRESMins gres/gpu of the account row (the association-limit way of enforcing).
    pub gpu_minutes: Option<i64>,
    /// The account's only QOS, also its default (the QOS way of enforcing).
    pub qos: Option<&'a str>,
}

pub fn accounts_association_body(a: &NewAccount) -> Value {
    let mut association = json!({"parent": a.parent});
    if let Some(limit) = a.gpu_minutes {
        association["grptresmins"] = json!([{"type": "gres", "name": "gpu", "count": limit}]);
    }
    if let Some(qos) = a.qos {
        association["qoslevel"] = json!([qos]);
        association["defaultqos"] = json!(qos);
    }
    json!({
        "association_condition": {
            "accounts": a.accounts,
            "clusters": [a.cluster],
            "association": association,
        },
        "account": {"description": a.description, "organization": a.organization},
    })
}

/// The description Hatchery gives a startup's account.
pub fn description(organization: &str) -> String {
    format!("Hatchery: {organization}")
}

/// `POST /accounts/`: creates or updates the accounts' description and organization (a
/// startup's rename), one entry each. Makes no association.
pub fn accounts_body(accounts: &[(&str, &str)]) -> Value {
    json!({"accounts": accounts
        .iter()
        .map(|(name, organization)| json!({
            "name": name,
            "organization": organization,
            "description": description(organization),
        }))
        .collect::<Vec<_>>()})
}

/// An account as `GET /accounts/` lists it (its `name` filter is ignored: all come back;
/// `GET /account/NAME` gives one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub description: String,
    pub organization: String,
}

pub fn accounts(v: &Value) -> Vec<Account> {
    v.get("accounts")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|a| Account {
                    name: text(a, "name"),
                    description: text(a, "description"),
                    organization: text(a, "organization"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A Slurm user as `GET /users/?with_assocs=true` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// "" for none.
    pub default_account: String,
    /// The accounts of its associations on the cluster.
    pub accounts: Vec<String>,
}

/// The query of `GET /users/` that makes `users` complete: without `with_assocs`, 24.11 sends
/// every user's `default.account` as "".
pub const USERS_QUERY: [(&str, &str); 1] = [("with_assocs", "true")];

/// The users of a `GET /users/?with_assocs=true` reply, with their associations on `cluster`.
pub fn users(v: &Value, cluster: &str) -> Vec<User> {
    v.get("users")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|u| {
                    Some(User {
                        name: non_empty(text(u, "name"))?,
                        default_account: u
                            .pointer("/default/account")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        accounts: u
                            .get("associations")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter(|a| text(a, "cluster") == cluster)
                                    .filter_map(|a| non_empty(text(a, "account")))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `POST /users/`: users with the default account each should have. A user who does not exist
/// yet is made; an existing one gets that default (so send an existing user only to move it:
/// slurmdbd refuses to remove the association of a user's default account, 7009, while they
/// have others).
pub fn default_accounts_body(users: &[(&str, &str)]) -> Value {
    json!({"users": users
        .iter()
        .map(|(name, account)| json!({"name": name, "default": {"account": account}}))
        .collect::<Vec<_>>()})
}

/// Members of many accounts in one `POST /associations/`: one row per (account, login) of
/// users that exist. `partition` is left out on purpose: with `""` slurmdbd 24.11 makes the
/// row's lineage `/acct/0-user//` instead of `/acct/0-user/` as `users_association` does.
pub fn member_rows_body(cluster: &str, members: &[(&str, &str)]) -> Value {
    json!({"associations": members
        .iter()
        .map(|(account, login)| json!({"account": account, "cluster": cluster, "user": login}))
        .collect::<Vec<_>>()})
}

/// The query of `DELETE /association/` that removes one member from an account.
pub fn member_query<'a>(
    account: &'a str,
    cluster: &'a str,
    login: &'a str,
) -> [(&'static str, &'a str); 3] {
    [("account", account), ("cluster", cluster), ("user", login)]
}
