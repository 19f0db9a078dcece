//! A single-threaded executor and reactor over `wasi:io/poll`: every pending future registers
//! the pollable it waits on, and one `poll` call waits on all of them at once.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use wasi::io::poll::{poll, Pollable};

use crate::error::Error;

struct Registration {
    pollable: Rc<Pollable>,
    waker: Waker,
}

thread_local! {
    static WAITING: RefCell<Vec<Registration>> = const { RefCell::new(Vec::new()) };
}

/// Asks to wake `waker` once `pollable` is ready.
pub fn register(pollable: &Rc<Pollable>, waker: &Waker) {
    WAITING.with(|w| {
        let mut w = w.borrow_mut();
        match w.iter_mut().find(|r| Rc::ptr_eq(&r.pollable, pollable)) {
            Some(r) => r.waker.clone_from(waker),
            None => w.push(Registration { pollable: pollable.clone(), waker: waker.clone() }),
        }
    });
}

/// Forgets `pollable`: its owner is going away, and a pollable must be dropped before its stream.
pub fn deregister(pollable: &Rc<Pollable>) {
    WAITING.with(|w| w.borrow_mut().retain(|r| !Rc::ptr_eq(&r.pollable, pollable)));
}

/// Waits until at least one registered pollable is ready and wakes its task.
/// Returns false if nothing is registered (waiting would never end).
fn wait() -> bool {
    let ready: Vec<Registration> = WAITING.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_empty() {
            return Vec::new();
        }
        let list: Vec<&Pollable> = w.iter().map(|r| r.pollable.as_ref()).collect();
        let mut indices = poll(&list);
        drop(list);
        indices.sort_unstable();
        let mut ready = Vec::with_capacity(indices.len());
        for i in indices.into_iter().rev() {
            if (i as usize) < w.len() {
                ready.push(w.swap_remove(i as usize));
            }
        }
        ready
    });
    if ready.is_empty() {
        return WAITING.with(|w| !w.borrow().is_empty());
    }
    for r in ready {
        r.waker.wake();
    }
    true
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs `fut` to completion on this instance, waiting on `wasi:io/poll` whenever it is pending.
pub fn block_on<T>(fut: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        if flag.0.swap(false, Ordering::Acquire) {
            continue;
        }
        if !wait() && !flag.0.swap(false, Ordering::Acquire) {
            return Err(Error::WaitsOnNothing);
        }
    }
}

/// Completes once `pollable` is ready.
pub async fn ready(pollable: &Rc<Pollable>) {
    struct Ready<'a>(&'a Rc<Pollable>);
    impl Future for Ready<'_> {
        type Output = ();
        fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0.ready() {
                Poll::Ready(())
            } else {
                register(self.0, cx.waker());
                Poll::Pending
            }
        }
    }
    impl Drop for Ready<'_> {
        fn drop(&mut self) {
            deregister(self.0);
        }
    }
    Ready(pollable).await
}

/// Completes after `duration` (monotonic clock).
pub async fn sleep(duration: Duration) {
    let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    let pollable = Rc::new(wasi::clocks::monotonic_clock::subscribe_duration(ns));
    ready(&pollable).await;
}
