//! The background thread that owns the unlocked [`Journal`]: key derivation, disk work and SQL
//! all run there, never on the UI thread. Each job's result comes back to the UI thread, where
//! its continuation runs. Generic over the UI-side state `A`, so this module imports no other.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use truce_core::journal::Journal;

/// Runs on the UI thread with the result of a job built on the journal thread.
pub(crate) type Reply<A> = Box<dyn FnOnce(&Rc<A>) + Send>;
/// Runs on the journal thread with the journal (`None` while locked).
pub(crate) type Job<A> = Box<dyn FnOnce(&mut Option<Journal>) -> Reply<A> + Send>;

/// What the journal thread runs: it hands its result over itself (see [`Worker::submit`]).
type Task = Box<dyn FnOnce(&mut Option<Journal>) + Send>;
/// What the UI thread runs once the job's result is there.
type Continuation<A> = Box<dyn FnOnce(&Rc<A>)>;

/// The worker thread and the continuations of the jobs sent to it, in order.
pub(crate) struct Worker<A> {
    jobs: Option<mpsc::Sender<Task>>,
    /// One `()` per job done, in the order the jobs were sent.
    done: mpsc::Receiver<()>,
    /// The UI-thread half of every job not yet answered, oldest first. The journal thread runs
    /// the jobs one after the other, so the n-th answer is the n-th job's.
    waiting: RefCell<VecDeque<Continuation<A>>>,
    thread: Option<JoinHandle<()>>,
}

impl<A: 'static> Worker<A> {
    /// Starts the worker thread. `wake` is called on the worker thread after each job is done,
    /// to have the UI thread call [`Worker::drain`].
    pub(crate) fn start(wake: impl Fn() + Send + 'static) -> Worker<A> {
        let (job_tx, job_rx) = mpsc::channel::<Task>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("truce-journal".into())
            .spawn(move || {
                let mut journal: Option<Journal> = None;
                for job in job_rx {
                    job(&mut journal);
                    if done_tx.send(()).is_err() {
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
            done: done_rx,
            waiting: RefCell::new(VecDeque::new()),
            thread: Some(thread),
        }
    }

    /// Runs `job` on the journal thread, then `then` with its result on the UI thread. Unlike
    /// the job, `then` need not be `Send`: it may hold the UI's own state.
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Option<Journal>) -> T + Send + 'static,
        then: impl FnOnce(&Rc<A>, T) + 'static,
    ) {
        let Some(jobs) = &self.jobs else { return };
        let (tx, rx) = mpsc::channel::<T>();
        let task: Task = Box::new(move |journal| {
            let _ = tx.send(job(journal));
        });
        if jobs.send(task).is_ok() {
            self.waiting
                .borrow_mut()
                .push_back(Box::new(move |app: &Rc<A>| {
                    // The result is sent before the job is reported done.
                    if let Ok(result) = rx.try_recv() {
                        then(app, result);
                    }
                }));
        }
    }

    /// Queues a job that builds its own reply on the journal thread.
    pub(crate) fn submit_job(&self, job: Job<A>) {
        self.submit(job, |app, reply| reply(app));
    }

    /// Whether jobs are waiting for an answer.
    pub(crate) fn is_busy(&self) -> bool {
        !self.waiting.borrow().is_empty()
    }

    /// Runs the next continuation (no borrow is held: it may submit more jobs).
    fn answer(&self, app: &Rc<A>) {
        let next = self.waiting.borrow_mut().pop_front();
        if let Some(then) = next {
            then(app);
        }
    }

    /// Runs the continuations of the jobs done, without waiting.
    pub(crate) fn drain(&self, app: &Rc<A>) {
        while self.is_busy() && self.done.try_recv().is_ok() {
            self.answer(app);
        }
    }

    /// Waits until every queued job has answered, running the continuations (tests and
    /// screenshots).
    pub(crate) fn wait(&self, app: &Rc<A>) {
        while self.is_busy() {
            match self.done.recv_timeout(Duration::from_secs(60)) {
                Ok(()) => self.answer(app),
                Err(e) => panic!("the journal thread did not answer: {e}"),
            }
        }
    }
}

impl<A> Drop for Worker<A> {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which drops the journal; wait for it, so the
        // keys are zeroized before the process goes on.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
