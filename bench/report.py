"""Summarise the `make bench` measurements (used by bench/run.sh).

    report.py token-gaps SINCE CAPACITY < emulator-request-log.json
    report.py callgrind SMALL.out LARGE.out CALLS_APART SELF.txt INCLUSIVE.txt
    report.py strace STRACE_SUMMARY.txt CALLS
    report.py write RESULTS.jsonl BENCHMARKS.md --started ISO --load-before L --load-after L --python-client V

`token-gaps`, `callgrind` and `strace` print one JSON object for results.jsonl;
`write` prints the table and writes BENCHMARKS.md. Standard library only.
"""

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
from datetime import datetime

TOKEN_PATHS = ("/oauth2/token", "/oauth/token")
# Functions whose inclusive cost per call is shown, by the name callgrind
# gives them (a substring of it).
STAGES = [
    ("sypht_get_results", "whole C call"),
    ("sypht::client::Client::send_authenticated", "HTTP request and response (libsypht + ureq)"),
    ("ureq::run::run", "ureq request/response state machine"),
    ("sypht::http::Agents::for_url", "choosing the agent (proxy rules, fork check)"),
    ("sypht::http::read_body", "reading the body into a Vec"),
    ("sypht::http::scrub_secrets", "checking the body for echoed secrets"),
    ("serde_json::de::from_trait", "parsing the body (raw field values, no JSON tree)"),
    ("sypht::client::RawResults::field_map_json", "writing the field map JSON for C"),
]


def token_gaps(since, capacity):
    """Print token request count and smallest gap since ISO time `since`,
    from a request log that keeps the latest `capacity` requests."""
    capacity = int(capacity)
    log = json.load(sys.stdin)["requests"]
    start = datetime.fromisoformat(since.replace("Z", "+00:00"))
    times = sorted(
        datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
        for entry in log
        if entry["path"].rstrip("/") in TOKEN_PATHS
        and datetime.fromisoformat(entry["time"].replace("Z", "+00:00")) >= start
    )
    gaps = [(b - a).total_seconds() * 1000 for a, b in zip(times, times[1:])]
    # The emulator keeps the latest `capacity` requests, so an early part
    # of a long run may be missing from the log.
    complete = len(log) < capacity
    print(json.dumps({
        "logged": len(times),
        "min_gap_ms": round(min(gaps)) if gaps else None,
        "log_complete": complete,
        "log_capacity": capacity,
    }))


def callgrind_total(path):
    """Return the instruction total recorded in a callgrind output file."""
    with open(path) as data:
        for line in data:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise SystemExit(f"report.py: no totals line in {path}")


def parse_annotate(path):
    """Yield (instructions, function) rows of callgrind_annotate output."""
    pattern = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)$")
    with open(path) as text:
        for line in text:
            match = pattern.match(line)
            if match and "PROGRAM TOTALS" not in line:
                yield int(match.group(1).replace(",", "")), match.group(2)


def short_name(function):
    """Strip the file prefix and binary suffix from a callgrind name."""
    function = function.split(" [")[0]
    if ":" in function and not function.startswith("<"):
        prefix, rest = function.split(":", 1)
        if "/" in prefix or prefix.startswith("."):
            function = rest
    return function


def callgrind(small, large, calls_apart, self_txt, inclusive_txt):
    """Print instructions per call and the largest costs per call."""
    calls_apart = int(calls_apart)
    per_call = (callgrind_total(large) - callgrind_total(small)) / calls_apart
    # callgrind_annotate counts over the larger run; both warm-up and
    # measured rounds are calls, so the run makes 2 x 1200 of them.
    calls_in_large = 2400
    top = []
    for instructions, function in parse_annotate(self_txt):
        name = short_name(function)
        if name not in [entry["function"] for entry in top]:
            top.append({"function": name, "per_call": round(instructions / calls_in_large)})
        if len(top) == 12:
            break
    rows = list(parse_annotate(inclusive_txt))
    stages = []
    for needle, label in STAGES:
        costs = [instructions for instructions, function in rows if needle in function]
        if costs:
            stages.append({"stage": label, "function": needle, "per_call": round(max(costs) / calls_in_large)})
    print(json.dumps({"instructions_per_call": round(per_call), "top_self": top, "stages": stages}))


def strace_summary(path, calls):
    """Print system calls per results call from an `strace -c` summary."""
    calls = int(calls)
    by_syscall = {}
    with open(path) as summary:
        for line in summary:
            fields = line.split()
            # Rows: % time, seconds, usecs/call, calls, [errors,] syscall.
            if len(fields) >= 5 and fields[0].replace(".", "").isdigit() and fields[-1] != "total":
                by_syscall[fields[-1]] = int(fields[3])
    # The warm-up round also counts, and start-up adds a few calls.
    per_call = {name: round(count / calls, 2) for name, count in by_syscall.items() if count >= calls / 2}
    print(json.dumps({
        "calls": calls,
        "syscalls_per_call": round(sum(by_syscall.values()) / calls, 1),
        "by_syscall": dict(sorted(per_call.items(), key=lambda item: -item[1])),
    }))


def command_output(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "not found"


def cpu_model():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def ratio(value, reference):
    if value is None or not reference:
        return None
    return value / reference


def fmt_ratio(value):
    if value is None:
        return ""
    return f"{value:.3f}x" if value < 0.01 else f"{value:.2f}x"


def fmt_percent(value):
    return "" if value is None else f"{value * 100:.0f}%"


def verdict(ok):
    return "met" if ok else "MISSED"


def load_results(path):
    results = {}
    with open(path) as lines:
        for line in lines:
            entry = json.loads(line)
            results[(entry["scenario"], entry["contender"])] = entry["data"]
    return results


def build_rows(results, documents):
    """Return the table rows and the goal verdicts."""
    rows = []
    get = lambda scenario, contender: results.get((scenario, contender)) or {}

    for scenario, connections, goal_share in (("results-1", 1, 0.8), ("results-4", 4, 0.6)):
        wrk = get(scenario, "wrk").get("requests_per_second")
        python = get(scenario, "python").get("calls_per_second")
        lib = get(scenario, "libsypht").get("calls_per_second")
        threads = 1 if connections == 1 else 4
        title = f"results, {threads} thread{'s' if threads > 1 else ''}, {get(scenario, 'libsypht').get('calls', '?')} calls"
        rows.append([title, f"wrk, {connections} connection{'s' if connections > 1 else ''}",
                     f"{wrk:,.0f} req/s" if wrk else "n/a", fmt_ratio(ratio(wrk, python)), "100%", "", ""])
        rows.append([title, "Python client", f"{python:,.0f} calls/s" if python else "n/a", "1.00x",
                     fmt_percent(ratio(python, wrk)), "", ""])
        lib_vs_python = ratio(lib, python)
        lib_vs_wrk = ratio(lib, wrk)
        if scenario == "results-1":
            goal = f">= 10x Python and >= {goal_share:.0%} of wrk"
            ok = lib_vs_python is not None and lib_vs_wrk is not None and lib_vs_python >= 10 and lib_vs_wrk >= goal_share
        else:
            goal = f">= {goal_share:.0%} of wrk over 4 connections"
            ok = lib_vs_wrk is not None and lib_vs_wrk >= goal_share
        rows.append([title, "libsypht", f"{lib:,.0f} calls/s" if lib else "n/a", fmt_ratio(lib_vs_python),
                     fmt_percent(lib_vs_wrk), goal, verdict(ok)])

    for scenario, limit_mib in (("upload-20mib", 4), ("upload-big", 16)):
        python = get(scenario, "python")
        lib = get(scenario, "libsypht")
        size = lib.get("bytes") or python.get("bytes") or 0
        title = f"upload {size / 2**20:,.0f} MiB: peak RSS rise"
        python_rise = python.get("peak_rise_kib")
        lib_rise = lib.get("peak_rise_kib")
        rows.append([title, "Python client", f"{python_rise / 1024:,.1f} MiB" if python_rise is not None else "n/a",
                     "1.00x", "", "", ""])
        ok = lib_rise is not None and lib_rise <= limit_mib * 1024
        rows.append([title, "libsypht", f"{lib_rise / 1024:,.2f} MiB" if lib_rise is not None else "n/a",
                     fmt_ratio(ratio(lib_rise, python_rise)), "", f"<= {limit_mib} MiB above idle", verdict(ok)])

    for contender, label in (("python", "Python client"), ("libsypht", "libsypht")):
        token = get("token", contender)
        run = token.get("run") or {}
        # The requested duration: the measured one runs a little longer,
        # which would add a window that the run never really used.
        seconds = token.get("duration_seconds") or run.get("seconds") or 0
        lifetime = token.get("lifetime_seconds") or 0
        count = token.get("token_requests")
        gaps = token.get("gaps") or {}
        title = f"token: {run.get('threads', '?')} threads, {seconds:.0f} s, {lifetime} s lifetime"
        figure = "n/a" if count is None else f"{count:,} token requests, {run.get('calls', 0):,} calls"
        if gaps.get("min_gap_ms") is not None:
            figure += f", min gap {gaps['min_gap_ms']} ms"
            if not gaps.get("log_complete") and gaps.get("logged") != count:
                log_capacity = gaps.get("log_capacity", 10_000)
                figure += f" (between the last {gaps['logged']}; the emulator keeps the latest {log_capacity:,} requests)"
        if contender == "libsypht" and lifetime and seconds:
            windows = math.ceil(seconds / lifetime)
            # libsypht refreshes a tenth of the lifetime early, so each
            # refresh interval is 0.9 x lifetime.
            expected = math.ceil(seconds / (lifetime * 0.9))
            no_burst = gaps.get("min_gap_ms") is None or gaps["min_gap_ms"] >= lifetime * 0.9 * 1000 * 0.9
            ok = count is not None and count <= expected and no_burst and not run.get("failed")
            goal = f"= lifetime windows ({windows}; {expected} with the 10% early refresh), no burst"
            rows.append([title, label, figure, "", "", goal, verdict(ok)])
        else:
            rows.append([title, label, figure, "", "", "", ""])

    python = get("batch", "python").get("documents_per_second")
    python_threads = get("batch", "python-threads").get("documents_per_second")
    lib = get("batch", "libsypht").get("documents_per_second")
    title = f"{documents} documents, upload + results, 20 ms latency"
    rows.append([title, "Python client, sequential", f"{python:,.1f} docs/s" if python else "n/a", "1.00x", "", "", ""])
    rows.append([title, "Python client, 8 threads (own pool)", f"{python_threads:,.1f} docs/s" if python_threads else "n/a",
                 fmt_ratio(ratio(python_threads, python)), "", "", ""])
    lib_vs_python = ratio(lib, python)
    rows.append([title, "libsypht batch helper, concurrency 8", f"{lib:,.1f} docs/s" if lib else "n/a",
                 fmt_ratio(lib_vs_python), "", ">= 6x Python", verdict(lib_vs_python is not None and lib_vs_python >= 6)])

    cpu = get("cpu", "libsypht")
    per_call = cpu.get("instructions_per_call")
    rows.append(["per-call CPU (results call)", "libsypht",
                 f"{per_call:,} instructions" if per_call else "n/a", "", "", "reported", "met" if per_call else "MISSED"])
    return rows


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(["-" * width for width in widths])] + [line(row) for row in rows])


def write(arguments):
    results = load_results(arguments.results)
    documents = (results.get(("batch", "libsypht")) or {}).get("documents", "?")
    header = ["Scenario", "Contender", "Figure", "vs Python", "vs wrk", "Goal", "Result"]
    rows = build_rows(results, documents)
    print(text_table(header, rows))

    cpu = results.get(("cpu", "libsypht")) or {}
    machine = [
        f"- Date: {arguments.started} (UTC)",
        f"- Cores: {os.cpu_count()} ({cpu_model()}), shared with other work; "
        f"load average (1, 5, 15 min) {arguments.load_before} before and {arguments.load_after} after",
        f"- Kernel: {platform.release()}; {command_output('rustc', '--version')}; "
        f"official Python client sypht=={arguments.python_client} on Python {platform.python_version()}; "
        f"{command_output('wrk', '--version').split(' [')[0] or 'wrk'}",
    ]
    stage_rows = [[s["stage"], f"`{s['function']}`", f"{s['per_call']:,}"] for s in cpu.get("stages", [])]
    top_rows = [[f"`{t['function']}`", f"{t['per_call']:,}"] for t in cpu.get("top_self", [])]
    syscalls = results.get(("syscalls", "libsypht")) or {}
    syscall_rows = [[f"`{name}`", f"{count:.2f}"] for name, count in syscalls.get("by_syscall", {}).items()]
    wrk_one = (results.get(("results-1", "wrk")) or {}).get("requests_per_second")
    python_one = (results.get(("results-1", "python")) or {}).get("calls_per_second")
    ceiling_note = ""
    if wrk_one and python_one and wrk_one / python_one < 10:
        ceiling_note = (
            f"\nIn this run wrk itself reaches {wrk_one / python_one:.2f}x the Python client over one "
            "connection, so no client could meet the 10x part of the single-thread goal here.\n"
        )
    document = f"""# Benchmarks

Produced by `make bench` (bench/run.sh), which overwrites this page. Every
server listens on 127.0.0.1 and every client is given its endpoints, so no
figure involves another host.

## Machine

{chr(10).join(machine)}

## Results

{markdown_table(header, rows)}

"vs Python" divides the figure by the Python client's figure in the same
scenario (for memory, a smaller ratio is better); "vs wrk" divides it by
wrk's rate over the same number of connections.
{ceiling_note}
## Method

- **Servers.** `sypht-bench-server` (bench/src/main.rs) returns fixed
  responses for the token, upload and results endpoints, with one thread
  per connection and keep-alive, and reads upload bodies without storing
  them. A second instance waits 20 ms before each upload and results
  response (the batch scenario). The token scenario runs against
  `sypht-emulator`, which rejects expired tokens.
- **wrk** shows the fixed server's ceiling on the results endpoint: one
  connection (`-t1 -c1`) and four (`-t2 -c4`), 5 s each; the figure is the
  median of 3 runs.
- **libsypht** runs through its C interface from bench/bench.c, linked
  against libsypht.a; the results scenarios call `sypht_get_results`.
- **Python client**: the official `sypht` package from PyPI in a
  virtualenv, driven by bench/python_bench.py; the results scenarios call
  `fetch_results`, which also returns a field map. Threads share one client.
- **Results rates** are the median of 3 rounds of the given number of
  calls, after one warm-up round.
- **Peak RSS rise**: the process resets its peak (writing 5 to
  /proc/self/clear_refs) once the client is authenticated and has made one
  results call, uploads the file, then subtracts the RSS before the upload
  from VmHWM. The large file is sparse, so reading it costs no disk I/O.
- **Token requests** are counted by the emulator (`/_emulator/stats`); the
  smallest gap between them comes from its request log.
- **Batch**: libsypht calls `sypht_process_batch` once with concurrency 8;
  the Python client uploads and fetches results for each document in turn
  (sequential, its only built-in way), and again from an 8-thread pool
  written in the benchmark.
- **Instructions per call**: callgrind runs 200 and 1200 results calls
  (each after a warm-up round of the same size) and divides the difference
  of the totals by the 2000 calls between them.

## Where a results call spends its instructions

Inclusive instructions per call of the main stages:

{markdown_table(["Stage", "Function", "Instructions per call"], stage_rows)}

Largest self costs per call:

{markdown_table(["Function", "Instructions per call"], top_rows)}

## System calls per results call

`strace -f -c` over {syscalls.get("calls", "?")} results calls (a warm-up round and a measured
round of {syscalls.get("calls", 0) // 2}) counts {syscalls.get("syscalls_per_call", "?")} system calls per call in all.
Those made at least once every two calls:

{markdown_table(["System call", "Per call"], syscall_rows)}
"""
    with open(arguments.output, "w") as output:
        output.write(document)


def main(argv):
    if len(argv) == 4 and argv[1] == "token-gaps":
        token_gaps(argv[2], argv[3])
        return 0
    if len(argv) == 7 and argv[1] == "callgrind":
        callgrind(*argv[2:])
        return 0
    if len(argv) == 4 and argv[1] == "strace":
        strace_summary(argv[2], argv[3])
        return 0
    parser = argparse.ArgumentParser(prog="report.py write")
    parser.add_argument("command", choices=["write"])
    parser.add_argument("results")
    parser.add_argument("output")
    parser.add_argument("--started", required=True)
    parser.add_argument("--load-before", required=True)
    parser.add_argument("--load-after", required=True)
    parser.add_argument("--python-client", required=True)
    write(parser.parse_args(argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
