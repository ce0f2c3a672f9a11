//! One runtime's connection to the supervisor: requests read line by line and answered in
//! order, replies (and exits) written by a task of their own so a slow reader on the runtime's
//! side never blocks the supervisor.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use super::{Shared, instance};
use crate::protocol::{Reply, Request};

/// How many bytes of queued replies are written at once.
const WRITE_BATCH: usize = 64 * 1024;

/// Registers a new connection, greets it with `ready`, and serves it on two tasks.
pub(super) fn serve(shared: &Arc<Shared>, stream: UnixStream) {
    let (tx, rx) = mpsc::unbounded_channel();
    let id = {
        let mut state = shared.state();
        let id = state.next_conn;
        state.next_conn += 1;
        state.conns.insert(id, tx.clone());
        id
    };
    let (pid, start_ticks) = shared.me;
    let _ = tx.send(Reply::Ready { pid, start_ticks }.line());
    let (read, write) = stream.into_split();
    tokio::spawn(write_replies(write, rx));
    tokio::spawn(read_requests(Arc::clone(shared), id, read));
}

async fn write_replies(mut write: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<String>) {
    let mut batch = String::new();
    while let Some(line) = rx.recv().await {
        batch.clear();
        batch.push_str(&line);
        while batch.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push_str(&more),
                Err(_) => break,
            }
        }
        if write.write_all(batch.as_bytes()).await.is_err() {
            // The runtime is gone; its reading side notices the same and unregisters.
            return;
        }
    }
}

async fn read_requests(shared: Arc<Shared>, id: u64, read: OwnedReadHalf) {
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match Request::parse(&line) {
            Ok(Request::Start(name)) => instance::start(&shared, id, &name),
            Ok(Request::Watch(name, pid)) => {
                let mut state = shared.state();
                match state.instances.get_mut(&name) {
                    Some(held) if held.pid == pid => {
                        if !held.watchers.contains(&id) {
                            held.watchers.push(id);
                        }
                    }
                    _ => state.send(id, Reply::Unknown(name).line()),
                }
            }
            Err(e) => eprintln!("supervisor: connection {id}: {e}"),
        }
    }
    let mut state = shared.state();
    state.conns.remove(&id);
    for held in state.instances.values_mut() {
        held.watchers.retain(|&w| w != id);
    }
    shared.check_idle(&state);
}
