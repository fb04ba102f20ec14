//! The background thread that owns the unlocked [`Journal`]: key derivation, disk work and SQL
//! all run there, never on the UI thread. Each job returns a reply that runs on the UI thread.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use truce_core::journal::Journal;

use super::App;

/// Runs on the UI thread with the result of a job.
pub(crate) type Reply = Box<dyn FnOnce(&Rc<App>) + Send>;
/// Runs on the worker thread with the journal (`None` while locked).
pub(crate) type Job = Box<dyn FnOnce(&mut Option<Journal>) -> Reply + Send>;

/// The worker thread and the replies it sent back.
pub(crate) struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    replies: mpsc::Receiver<Reply>,
    pending: Cell<usize>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread. `wake` is called on the worker thread after each reply is
    /// queued, to have the UI thread call [`Worker::drain`].
    pub(crate) fn start(wake: impl Fn() + Send + 'static) -> Worker {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (reply_tx, reply_rx) = mpsc::channel::<Reply>();
        let thread = std::thread::Builder::new()
            .name("truce-journal".into())
            .spawn(move || {
                let mut journal: Option<Journal> = None;
                for job in job_rx {
                    let reply = job(&mut journal);
                    if reply_tx.send(reply).is_err() {
                        break;
                    }
                    wake();
                }
                // The UI is gone: the journal (and its keys) are dropped and zeroized here.
                drop(journal);
            })
            .expect("start the journal thread");
        Worker {
            jobs: Some(job_tx),
            replies: reply_rx,
            pending: Cell::new(0),
            thread: Some(thread),
        }
    }

    /// Queues a job; its reply runs on the UI thread later.
    pub(crate) fn submit(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            if jobs.send(job).is_ok() {
                self.pending.set(self.pending.get() + 1);
            }
        }
    }

    /// Runs the replies that have arrived, without waiting.
    pub(crate) fn drain(&self, app: &Rc<App>) {
        while let Ok(reply) = self.replies.try_recv() {
            self.pending.set(self.pending.get().saturating_sub(1));
            reply(app);
        }
    }

    /// Waits until every queued job has replied, running the replies (tests and screenshots).
    pub(crate) fn wait(&self, app: &Rc<App>) {
        while self.pending.get() > 0 {
            match self.replies.recv_timeout(Duration::from_secs(60)) {
                Ok(reply) => {
                    self.pending.set(self.pending.get() - 1);
                    reply(app);
                }
                Err(e) => panic!("the journal thread did not answer: {e}"),
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which drops the journal; wait for it, so the
        // keys are zeroized before the process goes on.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
