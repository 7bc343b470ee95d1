"""Run the benchmarks against PostgreSQL: `python -m bench.run [NAME ...]`.

Each bench/bench_<name>.py module has `run() -> list[Figure]`; each runs in its own
process on a freshly migrated database (so peak memory is its own). Results go to
bench-results/results.json (figure, value, unit, machine, date, commit),
bench-results/results.md (a table) and bench-results/chart.png.
"""

import argparse
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench-results")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/gatehouse_bench"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py"))


def fresh_database(url: str) -> None:
    """Drop and recreate the benchmark database, then migrate it."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def run_one(name: str) -> None:
    """In a child process: set up Django, run one benchmark, print its figures as JSON."""
    import django

    django.setup()
    module = importlib.import_module(f"bench.bench_{name}")
    figures = module.run()
    print("BENCH-JSON " + json.dumps([f.as_dict() for f in figures]))


def _shown(value) -> str:
    return "—" if value is None else f"{value:.6g}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(available())})")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not args.one:  # never the operator's DATABASE_URL: the benchmark database is dropped
        os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.one:
        run_one(args.one)
        return 0
    names = args.names or available()
    unknown = set(names) - set(available())
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    machine = f"{platform.node()} {os.cpu_count()} cores {platform.machine()} Python {platform.python_version()}"
    date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    results = []
    for name in names:
        fresh_database(os.environ["DATABASE_URL"])
        print(f"== {name}", flush=True)
        done = subprocess.run([sys.executable, "-m", "bench.run", "--one", name], cwd=ROOT,
                              capture_output=True, text=True)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH-JSON ")), None)
        if done.returncode or line is None:
            print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
            results.append({"benchmark": name, "figure": "error", "value": None, "unit": "",
                            "note": done.stderr.strip().splitlines()[-1][:300] if done.stderr.strip() else "failed",
                            "machine": machine, "date": date, "commit": commit})
            continue
        for figure in json.loads(line.removeprefix("BENCH-JSON ")):
            results.append({"benchmark": name, **figure, "machine": machine, "date": date, "commit": commit})
            print(f"   {figure['figure']}: {figure['value']:.6g} {figure['unit']} {figure['note']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2))
    table = ["| benchmark | figure | value | unit | note |", "|---|---|---|---|---|"]
    table += [f"| {r['benchmark']} | {r['figure']} | {_shown(r['value'])} | {r['unit']} | {r['note']} |"
              for r in results]
    (RESULTS / "results.md").write_text(f"Machine: {machine}; {date}; commit {commit}\n\n" + "\n".join(table) + "\n")
    from bench.chart import chart_png

    note = chart_png(results, RESULTS / "chart.png")
    print(f"Results: {RESULTS / 'results.json'}, {RESULTS / 'results.md'}; {note}")
    return 1 if any(r["figure"] == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
