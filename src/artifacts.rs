//! Artifacts a job reports with `mam done --artifact` (and that a terminal
//! event lists): files that exist inside the job's workdir. Every `..` and
//! symbolic link is resolved before the check, so neither
//! `../../etc/passwd`, an absolute path elsewhere, nor a link pointing out of
//! the workdir passes.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why an artifact was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Nothing there (or a dangling link).
    Missing { given: String },
    /// It resolves to `real`, which is not under `workdir`.
    Outside {
        given: String,
        real: PathBuf,
        workdir: PathBuf,
    },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Missing { given } => write!(f, "artifact {given} does not exist"),
            Refused::Outside {
                given,
                real,
                workdir,
            } => {
                if Path::new(given) == real {
                    write!(
                        f,
                        "artifact {given} is outside the job's workdir {}",
                        workdir.display()
                    )
                } else {
                    write!(
                        f,
                        "artifact {given} resolves to {}, outside the job's workdir {}",
                        real.display(),
                        workdir.display()
                    )
                }
            }
        }
    }
}

/// Resolve `path` (relative paths against `base`) to the real file and
/// check it lies inside `workdir`. Returns the resolved absolute path.
pub fn resolve(workdir: &Path, base: &Path, path: &Path) -> Result<PathBuf, Refused> {
    let given = path.display().to_string();
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let real = abs.canonicalize().map_err(|_| Refused::Missing {
        given: given.clone(),
    })?;
    let root = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    if !real.starts_with(&root) {
        return Err(Refused::Outside {
            given,
            real,
            workdir: root,
        });
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_workdir_pass() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let wd = root.join("wd");
        std::fs::create_dir_all(wd.join("sub")).unwrap();
        std::fs::write(wd.join("sub/report.md"), "x").unwrap();
        std::fs::write(root.join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), wd.join("link")).unwrap();
        std::os::unix::fs::symlink(wd.join("sub/report.md"), wd.join("inner")).unwrap();

        let ok = |p: &str| resolve(&wd, &wd.join("sub"), Path::new(p));
        assert_eq!(ok("report.md").unwrap(), wd.join("sub/report.md"));
        assert_eq!(ok("../inner").unwrap(), wd.join("sub/report.md"));
        assert!(ok(wd.join("sub/report.md").to_str().unwrap()).is_ok());
        for bad in [
            "../../secret",
            "../link",
            "/etc/passwd",
            "../../../../../../etc/passwd",
        ] {
            assert!(
                matches!(ok(bad), Err(Refused::Outside { .. })),
                "{bad}: {:?}",
                ok(bad)
            );
        }
        assert!(matches!(ok("nope.md"), Err(Refused::Missing { .. })));
        let e = ok("../link").unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "artifact ../link resolves to {}, outside the job's workdir {}",
                root.join("secret").display(),
                wd.display()
            )
        );
    }
}
