"""Run the `make bench` scenarios through the official Python client.

Mirrors bench/bench.c: each subcommand runs one scenario against the
server at BASE (API) and AUTH (token endpoint), both on loopback, and
prints one JSON object on stdout.

    python_bench.py results BASE AUTH FILE_ID THREADS CALLS REPEATS
    python_bench.py upload  BASE AUTH FILE_ID PATH
    python_bench.py token   BASE AUTH FILE_ID THREADS SECONDS
    python_bench.py batch   BASE AUTH DIR COUNT CONCURRENCY

The endpoints are passed to the client's constructor and also set in
SYPHT_API_BASE_ENDPOINT and SYPHT_AUTH_ENDPOINT, so the client never falls
back to its default hosts.
"""

import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

PRODUCTS = ["invoices"]
CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"


def make_client(base, auth):
    """Create a client bound to the loopback endpoints only."""
    os.environ["SYPHT_API_BASE_ENDPOINT"] = base
    os.environ["SYPHT_AUTH_ENDPOINT"] = auth
    os.environ.pop("SYPHT_API_KEY", None)
    from sypht.client import SyphtClient

    return SyphtClient(CLIENT_ID, CLIENT_SECRET, base_endpoint=base, auth_endpoint=auth)


def status_kib(name):
    """Return a "Name:  N kB" value of /proc/self/status in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{name} is missing from /proc/self/status")


def reset_peak_rss():
    """Reset VmHWM to the current RSS; return False where Linux rejects it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def run_threads(threads, target):
    """Run `target(index)` on `threads` threads; return the wall time."""
    workers = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def bench_results(base, auth, file_id, threads, calls, repeats):
    threads, calls, repeats = int(threads), int(calls), int(repeats)
    client = make_client(base, auth)
    failures = []

    def worker(_index):
        for _ in range(calls // threads):
            try:
                if client.fetch_results(file_id) is None:
                    failures.append("results not FINALISED")
            except Exception as error:  # the client raises bare Exception
                failures.append(str(error))

    # A warm-up round opens the pooled connections.
    run_threads(threads, worker)
    rates = []
    for _ in range(repeats):
        seconds = run_threads(threads, worker)
        rates.append((calls // threads) * threads / seconds)
    if failures:
        print(f"python_bench: {len(failures)} calls failed; first: {failures[0]}", file=sys.stderr)
    return {
        "threads": threads,
        "calls": calls,
        "repeats": repeats,
        "calls_per_second": round(statistics.median(rates), 1),
        "rates": [round(rate, 1) for rate in rates],
        "failed": len(failures),
    }


def bench_upload(base, auth, file_id, path):
    client = make_client(base, auth)
    client.fetch_results(file_id)
    idle_rss = status_kib("VmRSS")
    reset = reset_peak_rss()
    idle_peak = status_kib("VmHWM")
    start = time.perf_counter()
    with open(path, "rb") as document:
        client.upload(document, products=PRODUCTS)
    seconds = time.perf_counter() - start
    peak = status_kib("VmHWM")
    baseline = idle_rss if reset else idle_peak
    return {
        "bytes": os.path.getsize(path),
        "seconds": round(seconds, 3),
        "idle_rss_kib": idle_rss,
        "peak_rss_kib": peak,
        "peak_rise_kib": peak - baseline,
        "peak_reset": reset,
    }


def bench_token(base, auth, file_id, threads, seconds):
    threads, seconds = int(threads), float(seconds)
    client = make_client(base, auth)
    stop_at = time.monotonic() + seconds
    counts = [0] * threads
    failures = []

    def worker(index):
        while time.monotonic() < stop_at:
            try:
                client.fetch_results(file_id)
            except Exception as error:  # the client raises bare Exception
                failures.append(str(error))
            counts[index] += 1

    elapsed = run_threads(threads, worker)
    if failures:
        print(f"python_bench: {len(failures)} calls failed; first: {failures[0]}", file=sys.stderr)
    return {"threads": threads, "seconds": round(elapsed, 3), "calls": sum(counts), "failed": len(failures)}


def bench_batch(base, auth, directory, count, concurrency):
    count, concurrency = int(count), int(concurrency)
    client = make_client(base, auth)
    paths = [os.path.join(directory, f"doc-{i:03d}.pdf") for i in range(count)]
    failures = []

    def process(path):
        try:
            with open(path, "rb") as document:
                file_id = client.upload(document, products=PRODUCTS)
            if client.fetch_results(file_id) is None:
                failures.append(f"{path}: results not FINALISED")
        except Exception as error:  # the client raises bare Exception
            failures.append(f"{path}: {error}")

    start = time.perf_counter()
    if concurrency == 1:
        for path in paths:
            process(path)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(process, paths))
    seconds = time.perf_counter() - start
    if failures:
        print(f"python_bench: {len(failures)} documents failed; first: {failures[0]}", file=sys.stderr)
    return {
        "documents": count,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "documents_per_second": round(count / seconds, 2),
        "failed": len(failures),
    }


COMMANDS = {
    "results": (bench_results, 6),
    "upload": (bench_upload, 4),
    "token": (bench_token, 5),
    "batch": (bench_batch, 5),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(f"usage: {argv[0]} {'|'.join(COMMANDS)} BASE AUTH ...; see the module docstring", file=sys.stderr)
        return 2
    function, arity = COMMANDS[argv[1]]
    arguments = argv[2:]
    if len(arguments) != arity:
        print(f"python_bench: {argv[1]} takes {arity} arguments, not {len(arguments)}", file=sys.stderr)
        return 2
    outcome = function(*arguments)
    print(json.dumps(outcome))
    return 1 if outcome.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
