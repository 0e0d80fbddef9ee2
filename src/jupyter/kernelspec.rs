//! `losslang jupyter install`: writes the kernelspec, the folder
//! `kernels/losslang/` that Jupyter front ends (JupyterLab, Notebook, VS Code,
//! nbclient, nbgrader) search for kernels. It holds `kernel.json`, whose argv
//! starts this very binary, and the logos. Where it goes follows Jupyter's
//! own rules (`jupyter kernelspec install`): `--user` is the user's data
//! directory, `--prefix DIR` is `DIR/share/jupyter`, and the default is the
//! active virtual environment's prefix, else the system-wide directory.

use serde_json::json;
use std::path::{Path, PathBuf};

/// The kernel's name (the folder under `kernels/`).
pub const KERNEL_NAME: &str = "losslang";

const LOGO_32: &[u8] = include_bytes!("../../assets/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("../../assets/logo-64x64.png");
const LOGO_SVG: &[u8] = include_bytes!("../../assets/logo.svg");

/// Where to install.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// The user's Jupyter data directory.
    User,
    /// `DIR/share/jupyter/kernels`.
    Prefix(PathBuf),
    /// The active environment's prefix, else the system directory.
    Default,
}

/// Why the kernelspec could not be written.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot find this program's own path to put in kernel.json: {0}")]
    NoExe(std::io::Error),
    #[error("cannot find the home directory for --user (HOME is not set)")]
    NoHome,
    #[error("cannot write the kernelspec in `{}`: {source}{}", dir.display(), permission_hint(source))]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
}

fn permission_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        " (use --user, or --prefix DIR)"
    } else {
        ""
    }
}

/// The `share/jupyter` directory that `target` means, with this process's
/// environment (`env` looks variables up, so tests can give their own).
pub fn data_dir(
    target: &Target,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, InstallError> {
    let var = |k: &str| env(k).filter(|v| !v.is_empty());
    Ok(match target {
        Target::Prefix(p) => p.join("share").join("jupyter"),
        Target::User => {
            if let Some(d) = var("JUPYTER_DATA_DIR") {
                PathBuf::from(d)
            } else if cfg!(target_os = "macos") {
                PathBuf::from(var("HOME").ok_or(InstallError::NoHome)?).join("Library/Jupyter")
            } else if let Some(x) = var("XDG_DATA_HOME") {
                PathBuf::from(x).join("jupyter")
            } else {
                PathBuf::from(var("HOME").ok_or(InstallError::NoHome)?).join(".local/share/jupyter")
            }
        }
        Target::Default => match var("VIRTUAL_ENV").or_else(|| var("CONDA_PREFIX")) {
            Some(env_prefix) => Path::new(&env_prefix).join("share").join("jupyter"),
            None => PathBuf::from("/usr/local/share/jupyter"),
        },
    })
}

/// The text of kernel.json for the program at `exe`.
pub fn kernel_json(exe: &Path) -> String {
    let spec = json!({
        "argv": [exe.to_string_lossy(), "jupyter", "kernel", "{connection_file}"],
        "display_name": "losslang",
        "language": "losslang",
        "interrupt_mode": "signal",
        "metadata": {"debugger": false},
    });
    serde_json::to_string_pretty(&spec).unwrap_or_default() + "\n"
}

/// Writes the kernelspec for the program at `exe` under `data_dir`; returns
/// the kernel's folder. Each file is written beside its final name and
/// renamed, so a failed install never leaves a half-written kernel.json.
pub fn install_at(data_dir: &Path, exe: &Path) -> Result<PathBuf, InstallError> {
    let dir = data_dir.join("kernels").join(KERNEL_NAME);
    let fail = |source| InstallError::Write {
        dir: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let spec = kernel_json(exe);
    let files: [(&str, &[u8]); 4] = [
        ("logo-32x32.png", LOGO_32),
        ("logo-64x64.png", LOGO_64),
        ("logo-svg.svg", LOGO_SVG),
        ("kernel.json", spec.as_bytes()),
    ];
    for (name, bytes) in files {
        write_atomic(&dir.join(name), bytes).map_err(fail)?;
    }
    Ok(dir)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `losslang jupyter install`: installs for this binary and prints where.
/// Returns the exit status.
pub fn install(target: &Target) -> i32 {
    let result = (|| {
        let exe = std::env::current_exe()
            .and_then(|p| p.canonicalize())
            .map_err(InstallError::NoExe)?;
        let dir = data_dir(target, &|k| std::env::var(k).ok())?;
        install_at(&dir, &exe)
    })();
    match result {
        Ok(dir) => {
            println!("installed the losslang kernel in {}", dir.display());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_json_starts_this_binary_with_the_connection_file() {
        let v: serde_json::Value =
            serde_json::from_str(&kernel_json(Path::new("/opt/bin/losslang"))).unwrap();
        assert_eq!(
            v["argv"],
            json!([
                "/opt/bin/losslang",
                "jupyter",
                "kernel",
                "{connection_file}"
            ])
        );
        assert_eq!(v["display_name"], "losslang");
        assert_eq!(v["language"], "losslang");
        assert_eq!(v["interrupt_mode"], "signal");
    }

    #[test]
    fn targets_follow_jupyters_rules() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let prefix = Target::Prefix(PathBuf::from("/tmp/p"));
        assert_eq!(
            data_dir(&prefix, &env(&[])).unwrap(),
            PathBuf::from("/tmp/p/share/jupyter")
        );
        let d = data_dir(&Target::User, &env(&[("JUPYTER_DATA_DIR", "/j")])).unwrap();
        assert_eq!(d, PathBuf::from("/j"));
        let d = data_dir(&Target::Default, &env(&[("VIRTUAL_ENV", "/venv")])).unwrap();
        assert_eq!(d, PathBuf::from("/venv/share/jupyter"));
        let d = data_dir(&Target::Default, &env(&[])).unwrap();
        assert_eq!(d, PathBuf::from("/usr/local/share/jupyter"));
        if !cfg!(target_os = "macos") {
            let d = data_dir(&Target::User, &env(&[("HOME", "/home/s")])).unwrap();
            assert_eq!(d, PathBuf::from("/home/s/.local/share/jupyter"));
            assert!(matches!(
                data_dir(&Target::User, &env(&[])),
                Err(InstallError::NoHome)
            ));
        }
    }

    #[test]
    fn install_writes_the_spec_and_logos() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = install_at(tmp.path(), Path::new("/bin/losslang")).unwrap();
        assert_eq!(dir, tmp.path().join("kernels/losslang"));
        for f in [
            "kernel.json",
            "logo-32x32.png",
            "logo-64x64.png",
            "logo-svg.svg",
        ] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        let png = std::fs::read(dir.join("logo-64x64.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Installing again replaces the files and leaves no temporary ones.
        install_at(tmp.path(), Path::new("/bin/losslang")).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 4);
    }

    #[test]
    fn an_unwritable_place_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let e = install_at(&file, Path::new("/bin/losslang")).unwrap_err();
        assert!(
            e.to_string().starts_with("cannot write the kernelspec in"),
            "{e}"
        );
    }
}
