"""python -m bench [--quick | --tiny] [--seed N] [--only a,b | --profile SCENARIO@RATE] [--out-dir DIR] [--keep-data]"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bench.modes import FULL, QUICK, TINY
from bench.run import ALL_NAMES, RESULTS, SWEEPS, Runner

PROFILABLE = [s.name for s in SWEEPS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Chirp's benchmarks against this machine's own ceiling (see bench/README.md).")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="every scenario briefly (make bench-quick, < 4 min)")
    size.add_argument("--tiny", action="store_true", help="a handful of users, ~1 s per rate (the harness test)")
    parser.add_argument("--seed", type=int, default=20240601, help="the dataset's random seed")
    parser.add_argument("--only", default="", help=f"comma-separated scenarios to run, of: {', '.join(ALL_NAMES)}")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where the JSON, markdown and PNG go")
    parser.add_argument("--workers", type=int, default=0, help="load-generator processes (default: the mode's)")
    parser.add_argument("--log-level", default="info", help="the services' log level (make run uses info)")
    parser.add_argument("--keep-data", action="store_true", help="keep the mesh's data dir under bench/results/tmp/")
    parser.add_argument("--profile", default="", metavar="SCENARIO@RATE",
                        help=f"instead of sweeping, offer one scenario ({', '.join(PROFILABLE)}) at RATE req/s "
                             "while py-spy samples every service (bench/profile.py)")
    parser.add_argument("--profile-seconds", type=float, default=30.0, help="how long --profile samples")
    args = parser.parse_args(argv)
    mode = TINY if args.tiny else QUICK if args.quick else FULL
    only = {name.strip() for name in args.only.split(",") if name.strip()} or None
    unknown = (only or set()) - set(ALL_NAMES)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    profile = None
    if args.profile:
        name, _, rate = args.profile.partition("@")
        if name not in PROFILABLE or not rate.replace(".", "", 1).isdigit() or float(rate) <= 0:
            parser.error(f"--profile takes SCENARIO@RATE, SCENARIO one of {', '.join(PROFILABLE)}, e.g. home_timeline@70")
        if only:
            parser.error("--profile runs one scenario: leave --only out")
        if args.profile_seconds <= 0:
            parser.error("--profile-seconds must be above 0")
        profile = (name, float(rate), args.profile_seconds)
        only = {name}
    runner = Runner(mode, args.seed, out_dir=args.out_dir, only=only, keep_data=args.keep_data,
                    workers=args.workers or None, log_level=args.log_level, say=lambda m: print(m, flush=True),
                    profile=profile)
    asyncio.run(runner.run())
    return 1 if runner.results.get("aborted") else 0


if __name__ == "__main__":
    sys.exit(main())
