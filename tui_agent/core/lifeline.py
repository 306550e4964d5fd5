"""Child processes that cannot outlive us, even when we are SIGKILLed.

A child is started through a small bash launcher that first joins any given cgroups (so all it
starts is counted), then leaves a watchdog blocked on a pipe whose write end only we hold, and
execs the real program in place. If we die, the kernel closes our end, the watchdog wakes and
SIGKILLs the program. No parent-death signal is relied on: bwrap's --die-with-parent and
PR_SET_PDEATHSIG both proved unreliable for a whole process chain.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Sequence

LAUNCHER = """
lifeline=$1; shift
while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift
(read -r _ <&"$lifeline"; kill -9 $$) </dev/null >/dev/null 2>&1 &
eval 'exec "$@"' "$lifeline<&-"
"""


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends are not 0-2: with no stdin (CI, daemons) os.pipe() may hand out fd 0."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


class Lifeline:
    """``with Lifeline() as life: Popen(life.command(argv), pass_fds=life.pass_fds, ...);
    life.started()`` — the child dies when ``release()`` is called or when we die."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = _high_pipe()
        self.bash = shutil.which("bash") or "/bin/bash"  # bash: redirections of fds above 9

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self.read_fd,)

    def command(self, argv: Sequence[str], cgroup_procs: Sequence[str] = ()) -> list[str]:
        return [self.bash, "-c", LAUNCHER, "launch", str(self.read_fd), *cgroup_procs, "--", *argv]

    def started(self) -> None:
        """Drop our copy of the child's end once it has been handed over."""
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1

    def release(self) -> None:
        """Close our end: a child still running is killed by its watchdog."""
        self.started()
        if self.write_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.write_fd)
            self.write_fd = -1

    def __enter__(self) -> Lifeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
