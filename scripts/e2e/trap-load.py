#!/usr/bin/env python3
"""Kill/restart load run of `depeer trap` (driven by scripts/e2e/trap-load).

Starts the trap on 127.0.0.1, puts load on it with Postfix's smtp-source
(SESSIONS parallel sessions) and with ACKERS client threads of its own that
give every message a unique Message-ID and record the IDs that got a 250
after DATA (smtp-source cannot say which of its messages got one). The trap
is SIGKILLed KILLS times while under load and restarted on the same data
directory; at the end it is stopped with SIGTERM. Then every recorded ID
must be stored exactly once, and no ID twice.

Usage: trap-load.py DEPEER [--sessions 50] [--messages 20000] [--kills 3] [--ackers 8]
Bounds: sessions + ackers <= 100, smtp-source messages <= 200,000 in all.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_trap(depeer, data, port, log):
    p = subprocess.Popen(
        [depeer, "trap", "--listen", f"127.0.0.1:{port}", "--data", data, "--hostname",
         "load.trap.test", "--no-attribute", "--max-conns-per-ip", "200"],
        stdout=subprocess.PIPE, stderr=log)
    line = p.stdout.readline().decode()
    if not line.startswith("listening on"):
        raise SystemExit(f"trap did not start: {line!r}")
    return p


class Acker(threading.Thread):
    """Sends messages one session after another; records each 250 after DATA."""

    def __init__(self, n, port, stop, acked, lock):
        super().__init__(daemon=True)
        self.n, self.port, self.stop, self.acked, self.lock = n, port, stop, acked, lock
        self.sent = 0

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            except OSError:
                time.sleep(0.05)
                continue
            f = s.makefile("rb")
            try:
                def reply():
                    while True:
                        line = f.readline()
                        if not line:
                            raise OSError("closed")
                        if line[3:4] != b"-":
                            return int(line[:3])
                if reply() != 220:
                    raise OSError("no greeting")
                s.sendall(b"EHLO acker.test\r\n")
                if reply() != 250:
                    raise OSError("ehlo")
                while not self.stop.is_set():
                    mid = f"ack-{self.n}-{i}@load.test"
                    i += 1
                    s.sendall(b"MAIL FROM:<a@load.test>\r\nRCPT TO:<v@trap.example>\r\nDATA\r\n")
                    if (reply(), reply(), reply()) != (250, 250, 354):
                        raise OSError("envelope")
                    body = (f"From: a@load.test\r\nTo: v@trap.example\r\nSubject: load {mid}\r\n"
                            f"Message-ID: <{mid}>\r\n\r\nhttp://load.example/{i}\r\n.\r\n")
                    self.sent += 1
                    s.sendall(body.encode())
                    code = reply()
                    if code == 250:
                        with self.lock:
                            self.acked.append(mid)
            except (OSError, ValueError):
                pass
            finally:
                s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("depeer")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--messages", type=int, default=20000, help="smtp-source messages per phase")
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--ackers", type=int, default=8)
    ap.add_argument("--phase-seconds", type=float, default=4.0)
    a = ap.parse_args()
    assert a.sessions + a.ackers <= 100 and a.messages * (a.kills + 1) <= 200_000
    smtp_source = "/usr/sbin/smtp-source"
    work = tempfile.mkdtemp(prefix="depeer-trap-load.")
    data = os.path.join(work, "data")
    port = free_port()
    log = open(os.path.join(work, "trap.log"), "wb")
    trap = start_trap(a.depeer, data, port, log)
    stop, lock, acked = threading.Event(), threading.Lock(), []
    ackers = [Acker(n, port, stop, acked, lock) for n in range(a.ackers)]
    for t in ackers:
        t.start()
    sources = []
    for phase in range(a.kills + 1):
        src = subprocess.Popen(
            [smtp_source, "-s", str(a.sessions), "-m", str(a.messages), "-l", "2000",
             "-f", "load@source.test", "-t", "victim@trap.example", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sources.append(src)
        time.sleep(a.phase_seconds)
        if phase < a.kills:
            trap.send_signal(signal.SIGKILL)
            trap.wait()
            before = len(acked)
            src.kill()
            src.wait()
            trap = start_trap(a.depeer, data, port, log)
            print(f"phase {phase}: SIGKILLed the trap with {before} acknowledged so far; restarted")
    stop.set()
    for t in ackers:
        t.join(timeout=30)
    src = sources[-1]
    try:
        src.wait(timeout=120)
    except subprocess.TimeoutExpired:
        src.kill()
    trap.send_signal(signal.SIGTERM)
    out, _ = trap.communicate(timeout=300)
    summary = json.loads(out.decode().strip().splitlines()[-1])
    q = subprocess.run(
        [a.depeer, "sql", "--data", data, "--json",
         "SELECT message_id, count(*) AS n FROM messages WHERE message_id LIKE 'ack-%' GROUP BY 1"],
        capture_output=True, check=True)
    stored = {r["message_id"]: r["n"] for r in json.loads(q.stdout)}
    total = subprocess.run(
        [a.depeer, "sql", "--data", data, "--json", "SELECT count(*) AS n FROM messages"],
        capture_output=True, check=True)
    total = json.loads(total.stdout)[0]["n"]
    missing = [m for m in acked if stored.get(m, 0) == 0]
    twice = [m for m, n in stored.items() if n != 1]
    sent = sum(t.sent for t in ackers)
    print(f"ackers: {sent} sent, {len(acked)} acknowledged, {len(stored)} of their IDs stored; "
          f"{total} messages stored in all (smtp-source included); {a.kills} SIGKILLs")
    print(f"last run summary: {json.dumps(summary)}")
    if missing or twice or len(acked) == 0:
        print(f"FAILED: {len(missing)} acknowledged but not stored (e.g. {missing[:3]}), "
              f"{len(twice)} stored more than once (e.g. {twice[:3]})", file=sys.stderr)
        sys.exit(1)
    print("every message that got a 250 is stored exactly once")
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
