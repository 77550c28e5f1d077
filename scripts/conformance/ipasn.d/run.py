#!/usr/bin/env python3
"""depeer's longest-prefix lookup against pyasn's (scripts/conformance/ipasn).

usage: run.py DEPEER DATA_DIR OUT_DIR [N_RANDOM]

Part 1, RIBs: for every TABLE_DUMP / TABLE_DUMP_V2 RIB among the shared MRT
files, pyasn's own converter logic (pyasn.mrtx.parse_mrt_file +
dump_prefixes_to_file, what `pyasn_util_convert.py --single` runs; the
script itself for intact .gz/.bz2 files) builds an IPASN table, and
`depeer ingest mrt` reads the same RIB. Cut files are given to pyasn up to
their last complete record (depeer stops there by itself).
Part 2, tables: each pyasn table under ipasn/ is loaded by pyasn and by
`depeer ingest ipasn`.

Addresses: N_RANDOM (default 1,000,000) per table, half uniform, half
inside announced prefixes, plus every prefix's first and last address and
both neighbours (boundary +-1). Each answer is classed:

  exact          same prefix, depeer's origins == [pyasn's AS]
  moas-or-set    same prefix, pyasn's AS is one of depeer's origins (MOAS
                 between peers, or an AS_SET origin: pyasn keeps one AS,
                 the first peer's or any member of the set)
  bogus-origin   same prefix; pyasn skipped a private/reserved origin AS
                 (its is_asn_bogus) and took the AS before it; depeer keeps
                 the AS the path ends with
  default-route  pyasn drops 0.0.0.0/0 and ::/0, depeer keeps them
  none           neither knows the address
  MISMATCH       anything else (fails the check)
"""
import bz2
import gzip
import io
import ipaddress
import os
import random
import struct
import subprocess
import sys
import tempfile
from collections import Counter

import pyasn
from pyasn import mrtx

DEPEER, DATA, OUT = sys.argv[1:4]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
random.seed(20081111)


def read_all_tolerant(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        d = zlib_stream(raw)
    elif raw[:3] == b"BZh":
        d, dec, buf = [], bz2.BZ2Decompressor(), raw
        out = []
        while buf:
            try:
                out.append(dec.decompress(buf))
            except (EOFError, OSError):
                break
            if dec.eof:
                buf = dec.unused_data
                dec = bz2.BZ2Decompressor()
            else:
                break
        d = b"".join(out)
    else:
        d = raw
    return d


def zlib_stream(raw):
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError):
        return gzip.GzipFile(fileobj=io.BytesIO(raw)).read1(1 << 40)


def complete_records(d):
    """The bytes up to the last complete MRT record, and the record types seen."""
    off, types = 0, set()
    while off + 12 <= len(d):
        _, t, _, ln = struct.unpack(">IHHI", d[off:off + 12])
        if off + 12 + ln > len(d):
            break
        types.add(t)
        off += 12 + ln
    return d[:off], types


def pyasn_table_from_rib(path, dat):
    """Runs pyasn's converter logic on the RIB; returns number of prefixes."""
    d, types = complete_records(read_all_tolerant(path))
    if not types or not types <= {12, 13}:
        return None
    try:
        prefixes = mrtx.parse_mrt_file(io.BytesIO(d), skip_record_on_error=True)
    except Exception as e:  # pyasn cannot read it: say so, skip
        print(f"  pyasn cannot convert {os.path.basename(path)}: {type(e).__name__}: {e}")
        return None
    mrtx.dump_prefixes_to_file(prefixes, dat, path)
    return len(prefixes)


def table_rows(dat):
    rows = []
    opener = gzip.open if dat.endswith(".gz") else open
    with opener(dat, "rt") as fh:
        for line in fh:
            if line.startswith(";") or not line.strip():
                continue
            p, a = line.split()[:2]
            rows.append((ipaddress.ip_network(p, strict=False), a))
    return rows


def addresses(rows):
    nets = [n for n, _ in rows]
    v6 = any(n.version == 6 for n in nets)
    v4 = any(n.version == 4 for n in nets)
    out = []
    for _ in range(N // 2):
        if v4 and (not v6 or random.random() < 0.5):
            out.append(str(ipaddress.IPv4Address(random.getrandbits(32))))
        else:
            out.append(str(ipaddress.IPv6Address((0x2000 << 112) | random.getrandbits(116))))
    for _ in range(N - N // 2):
        if not nets:
            break
        n = random.choice(nets)
        out.append(str(n.network_address + random.randrange(n.num_addresses)))
    mx = {4: 2**32 - 1, 6: 2**128 - 1}
    for n in nets:
        a, b = int(n.network_address), int(n.broadcast_address)
        cls = ipaddress.IPv4Address if n.version == 4 else ipaddress.IPv6Address
        for x in (a - 1, a, b, b + 1):
            if 0 <= x <= mx[n.version]:
                out.append(str(cls(x)))
    return out


def depeer_lookup(data_dir, addrs, tag):
    f = os.path.join(OUT, f"{tag}.addrs")
    with open(f, "w") as fh:
        fh.write("\n".join(addrs) + "\n")
    res = subprocess.run([DEPEER, "-q", "route", "lookup", "--data", data_dir, "--file", f, "--csv"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    out = {}
    for line in res[1:]:
        ip, prefix, origins = line.split(",")[:3]
        out[ip] = (prefix or None, origins.split() if origins else [])
    return out


def compare(tag, pyasn_db, data_dir, rows):
    addrs = addresses(rows)
    dep = depeer_lookup(data_dir, addrs, tag)
    c = Counter()
    bad = []
    for ip in addrs:
        pa, pp = pyasn_db.lookup(ip)
        dp, do = dep.get(ip, (None, []))
        if pp is None and dp is None:
            k = "none"
        elif pp is None and dp in ("0.0.0.0/0", "::/0"):
            k = "default-route"
        elif pp is not None and dp is not None and str(ipaddress.ip_network(pp)) == dp:
            if do == [str(pa)]:
                k = "exact"
            elif str(pa) in do:
                k = "moas-or-set"
            elif do and all(mrtx.is_asn_bogus(int(a)) for a in do):
                k = "bogus-origin"
            else:
                k = "MISMATCH"
        else:
            k = "MISMATCH"
        c[k] += 1
        if k == "MISMATCH" and len(bad) < 5:
            bad.append(f"{ip}: pyasn {pp} AS{pa}, depeer {dp} {do}")
    total = sum(c.values())
    agree = total - c["MISMATCH"]
    print(f"  {tag}: {total} addresses, {agree / total * 100:.4f} % agree or documented; "
          + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    for b in bad:
        print("    " + b)
    return c["MISMATCH"] == 0


def main():
    ok = True
    ribs = []
    for root, _, files in os.walk(os.path.join(DATA, "mrt")):
        if "test_expect" in root:
            continue
        ribs += [os.path.join(root, f) for f in files]
    ribs += [os.path.join(DATA, "ipasn", f) for f in os.listdir(os.path.join(DATA, "ipasn")) if f.startswith("rib")]
    print("Part 1: RIBs, pyasn's converter vs depeer ingest mrt")
    checked = 0
    for rib in sorted(ribs):
        tag = os.path.basename(rib)
        dat = os.path.join(OUT, tag + ".ipasn.dat")
        n = pyasn_table_from_rib(rib, dat)
        if not n:
            continue
        data_dir = tempfile.mkdtemp(prefix="depeer-ipasn-", dir=OUT)
        subprocess.run([DEPEER, "-q", "ingest", "mrt", "--data", data_dir, rib], check=True)
        ok &= compare(tag, pyasn.pyasn(dat), data_dir, table_rows(dat))
        checked += 1
    print("Part 2: pyasn tables, pyasn vs depeer ingest ipasn")
    for t in sorted(os.listdir(os.path.join(DATA, "ipasn"))):
        if t.startswith("rib"):
            continue
        path = os.path.join(DATA, "ipasn", t)
        data_dir = tempfile.mkdtemp(prefix="depeer-ipasn-", dir=OUT)
        subprocess.run([DEPEER, "-q", "ingest", "ipasn", "--data", data_dir, "--at", "2000-01-01", path], check=True)
        ok &= compare(t, pyasn.pyasn(path), data_dir, table_rows(path))
        checked += 1
    if checked == 0:
        print("nothing compared")
        ok = False
    print("RESULT:", "pass" if ok else "FAIL")
    sys.exit(0 if ok else 1)


main()
