//! The request handlers. `Kernel` owns the interpreter session and answers
//! shell requests one at a time, each wrapped in iopub `status: busy` and
//! `status: idle` as the protocol asks; `control` answers the control
//! channel from the socket thread, so an interrupt or shutdown is served
//! even while a cell runs. Any request type the kernel does not know gets a
//! reply with `status: error`; nothing a front end sends ends the kernel
//! except `shutdown_request`.

use super::sockets::{topic, Channel, Out, Outbox};
use super::wire::{Message, PROTOCOL_VERSION};
use super::{completion, inspect};
use crate::interp::Session;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

/// The `kernel_info_reply` content.
pub fn kernel_info_content() -> Value {
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "losslang",
        "implementation_version": version,
        "language_info": {
            "name": "losslang",
            "version": version,
            "mimetype": "text/x-losslang",
            "file_extension": ".loss",
        },
        "banner": format!(
            "losslang {version}: torch.optim and Minuit on a differentiable expression graph"
        ),
        "help_links": [],
        "debugger": false,
    })
}

/// The reply type of a request type (`x_request` -> `x_reply`).
pub fn reply_type(msg_type: &str) -> String {
    match msg_type.strip_suffix("_request") {
        Some(base) => format!("{base}_reply"),
        None => format!("{msg_type}_reply"),
    }
}

/// The reply to a request the kernel does not serve.
pub fn unknown_reply(msg_type: &str) -> Value {
    json!({
        "status": "error",
        "ename": "UnknownMessageType",
        "evalue": format!("the losslang kernel does not handle `{msg_type}`"),
        "traceback": [],
    })
}

/// Sends on a channel, ignoring a closed outbox (the kernel is ending).
pub fn send(outbox: &Outbox, channel: Channel, mut msg: Message) {
    if channel == Channel::IoPub {
        msg.identities = vec![topic(msg.msg_type())];
    }
    let _ = outbox.send(Out::Send(channel, Box::new(msg)));
}

fn status(outbox: &Outbox, parent: &Message, state: &str, session: &str) {
    let m = Message::child(parent, "status", json!({"execution_state": state}), session);
    send(outbox, Channel::IoPub, m);
}

/// Answers one control message (runs on the socket thread).
pub fn control(msg: &Message, outbox: &Outbox, session: &str) {
    status(outbox, msg, "busy", session);
    let reply = |content: Value| {
        let m = Message::child(msg, &reply_type(msg.msg_type()), content, session);
        send(outbox, Channel::Control, m);
    };
    let mut exit = false;
    match msg.msg_type() {
        "interrupt_request" => {
            crate::interp::INTERRUPT.store(true, Ordering::SeqCst);
            reply(json!({"status": "ok"}));
        }
        "kernel_info_request" => reply(kernel_info_content()),
        "shutdown_request" => {
            let restart = msg.content["restart"].as_bool().unwrap_or(false);
            reply(json!({"status": "ok", "restart": restart}));
            exit = true;
        }
        other => reply(unknown_reply(other)),
    }
    status(outbox, msg, "idle", session);
    if exit {
        let _ = outbox.send(Out::Exit);
    }
}

/// The kernel: one interpreter session and what a notebook adds to it.
pub struct Kernel {
    pub(crate) session: Session,
    pub(crate) outbox: Outbox,
    /// This kernel's session id, in the header of every message it sends.
    pub(crate) id: String,
    /// The count of executions stored in the history (`In [n]`).
    pub(crate) execution_count: u64,
    /// Cells run so far, with their execution counts.
    pub(crate) history: Vec<(u64, String)>,
    /// Where the session's text output goes (the cell being run's parent).
    pub(crate) streams: super::display::Streams,
    /// The status of the last reply sent (for stop_on_error).
    pub(crate) last_status: Option<String>,
}

impl Kernel {
    /// Sends `content` as a message of `msg_type` caused by `parent`.
    pub(crate) fn publish(&self, parent: &Message, msg_type: &str, content: Value) {
        let m = Message::child(parent, msg_type, content, &self.id);
        send(&self.outbox, Channel::IoPub, m);
    }

    fn reply(&mut self, parent: &Message, content: Value) {
        self.last_status = content["status"].as_str().map(str::to_string);
        let m = Message::child(parent, &reply_type(parent.msg_type()), content, &self.id);
        send(&self.outbox, Channel::Shell, m);
    }

    /// `status: starting`, once, before the first request.
    pub fn starting(&self) {
        let m = Message {
            identities: Vec::new(),
            header: super::wire::Header::new("status", &self.id),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({"execution_state": "starting"}),
            buffers: Vec::new(),
            invalid: None,
        };
        send(&self.outbox, Channel::IoPub, m);
    }

    /// Answers an execute request queued behind a failed cell: not run.
    pub fn abort(&mut self, msg: &Message) {
        status(&self.outbox, msg, "busy", &self.id);
        self.reply(
            msg,
            json!({"status": "aborted", "execution_count": self.execution_count}),
        );
        status(&self.outbox, msg, "idle", &self.id);
    }

    /// Answers one shell message; returns the reply's status.
    pub fn handle(&mut self, msg: &Message) -> Option<String> {
        self.last_status = None;
        let kind = msg.msg_type().to_string();
        // Messages that are not requests (comms) need no busy/idle.
        match kind.as_str() {
            "comm_open" => {
                // No comm targets: close it, as ipykernel does for unknown targets.
                let id = msg.content["comm_id"].clone();
                self.publish(msg, "comm_close", json!({"comm_id": id, "data": {}}));
                return None;
            }
            "comm_msg" | "comm_close" => return None,
            _ => {}
        }
        status(&self.outbox, msg, "busy", &self.id);
        if let Some(why) = &msg.invalid {
            self.reply(
                msg,
                json!({
                    "status": "error",
                    "ename": "InvalidMessage",
                    "evalue": format!("the request's content cannot be read: {why}"),
                    "traceback": [],
                }),
            );
        } else {
            self.dispatch(msg, &kind);
        }
        status(&self.outbox, msg, "idle", &self.id);
        if kind == "shutdown_request" {
            let _ = self.outbox.send(Out::Exit);
        }
        self.last_status.take()
    }

    fn dispatch(&mut self, msg: &Message, kind: &str) {
        let c = &msg.content;
        let text = |k: &str| c[k].as_str().unwrap_or("").to_string();
        let cursor = c["cursor_pos"].as_u64().unwrap_or(u64::MAX) as usize;
        match kind {
            "execute_request" => {
                let reply = self.execute(msg);
                self.reply(msg, reply);
            }
            "kernel_info_request" => self.reply(msg, kernel_info_content()),
            "complete_request" => {
                let r = completion::complete(&self.session, &text("code"), cursor);
                self.reply(msg, r);
            }
            "is_complete_request" => self.reply(msg, completion::is_complete(&text("code"))),
            "inspect_request" => self.reply(msg, inspect::inspect(&text("code"), cursor)),
            "history_request" => {
                let r = completion::history(&self.history, c);
                self.reply(msg, r);
            }
            "comm_info_request" => self.reply(msg, json!({"status": "ok", "comms": {}})),
            "shutdown_request" => {
                let restart = c["restart"].as_bool().unwrap_or(false);
                self.reply(msg, json!({"status": "ok", "restart": restart}));
            }
            other => self.reply(msg, unknown_reply(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    fn request(msg_type: &str, content: Value) -> Message {
        Message {
            identities: vec![bytes::Bytes::from_static(b"id")],
            header: super::super::wire::Header::new(msg_type, "client"),
            parent_header: json!({}),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
            invalid: None,
        }
    }

    fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Out>) -> Vec<(Channel, Message)> {
        let mut v = Vec::new();
        while let Ok(o) = rx.try_recv() {
            if let Out::Send(c, m) = o {
                v.push((c, *m));
            }
        }
        v
    }

    #[test]
    fn control_interrupt_sets_the_flag_and_replies_between_busy_and_idle() {
        let (tx, mut rx) = unbounded_channel();
        let req = request("interrupt_request", json!({}));
        crate::interp::INTERRUPT.store(false, Ordering::SeqCst);
        control(&req, &tx, "k");
        assert!(crate::interp::take_interrupt());
        let out = drain(&mut rx);
        let kinds: Vec<_> = out
            .iter()
            .map(|(c, m)| (*c, m.msg_type().to_string()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Channel::IoPub, "status".into()),
                (Channel::Control, "interrupt_reply".into()),
                (Channel::IoPub, "status".into()),
            ]
        );
        assert_eq!(out[0].1.content["execution_state"], "busy");
        assert_eq!(out[2].1.content["execution_state"], "idle");
        assert_eq!(out[1].1.parent_header["msg_id"], json!(req.header.msg_id));
    }

    #[test]
    fn unknown_control_requests_get_an_error_reply() {
        let (tx, mut rx) = unbounded_channel();
        control(&request("debug_request", json!({})), &tx, "k");
        let out = drain(&mut rx);
        assert_eq!(out[1].1.msg_type(), "debug_reply");
        assert_eq!(out[1].1.content["status"], "error");
        assert_eq!(out[1].1.content["ename"], "UnknownMessageType");
    }

    #[test]
    fn shutdown_replies_then_asks_the_outbox_to_exit() {
        let (tx, mut rx) = unbounded_channel();
        control(
            &request("shutdown_request", json!({"restart": true})),
            &tx,
            "k",
        );
        let mut saw_reply = false;
        let mut last = None;
        while let Ok(o) = rx.try_recv() {
            if let Out::Send(Channel::Control, m) = &o {
                assert_eq!(m.content["restart"], true);
                saw_reply = true;
            }
            last = Some(o);
        }
        assert!(saw_reply && matches!(last, Some(Out::Exit)));
    }

    #[test]
    fn kernel_info_names_the_language() {
        let c = kernel_info_content();
        assert_eq!(c["protocol_version"], "5.3");
        assert_eq!(c["language_info"]["name"], "losslang");
        assert_eq!(c["language_info"]["file_extension"], ".loss");
        assert_eq!(reply_type("kernel_info_request"), "kernel_info_reply");
    }
}
