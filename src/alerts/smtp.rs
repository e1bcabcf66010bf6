//! A small SMTP client for alert e-mails, to a relay or a mail service:
//! - `smtps://[user:password@]host[:port]`: TLS from the first byte (port 465 by default);
//! - `smtp://[user:password@]host[:port]` (port 25 by default): upgraded with STARTTLS
//!   whenever the server offers it; without it, the dialogue stays plain, but a password is
//!   only ever sent over TLS or to a relay on this host (loopback).
//!
//! `AUTH PLAIN` when the URL has credentials. Certificates are checked against the Mozilla
//! roots built in (webpki-roots), plus the PEM certificates of `FAULTLINE_SMTP_CA_FILE` (a
//! private CA). Configured by `FAULTLINE_SMTP_URL` and `FAULTLINE_SMTP_FROM` (the sender
//! address, `faultline@<host>` by default).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
    pub from: String,
    /// `smtps://`: TLS from the start, instead of STARTTLS when offered.
    pub implicit_tls: bool,
    /// PEM file of extra trusted certificates (a private CA, a self-signed relay).
    pub ca_file: Option<String>,
}

impl Smtp {
    /// The relay of `FAULTLINE_SMTP_URL`, if set.
    pub fn from_env() -> Option<Smtp> {
        let url = std::env::var("FAULTLINE_SMTP_URL").ok().filter(|u| !u.trim().is_empty())?;
        let from = std::env::var("FAULTLINE_SMTP_FROM").ok().filter(|f| !f.trim().is_empty());
        match Smtp::parse(&url, from.as_deref()) {
            Some(mut s) => {
                s.ca_file = std::env::var("FAULTLINE_SMTP_CA_FILE").ok().filter(|f| !f.trim().is_empty());
                Some(s)
            }
            None => {
                tracing::error!(
                    "FAULTLINE_SMTP_URL is not smtp[s]://[user:password@]host[:port]: e-mail alerts are off"
                );
                None
            }
        }
    }

    pub fn parse(url: &str, from: Option<&str>) -> Option<Smtp> {
        let url = url.trim();
        let (rest, implicit_tls) = match url.strip_prefix("smtps://") {
            Some(rest) => (rest, true),
            None => (url.strip_prefix("smtp://")?, false),
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((cred, hp)) => {
                let (user, pass) = cred.split_once(':')?;
                (Some((percent_decode(user), percent_decode(pass))), hp)
            }
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (hostport, if implicit_tls { 465 } else { 25 }),
        };
        if host.is_empty() {
            return None;
        }
        let from = from.map(str::to_string).unwrap_or_else(|| format!("faultline@{host}"));
        is_address(&from).then(|| Smtp { host: host.to_string(), port, credentials, from, implicit_tls, ca_file: None })
    }

    /// Sends a plain-text message to each address of `to`.
    pub async fn send(&self, to: &[String], subject: &str, text: &str) -> Result<(), String> {
        tokio::time::timeout(Duration::from_secs(20), self.session(to, subject, text))
            .await
            .map_err(|_| "the mail relay did not answer within 20 s".to_string())?
    }

    async fn session(&self, to: &[String], subject: &str, text: &str) -> Result<(), String> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot reach the mail relay {}:{}: {e}", self.host, self.port))?;
        let loopback = tcp.peer_addr().map(|a| a.ip().is_loopback()).unwrap_or(false);
        if self.implicit_tls {
            let mut s = BufReader::new(self.tls(tcp).await?);
            expect(&mut s, 220).await?;
            command(&mut s, "EHLO faultline", 250).await?;
            return self.mail(&mut s, to, subject, text).await;
        }
        let mut s = BufReader::new(tcp);
        expect(&mut s, 220).await?;
        let features = command(&mut s, "EHLO faultline", 250).await?;
        if features.iter().any(|f| f.eq_ignore_ascii_case("STARTTLS")) {
            command(&mut s, "STARTTLS", 220).await?;
            let mut s = BufReader::new(self.tls(s.into_inner()).await?);
            command(&mut s, "EHLO faultline", 250).await?;
            return self.mail(&mut s, to, subject, text).await;
        }
        if self.credentials.is_some() && !loopback {
            return Err(format!(
                "the mail relay {} does not offer STARTTLS, and Faultline sends no password in clear text: \
                 use smtps:// or a relay that offers STARTTLS",
                self.host
            ));
        }
        self.mail(&mut s, to, subject, text).await
    }

    /// The TLS handshake, checking the relay's certificate against its host name.
    async fn tls(&self, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
        let config = client_config(self.ca_file.as_deref())?;
        let name = rustls::pki_types::ServerName::try_from(self.host.clone())
            .map_err(|e| format!("{}: not a host name for TLS: {e}", self.host))?;
        tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with the mail relay {}: {e}", self.host))
    }

    /// After the greeting (and TLS): authentication, the envelope, the message.
    async fn mail<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        s: &mut BufReader<S>,
        to: &[String],
        subject: &str,
        text: &str,
    ) -> Result<(), String> {
        if let Some((user, pass)) = &self.credentials {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
            command(s, &format!("AUTH PLAIN {token}"), 235).await?;
        }
        command(s, &format!("MAIL FROM:<{}>", self.from), 250).await?;
        for address in to {
            command(s, &format!("RCPT TO:<{address}>"), 250).await?;
        }
        command(s, "DATA", 354).await?;
        let message = message(&self.from, to, subject, text);
        s.write_all(message.as_bytes()).await.map_err(|e| e.to_string())?;
        command(s, ".", 250).await?;
        let _ = command(s, "QUIT", 221).await;
        Ok(())
    }
}

/// The TLS client settings: the built-in Mozilla roots, plus the certificates of `ca_file`.
fn client_config(ca_file: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = ca_file {
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("FAULTLINE_SMTP_CA_FILE {path}: {e}"))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("FAULTLINE_SMTP_CA_FILE {path}: {e}"))?;
            roots.add(cert).map_err(|e| format!("FAULTLINE_SMTP_CA_FILE {path}: {e}"))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A message with its headers, CRLF line ends, dot-stuffed, without the final `.` line.
pub fn message(from: &str, to: &[String], subject: &str, text: &str) -> String {
    let subject: String = subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let subject = if subject.is_ascii() {
        subject
    } else {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(subject.as_bytes()))
    };
    let date =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
    let mut out = format!(
        "From: Faultline <{from}>\r\nTo: {}\r\nSubject: {subject}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        to.join(", ")
    );
    for line in text.lines() {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

/// A plausible single address: `local@domain`, no spaces, brackets or line breaks.
pub fn is_address(s: &str) -> bool {
    let ok_chars = !s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    let shaped = match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && (domain.contains('.') || domain == "localhost"),
        None => false,
    };
    shaped && ok_chars
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends a command and reads its reply; returns the reply's lines after the code (the
/// extensions an `EHLO` reply lists).
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    line: &str,
    want: u16,
) -> Result<Vec<String>, String> {
    s.write_all(format!("{line}\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
    s.flush().await.map_err(|e| e.to_string())?;
    expect(s, want).await.map_err(|e| {
        let shown = if line.starts_with("AUTH") { "AUTH PLAIN" } else { line };
        format!("{shown}: {e}")
    })
}

/// Reads a (multi-line) reply and checks its code; returns the text of its lines.
async fn expect<S: AsyncRead + Unpin>(read: &mut BufReader<S>, want: u16) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
            return Err("the mail relay closed the connection".into());
        }
        let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).ok_or_else(|| format!("bad reply {line:?}"))?;
        lines.push(line.get(4..).unwrap_or("").trim_end().to_string());
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        if code != want && !(want == 250 && code == 251) {
            return Err(format!("the mail relay answered {}", line.trim_end()));
        }
        return Ok(lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_addresses_and_messages() {
        let s = Smtp::parse("smtp://alerts:p%40ss@mail.example.com:2525", None).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("mail.example.com", 2525));
        assert_eq!(s.credentials, Some(("alerts".into(), "p@ss".into())));
        assert_eq!(s.from, "faultline@mail.example.com");
        assert_eq!(Smtp::parse("smtp://localhost", Some("ops@example.com")).unwrap().port, 25);
        let s = Smtp::parse("smtps://mail.example.com", None).unwrap();
        assert_eq!((s.port, s.implicit_tls), (465, true));
        assert!(!Smtp::parse("smtp://mail.example.com:587", None).unwrap().implicit_tls);
        assert!(Smtp::parse("http://x", None).is_none());
        assert!(is_address("ops@example.com"));
        assert!(!is_address("ops@example.com\r\nBcc: x@y.z"));
        assert!(!is_address("nobody"));
        let m = message("f@example.com", &["a@example.com".into()], "New issue:\r\nBcc: evil", ".hidden\nline");
        assert!(m.contains("Subject: New issue:  Bcc: evil\r\n"));
        assert!(m.ends_with("\r\n\r\n..hidden\r\nline\r\n"));
        assert!(message("f@x.io", &[], "Ünïcode", "").contains("Subject: =?UTF-8?B?"));
    }
}
