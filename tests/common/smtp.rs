//! A real SMTP server for the tests (aiosmtpd, tests/smtp_server.py, on 127.0.0.1) and the
//! certificates it serves (a CA and a 127.0.0.1 certificate made with openssl).
//! Needs python with aiosmtpd (scripts/test.sh makes .venv) and openssl; without them the
//! tests fail and say so.

use super::emulator::repo;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

pub fn python() -> PathBuf {
    let python = std::env::var_os("IAM_AUDITOR_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        let venv = repo().join(".venv/bin/python");
        assert!(
            venv.is_file(),
            "no Python for the SMTP test server: run scripts/test.sh (it installs aiosmtpd into .venv)"
        );
        venv
    });
    let status = std::process::Command::new(&python).args(["-c", "import aiosmtpd"]).status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "{} cannot import aiosmtpd: run scripts/test.sh (it installs aiosmtpd into .venv)",
        python.display()
    );
    python
}

fn openssl(args: &[&str], dir: &Path) {
    let program = if Path::new("/usr/bin/openssl").is_file() { "/usr/bin/openssl" } else { "openssl" };
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}): install it (apt-get install openssl)"));
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A CA (ca.pem) and a server certificate for 127.0.0.1 signed by it (server.pem, server.key).
pub fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=iam-auditor test CA", "-keyout", "ca.key"];
    ca.extend(ec);
    ca.extend([
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca, dir);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"];
    csr.extend(ec);
    openssl(&csr, dir);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
        dir,
    );
}

/// The test's own SMTP server process; stopped (by its own handle) when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    inbox: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start(extra: &[&str]) -> SmtpServer {
        let inbox = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(python())
            .arg(repo().join("tests/smtp_server.py"))
            .arg(inbox.path())
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/smtp_server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let Some(port) = line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()) else {
            let _ = child.kill();
            panic!("tests/smtp_server.py did not print its port (got {line:?}); see its stderr above");
        };
        SmtpServer { child, port, inbox }
    }

    /// The received messages, in the order received.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        (1..)
            .map(|n| self.inbox.path().join(format!("{n}.eml")))
            .take_while(|p| p.is_file())
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    pub fn envelope(&self, n: usize) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.inbox.path().join(format!("{n}.envelope.json"))).unwrap())
            .unwrap()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
