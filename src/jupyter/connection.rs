//! The connection file a Jupyter front end writes before it starts a kernel:
//! the five ports, the transport and IP, and the key and scheme for signing
//! messages. Reading it is the kernel's first step, so every way it can go
//! wrong is a typed error with a message that says which file and why; the
//! kernel cannot talk to anyone without it.

use serde::Deserialize;
use std::path::Path;

/// What a connection file says (the fields the kernel uses).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ConnectionInfo {
    pub transport: String,
    pub ip: String,
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub control_port: u16,
    pub hb_port: u16,
    /// The HMAC key; an empty key turns signing off (the protocol allows it).
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_scheme() -> String {
    "hmac-sha256".to_string()
}

/// Why a connection file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("cannot read the connection file `{0}`: no such file")]
    Missing(String),
    #[error("cannot read the connection file `{0}`: {1}")]
    Unreadable(String, std::io::Error),
    #[error("the connection file `{0}` is not valid JSON: {1}")]
    NotJson(String, serde_json::Error),
    #[error("the connection file `{0}` is not a kernel connection file: {1}")]
    BadField(String, serde_json::Error),
    #[error("the connection file `{0}` asks for transport `{1}`; this kernel speaks `tcp`")]
    Transport(String, String),
    #[error(
        "the connection file `{0}` asks for signature scheme `{1}`; this kernel signs with `hmac-sha256`"
    )]
    Scheme(String, String),
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

impl ConnectionInfo {
    /// Reads and checks a connection file.
    pub fn read(path: &Path) -> Result<ConnectionInfo, ConnectionError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ConnectionError::Missing(shown(path)),
            _ => ConnectionError::Unreadable(shown(path), e),
        })?;
        Self::parse(path, &bytes)
    }

    /// Parses the text of a connection file (`path` names it in errors).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<ConnectionInfo, ConnectionError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ConnectionError::NotJson(shown(path), e))?;
        let info: ConnectionInfo =
            serde_json::from_value(value).map_err(|e| ConnectionError::BadField(shown(path), e))?;
        if info.transport != "tcp" {
            return Err(ConnectionError::Transport(shown(path), info.transport));
        }
        if info.signature_scheme != "hmac-sha256" {
            return Err(ConnectionError::Scheme(shown(path), info.signature_scheme));
        }
        Ok(info)
    }

    /// The ZeroMQ endpoint of one port, e.g. `tcp://127.0.0.1:5555`.
    pub fn endpoint(&self, port: u16) -> String {
        // An IPv6 address needs brackets in an endpoint.
        if self.ip.contains(':') && !self.ip.starts_with('[') {
            format!("{}://[{}]:{}", self.transport, self.ip, port)
        } else {
            format!("{}://{}:{}", self.transport, self.ip, port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "shell_port": 53794, "iopub_port": 53795, "stdin_port": 53796,
        "control_port": 53797, "hb_port": 53798, "ip": "127.0.0.1",
        "key": "a0436f6c-1916-498b-8eb9-e81ab9368e84", "transport": "tcp",
        "signature_scheme": "hmac-sha256", "kernel_name": "losslang"
    }"#;

    #[test]
    fn a_front_ends_file_parses() {
        let c = ConnectionInfo::parse(Path::new("k.json"), GOOD.as_bytes()).unwrap();
        assert_eq!(c.shell_port, 53794);
        assert_eq!(c.hb_port, 53798);
        assert_eq!(c.key, "a0436f6c-1916-498b-8eb9-e81ab9368e84");
        assert_eq!(c.endpoint(c.shell_port), "tcp://127.0.0.1:53794");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let p = Path::new("k.json");
        let e = ConnectionInfo::parse(p, b"{ not json").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("the connection file `k.json` is not valid JSON"));
        let e = ConnectionInfo::parse(p, br#"{"ip": "127.0.0.1"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
        let ipc = GOOD.replace("\"tcp\"", "\"ipc\"");
        let e = ConnectionInfo::parse(p, ipc.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("transport `ipc`"), "{e}");
        let md5 = GOOD.replace("hmac-sha256", "hmac-md5");
        let e = ConnectionInfo::parse(p, md5.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("`hmac-md5`"), "{e}");
        let e = ConnectionInfo::read(Path::new("/nonexistent/k.json")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read the connection file `/nonexistent/k.json`: no such file"
        );
    }

    #[test]
    fn ipv6_addresses_get_brackets() {
        let mut c = ConnectionInfo::parse(Path::new("k"), GOOD.as_bytes()).unwrap();
        c.ip = "::1".into();
        assert_eq!(c.endpoint(5), "tcp://[::1]:5");
    }
}
