#!/usr/bin/env python3
"""Driver of scripts/bench/trap (runs inside its network namespace, as root).

For each server in turn (depeer trap on 127.0.0.1:2526, Postfix catch-all
Maildir trap on 127.0.0.1:2525), in a cgroup (cpuacct) of its own:
  FILES smtp-source processes in parallel, SESSIONS/FILES sessions each,
  MESSAGES/FILES messages each, each sending one restamped real spam file (-F);
  acknowledged messages/s = MESSAGES / wall time of the smtp-source runs;
  server CPU-seconds = the cgroup's cpuacct.usage once every message is stored
  (depeer: after its drain, which commits and attributes; Postfix: once every
  message is in the Maildir).
"""
import argparse
import email.utils
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CG = "/sys/fs/cgroup/cpuacct"


# KEEP_ROUNDS: each round's files are deleted only at the end of the whole
# run. ext4 without a journal (this machine's /var/tmp) does not reuse an
# inode deleted within the last minutes: every file created scans past the
# recently deleted ones (`recently_deleted` in fs/ext4/ialloc.c). Deleting
# a round's 20,000 files right before the next server started made that
# scan a fifth of depeer's CPU in the next run (perf, 2026-12-07), the
# spread between runs.


def cgroup(name):
    path = os.path.join(CG, name)
    if os.path.isdir(path):
        os.rmdir(path)
    os.mkdir(path)
    return path


def cpu_seconds(path):
    with open(os.path.join(path, "cpuacct.usage")) as f:
        return int(f.read()) / 1e9


def in_cgroup(path):
    def pre():
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    return pre


def restamp(spam_dir, n, out_dir):
    """n real spam messages, restamped: today's Date, a new Message-ID, CRLF."""
    files = []
    # The SpamAssassin public corpus: real spam as received (the other
    # directories hold test fixtures and phishing mboxes).
    for root, _, names in sorted(os.walk(os.path.join(spam_dir, "spamassassin-publiccorpus"))):
        for name in sorted(names):
            if name.endswith(".txt"):
                files.append(os.path.join(root, name))
    picked = []
    for path in files:
        raw = open(path, "rb").read()
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1]
        if 3000 <= len(raw) <= 12000 and b"\nSubject:" in raw:
            picked.append((path, raw))
        if len(picked) == n:
            break
    out = []
    for i, (path, raw) in enumerate(picked):
        head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        lines = [l for l in head.split(b"\n")
                 if not l.lower().startswith((b"date:", b"message-id:"))]
        lines.append(b"Date: " + email.utils.formatdate(usegmt=True).encode())
        lines.append(b"Message-ID: <bench-%d-%d@restamped.example>" % (i, time.time_ns()))
        msg = b"\n".join(lines) + b"\n\n" + body
        p = os.path.join(out_dir, f"msg{i}.eml")
        with open(p, "wb") as f:
            f.write(msg)
        out.append((p, path, len(msg)))
    return out


def smtp_source(port, msgs, total, sessions):
    per = total // len(msgs)
    procs = []
    t0 = time.monotonic()
    for p, _, _ in msgs:
        procs.append(subprocess.Popen(
            ["/usr/sbin/smtp-source", "-s", str(max(1, sessions // len(msgs))), "-m", str(per),
             "-F", p, "-f", "sender@restamped.example", "-t", "victim@trap.example",
             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    errors = b""
    for pr in procs:
        _, err = pr.communicate()
        errors += err
        if pr.returncode != 0:
            errors += b"exit %d\n" % pr.returncode
    return time.monotonic() - t0, per * len(msgs), errors.decode(errors="replace")


def wait_port(port):
    import socket
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def run_depeer(a, work, msgs, binary=None):
    extra = [] if binary else a.trap_arg
    binary = binary or a.depeer
    cg = cgroup("depeer-bench-trap")
    data = os.path.join(work, "trap-data")
    shutil.rmtree(data, ignore_errors=True)
    trap = subprocess.Popen(
        [binary, "trap", "--listen", "127.0.0.1:2526", "--data", data, "--hostname",
         "trap.bench.test", "--max-conns-per-ip", "1000", "--committers", str(a.committers)]
        + extra,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=in_cgroup(cg))
    trap.stdout.readline()
    wall, n, errors = smtp_source(2526, msgs, a.messages, a.sessions)
    trap.send_signal(signal.SIGTERM)
    out, _ = trap.communicate(timeout=600)
    cpu = cpu_seconds(cg)
    commits = None
    for line in out.decode(errors="replace").splitlines():
        try:
            commits = json.loads(line)["store"]["commits"]
        except (ValueError, KeyError, TypeError):
            pass
    q = subprocess.run([binary, "sql", "--data", data, "--csv", "SELECT count(*) FROM messages"],
                       capture_output=True, text=True, check=True)
    stored = int(q.stdout.split()[-1])
    os.rmdir(cg)
    return {"wall": wall, "sent": n, "stored": stored, "cpu": cpu, "errors": errors,
            "commits": commits}


POSTFIX_MAIN = """compatibility_level = 3.6
queue_directory = {work}/spool
data_directory = {work}/lib
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = trap.example
virtual_mailbox_base = {work}/vmail
virtual_mailbox_maps = static:trap/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
default_process_limit = 200
alias_maps =
alias_database =
smtputf8_enable = no
message_size_limit = 10485760
maillog_file_prefixes = /var/tmp
maillog_file = {work}/maillog
"""

POSTFIX_MASTER = """127.0.0.1:2525 inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def run_postfix(a, work, msgs):
    pw = pwd.getpwnam("nobody")
    pf = os.path.join(work, "postfix")
    for d in ("postfix", "spool", "lib", "vmail"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    os.chown(os.path.join(work, "vmail"), pw.pw_uid, pw.pw_gid)
    with open(os.path.join(pf, "main.cf"), "w") as f:
        f.write(POSTFIX_MAIN.format(work=work, uid=pw.pw_uid, gid=pw.pw_gid))
    with open(os.path.join(pf, "master.cf"), "w") as f:
        f.write(POSTFIX_MASTER)
    subprocess.run(["postfix", "-c", pf, "set-permissions"], capture_output=True)
    subprocess.run(["postfix", "-c", pf, "check"], check=True)
    cg = cgroup("depeer-bench-postfix")
    subprocess.run(["postfix", "-c", pf, "start"], check=True, capture_output=True,
                   preexec_fn=in_cgroup(cg))
    wait_port(2525)
    try:
        wall, n, errors = smtp_source(2525, msgs, a.messages, a.sessions)
        new = os.path.join(work, "vmail", "trap", "new")
        deadline = time.monotonic() + 900
        delivered = 0
        while time.monotonic() < deadline:
            delivered = len(os.listdir(new)) if os.path.isdir(new) else 0
            if delivered >= n:
                break
            time.sleep(0.2)
        drained = time.monotonic()
        cpu = cpu_seconds(cg)
    finally:
        subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True)
        time.sleep(1)
    try:
        os.rmdir(cg)
    except OSError:
        pass
    return {"wall": wall, "sent": n, "stored": delivered, "cpu": cpu, "errors": errors,
            "drained_at": drained}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depeer", required=True)
    ap.add_argument("--spam", required=True)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--sessions", type=int, default=48)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--committers", type=int, default=4)
    ap.add_argument("--only", choices=["depeer", "postfix"], help="measure one server only")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds of both servers, alternating; the median round of each is reported")
    ap.add_argument("--baseline", help="another depeer binary, run in every round beside "
                    "--depeer (A/B, alternating which goes first); needs --only depeer")
    ap.add_argument("--trap-arg", action="append", default=[],
                    help="an extra argument of `depeer trap` (--depeer's runs only; repeat)")
    a = ap.parse_args()
    if a.baseline:
        if a.only != "depeer":
            raise SystemExit("--baseline needs --only depeer")
        return ab(a)
    assert a.sessions <= 100 and a.messages <= 200_000
    if not os.path.isdir(a.spam):
        print(f"SKIPPED bench trap: no real spam at {a.spam}", file=sys.stderr)
        return
    work = tempfile.mkdtemp(prefix="depeer-bench-trap.", dir="/var/tmp")
    os.chmod(work, 0o755)
    msgs = restamp(a.spam, a.files, work)
    size = sum(m[2] for m in msgs) / len(msgs)
    print(f"{a.messages} messages: {len(msgs)} restamped real spam files "
          f"(mean {size:.0f} bytes), {a.sessions} smtp-source sessions, loopback")
    for _, src, n in msgs:
        print(f"  {os.path.relpath(src, a.spam)} ({n} bytes)")
    none = {"wall": 1.0, "sent": 0, "stored": 0, "cpu": 0.0, "errors": ""}

    def settled():
        # Each server starts with the disk quiet: the previous run's files
        # (20,000 Maildir files, packs, their removal) written back first,
        # not in the middle of the next server's fsyncs.
        os.sync()
        time.sleep(2)

    ds, ps = [], []
    for i in range(max(1, a.rounds)):
        # A fresh directory per round: each server stores into an empty one.
        rwork = os.path.join(work, f"round{i}")
        os.makedirs(rwork)
        os.chmod(rwork, 0o755)
        settled()
        d = run_depeer(a, rwork, msgs) if a.only != "postfix" else dict(none)
        settled()
        p = run_postfix(a, rwork, msgs) if a.only != "depeer" else dict(none)
        ds.append(d)
        ps.append(p)
        # Kept until the end (see KEEP_ROUNDS).
        if a.rounds > 1:
            with open("/proc/loadavg") as f:
                load = " ".join(f.read().split()[:3])
            print(f"round {i + 1}: depeer {describe(d)}; postfix "
                  f"{p['sent'] / p['wall']:,.0f} msgs/s {p['cpu'] / max(1, p['stored']) * 1e3:.3f} "
                  f"CPU ms/msg; load {load}", flush=True)
    med = lambda rs: sorted(rs, key=lambda r: r["sent"] / r["wall"])[(len(rs) - 1) // 2]
    d, p = med(ds), med(ps)
    rows = []
    for name, r in (("depeer trap", d), ("postfix (Maildir)", p)):
        rate = r["sent"] / r["wall"]
        cpm = r["cpu"] / max(1, r["stored"])
        r["rate"], r["cpm"] = rate, cpm
        rows.append(f"| {name} | {r['sent']} | {r['stored']} | {r['wall']:.2f} | {rate:,.0f} "
                    f"| {r['cpu']:.2f} | {cpm * 1e3:.3f} |")
        if r["errors"].strip():
            print(f"{name}: smtp-source said: {r['errors'].strip()[:500]}")
    print("| server | sent | stored | wall s | acknowledged msgs/s | server CPU s | CPU ms/msg |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if a.only is None:
        print(f"ratio depeer/postfix: {d['rate'] / p['rate']:.2f}x messages/s, "
              f"{p['cpm'] / d['cpm']:.2f}x less CPU per message (target >= 3x on both)")
    shutil.rmtree(work, ignore_errors=True)


def rate(r):
    return r["sent"] / r["wall"]


def cpm(r):
    return r["cpu"] / max(1, r["stored"])


def describe(r):
    batch = f", {r['commits']} commits ({r['stored'] / max(1, r['commits']):.1f} msgs each)" \
        if r.get("commits") else ""
    return f"{rate(r):,.0f} msgs/s {cpm(r) * 1e3:.3f} CPU ms/msg{batch}"


def ab(a):
    """Interleaved A/B of two depeer binaries: per round both, in turn."""
    work = tempfile.mkdtemp(prefix="depeer-bench-trap.", dir="/var/tmp")
    os.chmod(work, 0o755)
    msgs = restamp(a.spam, a.files, work)
    size = sum(m[2] for m in msgs) / len(msgs)
    print(f"{a.messages} messages: {len(msgs)} restamped real spam files "
          f"(mean {size:.0f} bytes), {a.sessions} smtp-source sessions, loopback; "
          f"A = {a.baseline}, B = {a.depeer}", flush=True)
    res = {"A": [], "B": []}
    for i in range(max(1, a.rounds)):
        order = ["A", "B"] if i % 2 == 0 else ["B", "A"]
        for who in order:
            rwork = os.path.join(work, f"round{i}{who}")
            os.makedirs(rwork)
            os.sync()
            time.sleep(2)
            with open("/proc/loadavg") as f:
                load = " ".join(f.read().split()[:3])
            r = run_depeer(a, rwork, msgs, a.baseline if who == "A" else None)
            res[who].append(r)
            print(f"round {i + 1} {who}: {describe(r)}; stored {r['stored']}/{r['sent']}; "
                  f"load at start {load}", flush=True)
            if r["errors"].strip():
                print(f"  smtp-source said: {r['errors'].strip()[:300]}")
    med = lambda xs: sorted(xs)[(len(xs) - 1) // 2]
    ra = med([rate(r) for r in res["A"]])
    rb = med([rate(r) for r in res["B"]])
    ca = med([cpm(r) for r in res["A"]])
    cb = med([cpm(r) for r in res["B"]])
    print(f"median A: {ra:,.0f} msgs/s {ca * 1e3:.3f} CPU ms/msg; "
          f"median B: {rb:,.0f} msgs/s {cb * 1e3:.3f} CPU ms/msg; "
          f"B/A {rb / ra:.2f}x msgs/s, {ca / cb:.2f}x less CPU per message")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
