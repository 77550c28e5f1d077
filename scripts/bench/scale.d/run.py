#!/usr/bin/env python3
"""scripts/bench/scale: embedded vs NATS ingest of the same mail (see ../scale)."""
import argparse, json, os, shutil, socket, subprocess, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--depeer", required=True)
p.add_argument("--scale", default="5")
p.add_argument("--seed", default="5")
p.add_argument("--batch", default="10000")
p.add_argument("--out", default=None)
p.add_argument("--rounds", type=int, default=1,
               help="rounds of the three runs, interleaved; the median round of each run is reported")
a = p.parse_args()
D = a.depeer
TCK = os.sysconf("SC_CLK_TCK")
MAXRSS = {}  # peak resident KB of the last run of each command
FAULTS = {}  # its minor page faults


def run(args, cwd=None):
    """Runs depeer; returns (stdout, wall s, cpu s of the process tree)."""
    t = time.monotonic()
    pr = subprocess.Popen([D] + args, cwd=cwd, stdout=subprocess.PIPE)
    out = pr.stdout.read()
    _, status, ru = os.wait4(pr.pid, 0)
    if status != 0:
        raise SystemExit(f"depeer {' '.join(args)} failed: {status}")
    MAXRSS[args[2] if len(args) > 2 else args[0]] = ru.ru_maxrss
    FAULTS[args[2] if len(args) > 2 else args[0]] = ru.ru_minflt
    return out.decode(), time.monotonic() - t, ru.ru_utime + ru.ru_stime


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def prepare(tmp, world, name):
    data = os.path.join(tmp, name)
    for kind, arg in [("mrt", "bgp"), ("as2org", "as2org.jsonl"), ("feed", "feeds")]:
        run(["-q", "ingest", kind, "--json", "--data", data, os.path.join(world, arg)])
    return data


def embedded(tmp, world):
    data = prepare(tmp, world, "embedded")
    out, wall, cpu = run(["-q", "ingest", "mail", "--json", "--data", data, os.path.join(world, "mail")])
    s = json.loads(out.strip().splitlines()[-1])
    return {"messages": s["read"], "stored": s["stored"], "wall": wall, "cpu": cpu,
            "max_rss_mb": MAXRSS.get("mail", 0) / 1024, "minor_faults": FAULTS.get("mail", 0)}


def nats(tmp, world, workers):
    name = f"nats{workers}"
    data = prepare(tmp, world, name)
    port = free_port()
    js = os.path.join(tmp, name + "-js")
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        f.write(f'listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: "{js}"\n}}\n')
    srv = subprocess.Popen(["nats-server", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"nats://127.0.0.1:{port}"
        run(["-q", "nats", "setup", "--nats", url, "--max-bytes", "4G"])
        s0 = proc_cpu(srv.pid)
        out, p_wall, p_cpu = run(["-q", "ingest", "mail", "--json", "--to", url, os.path.join(world, "mail")])
        produced = json.loads(out.strip().splitlines()[-1])
        s1 = proc_cpu(srv.pid)
        idle = 0.5
        t = time.monotonic()
        procs = [subprocess.Popen([D, "-q", "worker", "--json", "--nats", url, "--data", data,
                                   "--batch", a.batch, "--exit-when-idle", str(idle)],
                                  stdout=subprocess.PIPE) for _ in range(workers)]
        w_cpu, sums, w_rss, w_flt = 0.0, [], [], []
        for pr in procs:
            out = pr.stdout.read()
            _, status, ru = os.wait4(pr.pid, 0)
            if status != 0:
                raise SystemExit(f"worker failed: {status}")
            w_cpu += ru.ru_utime + ru.ru_stime
            w_rss.append(ru.ru_maxrss / 1024)
            w_flt.append(ru.ru_minflt)
            sums.append(json.loads(out.decode().strip().splitlines()[-1]))
        # The workers wait `idle` seconds with nothing to do before they stop.
        w_wall = time.monotonic() - t - idle
        s2 = proc_cpu(srv.pid)
    finally:
        srv.terminate()
        srv.wait()
    n = sum(s["messages"] for s in sums)
    return {
        "workers": workers, "messages": n, "stored": sum(s["stored"] for s in sums),
        "produce_wall": p_wall, "produce_cpu": p_cpu, "server_cpu_produce": s1 - s0,
        "objects": produced["objects"], "wall": w_wall, "workers_cpu": w_cpu,
        "server_cpu_consume": s2 - s1, "commits": sum(s["commits"] for s in sums),
        "worker_summaries": sums, "producer": produced, "worker_max_rss_mb": w_rss, "worker_minor_faults": w_flt,
    }


def main():
    tmp = tempfile.mkdtemp(prefix="depeer-bench-scale.")
    try:
        world = os.path.join(tmp, "world")
        run(["-q", "sim", "--scenario", "mccolo-2008", "--seed", a.seed, "--scale", a.scale, "--out", world])
        load = [loadavg()]
        es, n1s, n2s = [], [], []
        for i in range(max(1, a.rounds)):
            rdir = os.path.join(tmp, f"round{i}")
            os.mkdir(rdir)
            es.append(embedded(rdir, world))
            load.append(loadavg())
            n1s.append(nats(rdir, world, 1))
            load.append(loadavg())
            n2s.append(nats(rdir, world, 2))
            load.append(loadavg())
            shutil.rmtree(rdir, ignore_errors=True)
            c = lambda r: (r["workers_cpu"] + r["server_cpu_consume"]) / r["messages"]
            print(f"round {i + 1}: embedded {1000 * es[-1]['cpu'] / es[-1]['messages']:.3f} CPU ms/msg, "
                  f"NATS 1 worker {1000 * c(n1s[-1]):.3f}, 2 workers {1000 * c(n2s[-1]):.3f}; load {loadavg()}", flush=True)
        median = lambda rs, key: sorted(rs, key=key)[(len(rs) - 1) // 2]
        consume = lambda r: (r["workers_cpu"] + r["server_cpu_consume"]) / r["messages"]
        e = median(es, lambda r: r["cpu"] / r["messages"])
        n1 = median(n1s, consume)
        n2 = median(n2s, consume)
        nproc = os.cpu_count()
        lines = [
            f"# scale bench: mccolo-2008 scale {a.scale} seed {a.seed}, batch {a.batch}, {nproc} cores, "
            f"{max(1, a.rounds)} round(s), the median round of each run",
            f"load average (1/5/15 min) before and after each run: {' | '.join(load)}",
            "",
            "| run | messages | wall s | messages/s | CPU s | CPU ms/message | vs embedded per CPU-s |",
            "|---|---|---|---|---|---|---|",
        ]
        base = e["cpu"] / e["messages"]
        lines.append(f"| embedded `ingest mail` | {e['messages']} | {e['wall']:.2f} | {e['messages']/e['wall']:.0f} | {e['cpu']:.2f} | {1000*base:.3f} | 1.00 |")
        for r in (n1, n2):
            c = r["workers_cpu"] + r["server_cpu_consume"]
            lines.append(f"| NATS, {r['workers']} worker(s): workers + nats-server | {r['messages']} | {r['wall']:.2f} | {r['messages']/r['wall']:.0f} | {c:.2f} | {1000*c/r['messages']:.3f} | {base/(c/r['messages']):.2f} |")
            c2 = c + r["produce_cpu"] + r["server_cpu_produce"]
            w2 = r["wall"] + r["produce_wall"]
            lines.append(f"| NATS, {r['workers']} worker(s), end to end (+ producer, + server while publishing) | {r['messages']} | {w2:.2f} | {r['messages']/w2:.0f} | {c2:.2f} | {1000*c2/r['messages']:.3f} | {base/(c2/r['messages']):.2f} |")
        lines.append("")
        for r in (n1, n2):
            lines.append(f"- {r['workers']} worker(s): producer published {r['objects']} objects in {r['produce_wall']:.2f} s "
                         f"({r['objects']/r['produce_wall']:.0f}/s; producer CPU {r['produce_cpu']:.2f} s, nats-server {r['server_cpu_produce']:.2f} s); "
                         f"workers {r['workers_cpu']:.2f} CPU-s, nats-server {r['server_cpu_consume']:.2f} CPU-s while they consumed; {r['commits']} commits")
        ratios = []
        for r in (n1, n2):
            c = (r["workers_cpu"] + r["server_cpu_consume"]) / r["messages"]
            ratios.append(f"{r['workers']} worker(s) {1000*c:.3f} ms/msg ({base/c:.2f} of embedded per CPU-s)")
        lines.append("")
        lines.append(f"SUMMARY scale: embedded {1000*base:.3f} CPU ms/msg; NATS workers + nats-server: "
                     + "; ".join(ratios) + "; target >= 0.83 (within 20 %)")
        text = "\n".join(lines) + "\n"
        print(text)
        print(json.dumps({"embedded": e, "nats1": n1, "nats2": n2,
                          "rounds": {"embedded": es, "nats1": n1s, "nats2": n2s}}))
        if a.out:
            with open(a.out, "w") as f:
                f.write(text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
