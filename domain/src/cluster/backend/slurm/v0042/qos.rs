//! v0.0.42 QOS: the NoDecay QOS per account that holds a startup's lifetime GPU-minute cap.
use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Qos {
    /// The numeric id (`GET /jobs/?qos=` takes only this).
    pub id: i64,
    pub name: String,
    pub description: String,
    pub flags: Vec<String>,
    /// GrpTRESMins gres/gpu (`limits.max.tres.minutes.total`; only v0.0.42 has it).
    pub gpu_minutes: Option<i64>,
    /// `limits.max.tres.minutes.total` as read, to send its other entries back.
    pub minutes_total: Value,
}

impl Qos {
    /// Whether this QOS enforces `limit` GPU-minutes as a lifetime cap.
    pub fn enforces(&self, limit: i64) -> bool {
        self.gpu_minutes == Some(limit)
            && QOS_FLAGS.iter().all(|f| self.flags.iter().any(|g| g == f))
    }
}

/// The QOS of `GET /qos/` (its `name` filter is ignored: every QOS comes back) or
/// `GET /qos/NAME`.
pub fn qos_list(v: &Value) -> Vec<Qos> {
    v.get("qos")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|q| {
                    let minutes_total = q
                        .pointer("/limits/max/tres/minutes/total")
                        .cloned()
                        .unwrap_or_else(|| json!([]));
                    Some(Qos {
                        id: q.get("id")?.as_i64()?,
                        name: non_empty(text(q, "name"))?,
                        description: text(q, "description"),
                        flags: strings(q.get("flags")),
                        gpu_minutes: gpu_count(Some(&minutes_total)),
                        minutes_total,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One QOS of a `POST /qos/` (creates or updates). Flags are always sent, as read plus
/// [`QOS_FLAGS`]: an update without `flags` clears them (NoDecay silently lost). Limits left out
/// are kept on a QOS (unlike an association), but the GrpTRESMins list is sent whole anyway.
/// The read QOS is not sent back as a whole: its float fields (`usage_factor`, …) come back
/// as integers and draw warnings.
pub fn qos_row(name: &str, description: &str, gpu_minutes: i64, read: Option<&Qos>) -> Value {
    let mut flags: Vec<String> = read.map(|q| q.flags.clone()).unwrap_or_default();
    for f in QOS_FLAGS {
        if !flags.iter().any(|g| g == f) {
            flags.push(f.to_string());
        }
    }
    let total = with_gpu(read.map(|q| &q.minutes_total), Some(gpu_minutes));
    json!({
        "name": name,
        "description": description,
        "flags": flags,
        "limits": {"max": {"tres": {"minutes": {"total": total}}}},
    })
}

pub fn qos_body(rows: Vec<Value>) -> Value {
    json!({ "qos": rows })
}
