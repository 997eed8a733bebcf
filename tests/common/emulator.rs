//! The real AWS API emulator the tests talk to: moto_server on a free loopback port, and the
//! fault-injecting proxy (tests/aws_fault_proxy.py) in front of it. Both are started from
//! the project's .venv (scripts/test.sh makes it) and stopped by PID when dropped. Missing
//! tools fail the test with the fix; nothing is skipped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A program from the test venv (`python`, `moto_server`).
pub fn venv_bin(name: &str) -> PathBuf {
    let python = std::env::var_os("IAM_AUDITOR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    let bin = python.parent().expect("python in a bin folder").join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/test.sh (it installs moto[server] into .venv), or set IAM_AUDITOR_TEST_PYTHON",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free loopback port").local_addr().expect("address").port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on 127.0.0.1:{port} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process killed (by PID, the one we started) when dropped.
pub struct Started(Child);

impl Started {
    pub fn new(child: Child) -> Started {
        Started(child)
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto_server on 127.0.0.1.
pub struct Moto {
    _process: Started,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let process = Started(child);
        wait_for_port(port, "moto_server");
        Moto { _process: process, endpoint: format!("http://127.0.0.1:{port}") }
    }

    /// Runs `tests/<script> <endpoint> <args>` with the venv's Python; its stdout.
    pub fn tool(&self, script: &str, args: &[&str]) -> Vec<u8> {
        let output = Command::new(venv_bin("python"))
            .arg(repo().join("tests").join(script))
            .arg(&self.endpoint)
            .args(args)
            .output()
            .expect("python runs");
        assert!(output.status.success(), "{script} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    }
}

/// tests/aws_fault_proxy.py in front of `moto`: injects AWS errors in each service's wire
/// format for the requests its rules match, paginates GetAccountAuthorizationDetails for
/// real, answers Access Analyzer from recorded responses, and logs every request.
pub struct FaultProxy {
    _process: Started,
    pub endpoint: String,
    pub rules: PathBuf,
    pub log: PathBuf,
}

impl FaultProxy {
    /// `gaad_page_size` 0: moto's single page. `recorded`: the Access Analyzer answers.
    /// `latency_ms`: every answer that late (AWS's own service time; 0 for moto's).
    pub fn start(
        moto: &Moto,
        dir: &Path,
        gaad_page_size: usize,
        recorded: &Path,
        latency_ms: u32,
    ) -> FaultProxy {
        let rules = dir.join("rules.json");
        let log = dir.join("proxy-log.jsonl");
        let port_file = dir.join("proxy.port");
        std::fs::write(&rules, "[]").expect("write rules");
        let child = Command::new(venv_bin("python"))
            .arg(repo().join("tests/aws_fault_proxy.py"))
            .args(["--upstream", &moto.endpoint, "--gaad-page-size", &gaad_page_size.to_string()])
            .args(["--latency-ms", &latency_ms.to_string()])
            .arg("--port-file")
            .arg(&port_file)
            .arg("--rules")
            .arg(&rules)
            .arg("--log")
            .arg(&log)
            .arg("--recorded")
            .arg(recorded)
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.join("proxy.stderr"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("the fault proxy starts");
        let process = Started(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Some(port) =
                std::fs::read_to_string(&port_file).ok().and_then(|t| t.trim().parse::<u16>().ok())
            {
                break port;
            }
            assert!(
                Instant::now() < deadline,
                "the fault proxy wrote no port to {} within 30 s",
                port_file.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        wait_for_port(port, "the fault proxy");
        FaultProxy { _process: process, endpoint: format!("http://127.0.0.1:{port}"), rules, log }
    }

    /// Replaces the fault rules (the proxy re-reads the file when it changes).
    pub fn set_rules(&self, rules: &serde_json::Value) {
        let temp = self.rules.with_extension("tmp");
        std::fs::write(&temp, serde_json::to_vec(rules).expect("rules JSON")).expect("write rules");
        std::fs::rename(&temp, &self.rules).expect("replace rules");
        // mtime granularity: make sure the proxy sees a new file before the next request.
        std::thread::sleep(Duration::from_millis(50));
    }

    /// Every request the proxy answered so far, one JSON object each.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("proxy log line is JSON"))
            .collect()
    }
}

/// tests/aws_standin.py: answers like AWS (STS, Organizations, IAM, Access Analyzer, Identity
/// Center) from a snapshot's accounts, for an organization of any size, with AWS's latency,
/// two-poll credential reports and throttling. Stopped by PID when dropped.
pub struct Standin {
    _process: Started,
    pub endpoint: String,
}

impl Standin {
    /// `args` go to the script after `--snapshot` and `--port-file` (`--accounts 20`, …).
    pub fn start(snapshot: &Path, dir: &Path, args: &[&str]) -> Standin {
        let port_file = dir.join("standin.port");
        let child = Command::new(venv_bin("python"))
            .arg(repo().join("tests/aws_standin.py"))
            .arg("--snapshot")
            .arg(snapshot)
            .arg("--port-file")
            .arg(&port_file)
            .args(args)
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.join("standin.stderr"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("the stand-in starts");
        let mut process = Started(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Some(port) =
                std::fs::read_to_string(&port_file).ok().and_then(|t| t.trim().parse::<u16>().ok())
            {
                break port;
            }
            if let Ok(Some(status)) = process.0.try_wait() {
                panic!(
                    "the stand-in exited ({status}) before listening: {}",
                    std::fs::read_to_string(dir.join("standin.stderr")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the stand-in wrote no port to {} within 30 s",
                port_file.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        wait_for_port(port, "the stand-in");
        Standin { _process: process, endpoint: format!("http://127.0.0.1:{port}") }
    }

    /// What the stand-in counted (GET /__standin/stats): calls and throttles by operation, the
    /// calls per account, the accounts assumed into.
    pub fn stats(&self) -> serde_json::Value {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the stand-in");
        write!(stream, "GET /__standin/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
            .expect("ask the stand-in");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("the stand-in answers");
        let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats are JSON ({e}): {answer}"))
    }
}
