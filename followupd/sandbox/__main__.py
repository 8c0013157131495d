"""python -m followupd.sandbox --port N [--seed FILE] [--user EMAIL]"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .app import Sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m followupd.sandbox", description=__doc__)
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)"
    )
    parser.add_argument(
        "--seed", type=Path, help="JSON seed file (user, calendars, events, messages)"
    )
    parser.add_argument("--user", help="the account's address (overrides the seed)")
    parser.add_argument("--name", help="the account's display name (overrides the seed)")
    parser.add_argument(
        "--fault-seed", type=int, default=0, help="seed of the random fault generator"
    )
    parser.add_argument("--verbose", action="store_true", help="log each request (never its query)")
    args = parser.parse_args(argv)
    seed = None
    if args.seed is not None:
        try:
            seed = json.loads(args.seed.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            sys.stderr.write(f"sandbox: cannot read seed {args.seed}: {exc}\n")
            return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sandbox = Sandbox(
            seed,
            user_email=args.user,
            user_name=args.name,
            port=args.port,
            fault_seed=args.fault_seed,
            verbose=args.verbose,
        )
        sandbox.start()
    except (OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"sandbox: {exc}\n")
        return 1
    sys.stdout.write(f"sandbox listening on {sandbox.url}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
