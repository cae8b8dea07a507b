"""Generation and a no-op `update` of the README example by two or more
builds of the CLI, interleaved run by run so that a drift of the machine
touches them alike (hyperfine runs one command's series after the other's).
Prints the median wall and CPU (user + sys) milliseconds of each, whole
processes, output on tmpfs, `--vcs none`. Run by bench/generate.sh when
BENCH_BASELINE is set; by hand:

    python3 bench/alternate.py RUNS ANSWERS WORKDIR CLI [CLI...]
"""

import resource
import shutil
import statistics
import subprocess
import sys
import time


def timed(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def main():
    runs, answers, work, *clis = sys.argv[1:]
    quiet = ["--answers", answers, "--vcs", "none", "--quiet"]
    projects = [f"{work}/project-{index}" for index in range(len(clis))]
    for cli, project in zip(clis, projects):
        subprocess.run([cli, project, *quiet], check=True)
    times = {cli: {"generate": [], "update": []} for cli in clis}
    for _ in range(int(runs)):
        for cli, project in zip(clis, projects):
            shutil.rmtree(f"{work}/new", ignore_errors=True)
            times[cli]["generate"].append(timed([cli, f"{work}/new", *quiet]))
            times[cli]["update"].append(timed([cli, "update", "--quiet", project]))
    for cli in clis:
        line = []
        for what, samples in times[cli].items():
            wall = statistics.median(sample[0] for sample in samples)
            cpu = statistics.median(sample[1] for sample in samples)
            line.append(f"{what} {wall:.2f} ms wall, {cpu:.2f} ms CPU")
        print(f"{cli}: {'; '.join(line)}")


main()
