//! The kernel's five ZeroMQ sockets and the loop that serves them, on a
//! small tokio runtime in a thread of its own. The interpreter session is not
//! `Send` and a cell may run for minutes, so the session lives on the
//! kernel's main thread and this thread only moves messages:
//!
//! - heartbeat (REP): echoes every ping, even while a cell runs;
//! - shell (ROUTER): checks each message's signature and queues it for the
//!   session thread, which answers requests in order, as Jupyter expects;
//! - control (ROUTER): answered here at once (interrupt, shutdown,
//!   kernel_info), so an interrupt reaches a running minimization;
//! - iopub (PUB) and the replies: everything the session thread or the
//!   control handler sends goes through one outbox, signed on the way out,
//!   so messages leave in the order they were made;
//! - stdin (ROUTER): bound so front ends can connect; cells never read input.
//!
//! A message with a bad signature is logged on stderr and dropped.

use super::connection::ConnectionInfo;
use super::handlers;
use super::wire::{Message, Signer};
use bytes::Bytes;
use std::sync::mpsc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use zeromq::{
    PubSocket, RepSocket, RouterSendHalf, RouterSocket, Socket, SocketRecv, SocketSend, ZmqMessage,
};

/// Which socket a message leaves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Shell,
    Control,
    IoPub,
}

/// What the outbox is asked to do.
#[derive(Debug)]
pub enum Out {
    /// Sign and send a message.
    Send(Channel, Box<Message>),
    /// Everything before this has been sent: end the kernel process.
    Exit,
}

/// The sending end of the outbox; cheap to clone, usable from any thread.
pub type Outbox = UnboundedSender<Out>;

/// Why the sockets could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("cannot start the kernel's event loop: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, zeromq::ZmqError),
    #[error("the kernel's socket thread ended before it was ready")]
    Gone,
}

/// Opens the sockets and starts serving them. Shell messages arrive on the
/// returned receiver; the outbox sends replies and iopub messages.
pub fn start(
    info: &ConnectionInfo,
    signer: Signer,
    kernel_session: String,
) -> Result<(mpsc::Receiver<Message>, Outbox), SocketError> {
    let (shell_tx, shell_rx) = mpsc::channel();
    let (out_tx, out_rx) = unbounded_channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    let info = info.clone();
    let outbox = out_tx.clone();
    std::thread::Builder::new()
        .name("jupyter-sockets".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(SocketError::Runtime(e)));
                    return;
                }
            };
            rt.block_on(serve(
                info,
                signer,
                kernel_session,
                shell_tx,
                out_tx,
                out_rx,
                ready_tx,
            ));
        })
        .map_err(SocketError::Runtime)?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok((shell_rx, outbox)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(SocketError::Gone),
    }
}

async fn bind<S: Socket>(info: &ConnectionInfo, port: u16) -> Result<S, SocketError> {
    let mut socket = S::new();
    let endpoint = info.endpoint(port);
    socket
        .bind(&endpoint)
        .await
        .map_err(|e| SocketError::Bind(endpoint, e))?;
    Ok(socket)
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    info: ConnectionInfo,
    signer: Signer,
    kernel_session: String,
    shell_tx: mpsc::Sender<Message>,
    out_tx: Outbox,
    out_rx: UnboundedReceiver<Out>,
    ready: mpsc::Sender<Result<(), SocketError>>,
) {
    let opened = async {
        Ok::<_, SocketError>((
            bind::<RouterSocket>(&info, info.shell_port).await?,
            bind::<RouterSocket>(&info, info.control_port).await?,
            bind::<PubSocket>(&info, info.iopub_port).await?,
            bind::<RouterSocket>(&info, info.stdin_port).await?,
            bind::<RepSocket>(&info, info.hb_port).await?,
        ))
    }
    .await;
    let (shell, control, iopub, stdin, hb) = match opened {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let (shell_send, mut shell_recv) = shell.split();
    let (control_send, mut control_recv) = control.split();

    tokio::spawn(heartbeat(hb));
    let s = signer.clone();
    tokio::spawn(async move {
        while let Some(msg) = receive(&mut shell_recv, &s, "shell").await {
            if shell_tx.send(msg).is_err() {
                break; // the session thread is gone
            }
        }
    });
    let s = signer.clone();
    let control_out = out_tx.clone();
    tokio::spawn(async move {
        while let Some(msg) = receive(&mut control_recv, &s, "control").await {
            handlers::control(&msg, &control_out, &kernel_session);
        }
    });
    outbox(out_rx, signer, shell_send, control_send, iopub).await;
    drop(stdin);
}

/// Receives the next well-signed message; `None` when the socket is closed.
async fn receive<R: SocketRecv>(socket: &mut R, signer: &Signer, name: &str) -> Option<Message> {
    loop {
        match socket.recv().await {
            Ok(zmsg) => match signer.decode(zmsg.into_vec()) {
                Ok(m) => return Some(m),
                // Never execute what we cannot trust; say so and go on.
                Err(e) => eprintln!("losslang kernel: dropped a message on {name}: {e}"),
            },
            Err(zeromq::ZmqError::NoMessage) => return None,
            Err(_) => continue, // a peer went away
        }
    }
}

async fn heartbeat(mut hb: RepSocket) {
    loop {
        match hb.recv().await {
            Ok(ping) => {
                let _ = hb.send(ping).await;
            }
            Err(zeromq::ZmqError::NoMessage) => return,
            Err(_) => continue,
        }
    }
}

/// Sends what the session and the control handler produce, in order.
async fn outbox(
    mut rx: UnboundedReceiver<Out>,
    signer: Signer,
    mut shell: RouterSendHalf,
    mut control: RouterSendHalf,
    mut iopub: PubSocket,
) {
    while let Some(out) = rx.recv().await {
        match out {
            Out::Send(channel, msg) => {
                let Ok(frames) = ZmqMessage::try_from(signer.encode(&msg)) else {
                    continue;
                };
                let sent = match channel {
                    Channel::Shell => shell.send(frames).await,
                    Channel::Control => control.send(frames).await,
                    Channel::IoPub => iopub.send(frames).await,
                };
                if let Err(e) = sent {
                    eprintln!("losslang kernel: could not send {}: {e}", msg.msg_type());
                }
            }
            Out::Exit => {
                // The writer tasks flush what was queued; give them a moment.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                std::process::exit(0);
            }
        }
    }
}

/// The frames of a message on a socket that has no identities (iopub).
pub fn topic(msg_type: &str) -> Bytes {
    Bytes::from(format!("kernel.{msg_type}").into_bytes())
}
