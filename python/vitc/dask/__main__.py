# SPDX-License-Identifier: MIT
"""python3 -m vitc.dask: the command form of vitc.dask.embed. Parses the
arguments, starts a LocalCluster (--local N) or connects to a scheduler
(--scheduler ADDR), runs the job with a progress line on stderr when it is a
terminal, and exits 0 on success, 1 on failure (the cause on stderr), 2 on a
usage error, 130 when interrupted (committed shards stay for the rerun)."""

import argparse
import sys
import time

PROG = "python3 -m vitc.dask"


def _parser():
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Embed images on a Dask cluster into OUT_DIR (shard-NNNNN.npy files, their "
        ".paths.txt lists and manifest.json, written last). Rerun the same command to resume "
        "an interrupted job. Read the result with vitc.dask.load(OUT_DIR).")
    p.add_argument("model", metavar="MODEL", help="model directory or hub repo id ORG/NAME")
    p.add_argument("inputs", metavar="INPUT", nargs="*",
                   help="JPEG/PNG image or directory of them")
    p.add_argument("-o", dest="out_dir", metavar="OUT_DIR", required=True,
                   help="output directory (created if needed)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", metavar="ADDR",
                       help="the Dask scheduler, e.g. tcp://HOST:8786")
    where.add_argument("--local", metavar="N", type=int,
                       help="start N worker processes on this machine, sharing its cores")
    p.add_argument("--list", metavar="FILE", help="also the inputs named in FILE, one per "
                   "line ('-' reads stdin)")
    p.add_argument("--recursive", action="store_true", help="take subdirectories too")
    p.add_argument("--output", metavar="KIND", help="pooler_output, cls, last_hidden_state, "
                   "logits or pixel_values (default: pooler_output if the model has a pooler, "
                   "else cls)")
    p.add_argument("--shard-size", metavar="N", type=int, default=1000,
                   help="inputs per shard (default 1000)")
    p.add_argument("--batch", metavar="N", type=int, default=8,
                   help="images per forward pass (default 8)")
    p.add_argument("--threads", metavar="N", type=int, default=None,
                   help="vitc compute threads per worker process (default: the worker's "
                   "Dask thread count; with --local, the cores divided among the N processes)")
    p.add_argument("--precision", metavar="P", default="fp32",
                   help="fp32, bf16, int8, fp16 or tf32 (default fp32)")
    p.add_argument("--device", metavar="D", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--skip-errors", action="store_true",
                   help="list unreadable inputs in the shards' .errors.txt instead of failing")
    p.add_argument("--retries", metavar="N", type=int, default=2,
                   help="reruns of a shard whose task failed (default 2)")
    p.add_argument("--timeout", metavar="S", type=float, default=30,
                   help="seconds to reach the scheduler and see a worker (default 30)")
    p.add_argument("--quiet", action="store_true", help="no progress line and no summary")
    return p


class Progress:
    """One line on a terminal: shards, images, rate and time left, redrawn
    at most every 0.2 s and after the last shard."""

    def __init__(self, stream):
        self.stream, self.last, self.shown = stream, 0.0, False

    def __call__(self, p):
        now = time.monotonic()
        if now - self.last < 0.2 and p["shards_done"] < p["shards"]:
            return
        self.last = now
        done_now = p["inputs_done"] - p["inputs_resumed"]
        rate = done_now / p["elapsed"] if p["elapsed"] > 0 else 0.0
        left = p["inputs"] - p["inputs_done"]
        eta = " %s left" % _duration(left / rate) if rate > 0 and left else ""
        self.stream.write("\r\x1b[Kshards %d/%d  images %d/%d  %.1f images/s%s" % (
            p["shards_done"], p["shards"], p["inputs_done"], p["inputs"], rate, eta))
        self.stream.flush()
        self.shown = True

    def clear(self):
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _duration(s):
    s = int(s)
    return "%dh%02dm" % (s // 3600, s // 60 % 60) if s >= 3600 else "%dm%02ds" % (s // 60, s % 60)


def main(argv=None):
    args = _parser().parse_args(argv)
    if not args.inputs and not args.list:
        _parser().error("missing INPUT (an image, a directory or --list FILE)")
    if args.local is not None and args.local < 1:
        _parser().error("--local: expected at least 1 worker, not %d" % args.local)

    import distributed
    import vitc.dask
    from vitc.dask._job import available_cores

    client = cluster = None
    bar = Progress(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    try:
        if args.local is not None:
            # One shard at a time per process, on its share of the cores.
            cluster = distributed.LocalCluster(
                n_workers=args.local, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None)
            client = distributed.Client(cluster, set_as_default=False)
            if args.threads is None:
                args.threads = max(1, available_cores() // args.local)
        else:
            client = args.scheduler
        result = vitc.dask.embed(
            args.inputs, args.model, args.out_dir, client=client, output=args.output,
            shard_size=args.shard_size, batch=args.batch, threads_per_worker=args.threads,
            precision=args.precision, skip_errors=args.skip_errors, recursive=args.recursive,
            list_file=args.list, device=args.device, retries=args.retries,
            timeout=args.timeout, progress=bar)
    except KeyboardInterrupt:
        if bar:
            bar.clear()
        print("%s: interrupted; committed shards stay in %s: run the same command again to "
              "resume" % (PROG, args.out_dir), file=sys.stderr)
        return 130
    except (vitc.VitcError, OSError, RuntimeError, ValueError) as e:
        if bar:
            bar.clear()
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
    if bar:
        bar.clear()
    if not args.quiet:
        t = result["totals"]
        run = result["run"]
        print("%s: wrote %s: %s [%d, %s] float32 from %d inputs in %d shards (%d resumed)%s" % (
            PROG, args.out_dir, result["output"], t["rows"],
            ", ".join(str(d) for d in result["row_shape"]), t["inputs"], t["shards"],
            run["resumed"], "; skipped %d (see shard-*.errors.txt)" % t["skipped"]
            if t["skipped"] else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
