//! A small SMTP client for alert e-mails: plain SMTP to a relay (the host's MTA, a company
//! relay on the private network), with `AUTH PLAIN` when the URL has credentials. No TLS:
//! point it at a relay that handles delivery (README says so).
//!
//! Configured by `FAULTLINE_SMTP_URL` (`smtp://[user:password@]host[:port]`, port 25 by
//! default) and `FAULTLINE_SMTP_FROM` (the sender address, `faultline@<host>` by default).

use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
    pub from: String,
}

impl Smtp {
    /// The relay of `FAULTLINE_SMTP_URL`, if set.
    pub fn from_env() -> Option<Smtp> {
        let url = std::env::var("FAULTLINE_SMTP_URL").ok().filter(|u| !u.trim().is_empty())?;
        let from = std::env::var("FAULTLINE_SMTP_FROM").ok().filter(|f| !f.trim().is_empty());
        match Smtp::parse(&url, from.as_deref()) {
            Some(s) => Some(s),
            None => {
                tracing::error!("FAULTLINE_SMTP_URL is not smtp://[user:password@]host[:port]: e-mail alerts are off");
                None
            }
        }
    }

    pub fn parse(url: &str, from: Option<&str>) -> Option<Smtp> {
        let rest = url.trim().strip_prefix("smtp://")?.trim_end_matches('/');
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((cred, hp)) => {
                let (user, pass) = cred.split_once(':')?;
                (Some((percent_decode(user), percent_decode(pass))), hp)
            }
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (hostport, 25),
        };
        if host.is_empty() {
            return None;
        }
        let from = from.map(str::to_string).unwrap_or_else(|| format!("faultline@{host}"));
        is_address(&from).then(|| Smtp { host: host.to_string(), port, credentials, from })
    }

    /// Sends a plain-text message to each address of `to`.
    pub async fn send(&self, to: &[String], subject: &str, text: &str) -> Result<(), String> {
        tokio::time::timeout(Duration::from_secs(20), self.session(to, subject, text))
            .await
            .map_err(|_| "the mail relay did not answer within 20 s".to_string())?
    }

    async fn session(&self, to: &[String], subject: &str, text: &str) -> Result<(), String> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot reach the mail relay {}:{}: {e}", self.host, self.port))?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        expect(&mut read, 220).await?;
        command(&mut write, &mut read, "EHLO faultline", 250).await?;
        if let Some((user, pass)) = &self.credentials {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
            command(&mut write, &mut read, &format!("AUTH PLAIN {token}"), 235).await?;
        }
        command(&mut write, &mut read, &format!("MAIL FROM:<{}>", self.from), 250).await?;
        for address in to {
            command(&mut write, &mut read, &format!("RCPT TO:<{address}>"), 250).await?;
        }
        command(&mut write, &mut read, "DATA", 354).await?;
        let message = message(&self.from, to, subject, text);
        write.write_all(message.as_bytes()).await.map_err(|e| e.to_string())?;
        command(&mut write, &mut read, ".", 250).await?;
        let _ = command(&mut write, &mut read, "QUIT", 221).await;
        Ok(())
    }
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

async fn command(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    line: &str,
    want: u16,
) -> Result<(), String> {
    write.write_all(format!("{line}\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
    expect(read, want).await.map_err(|e| {
        let shown = if line.starts_with("AUTH") { "AUTH PLAIN" } else { line };
        format!("{shown}: {e}")
    })
}

/// Reads a (multi-line) reply and checks its code.
async fn expect(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, want: u16) -> Result<(), String> {
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
            return Err("the mail relay closed the connection".into());
        }
        let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).ok_or_else(|| format!("bad reply {line:?}"))?;
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        if code != want && !(want == 250 && code == 251) {
            return Err(format!("the mail relay answered {}", line.trim_end()));
        }
        return Ok(());
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
