//! What the core needs from an async runtime, and the `Send` bounds that hold on
//! native targets but not in single-threaded WebAssembly.

use std::future::Future;
use std::pin::Pin;

/// `Send + Sync` on native targets, nothing on wasm32 (JS values are `!Send`).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}

/// `Send + Sync` on native targets, nothing on wasm32 (JS values are `!Send`).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}

/// A value read by many threads and replaced under a lock by one: lock-free
/// to read natively, so a cache hit never waits on another caller.
#[cfg(not(target_arch = "wasm32"))]
pub type Published<T> = arc_swap::ArcSwapOption<T>;

/// In single-threaded WebAssembly nothing is published and readers take the
/// lock, which nobody else can hold (arc-swap would cost 1.6 KB there).
#[cfg(target_arch = "wasm32")]
pub struct Published<T>(std::marker::PhantomData<T>);

#[cfg(target_arch = "wasm32")]
impl<T> Published<T> {
    /// Nothing published.
    pub fn empty() -> Self {
        Published(std::marker::PhantomData)
    }
    /// Always nothing: readers fall back to the lock.
    pub fn load(&self) -> Option<std::sync::Arc<T>> {
        None
    }
    /// Publishes nothing.
    pub fn store(&self, _: Option<std::sync::Arc<T>>) {}
}

/// A boxed future: `Send` on native targets, local on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future: `Send` on native targets, local on wasm32.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs a fetch to completion in the background, independent of the caller that
/// started it: a caller that is cancelled never strands the others, and
/// refresh-ahead can return the current token at once.
pub trait Spawn: MaybeSendSync {
    /// Starts `task`; it must be polled to completion.
    fn spawn(&self, task: BoxFuture<'static, ()>);

    /// Which executor instance `spawn` feeds. A task spawned under another
    /// generation will never run: the process forked since, and the executor's
    /// threads stayed behind in the parent. The client abandons such a fetch and
    /// starts a new one. Executors that cannot be forked away keep the default.
    fn generation(&self) -> u64 {
        0
    }
}
