//! The signals that stop a server.

/// A request to stop, listened for from the moment it is made: a SIGTERM sent as soon as a
/// server has printed its listeners is not lost (it drains the server instead of killing it).
#[derive(Debug)]
pub struct Stop {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Stop {
    /// Starts listening for SIGTERM (where there is such a signal and it can be listened
    /// for; Ctrl-C always). Needs a tokio runtime.
    pub fn listen() -> Stop {
        Stop {
            #[cfg(unix)]
            term: {
                use tokio::signal::unix::{signal, SignalKind};
                signal(SignalKind::terminate()).ok()
            },
        }
    }

    /// Returns at the first SIGTERM or Ctrl-C.
    pub async fn requested(self) {
        #[cfg(unix)]
        if let Some(mut term) = self.term {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
