//! Running code that may panic (progenitor asserts on some spec shapes) and turning a panic
//! into an error message, without printing the panic or a backtrace.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

type PanicHook = dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static;

/// Runs `f`; a panic becomes `Err(its message)`. The panic hook is silenced for this
/// thread only while `f` runs, so other threads (parallel tests) still report theirs.
pub fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let previous: Arc<PanicHook> = Arc::from(std::panic::take_hook());
    let this_thread = std::thread::current().id();
    let fallback = previous.clone();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != this_thread {
            fallback(info);
        }
    }));
    let result = catch_unwind(AssertUnwindSafe(f));
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| previous(info)));
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)")
            .to_owned()
    })
}
