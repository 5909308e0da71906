"""One error type for the trainer, with the same codes as shared/errors.ts.

`TrainerError.code` ends up in `failure.json` (the workflow reads it) and picks the exit
status, so a caller can tell bad input (fix the CSV/params) from a crash (retry).
"""

from __future__ import annotations

# Exit statuses: 0 only when manifest.json is written (DESIGN.md, trainer environment).
EXIT_STATUS = {
    "invalid_argument": 2,
    "not_found": 2,
    "failed_precondition": 2,
    "already_exists": 2,
    "too_large": 2,
    "resource_exhausted": 3,
    "unavailable": 4,
    "internal": 1,
}
# 128 + SIGTERM: the VM was preempted; a restart with the same runId resumes.
EXIT_PREEMPTED = 143


class TrainerError(Exception):
    """A failure with a stable `code` (shared/errors.ts table) and a one-line human message."""

    def __init__(self, code: str, message: str):
        if code not in EXIT_STATUS:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.code]


class Preempted(Exception):
    """Raised after SIGTERM once a checkpoint is saved; never written as a failure."""

    def __init__(self, step: int, checkpoint_uri: str):
        super().__init__(
            f"preempted: SIGTERM received, checkpoint saved at step {step} to {checkpoint_uri}; "
            "restart with the same DROPTUNE_RUN_ID to resume"
        )
        self.step = step
