//! `csv("file.csv")`: a table of numbers with a header row. A read is
//! bounded: at most [`MAX_BYTES`] of text (less when the memory budget is
//! smaller), so a huge file or a device such as `/dev/zero` ends in an
//! error, not in memory exhaustion.

use super::Tensor;
use std::cell::Cell;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

/// The most bytes of text a csv file may have (1 GiB).
pub const MAX_BYTES: u64 = 1 << 30;

/// The byte limit of a read: [`MAX_BYTES`], or a sixteenth of the memory
/// budget when that is less (values take 8 bytes for as few as 2 bytes of
/// text, and the vector holding them grows by doubling).
pub fn byte_limit() -> u64 {
    match crate::budget::free() {
        Ok(Some((free, _))) => MAX_BYTES.min(free / 16),
        _ => MAX_BYTES,
    }
}

/// A reader that fails once more than `left` bytes have been read, and
/// says so in `hit`.
struct Limited<R> {
    inner: R,
    left: u64,
    hit: Rc<Cell<bool>>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte past the limit tells a file of exactly the limit
            // from a longer one.
            let mut one = [0u8; 1];
            if self.inner.read(&mut one)? == 0 {
                return Ok(0);
            }
            self.hit.set(true);
            return Err(std::io::Error::other("the csv size limit"));
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// A table read from a csv file: `[rows, columns]` values and column names.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub file: String,
    pub names: Vec<String>,
    pub values: Tensor,
}

impl Table {
    /// Column `k` as a vector.
    pub fn column(&self, k: usize) -> Tensor {
        let nc = self.names.len();
        let rows = self.values.data.len().checked_div(nc).unwrap_or(0);
        Tensor {
            shape: vec![rows],
            data: (0..rows).map(|r| self.values.data[r * nc + k]).collect(),
        }
    }
}

/// Reads `path` (shown in messages as `shown`). Errors name the file, and
/// the line and column where there is one.
pub fn read(path: &Path, shown: &str, max_elements: usize) -> Result<Table, String> {
    read_limited(path, shown, max_elements, byte_limit())
}

/// [`read`] with a byte limit of its own.
pub fn read_limited(
    path: &Path,
    shown: &str,
    max_elements: usize,
    max_bytes: u64,
) -> Result<Table, String> {
    let file = open(path, shown)?;
    let rd = CsvRead {
        shown,
        max_bytes,
        hit: Rc::new(Cell::new(false)),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(Limited {
            inner: file,
            left: max_bytes,
            hit: rd.hit.clone(),
        });
    let names = rd.names(&mut reader)?;
    let (rows, data) = rd.values(&mut reader, &names, max_elements)?;
    Ok(Table {
        file: shown.to_string(),
        values: Tensor {
            shape: vec![rows, names.len()],
            data,
        },
        names,
    })
}

/// Opens `path`; a missing file is named with the full path it was
/// looked for at (relative names are relative to the script's folder).
fn open(path: &Path, shown: &str) -> Result<std::fs::File, String> {
    std::fs::File::open(path).map_err(|e| {
        let resolved = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "cannot open `{shown}`: there is no file `{}`",
                resolved.display()
            ),
            _ => format!("cannot open `{shown}` (`{}`): {e}", resolved.display()),
        }
    })
}

/// One read of a csv file: its name in messages and whether the byte
/// limit was hit (then every error is that one).
struct CsvRead<'a> {
    shown: &'a str,
    max_bytes: u64,
    hit: Rc<Cell<bool>>,
}

type CsvReader = csv::Reader<Limited<std::fs::File>>;

impl CsvRead<'_> {
    fn too_big(&self) -> String {
        format!(
            "`{}` is larger than the limit of {} for a csv file",
            self.shown,
            crate::budget::human(self.max_bytes)
        )
    }

    /// The column names: the header row, each name non-empty and unique.
    fn names(&self, reader: &mut CsvReader) -> Result<Vec<String>, String> {
        let shown = self.shown;
        let names: Vec<String> = reader
            .headers()
            .map_err(|e| match self.hit.get() {
                true => self.too_big(),
                false => format!("{shown}:{}: {e}", line_of(&e).max(1)),
            })?
            .iter()
            .map(str::to_string)
            .collect();
        if names.is_empty() || names.iter().all(String::is_empty) {
            return Err(format!("{shown}:1: the header row is empty"));
        }
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(format!("{shown}:1: column {} has an empty name", i + 1));
            }
            if names[..i].contains(n) {
                return Err(format!("{shown}:1: column `{n}` appears twice"));
            }
        }
        Ok(names)
    }

    /// The rows' values, row by row: the number of rows and the values.
    fn values(
        &self,
        reader: &mut CsvReader,
        names: &[String],
        max_elements: usize,
    ) -> Result<(usize, Vec<f64>), String> {
        let shown = self.shown;
        let mut data = Vec::new();
        let mut rows = 0;
        for rec in reader.records() {
            let rec = rec.map_err(|e| self.record_error(&e))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            for (k, cell) in rec.iter().enumerate() {
                let v: f64 = parse_num(cell).ok_or_else(|| {
                    format!(
                        "{shown}:{line}: column {} (`{}`): `{cell}` is not a number",
                        k + 1,
                        names[k]
                    )
                })?;
                data.push(v);
            }
            rows += 1;
            if data.len() > max_elements {
                return Err(format!("{shown}: more than {max_elements} values"));
            }
        }
        Ok((rows, data))
    }

    fn record_error(&self, e: &csv::Error) -> String {
        let shown = self.shown;
        match e.kind() {
            _ if self.hit.get() => self.too_big(),
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => format!(
                "{shown}:{}: this row has {len} fields, the header has {expected_len}",
                pos.as_ref().map(|p| p.line()).unwrap_or(0)
            ),
            _ => format!("{shown}:{}: {e}", line_of(e)),
        }
    }
}

/// The line a csv error is on (0 when it has none).
fn line_of(e: &csv::Error) -> u64 {
    e.position().map(|p| p.line()).unwrap_or(0)
}

fn parse_num(s: &str) -> Option<f64> {
    match s {
        "nan" | "NaN" | "NAN" => Some(f64::NAN),
        "inf" | "Inf" | "+inf" => Some(f64::INFINITY),
        "-inf" | "-Inf" => Some(f64::NEG_INFINITY),
        _ if s.is_empty()
            || s.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') =>
        {
            None
        }
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_columns() {
        let f = write("x, y\n1, 2\n3, 4.5\n");
        let t = read(f.path(), "p.csv", 100).unwrap();
        assert_eq!(t.names, ["x", "y"]);
        assert_eq!(t.column(1).data, [2.0, 4.5]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let f = write("x,y\n1,2\n3,abc\n");
        let e = read(f.path(), "p.csv", 100).unwrap_err();
        assert_eq!(e, "p.csv:3: column 2 (`y`): `abc` is not a number");
        let f = write("x,y\n1,2\n3\n");
        let e = read(f.path(), "p.csv", 100).unwrap_err();
        assert!(e.starts_with("p.csv:3:"), "{e}");
        let e = read(Path::new("/nonexistent/q.csv"), "q.csv", 100).unwrap_err();
        assert!(e.starts_with("cannot open `q.csv`"), "{e}");
    }

    #[test]
    fn a_read_stops_at_its_byte_limit() {
        let f = write("x,y\n1,2\n3,4\n");
        // 12 bytes: exactly the limit is fine, one byte less is not.
        assert!(read_limited(f.path(), "p.csv", 100, 12).is_ok());
        let e = read_limited(f.path(), "p.csv", 100, 11).unwrap_err();
        assert_eq!(e, "`p.csv` is larger than the limit of 11 B for a csv file");
        // A header that never ends (a device of zeros).
        let e = read_limited(Path::new("/dev/zero"), "z.csv", 100, 1 << 16).unwrap_err();
        assert_eq!(
            e,
            "`z.csv` is larger than the limit of 64.0 KiB for a csv file"
        );
        assert!(byte_limit() <= MAX_BYTES);
    }
}
