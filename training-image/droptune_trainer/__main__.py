"""`python -m droptune_trainer`: run one training from the DROPTUNE_* environment.

Exit 0 only when manifest.json is written; 143 when preempted (checkpoint saved, restart
resumes); otherwise the code's exit status (errors.py) with `failure.json` in the output and
one line on stderr saying why.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from .errors import EXIT_PREEMPTED, Preempted, TrainerError


def main() -> int:
    stop = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        print("[run] SIGTERM received: saving a checkpoint at the next step", file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_sigterm)
    run_id = os.environ.get("DROPTUNE_RUN_ID", "")
    output_uri = os.environ.get("DROPTUNE_OUTPUT_URI", "")
    try:
        from .run import RunEnv, run

        env = RunEnv.from_environ(dict(os.environ))
        run(env, stop)
        return 0
    except Preempted as err:
        print(f"droptune-trainer: {err}", file=sys.stderr, flush=True)
        return EXIT_PREEMPTED
    except TrainerError as err:
        return _fail(output_uri, run_id, err.code, err.message, err.exit_status)
    except MemoryError:
        return _fail(output_uri, run_id, "resource_exhausted", "out of memory; try a smaller batchSize or maxLength", 3)
    except Exception as err:  # noqa: BLE001 - the one place that turns crashes into a clean exit
        import traceback

        traceback.print_exc()
        return _fail(output_uri, run_id, "internal", f"{type(err).__name__}: {err}", 1)


def _fail(output_uri: str, run_id: str, code: str, message: str, status: int) -> int:
    if output_uri:
        from .artifacts import write_failure

        write_failure(output_uri, run_id, code, message)
    print(f"droptune-trainer: {code}: {message}", file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
