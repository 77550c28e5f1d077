#!/usr/bin/env python3
"""Compare depeer's mail extraction with SpamAssassin's and rspamd's.

Inputs (made by the other scripts in this folder):
  WORK/index.jsonl   every framed message (frame.py)
  WORK/sa.jsonl      SpamAssassin relays and URIs per sha256 (sa_extract.pl)
  WORK/rspamd.jsonl  rspamd URLs per sha256 (rspamd_urls.py)
and depeer's store, read with `depeer sql --data DIR --json`.

Checks, over every distinct message of the corpus:
  (a) the first untrusted relay IP agrees with SpamAssassin's
      (_RELAYSUNTRUSTED_, first entry; both "none" counts as agreement);
  (b) set(SpamAssassin hosts) <= set(depeer hosts), and the same for rspamd
      (lowercase, no trailing dot, no brackets; web URLs only: mailto:,
      cid:, javascript:, file: and DKIM "domainkeys" entries are left out).
A message depeer quarantined counts with no relay and no hosts; a message
depeer does not have at all counts as a disagreement.

Prints the figures, writes every disagreement, grouped by class, to
OUT/disagreements.txt and OUT/disagreements.jsonl, the figures to
OUT/figures.json, and exits 1 when a check is under its threshold.
"""

import argparse
import collections
import ipaddress
import json
import os
import re
import subprocess
import sys

EXCLUDED_SCHEMES = ("mailto:", "cid:", "javascript:", "file:", "domainkeys:", "thismessage:")
EXAMPLES_PER_CLASS = 8


def sql(depeer, data, query):
    """Run QUERY with `depeer sql --json` and return the rows."""
    proc = subprocess.run(
        [depeer, "sql", "--data", data, "--json", query],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"depeer sql failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    text = proc.stdout.decode("utf-8", "replace").strip()
    return json.loads(text) if text else []


def norm_host(h):
    """Normalise a host name or IP literal for comparison."""
    if h is None:
        return None
    h = h.strip().lower().rstrip(".")
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if h.startswith("ipv6:"):
        h = h[5:]
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        return h


def norm_ip(ip):
    """Normalise an IP address string (None and '' mean no relay)."""
    if not ip:
        return None
    return norm_host(ip)


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def sa_hosts(rec):
    """Web hosts SpamAssassin found, with the SA URI types behind each."""
    hosts = collections.defaultdict(set)
    for u in rec.get("uris", []):
        uri = u["uri"].lower()
        if uri.startswith(EXCLUDED_SCHEMES) or "domainkeys" in u.get("types", []):
            continue
        for h in u.get("hosts", []):
            hosts[norm_host(h)].update(u.get("types", []))
            hosts[norm_host(h)].add("uri=" + u["uri"][:200])
    return hosts


def rspamd_hosts(rec):
    hosts = collections.defaultdict(set)
    for u in rec.get("urls", []):
        if (u.get("protocol") or "").lower() in ("mailto",) or not u.get("host"):
            continue
        hosts[norm_host(u["host"])].add("url=" + (u.get("url") or "")[:200])
    return hosts


IP_RE = re.compile(r"^[0-9.]+$|:")


def host_class(host, info, dep_hosts, peer):
    """Name the class of a host the peer found and depeer did not."""
    tags = {t for t in info if not t.startswith(("uri=", "url="))}
    urls = [t.split("=", 1)[1] for t in info if t.startswith(("uri=", "url="))]
    if IP_RE.search(host):
        return "ip-literal host"
    if host.startswith("xn--") or ".xn--" in host or any(ord(c) > 127 for c in host):
        return "internationalised host (IDN)"
    for d in dep_hosts:
        if d.endswith("." + host) or host.endswith("." + d):
            return "host differs by a label (www./sub-domain) from a depeer host"
    if peer == "spamassassin":
        if "schemeless" in tags or "unlinked" in tags:
            if any(u.lower().startswith(("http://www.", "http://ftp.")) for u in urls):
                return "SA schemeless www./ftp. form in text"
            return "SA bare domain in text (no scheme, no www.)"
        for t in ("img", "form", "link", "area", "base", "script", "td", "table",
                  "body", "embed", "iframe", "frame", "meta", "bgsound", "tr"):
            if t in tags:
                return f"SA HTML <{t}> attribute URL"
        if "a" in tags:
            return "SA HTML <a href> URL"
        if "parsed" in tags:
            return "SA URL parsed from text"
    if any("%" in u or "&#" in u for u in urls):
        return "encoded/obfuscated URL"
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--depeer", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", required=True, help="corpus root, to match source_file")
    ap.add_argument("--threshold", type=float, default=98.0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    index = load_jsonl(os.path.join(args.work, "index.jsonl"))
    sa = {r["sha256"]: r for r in load_jsonl(os.path.join(args.work, "sa.jsonl"))}
    rs = {r["sha256"]: r for r in load_jsonl(os.path.join(args.work, "rspamd.jsonl"))}

    root = os.path.realpath(args.root)

    def rel(path):
        p = os.path.realpath(path) if os.path.isabs(path) else path
        return os.path.relpath(p, root) if p.startswith(root) else path

    msgs = sql(args.depeer, args.data,
               "SELECT sha256, relay_ip, source_file, source_index FROM messages")
    urls = sql(args.depeer, args.data, "SELECT sha256, host FROM message_urls")
    quar = sql(args.depeer, args.data,
               "SELECT source_file, source_index, reason, raw_sha256 FROM quarantine")

    dep_by_sha = {}
    dep_by_pos = {}
    for m in msgs:
        dep_by_sha.setdefault(m["sha256"], m)
        dep_by_pos[(rel(m["source_file"] or ""), m["source_index"])] = m
    dep_hosts = collections.defaultdict(set)
    for u in urls:
        if u.get("host"):
            dep_hosts[u["sha256"]].add(norm_host(u["host"]))
    quar_by_sha = {q["raw_sha256"]: q for q in quar if q.get("raw_sha256")}
    quar_by_pos = {(rel(q["source_file"] or ""), q["source_index"]): q for q in quar}

    # One row per distinct message of the corpus.
    seen = set()
    rows = []
    join = collections.Counter()
    for rec in index:
        sha = rec["sha256"]
        if sha in seen:
            continue
        seen.add(sha)
        pos = (rel(rec["source_file"]), rec["source_index"])
        dep = dep_by_sha.get(sha)
        state = "sha256"
        if dep is None and sha in quar_by_sha:
            state, dep = "quarantined", None
        elif dep is None and pos in dep_by_pos:
            state, dep = "position (sha256 differs)", dep_by_pos[pos]
        elif dep is None and pos in quar_by_pos:
            state = "quarantined"
        elif dep is None:
            state = "missing from depeer"
        join[state] += 1
        rows.append((rec, dep, state))

    relay_ok = 0
    host_ok = {"spamassassin": 0, "rspamd": 0}
    host_nonempty = {"spamassassin": [0, 0], "rspamd": [0, 0]}
    classes = collections.defaultdict(list)

    for rec, dep, state in rows:
        sha = rec["sha256"]
        where = f"{rel(rec['source_file'])}#{rec['source_index']}"
        dsha = dep["sha256"] if dep else None
        d_ip = norm_ip(dep["relay_ip"]) if dep else None
        d_hosts = dep_hosts.get(dsha, set()) if dep else set()
        s = sa.get(sha, {})
        s_ip = norm_ip(s.get("relay_ip"))
        chain = [norm_ip(x) for x in re.findall(r"\bip=(\S+)", s.get("relays_untrusted", ""))]
        trusted = [norm_ip(x) for x in re.findall(r"\bip=(\S+)", s.get("relays_trusted", ""))]

        if state == "missing from depeer":
            classes[("relay", "message missing from depeer")].append(
                {"where": where, "sha256": sha})
        elif d_ip == s_ip:
            relay_ok += 1
        else:
            if d_ip is None:
                cls = "depeer found no relay, SpamAssassin did"
            elif s_ip is None:
                cls = "SpamAssassin found no untrusted relay, depeer did"
            elif d_ip in chain:
                cls = "depeer picked a later untrusted hop (trust boundary further in)"
            elif d_ip in trusted:
                cls = "depeer picked a hop SpamAssassin trusts (trust boundary further out)"
            else:
                cls = "depeer picked an IP SpamAssassin did not parse as a relay"
            if state == "quarantined":
                cls = "message quarantined by depeer"
            classes[("relay", cls)].append({
                "where": where, "sha256": sha, "depeer": d_ip, "spamassassin": s_ip,
                "sa_untrusted": s.get("relays_untrusted", "")[:600],
                "sa_trusted": s.get("relays_trusted", "")[:300],
            })

        for peer, hosts in (("spamassassin", sa_hosts(s)), ("rspamd", rspamd_hosts(rs.get(sha, {})))):
            missing = {h: i for h, i in hosts.items() if h and h not in d_hosts}
            if hosts:
                host_nonempty[peer][0] += 1
            if state == "missing from depeer":
                classes[(peer, "message missing from depeer")].append({"where": where, "sha256": sha})
                continue
            if not missing:
                host_ok[peer] += 1
                if hosts:
                    host_nonempty[peer][1] += 1
                continue
            per_msg = collections.defaultdict(list)
            for h, info in sorted(missing.items()):
                cls = "message quarantined by depeer" if state == "quarantined" \
                    else host_class(h, info, d_hosts, peer)
                per_msg[cls].append({"host": h, "seen_as": sorted(info)[:4]})
            for cls, items in per_msg.items():
                classes[(peer, cls)].append({
                    "where": where, "sha256": sha, "missing": items,
                    "depeer_hosts": sorted(d_hosts)[:20],
                })

    n = len(rows)
    pct = lambda a: 100.0 * a / n if n else 0.0
    fig = {
        "messages": n,
        "join": dict(join),
        "relay_agree": relay_ok,
        "relay_agree_pct": round(pct(relay_ok), 2),
        "hosts_sa_ok": host_ok["spamassassin"],
        "hosts_sa_ok_pct": round(pct(host_ok["spamassassin"]), 2),
        "hosts_rspamd_ok": host_ok["rspamd"],
        "hosts_rspamd_ok_pct": round(pct(host_ok["rspamd"]), 2),
        "hosts_sa_nonempty": host_nonempty["spamassassin"],
        "hosts_rspamd_nonempty": host_nonempty["rspamd"],
        "classes": {f"{k[0]}: {k[1]}": len(v) for k, v in sorted(classes.items())},
    }
    with open(os.path.join(args.out, "figures.json"), "w") as f:
        json.dump(fig, f, indent=2)
    with open(os.path.join(args.out, "disagreements.jsonl"), "w") as f:
        for (check, cls), items in sorted(classes.items()):
            for it in items:
                f.write(json.dumps({"check": check, "class": cls, **it}) + "\n")
    with open(os.path.join(args.out, "disagreements.txt"), "w") as f:
        for (check, cls), items in sorted(classes.items()):
            f.write(f"== {check}: {cls} ({len(items)} messages)\n")
            for it in items[:EXAMPLES_PER_CLASS]:
                f.write("   " + json.dumps(it)[:1500] + "\n")
            f.write("\n")

    print(f"messages (distinct, corpus):        {n}")
    print("joined with depeer:                 " + ", ".join(f"{k} {v}" for k, v in sorted(join.items())))
    print(f"(a) first untrusted relay IP agrees: {relay_ok}/{n} = {pct(relay_ok):.2f} %")
    for peer in ("spamassassin", "rspamd"):
        ne = host_nonempty[peer]
        print(f"(b) depeer hosts contain {peer:<12} {host_ok[peer]}/{n} = {pct(host_ok[peer]):.2f} %"
              f"  (of messages where {peer} found a host: {ne[1]}/{ne[0]})")
    print("disagreement classes (messages):")
    for k, v in fig["classes"].items():
        print(f"  {v:6d}  {k}")
    print(f"examples: {os.path.join(args.out, 'disagreements.txt')}")

    fails = [name for name, v in (("relay", pct(relay_ok)),
                                  ("hosts vs SpamAssassin", pct(host_ok["spamassassin"])),
                                  ("hosts vs rspamd", pct(host_ok["rspamd"])))
             if v < args.threshold]
    if fails:
        print(f"FAIL: under {args.threshold} %: {', '.join(fails)}")
        sys.exit(1)
    print(f"PASS: every check >= {args.threshold} %")


if __name__ == "__main__":
    main()
