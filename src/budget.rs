//! The memory budget: how much memory a statement may still take, and the
//! checks that refuse a large buffer with a diagnostic (E0409) instead of
//! letting the allocator abort the process.
//!
//! The budget is the smallest of
//! - `LOSSLANG_MEMORY` (`512M`, `2G`, `1.5GiB`, a number of bytes) minus
//!   what the process already holds (its resident set), or, without it, the
//!   machine's available memory (`MemAvailable` in `/proc/meminfo`);
//! - the room left under an address-space cap (`ulimit -v`: the `Max
//!   address space` of `/proc/self/limits` minus `VmSize`).
//!
//! A compiled tape knows every buffer before it runs, a tensor constructor
//! knows its shape, a csv read knows how many bytes it has taken: each asks
//! [`check`] (or allocates with [`zeroed`], which also uses `try_reserve`)
//! before allocating. Small requests (under [`SMALL`]) are not checked, so
//! the common case never reads `/proc`. What slips past those checks meets
//! [`Guarded`], the binary's global allocator: a failed allocation prints
//! an E0409 line and exits with status 1 instead of aborting on signal 6.

use crate::diagnostics::{Diag, Span};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;

/// Requests below this many bytes are not checked (1 MiB).
pub const SMALL: u64 = 1 << 20;

/// The environment variable that sets the budget.
pub const ENV: &str = "LOSSLANG_MEMORY";

/// What bounds the budget, for the message.
#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    /// `LOSSLANG_MEMORY`, as written.
    Env(String),
    /// The machine's available memory.
    Available,
    /// An address-space cap of this many bytes (`ulimit -v`).
    AddressSpace(u64),
}

/// A request the budget refuses.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    /// Bytes asked for.
    pub bytes: u64,
    /// Bytes the budget still allows.
    pub free: u64,
    pub limit: Limit,
    /// The largest buffer of the request, when it has several: its shape.
    pub largest: Option<Vec<usize>>,
}

/// A value of `LOSSLANG_MEMORY` that is not a size.
#[derive(Clone, Debug, PartialEq)]
pub struct BadSize(pub String);

/// Why a request cannot be served.
#[derive(Clone, Debug, PartialEq)]
pub enum Refused {
    TooBig(Need),
    BadEnv(BadSize),
}

impl Refused {
    /// Names the largest buffer of a refused request.
    pub fn with_largest(mut self, shape: &[usize]) -> Refused {
        if let Refused::TooBig(n) = &mut self {
            n.largest = Some(shape.to_vec());
        }
        self
    }

    /// The diagnostic at `span` (the statement or expression that asked).
    pub fn diag(&self, span: Span, what: &str) -> Diag {
        match self {
            Refused::BadEnv(BadSize(v)) => {
                Diag::error("E0409", format!("{ENV}=`{v}` is not a size"))
                    .at(span, "the memory budget is checked here")
                    .note(format!(
                        "help: write a size such as {ENV}=512M, {ENV}=2G or {ENV}=1000000 (bytes)"
                    ))
            }
            Refused::TooBig(n) => {
                let mut d = Diag::error(
                    "E0409",
                    format!(
                        "not enough memory: {what} needs {}, the budget leaves {}",
                        human(n.bytes),
                        human(n.free)
                    ),
                )
                .at(span, format!("needs {}", human(n.bytes)));
                if let Some(s) = &n.largest {
                    d = d.note(format!(
                        "the largest value here has shape {} ({})",
                        crate::tensor::shape_str(s),
                        human(crate::tensor::numel(s) as u64 * 8)
                    ));
                }
                let why = match &n.limit {
                    Limit::Env(v) => format!("the budget is {ENV}={v}"),
                    Limit::Available => {
                        "the budget is the machine's available memory (MemAvailable)".into()
                    }
                    Limit::AddressSpace(cap) => format!(
                        "the budget is what the address-space limit (ulimit -v, {}) leaves",
                        human(*cap)
                    ),
                };
                d.note(why).note(format!(
                    "help: use smaller tensors or fewer points, or set {ENV} (e.g. {ENV}=8G) where the machine has the memory"
                ))
            }
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::BadEnv(BadSize(v)) => write!(f, "{ENV}=`{v}` is not a size"),
            Refused::TooBig(n) => write!(
                f,
                "not enough memory: {} needed, {} left",
                human(n.bytes),
                human(n.free)
            ),
        }
    }
}

/// A byte count for people: `512 B`, `1.5 KiB`, `4.0 GiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Parses a size: a number with an optional unit K, M, G, T (powers of
/// 1024; `KB`, `KiB` and lower case are the same).
pub fn parse_size(s: &str) -> Result<u64, BadSize> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().map_err(|_| BadSize(s.to_string()))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(BadSize(s.to_string())),
    };
    let bytes = v * mult as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes >= u64::MAX as f64 {
        return Err(BadSize(s.to_string()));
    }
    Ok(bytes as u64)
}

/// `LOSSLANG_MEMORY`, read once: None when unset.
fn env_limit() -> &'static Option<Result<(u64, String), BadSize>> {
    static ENV_LIMIT: OnceLock<Option<Result<(u64, String), BadSize>>> = OnceLock::new();
    ENV_LIMIT.get_or_init(|| {
        let v = std::env::var(ENV).ok()?;
        Some(parse_size(&v).map(|b| (b, v.trim().to_string())))
    })
}

/// A `kB` field of a `/proc` file, in bytes.
fn proc_kb(file: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The soft address-space cap (`ulimit -v`), if there is one.
fn address_space_cap() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The bytes the budget still allows and what bounds them; None when
/// nothing is known (no `/proc`, no `LOSSLANG_MEMORY`).
pub fn free() -> Result<Option<(u64, Limit)>, BadSize> {
    let mut best: Option<(u64, Limit)> = None;
    let mut offer = |free: u64, why: Limit| {
        if best.as_ref().is_none_or(|(b, _)| free < *b) {
            best = Some((free, why));
        }
    };
    match env_limit() {
        Some(Ok((cap, raw))) => {
            let used = proc_kb("/proc/self/status", "VmRSS:").unwrap_or(0);
            offer(cap.saturating_sub(used), Limit::Env(raw.clone()));
        }
        Some(Err(bad)) => return Err(bad.clone()),
        None => {
            if let Some(avail) = proc_kb("/proc/meminfo", "MemAvailable:") {
                offer(avail, Limit::Available);
            }
        }
    }
    if let Some(cap) = address_space_cap() {
        let used = proc_kb("/proc/self/status", "VmSize:").unwrap_or(0);
        // Keep a margin for what the allocator and the output need.
        offer(
            cap.saturating_sub(used).saturating_sub(SMALL * 16),
            Limit::AddressSpace(cap),
        );
    }
    Ok(best)
}

/// Whether `bytes` more fit in the budget.
pub fn check(bytes: u64) -> Result<(), Refused> {
    if let Some(Err(bad)) = env_limit() {
        return Err(Refused::BadEnv(bad.clone()));
    }
    if bytes < SMALL {
        return Ok(());
    }
    match free().map_err(Refused::BadEnv)? {
        Some((free, limit)) if bytes > free => Err(Refused::TooBig(Need {
            bytes,
            free,
            limit,
            largest: None,
        })),
        _ => Ok(()),
    }
}

/// Whether `n` f64 values fit.
pub fn check_f64(n: usize) -> Result<(), Refused> {
    check((n as u64).saturating_mul(8))
}

/// `n` zeros, checked against the budget and allocated with
/// `try_reserve_exact` (an allocation the system refuses is an error too).
pub fn zeroed(n: usize) -> Result<Vec<f64>, Refused> {
    check_f64(n)?;
    let mut v: Vec<f64> = Vec::new();
    fallible(|| v.try_reserve_exact(n)).map_err(|_| {
        let (free, limit) = free().ok().flatten().unwrap_or((0, Limit::Available));
        Refused::TooBig(Need {
            bytes: n as u64 * 8,
            free,
            limit,
            largest: None,
        })
    })?;
    v.resize(n, 0.0);
    Ok(v)
}

/// How many items of about `each` bytes fit in a quarter of the budget (the
/// rest is room for copies and for the address space the allocator keeps), at most
/// `want` (for records that can be cut short, such as a `--trace` path).
pub fn fits(want: usize, each: u64) -> usize {
    if (want as u64).saturating_mul(each) < SMALL {
        return want;
    }
    match free() {
        Ok(Some((free, _))) => want.min((free / 4 / each.max(1)) as usize),
        _ => want,
    }
}

thread_local! {
    /// Inside [`fallible`]: a failed allocation returns null to its caller.
    static FALLIBLE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with allocation failures reported to it (`try_reserve`)
/// rather than ending the process.
pub fn fallible<T>(f: impl FnOnce() -> T) -> T {
    let was = FALLIBLE.with(|c| c.replace(true));
    let out = f();
    FALLIBLE.with(|c| c.set(was));
    out
}

/// The system allocator, except that an allocation it cannot serve (past
/// every check above) ends the process with a diagnostic line and status
/// 1, not an abort on signal 6. Installed by the binary (`src/main.rs`).
pub struct Guarded;

impl Guarded {
    fn checked(p: *mut u8, size: usize) -> *mut u8 {
        if p.is_null() && !FALLIBLE.try_with(Cell::get).unwrap_or(true) {
            out_of_memory(size);
        }
        p
    }
}

// SAFETY: every method forwards to `System` with the same arguments; only
// a null result is acted on.
unsafe impl GlobalAlloc for Guarded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::checked(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::checked(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::checked(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Writes the message without allocating, then exits with status 1.
fn out_of_memory(size: usize) -> ! {
    use std::io::Write;
    let mut buf = [0u8; 256];
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(
        cur,
        "error[E0409]: out of memory: an allocation of {size} bytes failed\n  = help: set {ENV} (e.g. {ENV}=2G) to have large statements refused with their line\n"
    );
    let n = cur.position() as usize;
    let _ = std::io::stderr().write_all(&buf[..n]);
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("64 kb"), Ok(64 << 10));
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        for bad in ["", "M", "12Q", "-5M", "0", "1e3"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bytes_read_as_people_write_them() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(4 << 30), "4.0 GiB");
    }

    #[test]
    fn small_requests_are_not_checked_and_huge_ones_are_refused() {
        assert_eq!(check(1000), Ok(()));
        // No machine has an exabyte free.
        let e = zeroed(1 << 60).unwrap_err();
        let Refused::TooBig(n) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(n.bytes, 8 << 60);
        let d = e.with_largest(&[1 << 30, 1 << 30]).diag(3..7, "this");
        assert_eq!(d.code.as_str(), "E0409");
        assert!(
            d.message
                .starts_with("not enough memory: this needs 8.0 EiB, the budget leaves "),
            "{}",
            d.message
        );
        assert!(
            d.notes[0].contains("[1073741824, 1073741824]"),
            "{:?}",
            d.notes
        );
        assert_eq!(zeroed(3).unwrap(), vec![0.0; 3]);
    }

    #[test]
    fn fits_cuts_a_record_to_the_budget() {
        assert_eq!(fits(10, 100), 10);
        assert!(fits(usize::MAX / 2, 1 << 20) < usize::MAX / 2);
    }
}
