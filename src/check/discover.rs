//! Finding what to check: the scripts under the given paths and the
//! expected file each is compared with, beside it or, with `--against DIR`,
//! the teacher's solution in DIR.
//!
//! Without `--against`, a directory is searched recursively for `X.loss`
//! with `X.expected` beside it (a script without one is not an exercise and
//! is skipped); a file named on the command line is always checked. With
//! `--against DIR`, every `.loss` under the paths is a submission: its
//! solution is `DIR/R.expected` for the longest tail R of its path (relative
//! to the argument it was found under) that has one, so both
//! `check alice --against teacher` and `check class --against teacher` (with
//! `class/alice/hw3.loss`) find `teacher/hw3.expected`. A submission with no
//! solution, and a solution a directory's submissions do not cover, are
//! reported. A path with nothing to check is an error of the command line.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::CheckError;

/// One thing to report on.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A script, and the expected file it is compared with (`None`: with
    /// `--against`, no solution matches it).
    Script {
        loss: PathBuf,
        expected: Option<PathBuf>,
    },
    /// With `--against`: a solution for which a directory holds no script.
    Missing { loss: PathBuf, expected: PathBuf },
    /// A path that could not be searched or is not a script.
    Problem { path: PathBuf, reason: String },
}

impl Item {
    /// The path the item is reported under.
    pub fn path(&self) -> &Path {
        match self {
            Item::Script { loss, .. } | Item::Missing { loss, .. } => loss,
            Item::Problem { path, .. } => path,
        }
    }
}

/// Finds what to check under each path, in argument order and then sorted
/// by path within each argument, without duplicates.
pub fn discover(
    paths: &[PathBuf],
    against: Option<&Path>,
    bless: bool,
) -> Result<Vec<Item>, CheckError> {
    let solutions = match against {
        Some(dir) => Some(Solutions::find(dir)?),
        None => None,
    };
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for root in paths {
        let mut found = Vec::new();
        match fs::metadata(root) {
            Err(e) => found.push(Item::Problem {
                path: root.clone(),
                reason: format!("cannot read {}: {e}", root.display()),
            }),
            Ok(m) if m.is_dir() => {
                let mut scripts = Vec::new();
                walk(root, &mut scripts, &mut found);
                found.extend(directory_items(root, scripts, solutions.as_ref(), bless)?);
            }
            Ok(_) => found.push(explicit_file(root, solutions.as_ref())),
        }
        found.sort_by(|a, b| a.path().cmp(b.path()));
        for item in found {
            if seen.insert(item.path().to_path_buf()) {
                items.push(item);
            }
        }
    }
    Ok(items)
}

/// The items of one directory argument, or the error that it holds nothing
/// to check.
fn directory_items(
    root: &Path,
    scripts: Vec<PathBuf>,
    solutions: Option<&Solutions>,
    bless: bool,
) -> Result<Vec<Item>, CheckError> {
    if scripts.is_empty() {
        return Err(CheckError::NoScripts(root.to_path_buf()));
    }
    let Some(sol) = solutions else {
        let total = scripts.len();
        let items: Vec<Item> = scripts
            .into_iter()
            .map(|loss| (loss.with_extension("expected"), loss))
            .filter(|(exp, _)| bless || exp.exists())
            .map(|(exp, loss)| Item::Script {
                loss,
                expected: Some(exp),
            })
            .collect();
        if items.is_empty() {
            return Err(CheckError::NoExpected(root.to_path_buf(), total));
        }
        return Ok(items);
    };
    let mut used = HashSet::new();
    let mut items = Vec::new();
    for loss in scripts {
        let rel = loss.strip_prefix(root).unwrap_or(&loss);
        let expected = sol.lookup(rel);
        if let Some(e) = &expected {
            used.insert(e.clone());
        }
        items.push(Item::Script { loss, expected });
    }
    for (rel, exp) in &sol.files {
        if !used.contains(exp) {
            items.push(Item::Missing {
                loss: shown_join(root, &rel.with_extension("loss")),
                expected: exp.clone(),
            });
        }
    }
    Ok(items)
}

/// A file named on the command line: `X.loss`, or `X.expected` for `X.loss`.
fn explicit_file(path: &Path, solutions: Option<&Solutions>) -> Item {
    let loss = match path.extension().and_then(|e| e.to_str()) {
        Some("loss") => path.to_path_buf(),
        Some("expected") if solutions.is_none() => path.with_extension("loss"),
        _ => {
            return Item::Problem {
                path: path.to_path_buf(),
                reason: "not a .loss script (nor a .expected file)".to_string(),
            }
        }
    };
    let expected = match solutions {
        Some(sol) => sol.lookup(Path::new(loss.file_name().unwrap_or_default())),
        None => Some(loss.with_extension("expected")),
    };
    Item::Script { loss, expected }
}

/// `dir/rel`, shown without a leading `./`.
fn shown_join(dir: &Path, rel: &Path) -> PathBuf {
    if dir == Path::new(".") {
        rel.to_path_buf()
    } else {
        dir.join(rel)
    }
}

/// Collects the `.loss` files under `dir`, skipping hidden entries and
/// `target/` directories; symbolic links to directories are not followed.
fn walk(dir: &Path, scripts: &mut Vec<PathBuf>, problems: &mut Vec<Item>) {
    for (path, is_dir) in entries(dir, problems) {
        if is_dir {
            walk(&path, scripts, problems);
        } else if path.extension().is_some_and(|e| e == "loss") {
            scripts.push(path);
        }
    }
}

/// The entries of `dir` that are not hidden and not a `target` directory,
/// each with whether it is a directory; an unreadable directory is a problem.
fn entries(dir: &Path, problems: &mut Vec<Item>) -> Vec<(PathBuf, bool)> {
    let unreadable = |e: std::io::Error| Item::Problem {
        path: dir.to_path_buf(),
        reason: format!("cannot read directory {}: {e}", dir.display()),
    };
    let list = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(unreadable(e));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for entry in list {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(unreadable(e));
                continue;
            }
        };
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str.starts_with('.') {
            continue;
        }
        let path = shown_join(dir, Path::new(&name));
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if name_str != "target" {
                out.push((path, true));
            }
        } else if ft.is_file() || path.is_file() {
            out.push((path, false));
        }
    }
    out
}

/// The teacher's solutions: every `.expected` under the `--against` folder,
/// by path relative to it.
struct Solutions {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Solutions {
    fn find(dir: &Path) -> Result<Solutions, CheckError> {
        if !dir.is_dir() {
            return Err(CheckError::AgainstMissing(dir.to_path_buf()));
        }
        let mut files = Vec::new();
        let mut problems = Vec::new();
        collect_expected(dir, dir, &mut files, &mut problems);
        if let Some(Item::Problem { reason, .. }) = problems.into_iter().next() {
            return Err(CheckError::Unreadable(reason));
        }
        if files.is_empty() {
            return Err(CheckError::NoSolutions(dir.to_path_buf()));
        }
        files.sort();
        Ok(Solutions { files })
    }

    /// The solution for a script at `rel` (relative to its argument): the
    /// longest tail of `rel` that names one.
    fn lookup(&self, rel: &Path) -> Option<PathBuf> {
        let rel = rel.with_extension("expected");
        let parts: Vec<_> = rel.components().collect();
        (0..parts.len()).find_map(|skip| {
            let tail: PathBuf = parts[skip..].iter().collect();
            self.files
                .iter()
                .find(|(r, _)| *r == tail)
                .map(|(_, full)| full.clone())
        })
    }
}

fn collect_expected(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(PathBuf, PathBuf)>,
    problems: &mut Vec<Item>,
) {
    for (path, is_dir) in entries(dir, problems) {
        if is_dir {
            collect_expected(root, &path, files, problems);
        } else if path.extension().is_some_and(|e| e == "expected") {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            files.push((rel, path));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(dir: &Path, rel: &str) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, "x\n").unwrap();
    }

    fn rel(d: &Path, items: &[Item]) -> Vec<(String, Option<String>)> {
        let show = |p: &Path| p.strip_prefix(d).unwrap_or(p).display().to_string();
        items
            .iter()
            .map(|i| match i {
                Item::Script { loss, expected } => (show(loss), expected.as_deref().map(show)),
                Item::Missing { loss, expected } => {
                    (format!("missing {}", show(loss)), Some(show(expected)))
                }
                Item::Problem { path, .. } => (format!("problem {}", show(path)), None),
            })
            .collect()
    }

    #[test]
    fn against_finds_the_longest_matching_tail() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        for f in [
            "sol/hw1.expected",
            "sol/week2/hw2.expected",
            "sol/hw3.expected",
        ] {
            put(d, f);
        }
        for f in [
            "class/alice/hw1.loss",
            "class/alice/week2/hw2.loss",
            "class/alice/extra.loss",
        ] {
            put(d, f);
        }
        let items = discover(&[d.join("class")], Some(&d.join("sol")), false).unwrap();
        assert_eq!(
            rel(d, &items),
            [
                ("class/alice/extra.loss".to_string(), None),
                (
                    "class/alice/hw1.loss".into(),
                    Some("sol/hw1.expected".into())
                ),
                (
                    "class/alice/week2/hw2.loss".into(),
                    Some("sol/week2/hw2.expected".into())
                ),
                (
                    "missing class/hw3.loss".into(),
                    Some("sol/hw3.expected".into())
                ),
            ]
        );
        // a file argument is matched by its name
        let items = discover(
            &[d.join("class/alice/hw1.loss")],
            Some(&d.join("sol")),
            false,
        )
        .unwrap();
        assert_eq!(rel(d, &items)[0].1.as_deref(), Some("sol/hw1.expected"));
    }

    #[test]
    fn nothing_to_check_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        fs::create_dir(d.join("empty")).unwrap();
        put(d, "noexp/a.loss");
        put(d, "sol/notes.txt");
        let err = |p: &str, a: Option<&str>| {
            discover(&[d.join(p)], a.map(|a| d.join(a)).as_deref(), false)
                .unwrap_err()
                .to_string()
        };
        assert!(
            err("empty", None).starts_with("no .loss scripts under "),
            "{}",
            err("empty", None)
        );
        assert!(
            err("noexp", None).contains("1 script but no expected file"),
            "{}",
            err("noexp", None)
        );
        assert!(err("noexp", Some("nope")).contains("does not exist"));
        assert!(err("noexp", Some("sol")).contains("no .expected files"));
        // --bless writes them
        assert_eq!(discover(&[d.join("noexp")], None, true).unwrap().len(), 1);
    }
}
