//! Grouping: which issue an event belongs to. Pure (no I/O).
//! (Interim stub; replaced by the full strategy.)

pub const GROUPING_VERSION: i32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grouping {
    pub version: i32,
    pub hash: String,
    pub components: Vec<String>,
    pub title: String,
    pub culprit: String,
    pub kind: String,
    pub exception_type: Option<String>,
    pub exception_value: Option<String>,
}

pub fn group(event: &serde_json::Value) -> Grouping {
    let title = event["exception"]["values"][0]["type"].as_str().unwrap_or("<unlabeled event>").to_string();
    Grouping {
        version: GROUPING_VERSION,
        hash: format!("{:032x}", title.len()),
        components: vec![title.clone()],
        title,
        culprit: String::new(),
        kind: "error".into(),
        exception_type: None,
        exception_value: None,
    }
}

pub fn normalize_message(message: &str) -> String {
    message.to_string()
}
