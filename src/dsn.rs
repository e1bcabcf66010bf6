//! DSNs and SDK setup snippets. Pure string work, shared by the CLI and the UI.

/// Builds a DSN `{scheme}://{public_key}@{host}{path}/{project_id}` from Faultline's public URL.
pub fn dsn(public_url: &str, public_key: &str, project_id: i64) -> String {
    let url = public_url.trim().trim_end_matches('/');
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    format!("{scheme}://{public_key}@{rest}/{project_id}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sdk {
    Python,
    Node,
    Browser,
    Rust,
}

impl Sdk {
    pub const ALL: [Sdk; 4] = [Sdk::Python, Sdk::Node, Sdk::Browser, Sdk::Rust];

    pub fn label(self) -> &'static str {
        match self {
            Sdk::Python => "Python",
            Sdk::Node => "Node.js",
            Sdk::Browser => "Browser JS",
            Sdk::Rust => "Rust",
        }
    }

    /// The install command and the code that points the SDK at `dsn`.
    pub fn snippet(self, dsn: &str) -> (String, String) {
        match self {
            Sdk::Python => (
                "pip install sentry-sdk".into(),
                format!(
                    "import sentry_sdk\n\nsentry_sdk.init(\n    dsn=\"{dsn}\",\n    environment=\"production\",\n    release=\"myapp@1.0.0\",\n)\n"
                ),
            ),
            Sdk::Node => (
                "npm install @sentry/node".into(),
                format!(
                    "const Sentry = require(\"@sentry/node\");\n\nSentry.init({{\n  dsn: \"{dsn}\",\n  environment: \"production\",\n  release: \"myapp@1.0.0\",\n}});\n"
                ),
            ),
            Sdk::Browser => (
                "npm install @sentry/browser".into(),
                format!(
                    "import * as Sentry from \"@sentry/browser\";\n\nSentry.init({{\n  dsn: \"{dsn}\",\n  environment: \"production\",\n  release: \"myapp@1.0.0\",\n}});\n"
                ),
            ),
            Sdk::Rust => (
                "cargo add sentry".into(),
                format!(
                    "let _guard = sentry::init((\n    \"{dsn}\",\n    sentry::ClientOptions {{\n        release: sentry::release_name!(),\n        ..Default::default()\n    }},\n));\n"
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_forms() {
        for (url, expected) in [
            ("http://127.0.0.1:8000", "http://abc@127.0.0.1:8000/7"),
            ("http://127.0.0.1:8000/", "http://abc@127.0.0.1:8000/7"),
            ("https://errors.example.com/faultline", "https://abc@errors.example.com/faultline/7"),
        ] {
            assert_eq!(dsn(url, "abc", 7), expected, "{url}");
        }
    }

    #[test]
    fn snippets_carry_the_dsn() {
        for sdk in Sdk::ALL {
            let (_, code) = sdk.snippet("http://k@h/1");
            assert!(code.contains("http://k@h/1"), "{}", sdk.label());
        }
    }
}
