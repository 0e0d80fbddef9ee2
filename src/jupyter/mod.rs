//! The Jupyter kernel (SPEC 9.1): `losslang jupyter install` writes a
//! kernelspec and `losslang jupyter kernel FILE` serves the Jupyter
//! messaging protocol 5.3 over ZeroMQ, so notebooks, JupyterLab, VS Code,
//! nbclient and nbgrader run losslang cells.
//!
//! The parts, one concern each: `connection` reads the connection file,
//! `wire` frames and signs messages, `sockets` serves the five sockets on
//! their own thread, `handlers` answers requests, `execute` runs cells in the
//! kernel's one `Session`, `display` and `minuit_html` turn its output into
//! streams, pictures and tables, `completion` and `inspect` help while typing,
//! `kernelspec` installs. The session stays on the calling thread (it is not
//! `Send`), so a front end only ever drives it through `Kernel`.

pub mod completion;
pub mod connection;
pub mod display;
pub mod execute;
pub mod handlers;
pub mod inspect;
pub mod kernelspec;
pub mod minuit_html;
pub mod sockets;
pub mod wire;

pub use handlers::Kernel;
pub use kernelspec::{install, Target};

use crate::interp::{Options, Session};
use connection::ConnectionInfo;
use sockets::Outbox;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use wire::{Message, Signer};

/// Set while the kernel runs: SIGINT (Jupyter's interrupt_mode "signal")
/// then only asks a running minimization to stop, and never ends the
/// process however often it comes.
pub static ACTIVE: AtomicBool = AtomicBool::new(false);

impl Kernel {
    /// A kernel with a fresh session, sending through `outbox` as `id`.
    pub fn new(outbox: Outbox, id: String) -> Kernel {
        let streams = display::Streams::new(outbox.clone(), id.clone());
        let opts = Options {
            repl: true,
            color: true,
            progress: true,
            ..Options::default()
        };
        let mut session = Session::new(opts, streams.stdout(), streams.stderr());
        session.set_display(streams.sink());
        Kernel {
            session,
            outbox,
            id,
            execution_count: 0,
            history: Vec::new(),
            streams,
            last_status: None,
        }
    }
}

/// Whether an execute reply asks the kernel to skip what is queued behind it
/// (a failed cell with `stop_on_error`, as ipykernel does for "Run All").
fn aborts_queue(msg: &Message, reply_status: Option<&str>) -> bool {
    msg.msg_type() == "execute_request"
        && reply_status == Some("error")
        && msg.content["stop_on_error"].as_bool().unwrap_or(true)
}

/// `losslang jupyter kernel FILE`: serves until a shutdown request.
/// Returns the exit status (1 when the kernel could not start).
pub fn run_kernel(connection_file: &Path) -> i32 {
    let info = match ConnectionInfo::read(connection_file) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let (shell, outbox) = match sockets::start(&info, Signer::new(&info.key), id.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    ACTIVE.store(true, Ordering::SeqCst);
    let mut kernel = Kernel::new(outbox, id);
    kernel.starting();
    while let Ok(msg) = shell.recv() {
        let status = kernel.handle(&msg);
        if aborts_queue(&msg, status.as_deref()) {
            // Requests already queued behind a failed cell are answered
            // `aborted` (executes) or served (everything else).
            while let Ok(next) = shell.try_recv() {
                if next.msg_type() == "execute_request" {
                    kernel.abort(&next);
                } else {
                    kernel.handle(&next);
                }
            }
        }
    }
    0
}
