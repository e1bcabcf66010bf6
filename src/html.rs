//! **Pure.** What keeps event data inert in HTML where Leptos's own escaping does not reach:
//! text for the `<title>` that leptos_meta writes as it is, and the pages' Content-Security-
//! Policy, the second wall should anything slip through.

/// Escapes text for an HTML text context (`&`, `<`, `>`; quotes too, so it is safe in an
/// attribute as well). In `<title>` (RCDATA) the browser decodes the entities back, so the
/// title reads as sent while `</title><script>` stays text.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The policy of every page, with the response's nonce. Scripts: only our own files and
/// the inline scripts Leptos writes with the nonce (hydration, streamed resources); no
/// inline script or handler an attacker could write, no `eval` (WebAssembly compiles under
/// `'wasm-unsafe-eval'`). Styles: our stylesheet only, no `style` attribute. No plugins, no
/// `<base>`, no framing, forms post only here.
///
/// `'strict-dynamic'` is left out on purpose: it would refuse the `modulepreload` links
/// leptos writes without the nonce (a policy violation on every page load), and it adds
/// nothing here, since no page loads a script from another origin; every same-origin
/// response that is not our bundle is sent with `nosniff` and a non-script type.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// The policy of every response that is not a page (JSON, downloads, assets): nothing may
/// run or load from it, should a browser be made to render it.
pub const NON_PAGE_CSP: &str =
    "default-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// A `Content-Disposition` for a download: an ASCII file name with everything outside
/// `[A-Za-z0-9._-]` replaced (no quote, no CR/LF, no path), never empty.
pub fn attachment_disposition(name: &str) -> String {
    let clean: String = name
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    let clean = clean.trim_start_matches('.');
    let clean = if clean.is_empty() { "download" } else { clean };
    format!("attachment; filename=\"{clean}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_text() {
        assert_eq!(
            escape_text("x </title><script>alert(\"a\" & 'b')</script>"),
            "x &lt;/title&gt;&lt;script&gt;alert(&quot;a&quot; &amp; &#39;b&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape_text("KeyError · shop"), "KeyError · shop");
    }

    #[test]
    fn policies_refuse_inline_script() {
        let csp = page_csp("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        for needed in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "style-src 'self';"] {
            assert!(csp.contains(needed), "{needed}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
        assert!(NON_PAGE_CSP.starts_with("default-src 'none'"));
    }

    #[test]
    fn download_names() {
        assert_eq!(attachment_disposition("event-1.json"), "attachment; filename=\"event-1.json\"");
        assert_eq!(
            attachment_disposition("a\"\r\nSet-Cookie: x.json"),
            "attachment; filename=\"a___Set-Cookie__x.json\""
        );
        assert_eq!(attachment_disposition("../../etc/passwd"), "attachment; filename=\"_.._etc_passwd\"");
        assert_eq!(attachment_disposition(""), "attachment; filename=\"download\"");
    }
}
