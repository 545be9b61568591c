"""Keep the worker processes of `nlp.pipe(n_process=N)` from hanging or outliving their parent.

spaCy's pool joins its workers when the pipe stops; a worker blocked writing docs that nobody
reads any more (its siblings hold copies of the pipe) never returns, so an exception or a
SIGINT in the parent hangs it, and a killed parent leaves the workers behind. `PipeGuard`
around the loop over `nlp.pipe` makes:

- the first SIGINT a request (`guard.interrupted`): the caller stops feeding texts, the
  batches in flight finish and the pool ends normally; a second SIGINT stops at once;
- an exception out of the loop terminate the workers before the pipe is closed;
- the workers forked meanwhile ignore SIGINT (the parent decides) and, on Linux with the
  "fork" start method, be killed by the kernel when the parent dies (PR_SET_PDEATHSIG).

Nothing global is replaced: a SIGINT handler is installed only in the main thread while the
default one is in place, and restored after.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from multiprocessing.util import register_after_fork
from types import FrameType, TracebackType
from typing import Any, Iterator, Optional, Set, Type

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class _WorkerSetup:
    """What a worker forked from the guarded thread runs first (via multiprocessing's after-fork hook)."""

    def __init__(self) -> None:
        self.parent_pid = os.getpid()
        self.thread = threading.get_ident()


def _setup_worker(setup: _WorkerSetup) -> None:
    """In a new worker: ignore SIGINT and die with the parent (only for the guarded thread's forks)."""
    if threading.get_ident() != setup.thread or os.getpid() == setup.parent_pid:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(setup.parent_pid)


def die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this process when its parent exits; a no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before the prctl
        os._exit(1)


class PipeGuard:
    """Context manager around a loop over `nlp.pipe(..., n_process=N)`; see the module docstring."""

    def __init__(self) -> None:
        self.interrupted = False
        self._stream: Optional[Iterator[Any]] = None
        self._before: Set[multiprocessing.process.BaseProcess] = set()
        self._setup: Optional[_WorkerSetup] = None
        self._previous_handler: Any = None
        self._warnings: Optional[warnings.catch_warnings] = None

    def watch(self, stream: Iterator[Any]) -> Iterator[Any]:
        """Register the `nlp.pipe` generator to close (after stopping the workers) on an error."""
        self._stream = stream
        return stream

    def __enter__(self) -> "PipeGuard":
        self._before = set(multiprocessing.active_children())
        self._setup = _WorkerSetup()
        register_after_fork(self._setup, _setup_worker)  # dropped with self._setup
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.filterwarnings("ignore", message=r"\[W127\]")  # the workers we stopped
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def _on_sigint(self, signum: int, frame: Optional[FrameType]) -> None:
        if not self.interrupted:
            self.interrupted = True
            return
        self.stop_workers()
        raise KeyboardInterrupt

    def stop_workers(self) -> None:
        """Terminate the worker processes started since the guard was entered."""
        workers = [p for p in multiprocessing.active_children() if p not in self._before]
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(timeout=5)

    def __exit__(
        self, kind: Optional[Type[BaseException]], error: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        try:
            if error is not None:
                self.stop_workers()
                if self._stream is not None and hasattr(self._stream, "close"):
                    self._stream.close()  # spaCy's pool joins its (now stopped) workers
        finally:
            if self._previous_handler is not None:
                signal.signal(signal.SIGINT, self._previous_handler)
            if self._warnings is not None:
                self._warnings.__exit__(None, None, None)
            self._setup = None
            self._stream = None
