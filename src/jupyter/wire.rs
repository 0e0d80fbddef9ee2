//! The Jupyter wire format (messaging protocol 5.3): a message is a list of
//! ZeroMQ frames, `[identities..., "<IDS|MSG>", signature, header,
//! parent_header, metadata, content, buffers...]`, where the signature is
//! the hex HMAC-SHA256 of the four JSON parts under the connection file's
//! key. This module turns frames into `Message`s and back, and is the only
//! place that signs or checks a signature (with the `hmac` crate's
//! constant-time comparison), so a forged message never reaches a handler.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;

/// The protocol version this kernel speaks.
pub const PROTOCOL_VERSION: &str = "5.3";

/// The frame between the routing identities and the signed parts.
pub const DELIMITER: &[u8] = b"<IDS|MSG>";

/// A message header.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Header {
    pub msg_id: String,
    pub session: String,
    pub username: String,
    pub date: String,
    pub msg_type: String,
    pub version: String,
    /// Fields a newer front end adds; kept so a reply's parent header is the
    /// request's header exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Header {
    /// A fresh header: a new message id and the current time.
    pub fn new(msg_type: &str, session: &str) -> Header {
        Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            session: session.to_string(),
            username: "kernel".to_string(),
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            msg_type: msg_type.to_string(),
            version: PROTOCOL_VERSION.to_string(),
            extra: Map::new(),
        }
    }
}

/// One message, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// ROUTER identities of the sender (empty for iopub messages).
    pub identities: Vec<Bytes>,
    pub header: Header,
    /// The header of the request this answers, or `{}`.
    pub parent_header: Value,
    pub metadata: Value,
    pub content: Value,
    pub buffers: Vec<Bytes>,
    /// Why the content could not be read (not JSON, or not UTF-8), when the
    /// rest of the message was well formed and signed: the request is then
    /// answered with an error instead of leaving the front end waiting.
    pub invalid: Option<String>,
}

impl Message {
    /// A new message of `msg_type` from the kernel session `session`,
    /// answering (or caused by) `parent` and routed back to its sender.
    pub fn child(parent: &Message, msg_type: &str, content: Value, session: &str) -> Message {
        Message {
            identities: parent.identities.clone(),
            header: Header::new(msg_type, session),
            parent_header: serde_json::to_value(&parent.header).unwrap_or(Value::Null),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
            invalid: None,
        }
    }

    /// The message's type (`execute_request`, ...).
    pub fn msg_type(&self) -> &str {
        &self.header.msg_type
    }
}

/// Why frames are not a message.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    #[error("no `<IDS|MSG>` delimiter frame")]
    NoDelimiter,
    #[error("only {0} frames after the delimiter (a message has at least 5)")]
    TooFewFrames(usize),
    #[error("the signature does not match the message (wrong key, or a forged message)")]
    BadSignature,
    #[error("the {0} frame is not JSON: {1}")]
    NotJson(&'static str, String),
}

/// Signs and checks messages with the connection file's key.
#[derive(Clone)]
pub struct Signer {
    /// `None` when the key is empty: the protocol then sends an empty signature.
    mac: Option<Hmac<Sha256>>,
}

impl Signer {
    pub fn new(key: &str) -> Signer {
        let mac = if key.is_empty() {
            None
        } else {
            // HMAC takes keys of any length, so this cannot fail.
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok()
        };
        Signer { mac }
    }

    fn mac_over(&self, parts: &[&[u8]]) -> Option<Hmac<Sha256>> {
        let mut mac = self.mac.clone()?;
        for p in parts {
            mac.update(p);
        }
        Some(mac)
    }

    /// The hex signature of the four JSON parts ("" without a key).
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        match self.mac_over(parts) {
            Some(mac) => hex::encode(mac.finalize().into_bytes()),
            None => String::new(),
        }
    }

    /// Whether `signature` (hex) is right for the parts, in constant time.
    pub fn verify(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        match self.mac_over(parts) {
            Some(mac) => match hex::decode(signature) {
                Ok(raw) => mac.verify_slice(&raw).is_ok(),
                Err(_) => false,
            },
            None => true,
        }
    }

    /// Checks and decodes received frames.
    pub fn decode(&self, frames: Vec<Bytes>) -> Result<Message, WireError> {
        let split = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .ok_or(WireError::NoDelimiter)?;
        let rest = &frames[split + 1..];
        if rest.len() < 5 {
            return Err(WireError::TooFewFrames(rest.len()));
        }
        let parts: [&[u8]; 4] = [&rest[1], &rest[2], &rest[3], &rest[4]];
        if !self.verify(&parts, &rest[0]) {
            return Err(WireError::BadSignature);
        }
        let json = |what: &'static str, b: &[u8]| {
            serde_json::from_slice::<Value>(b).map_err(|e| WireError::NotJson(what, e.to_string()))
        };
        let header: Header = serde_json::from_slice(parts[0])
            .map_err(|e| WireError::NotJson("header", e.to_string()))?;
        let (content, invalid) = match json("content", parts[3]) {
            Ok(c) => (c, None),
            Err(e) => (Value::Null, Some(e.to_string())),
        };
        Ok(Message {
            identities: frames[..split].to_vec(),
            header,
            parent_header: json("parent_header", parts[1])?,
            metadata: json("metadata", parts[2])?,
            content,
            buffers: rest[5..].to_vec(),
            invalid,
        })
    }

    /// Encodes and signs a message as frames.
    pub fn encode(&self, msg: &Message) -> Vec<Bytes> {
        let to_bytes = |v: &Value| Bytes::from(v.to_string().into_bytes());
        let header = serde_json::to_value(&msg.header).unwrap_or(Value::Null);
        let parts = [
            to_bytes(&header),
            to_bytes(&msg.parent_header),
            to_bytes(&msg.metadata),
            to_bytes(&msg.content),
        ];
        let refs: [&[u8]; 4] = [&parts[0], &parts[1], &parts[2], &parts[3]];
        let signature = self.sign(&refs);
        let mut frames = Vec::with_capacity(msg.identities.len() + 6 + msg.buffers.len());
        frames.extend(msg.identities.iter().cloned());
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(Bytes::from(signature.into_bytes()));
        frames.extend(parts);
        frames.extend(msg.buffers.iter().cloned());
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a0436f6c-1916-498b-8eb9-e81ab9368e84";

    /// An execute_request exactly as jupyter_client 8.10's `Session.serialize`
    /// frames and signs it under `KEY` (the reference implementation's bytes).
    fn reference_frames() -> Vec<Bytes> {
        [
            &b"client-identity"[..],
            b"<IDS|MSG>",
            b"562c701f8b78042066568a07f96709e59bd283b9ff9fdc7ff63ff2ce3802da2a",
            br#"{"msg_id": "6f1c3b9a-0001", "msg_type": "execute_request", "username": "student", "session": "e8e3c2e6-session", "date": "2026-12-01T09:40:46.123456Z", "version": "5.4"}"#,
            b"{}",
            b"{}",
            br#"{"code": "print 1 + 2;", "silent": false, "store_history": true, "user_expressions": {}, "allow_stdin": false, "stop_on_error": true}"#,
        ]
        .iter()
        .map(|f| Bytes::copy_from_slice(f))
        .collect()
    }

    #[test]
    fn a_reference_message_decodes_and_verifies() {
        let m = Signer::new(KEY).decode(reference_frames()).unwrap();
        assert_eq!(m.identities, vec![Bytes::from_static(b"client-identity")]);
        assert_eq!(m.msg_type(), "execute_request");
        assert_eq!(m.header.session, "e8e3c2e6-session");
        assert_eq!(m.content["code"], "print 1 + 2;");
        assert!(m.buffers.is_empty());
    }

    #[test]
    fn signing_matches_the_reference_implementation() {
        // jupyter_client's Session(key=b"secret-key").sign(...) of these parts.
        let header = br#"{"msg_id": "a1", "session": "s1", "username": "u", "date": "2026-01-01T00:00:00.000000Z", "msg_type": "kernel_info_request", "version": "5.3"}"#;
        let sig = Signer::new("secret-key").sign(&[header, b"{}", b"{}", b"{}"]);
        assert_eq!(
            sig,
            "2ff64526f63b7599bc596a715ede8c3110a5530bbd6720e07ebd71931be714f5"
        );
    }

    #[test]
    fn a_tampered_or_wrongly_keyed_message_is_refused() {
        let mut frames = reference_frames();
        frames[6] = Bytes::from_static(br#"{"code": "minimize x^2;"}"#);
        assert_eq!(
            Signer::new(KEY).decode(frames).unwrap_err(),
            WireError::BadSignature
        );
        assert_eq!(
            Signer::new("other key")
                .decode(reference_frames())
                .unwrap_err(),
            WireError::BadSignature
        );
        let mut frames = reference_frames();
        frames[2] = Bytes::from_static(b"not hex");
        assert_eq!(
            Signer::new(KEY).decode(frames).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn malformed_frames_are_errors() {
        let s = Signer::new(KEY);
        let mut frames = reference_frames();
        frames.remove(1);
        assert_eq!(s.decode(frames).unwrap_err(), WireError::NoDelimiter);
        let mut frames = reference_frames();
        frames.truncate(5);
        assert_eq!(s.decode(frames).unwrap_err(), WireError::TooFewFrames(3));
        // Unsigned (empty key) and a header that is not JSON.
        let mut frames = reference_frames();
        frames[3] = Bytes::from_static(b"{oops");
        assert!(matches!(
            Signer::new("").decode(frames).unwrap_err(),
            WireError::NotJson("header", _)
        ));
        // Content that is not JSON (or not UTF-8) still gives a message, to
        // be answered with an error.
        let mut frames = reference_frames();
        frames[6] = Bytes::from_static(b"{\"code\": \"\xff\"}");
        let m = Signer::new("").decode(frames).unwrap();
        assert!(m.invalid.is_some() && m.content.is_null());
    }

    #[test]
    fn encode_then_decode_round_trips_with_the_parent() {
        let s = Signer::new(KEY);
        let req = s.decode(reference_frames()).unwrap();
        let reply = Message::child(&req, "execute_reply", json!({"status": "ok"}), "k");
        let frames = s.encode(&reply);
        assert_eq!(frames[0].as_ref(), b"client-identity");
        assert_eq!(frames[1].as_ref(), DELIMITER);
        let back = s.decode(frames).unwrap();
        assert_eq!(back, reply);
        assert_eq!(back.parent_header["msg_id"], "6f1c3b9a-0001");
        assert_eq!(back.header.version, PROTOCOL_VERSION);
        assert!(back.header.date.ends_with('Z'));
    }
}
