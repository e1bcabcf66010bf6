//! Minidumps (the crash files of Breakpad, Crashpad and Windows): the few facts an event needs
//! without symbolication: the crash reason and address, the crashed thread, the OS and the
//! CPU. The dump itself is stored as the event's attachment. Pure, and safe on any bytes:
//! every read is bounds-checked.

/// What the event shows of a minidump.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// E.g. `EXCEPTION_ACCESS_VIOLATION_READ`, `SIGSEGV`, `EXC_BAD_ACCESS`, or the code in hex.
    pub reason: Option<String>,
    pub address: Option<u64>,
    pub thread_id: Option<u32>,
    /// `Windows`, `Linux`, `macOS`, `iOS`, `Android`, ...
    pub os_name: Option<String>,
    /// `10.0.19045` and the like.
    pub os_version: Option<String>,
    /// `x86`, `x86_64`, `arm`, `arm64`.
    pub arch: Option<String>,
    /// When the dump was written (epoch seconds), if set.
    pub timestamp: Option<u32>,
}

/// Whether the bytes start like a minidump (either byte order).
pub fn is_minidump(data: &[u8]) -> bool {
    data.starts_with(b"MDMP") || data.starts_with(b"PMDM")
}

const EXCEPTION_STREAM: u32 = 6;
const SYSTEM_INFO_STREAM: u32 = 7;
/// Directory entries read at most (real dumps have a few dozen).
const MAX_STREAMS: u32 = 4096;

struct Reader<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.data.get(at..at.checked_add(N)?)?.try_into().ok()
    }
    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes::<2>(at)?;
        Some(if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes::<4>(at)?;
        Some(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }
    fn u64(&self, at: usize) -> Option<u64> {
        let b = self.bytes::<8>(at)?;
        Some(if self.big_endian { u64::from_be_bytes(b) } else { u64::from_le_bytes(b) })
    }
}

/// Reads what it can; `Err` only when the bytes are not a minidump at all.
pub fn summarize(data: &[u8]) -> Result<Summary, String> {
    if !is_minidump(data) {
        return Err("the minidump does not start with MDMP".into());
    }
    let r = Reader { data, big_endian: data.starts_with(b"PMDM") };
    let mut s = Summary { timestamp: r.u32(20).filter(|t| *t > 0), ..Summary::default() };
    let (Some(count), Some(dir)) = (r.u32(8), r.u32(12)) else { return Ok(s) };
    let mut exception: Option<(u32, u32, u64, Option<u64>)> = None;
    let mut platform: Option<u32> = None;
    for i in 0..count.min(MAX_STREAMS) as usize {
        let entry = dir as usize + i * 12;
        let (Some(kind), Some(rva)) = (r.u32(entry), r.u32(entry + 8)) else { break };
        let rva = rva as usize;
        match kind {
            EXCEPTION_STREAM => {
                s.thread_id = r.u32(rva);
                if let (Some(code), Some(flags), Some(addr)) = (r.u32(rva + 8), r.u32(rva + 12), r.u64(rva + 24)) {
                    let params = r.u32(rva + 32).unwrap_or(0);
                    let first = if params > 0 { r.u64(rva + 40) } else { None };
                    exception = Some((code, flags, addr, first));
                    s.address = Some(addr);
                }
            }
            SYSTEM_INFO_STREAM => {
                s.arch = r.u16(rva).and_then(arch).map(str::to_string);
                let (major, minor, build) = (r.u32(rva + 8), r.u32(rva + 12), r.u32(rva + 16));
                platform = r.u32(rva + 20);
                s.os_name = platform.and_then(os_name).map(str::to_string);
                if let (Some(a), Some(b), Some(c)) = (major, minor, build) {
                    if a > 0 || b > 0 || c > 0 {
                        s.os_version = Some(format!("{a}.{b}.{c}"));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((code, flags, _, first)) = exception {
        s.reason = Some(reason(platform, code, flags, first));
    }
    Ok(s)
}

fn arch(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "x86",
        5 => "arm",
        9 => "x86_64",
        12 | 0x8003 => "arm64",
        _ => return None,
    })
}

fn os_name(platform: u32) -> Option<&'static str> {
    Some(match platform {
        0..=2 => "Windows",
        0x8101 => "macOS",
        0x8102 => "iOS",
        0x8201 => "Linux",
        0x8202 => "Solaris",
        0x8203 => "Android",
        0x8204 => "PS3",
        0x8205 => "NaCl",
        0x8206 => "Fuchsia",
        _ => return None,
    })
}

/// The crash reason as Breakpad and Sentry name it: Windows exception codes, POSIX signals
/// (Linux, Android), Mach exceptions (macOS, iOS).
fn reason(platform: Option<u32>, code: u32, flags: u32, first_param: Option<u64>) -> String {
    let named = match platform {
        Some(0x8201 | 0x8203 | 0x8202 | 0x8206) => match code {
            1 => Some("SIGHUP"),
            2 => Some("SIGINT"),
            3 => Some("SIGQUIT"),
            4 => Some("SIGILL"),
            5 => Some("SIGTRAP"),
            6 => Some("SIGABRT"),
            7 => Some("SIGBUS"),
            8 => Some("SIGFPE"),
            9 => Some("SIGKILL"),
            11 => Some("SIGSEGV"),
            13 => Some("SIGPIPE"),
            15 => Some("SIGTERM"),
            31 => Some("SIGSYS"),
            _ => None,
        },
        Some(0x8101 | 0x8102) => match code {
            1 => Some("EXC_BAD_ACCESS"),
            2 => Some("EXC_BAD_INSTRUCTION"),
            3 => Some("EXC_ARITHMETIC"),
            4 => Some("EXC_EMULATION"),
            5 => Some("EXC_SOFTWARE"),
            6 => Some("EXC_BREAKPOINT"),
            10 => Some("EXC_CRASH"),
            11 => Some("EXC_RESOURCE"),
            12 => Some("EXC_GUARD"),
            0x43507378 => Some("Simulated Exception"),
            _ => None,
        },
        _ => match code {
            0xC000_0005 => {
                return match first_param {
                    Some(0) => "EXCEPTION_ACCESS_VIOLATION_READ",
                    Some(1) => "EXCEPTION_ACCESS_VIOLATION_WRITE",
                    Some(8) => "EXCEPTION_ACCESS_VIOLATION_EXEC",
                    _ => "EXCEPTION_ACCESS_VIOLATION",
                }
                .to_string()
            }
            0xC000_0006 => Some("EXCEPTION_IN_PAGE_ERROR"),
            0xC000_001D => Some("EXCEPTION_ILLEGAL_INSTRUCTION"),
            0xC000_0025 => Some("EXCEPTION_NONCONTINUABLE_EXCEPTION"),
            0xC000_008C => Some("EXCEPTION_ARRAY_BOUNDS_EXCEEDED"),
            0xC000_008E => Some("EXCEPTION_FLT_DIVIDE_BY_ZERO"),
            0xC000_0094 => Some("EXCEPTION_INT_DIVIDE_BY_ZERO"),
            0xC000_0095 => Some("EXCEPTION_INT_OVERFLOW"),
            0xC000_0096 => Some("EXCEPTION_PRIV_INSTRUCTION"),
            0xC000_00FD => Some("EXCEPTION_STACK_OVERFLOW"),
            0xC000_0374 => Some("STATUS_HEAP_CORRUPTION"),
            0xC000_0409 => Some("STATUS_STACK_BUFFER_OVERRUN"),
            0xC000_0602 => Some("STATUS_FAIL_FAST_EXCEPTION"),
            0x8000_0003 => Some("EXCEPTION_BREAKPOINT"),
            0x8000_0004 => Some("EXCEPTION_SINGLE_STEP"),
            0x4000_0015 => Some("STATUS_FATAL_APP_EXIT"),
            0xE06D_7363 => Some("Unhandled C++ Exception"),
            _ => None,
        },
    };
    match named {
        Some(name) => name.to_string(),
        None if flags != 0 => format!("0x{code:08x} / 0x{flags:08x}"),
        None => format!("0x{code:08x}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small but well-formed little-endian minidump: header, a directory of two streams, an
    /// exception stream and a system info stream.
    pub fn sample(platform: u32, code: u32, first_param: u64) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(b"MDMP");
        d.extend_from_slice(&0xa793u32.to_le_bytes()); // version
        d.extend_from_slice(&2u32.to_le_bytes()); // streams
        d.extend_from_slice(&32u32.to_le_bytes()); // directory at 32
        d.extend_from_slice(&0u32.to_le_bytes()); // checksum
        d.extend_from_slice(&1_700_000_000u32.to_le_bytes()); // time
        d.extend_from_slice(&0u64.to_le_bytes()); // flags
        let exception_at = 32 + 24;
        let sysinfo_at = exception_at + 168;
        for (kind, size, rva) in [(6u32, 168u32, exception_at as u32), (7, 56, sysinfo_at as u32)] {
            d.extend_from_slice(&kind.to_le_bytes());
            d.extend_from_slice(&size.to_le_bytes());
            d.extend_from_slice(&rva.to_le_bytes());
        }
        let mut ex = vec![0u8; 168];
        ex[0..4].copy_from_slice(&4242u32.to_le_bytes());
        ex[8..12].copy_from_slice(&code.to_le_bytes());
        ex[24..32].copy_from_slice(&0xdead_beefu64.to_le_bytes());
        ex[32..36].copy_from_slice(&2u32.to_le_bytes());
        ex[40..48].copy_from_slice(&first_param.to_le_bytes());
        d.extend_from_slice(&ex);
        let mut si = vec![0u8; 56];
        si[0..2].copy_from_slice(&9u16.to_le_bytes());
        si[8..12].copy_from_slice(&10u32.to_le_bytes());
        si[16..20].copy_from_slice(&19045u32.to_le_bytes());
        si[20..24].copy_from_slice(&platform.to_le_bytes());
        d.extend_from_slice(&si);
        d
    }

    #[test]
    fn reads_the_crash_reason_os_and_cpu() {
        let s = summarize(&sample(2, 0xC000_0005, 1)).unwrap();
        assert_eq!(s.reason.as_deref(), Some("EXCEPTION_ACCESS_VIOLATION_WRITE"));
        assert_eq!(s.address, Some(0xdead_beef));
        assert_eq!(s.thread_id, Some(4242));
        assert_eq!(s.os_name.as_deref(), Some("Windows"));
        assert_eq!(s.os_version.as_deref(), Some("10.0.19045"));
        assert_eq!(s.arch.as_deref(), Some("x86_64"));
        assert_eq!(s.timestamp, Some(1_700_000_000));
        let linux = summarize(&sample(0x8201, 11, 0)).unwrap();
        assert_eq!((linux.reason.as_deref(), linux.os_name.as_deref()), (Some("SIGSEGV"), Some("Linux")));
        let mac = summarize(&sample(0x8101, 1, 0)).unwrap();
        assert_eq!(mac.reason.as_deref(), Some("EXC_BAD_ACCESS"));
        assert_eq!(summarize(&sample(2, 0x1234, 0)).unwrap().reason.as_deref(), Some("0x00001234"));
    }

    #[test]
    fn survives_any_truncation_and_garbage() {
        let full = sample(2, 0xC000_0094, 0);
        for n in 0..full.len() {
            let s = summarize(&full[..n]);
            assert_eq!(s.is_ok(), n >= 4, "{n}");
        }
        let mut bad = full.clone();
        bad[8..12].copy_from_slice(&u32::MAX.to_le_bytes()); // absurd stream count
        bad[12..16].copy_from_slice(&(u32::MAX - 3).to_le_bytes()); // directory past the end
        assert_eq!(summarize(&bad).unwrap().reason, None);
        assert!(summarize(b"not a dump").is_err());
        assert!(is_minidump(b"PMDM...."));
    }
}
