//! One runtime's connection to the supervisor: requests read line by line and answered in
//! order, replies (and exits) written by a task of their own so a slow reader on the runtime's
//! side never blocks the supervisor.
//!
//! The client is not trusted: a line longer than [`MAX_REQUEST_LINE`] is skipped to its end
//! without being kept, and every line that is no request (too long, not UTF-8, unknown) is
//! answered `error`; the connection reads on either way.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use super::diag::diag;
use super::{Shared, instance};
use crate::shim::MAX_REQUEST_LINE;
use crate::wire::protocol::{Reply, Request, excerpt};

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
    let mut reader = BufReader::new(read);
    let mut buf = Vec::with_capacity(256);
    loop {
        let line = match next_line(&mut reader, &mut buf).await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                diag!("connection {id}: reading: {e}");
                break;
            }
        };
        match request_of(line) {
            Ok(Request::Start(name)) => instance::start(&shared, id, &name),
            Ok(Request::Watch(name, pid)) => {
                let mut state = shared.state();
                match state.instances.get_mut(&name) {
                    Some(held) if held.pid == pid => {
                        if let Some(exit) = held.exit {
                            // Exited, its exit.json not written yet (a full disk): told now.
                            state.send(id, Reply::Exited(name, exit).line());
                        } else if !held.watchers.contains(&id) {
                            held.watchers.push(id);
                        }
                    }
                    _ => state.send(id, Reply::Unknown(name).line()),
                }
            }
            Err(message) => {
                diag!("connection {id}: {message}");
                shared.state().send(id, Reply::Error(message).line());
            }
        }
    }
    let mut state = shared.state();
    state.conns.remove(&id);
    for held in state.instances.values_mut() {
        held.watchers.retain(|&w| w != id);
    }
    shared.check_idle(&state);
}

/// The request a line holds, or why it holds none (the text of the `error` reply).
fn request_of(line: Line<'_>) -> Result<Request, String> {
    match line {
        Line::Text(text) => Request::parse(text),
        Line::TooLong(len) => Err(format!(
            "request line of {len} bytes or more is longer than {MAX_REQUEST_LINE}"
        )),
        Line::NotUtf8(bytes) => Err(format!(
            "request is not UTF-8: {}",
            excerpt(&String::from_utf8_lossy(bytes))
        )),
    }
}

/// What a connection that sends `bytes` and closes is answered, line by line, as the
/// connection decides it: each line's request, or the text of its `error` reply; and the
/// longest line it kept in memory. For the fuzz targets (`fuzz/`): no socket, no task.
#[cfg(feature = "fuzzing")]
pub(crate) fn decode_stream(bytes: &[u8]) -> (Vec<Result<Request, String>>, usize) {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let mut reader = bytes;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut longest = 0;
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        // Reading from a slice never waits: one poll gives the line.
        let next = {
            let future = std::pin::pin!(next_line(&mut reader, &mut buf));
            match future.poll(&mut cx) {
                Poll::Ready(r) => r,
                Poll::Pending => break,
            }
        };
        let line = match next {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => break,
        };
        longest = longest.max(match &line {
            Line::Text(t) => t.len(),
            Line::NotUtf8(b) => b.len(),
            Line::TooLong(_) => 0,
        });
        out.push(request_of(line));
    }
    (out, longest)
}

/// One line read from a client.
#[derive(Debug, PartialEq)]
enum Line<'a> {
    Text(&'a str),
    /// Longer than [`MAX_REQUEST_LINE`]: at least this many bytes, none of them kept.
    TooLong(usize),
    NotUtf8(&'a [u8]),
}

/// The next line (without its newline; a last line without one counts too); `None` at the end.
/// Never holds more than [`MAX_REQUEST_LINE`] bytes of it.
async fn next_line<'b>(
    reader: &mut (impl AsyncBufReadExt + Unpin),
    buf: &'b mut Vec<u8>,
) -> io::Result<Option<Line<'b>>> {
    buf.clear();
    let mut skipped = 0usize;
    let mut read_any = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            if !read_any {
                return Ok(None);
            }
            break;
        }
        read_any = true;
        let (piece, used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        if skipped == 0 && buf.len() + piece.len() <= MAX_REQUEST_LINE {
            buf.extend_from_slice(piece);
        } else {
            skipped += buf.len() + piece.len();
            buf.clear();
        }
        reader.consume(used);
        if done {
            break;
        }
    }
    if skipped > 0 {
        return Ok(Some(Line::TooLong(skipped)));
    }
    Ok(Some(match std::str::from_utf8(buf) {
        Ok(text) => Line::Text(text),
        Err(_) => Line::NotUtf8(buf),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded_and_reading_goes_on_after_a_long_one() {
        let long = vec![b'x'; MAX_REQUEST_LINE * 3 + 5];
        let mut input = b"one\n".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\n\xff\nlast");
        let mut exact = vec![b'y'; MAX_REQUEST_LINE];
        exact.push(b'\n');
        input.extend_from_slice(b"\n");
        input.extend_from_slice(&exact);
        // A tiny buffer, so lines arrive in many pieces.
        let mut reader = BufReader::with_capacity(7, input.as_slice());
        let mut buf = Vec::new();
        assert_eq!(
            next_line(&mut reader, &mut buf).await.unwrap(),
            Some(Line::Text("one"))
        );
        assert_eq!(
            next_line(&mut reader, &mut buf).await.unwrap(),
            Some(Line::TooLong(long.len()))
        );
        assert!(buf.capacity() <= MAX_REQUEST_LINE * 2);
        assert_eq!(
            next_line(&mut reader, &mut buf).await.unwrap(),
            Some(Line::NotUtf8(b"\xff"))
        );
        assert_eq!(
            next_line(&mut reader, &mut buf).await.unwrap(),
            Some(Line::Text("last"))
        );
        let y = "y".repeat(MAX_REQUEST_LINE);
        assert_eq!(
            next_line(&mut reader, &mut buf).await.unwrap(),
            Some(Line::Text(y.as_str()))
        );
        assert_eq!(next_line(&mut reader, &mut buf).await.unwrap(), None);
    }
}
