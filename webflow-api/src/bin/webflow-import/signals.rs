//! Stop signals: the first Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the run gracefully
//! (no new request, the requests in flight answered, report and summary written); a second
//! Ctrl-C or SIGTERM ends it at once, through `on_second` (a repeated SIGHUP does not).

use webflow_api::CancellationToken;

/// Watches for stop signals: on the first, cancels `cancel` and calls `on_first` with the
/// signal's name; on a second SIGINT or SIGTERM, calls `on_second` (which exits the
/// process).
pub fn watch(
    cancel: CancellationToken,
    on_first: impl Fn(&'static str) + Send + 'static,
    on_second: impl FnOnce(&'static str) + Send + 'static,
) -> std::io::Result<()> {
    let mut signals = Signals::new()?;
    tokio::spawn(async move {
        let Some(first) = signals.next().await else {
            return;
        };
        cancel.cancel();
        on_first(first);
        // A closing terminal or SSH session often sends SIGHUP twice (to the process group
        // and through the shell), and nobody is there to mean it: only a second SIGINT or
        // SIGTERM ends the run at once.
        while let Some(second) = signals.next().await {
            if second != "SIGHUP" {
                on_second(second);
                break;
            }
        }
    });
    Ok(())
}

#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal's name; `None` when no more can come.
    async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            Some(()) = self.interrupt.recv() => Some("SIGINT"),
            Some(()) = self.terminate.recv() => Some("SIGTERM"),
            Some(()) = self.hangup.recv() => Some("SIGHUP"),
            else => None,
        }
    }
}

#[cfg(windows)]
struct Signals {
    ctrl_c: tokio::signal::windows::CtrlC,
    close: tokio::signal::windows::CtrlClose,
}

#[cfg(windows)]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            ctrl_c: tokio::signal::windows::ctrl_c()?,
            close: tokio::signal::windows::ctrl_close()?,
        })
    }

    async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            Some(()) = self.ctrl_c.recv() => Some("Ctrl-C"),
            Some(()) = self.close.recv() => Some("Ctrl-Close"),
            else => None,
        }
    }
}

/// How a person would name the signal: `Ctrl-C` for SIGINT.
pub fn spoken(signal: &'static str) -> &'static str {
    match signal {
        "SIGINT" => "Ctrl-C (SIGINT)",
        other => other,
    }
}
