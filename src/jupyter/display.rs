//! Rich output: where what the session produces while a cell runs goes.
//! Text goes to the cell's `stdout` stream a line at a time (so a long cell
//! shows its prints as they happen); diagnostics are held until the cell
//! ends (they become its error reply); and the session's rich items
//! (`interp::Display`) become iopub messages:
//!
//! - a bare expression's value is held back: the cell's last one becomes its
//!   `execute_result`, any earlier one is printed when more output follows;
//! - a picture is a `display_data` (`image/svg+xml` as text, `image/png` in
//!   base64);
//! - a Minuit report is a `display_data` with `text/plain` (the text tables)
//!   and `text/html` (iminuit's tables, `minuit_html`);
//! - the progress line of a long minimization is one `display_data` with a
//!   display id, then `update_display_data` in place.

use super::handlers::send;
use super::minuit_html;
use super::sockets::{Channel, Outbox};
use super::wire::Message;
use crate::interp::{Display, DisplaySink};
use base64::Engine;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

/// The output routing of the kernel's session, shared by its writers and
/// its display sink.
#[derive(Clone)]
pub struct Streams(Rc<RefCell<StreamState>>);

struct StreamState {
    outbox: Outbox,
    id: String,
    /// The execute_request being run; `None` between cells.
    parent: Option<Message>,
    /// A silent execution publishes nothing.
    silent: bool,
    stdout: String,
    stderr: String,
    /// The latest bare expression's value, not shown yet.
    value: Option<String>,
    /// The display id of this cell's progress line, once shown.
    progress: Option<String>,
}

impl Streams {
    pub fn new(outbox: Outbox, id: String) -> Streams {
        Streams(Rc::new(RefCell::new(StreamState {
            outbox,
            id,
            parent: None,
            silent: false,
            stdout: String::new(),
            stderr: String::new(),
            value: None,
            progress: None,
        })))
    }

    /// The writer for the session's standard output.
    pub fn stdout(&self) -> Box<dyn Write> {
        Box::new(StreamWriter(self.clone(), false))
    }

    /// The writer for the session's diagnostics.
    pub fn stderr(&self) -> Box<dyn Write> {
        Box::new(StreamWriter(self.clone(), true))
    }

    /// The session's display sink.
    pub fn sink(&self) -> Box<dyn DisplaySink> {
        Box::new(self.clone())
    }

    /// Starts a cell: output now goes to `parent`.
    pub fn begin(&self, parent: &Message, silent: bool) {
        let mut s = self.0.borrow_mut();
        s.parent = Some(parent.clone());
        s.silent = silent;
        s.stdout.clear();
        s.stderr.clear();
        s.value = None;
        s.progress = None;
    }

    /// Ends the cell: flushes stdout; returns the held value (if the cell's
    /// last statement produced it) and the diagnostics text.
    pub fn end(&self) -> (Option<String>, String) {
        self.flush_stdout();
        let mut s = self.0.borrow_mut();
        let value = s.value.take();
        s.parent = None;
        (value, std::mem::take(&mut s.stderr))
    }

    /// Sends an iopub message caused by the running cell (nothing when silent
    /// or between cells).
    pub fn publish(&self, msg_type: &str, content: Value) {
        let s = self.0.borrow();
        if let (Some(parent), false) = (&s.parent, s.silent) {
            let m = Message::child(parent, msg_type, content, &s.id);
            send(&s.outbox, Channel::IoPub, m);
        }
    }

    /// Sends what stdout holds.
    pub fn flush_stdout(&self) {
        let text = std::mem::take(&mut self.0.borrow_mut().stdout);
        if !text.is_empty() {
            self.publish("stream", json!({"name": "stdout", "text": text}));
        }
    }

    /// More output follows a held value, so it was not the cell's last:
    /// print it, in order, before what follows.
    fn release_value(&self) {
        let value = self.0.borrow_mut().value.take();
        if let Some(v) = value {
            let mut s = self.0.borrow_mut();
            s.stdout.push_str(&v);
            s.stdout.push('\n');
        }
    }

    fn display(&self, data: Value) {
        self.release_value();
        self.flush_stdout();
        self.publish(
            "display_data",
            json!({"data": data, "metadata": {}, "transient": {}}),
        );
    }

    fn progress(&self, line: Option<&str>) {
        let id = self.0.borrow().progress.clone();
        let text = line.unwrap_or("");
        match id {
            Some(id) => self.publish(
                "update_display_data",
                json!({"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": id}}),
            ),
            None if line.is_some() => {
                let id = uuid::Uuid::new_v4().to_string();
                self.0.borrow_mut().progress = Some(id.clone());
                self.flush_stdout();
                self.publish(
                    "display_data",
                    json!({"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": id}}),
                );
            }
            None => {}
        }
        if line.is_none() {
            // The next long minimization in this cell gets a line of its own.
            self.0.borrow_mut().progress = None;
        }
    }
}

impl DisplaySink for Streams {
    fn show(&mut self, item: Display<'_>) -> bool {
        match item {
            Display::Value(text) => {
                self.release_value();
                self.0.borrow_mut().value = Some(text.to_string());
            }
            Display::Image { mime, data } => {
                let payload = if mime == "image/svg+xml" {
                    Value::String(String::from_utf8_lossy(data).into_owned())
                } else {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(data))
                };
                let mut d = json!({"text/plain": "<plot>"});
                d[mime] = payload;
                self.display(d);
            }
            Display::Minuit { text, report } => {
                let html = minuit_html::to_html(report);
                self.display(json!({"text/plain": text, "text/html": html}));
            }
            Display::Progress(line) => self.progress(line),
        }
        true
    }
}

struct StreamWriter(Streams, bool);

impl Write for StreamWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        if self.1 {
            self.0 .0.borrow_mut().stderr.push_str(&text);
            return Ok(buf.len());
        }
        self.0.release_value();
        let line_done = {
            let mut s = self.0 .0.borrow_mut();
            s.stdout.push_str(&text);
            s.stdout.ends_with('\n')
        };
        if line_done {
            self.0.flush_stdout();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.1 {
            self.0.flush_stdout();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jupyter::sockets::Out;
    use tokio::sync::mpsc::unbounded_channel;

    fn parent() -> Message {
        Message {
            identities: Vec::new(),
            header: crate::jupyter::wire::Header::new("execute_request", "c"),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({}),
            buffers: Vec::new(),
            invalid: None,
        }
    }

    fn sent(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Out>) -> Vec<(String, Value)> {
        let mut v = Vec::new();
        while let Ok(Out::Send(_, m)) = rx.try_recv() {
            v.push((m.msg_type().to_string(), m.content.clone()));
        }
        v
    }

    #[test]
    fn an_earlier_value_is_printed_before_later_output() {
        let (tx, mut rx) = unbounded_channel();
        let streams = Streams::new(tx, "k".into());
        let mut sink = streams.sink();
        let mut out = streams.stdout();
        streams.begin(&parent(), false);
        sink.show(Display::Value("1.0"));
        writeln!(out, "printed").unwrap();
        sink.show(Display::Value("2.0"));
        let (value, _) = streams.end();
        assert_eq!(value.as_deref(), Some("2.0"));
        let msgs = sent(&mut rx);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].1["text"], "1.0\nprinted\n");
    }

    #[test]
    fn progress_is_one_display_updated_in_place() {
        let (tx, mut rx) = unbounded_channel();
        let streams = Streams::new(tx, "k".into());
        let mut sink = streams.sink();
        streams.begin(&parent(), false);
        sink.show(Display::Progress(Some("step 1")));
        sink.show(Display::Progress(Some("step 2")));
        sink.show(Display::Progress(None));
        let msgs = sent(&mut rx);
        let kinds: Vec<&str> = msgs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            ["display_data", "update_display_data", "update_display_data"]
        );
        let id = &msgs[0].1["transient"]["display_id"];
        assert!(msgs
            .iter()
            .all(|(_, c)| &c["transient"]["display_id"] == id));
        assert_eq!(msgs[1].1["data"]["text/plain"], "step 2");
    }

    #[test]
    fn pngs_are_base64_and_svgs_text() {
        let (tx, mut rx) = unbounded_channel();
        let streams = Streams::new(tx, "k".into());
        let mut sink = streams.sink();
        streams.begin(&parent(), false);
        sink.show(Display::Image {
            mime: "image/png",
            data: b"\x89PNG",
        });
        sink.show(Display::Image {
            mime: "image/svg+xml",
            data: b"<svg/>",
        });
        let msgs = sent(&mut rx);
        assert_eq!(msgs[0].1["data"]["image/png"], "iVBORw==");
        assert_eq!(msgs[1].1["data"]["image/svg+xml"], "<svg/>");
    }
}
