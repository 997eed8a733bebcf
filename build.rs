//! Embeds the commit the binary is built from, for the report's evidence block
//! (`IAM_AUDITOR_BUILD_COMMIT`): `git rev-parse HEAD` of this crate's own checkout, or
//! the variable of that name when the build sets it (a release from a tarball), else
//! "unknown". Never fails the build: a tarball without .git, or no git, is "unknown".
//!
//! Kept cheap: cargo reruns this only when HEAD or the branch it points to moves.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).current_dir(dir).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// A file of the git directory (worktrees keep HEAD apart and refs in the common one).
fn git_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(git(dir, &["rev-parse", "--git-path", name])?);
    let path = if path.is_absolute() { path } else { dir.join(path) };
    path.is_file().then_some(path)
}

fn commit(dir: &Path) -> Option<String> {
    // Only this crate's own repository: a source tarball unpacked inside another one must
    // not take that one's commit.
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let commit = git(dir, &["rev-parse", "HEAD"])?;
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(dir, &["symbolic-ref", "-q", "HEAD"]));
    for name in &watched {
        if let Some(path) = git_path(dir, name) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    commit.bytes().all(|b| b.is_ascii_hexdigit()).then_some(commit)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=IAM_AUDITOR_BUILD_COMMIT");
    let given = std::env::var("IAM_AUDITOR_BUILD_COMMIT").ok().map(|c| c.trim().to_string());
    let (commit, source) = match given.filter(|c| !c.is_empty()) {
        Some(commit) => (commit, "env"),
        None => {
            let dir =
                PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
            match commit(&dir) {
                Some(commit) => (commit, "git"),
                None => ("unknown".to_string(), "none"),
            }
        }
    };
    println!("cargo:rustc-env=IAM_AUDITOR_BUILD_COMMIT={commit}");
    // Where the commit came from (git, env, none), for the tests.
    println!("cargo:rustc-env=IAM_AUDITOR_BUILD_COMMIT_SOURCE={source}");
}
