#!/usr/bin/env python3
"""Compares depeer's parse of one MRT file with `bgpdump -m`.

usage: compare.py NAME DEPEER_DUMP BGPDUMP_OUT

Both inputs are cut to the fields depeer keeps: type|time|B/A/W/STATE|peer
ip|peer as|prefix|as path (W: no path; STATE: old|new). bgpdump's ADD-PATH
lines (`*_AP`) carry the path id in field 7, which is dropped; prefixes are
normalised (host bits cleared) as depeer stores them.

RIB files (B lines): the multisets of (peer, prefix, path) must be equal,
and so the prefix -> origin sets and the peer sets. Update files: the
sequences of A / W / STATE lines must be equal, in order.

Known differences (KNOWN below) are checked for their stated shape instead
and reported as "documented". Prints one line; exit 0 identical or
documented, 1 different.
"""
import ipaddress
import sys
from collections import Counter

# file name -> (shape, reason). docs/routing.md repeats these.
KNOWN = {
    "bview.20000111.0032.gz": ("bgpdump-prefix",
        "early RIS TABLE_DUMP whose records declare a length 4 bytes short: bgpdump stops after record 1, depeer (like bgpkit) recovers every record"),
    "updates.20000325.0345.gz": ("depeer-subset",
        "record #4 is corrupt (attributes longer than the record): bgpdump prints 2,044 impossible withdrawals from it (0.5.0.3/117 ...) and prints the peer address as the prefix of legacy withdrawals; depeer quarantines it and resynchronises"),
    "updates.nlri_mask_trailing_bits.gz": ("depeer-subset",
        "NLRI with a trailing stray byte: bgpdump prints 11.13.0.0/13 with host bits set, bgpkit rejects the NLRI, so depeer has no announcement"),
    "updates.19990903.1041.gz": ("legacy-withdraw",
        "obsolete MRT type 5 (BGP/UPDATE): bgpdump prints the peer's address instead of the withdrawn prefix's (same length); everything else is identical"),
    "updates.19991214.1621.gz": ("legacy-withdraw", "as updates.19990903.1041.gz"),
    "updates.20000102.2014.gz": ("legacy-withdraw", "as updates.19990903.1041.gz"),
    "bird_bgp": ("states-equal", "MESSAGE_AS4_ADDPATH (RFC 8050) updates: bgpdump 1.6 reads the path id as a prefix (0.0.0.0/0, 24.0.0.0/1)"),
    "bird6_bgp": ("states-equal", "as bird_bgp"),
    "bird-mrtdump_bgp": ("states-equal", "as bird_bgp"),
    "bird6-mrtdump_bgp": ("states-equal", "as bird_bgp"),
    "bview.20140112.1600_3samples.bz2": ("unknown-peer",
        "3 TABLE_DUMP_V2 RIB records without their PEER_INDEX_TABLE: bgpdump prints nothing, depeer keeps the routes with the peer unknown (0.0.0.0, AS 0), as pyasn does"),
}


def norm_prefix(p):
    try:
        return str(ipaddress.ip_network(p, strict=False))
    except ValueError:
        return p


def cut(line):
    f = line.rstrip("\n").split("|")
    if len(f) < 3:
        return None
    if f[0].endswith("_AP") and f[2] in ("A", "B") and len(f) > 7:
        del f[6]  # path id
        f[0] = f[0][: -len("_AP")]
    if f[2] == "STATE":
        f = f[:7]
    elif f[2] == "W":
        f = f[:6]
    else:
        f = f[:7]
    if len(f) >= 6 and f[2] in ("A", "B", "W"):
        f[5] = norm_prefix(f[5])
    if len(f) >= 4:
        # bgpdump writes IPv6 with inet_ntop, which shortens a single zero
        # group to "::"; depeer follows RFC 5952 (no "::" for one group).
        try:
            f[3] = str(ipaddress.ip_address(f[3]))
        except ValueError:
            pass
    return "|".join(f)


def load(path):
    out = []
    with open(path, errors="replace") as fh:
        for line in fh:
            c = cut(line)
            if c:
                out.append(c)
    return out


def origins(path):
    hops = path.split(" ")
    if not hops or not hops[-1]:
        return ()
    last = hops[-1]
    if last.startswith("{"):
        return tuple(sorted(last.strip("{}").split(",")))
    return (last,)


def main():
    name, dpath, bpath = sys.argv[1:4]
    d, b = load(dpath), load(bpath)
    is_rib = any("|B|" in l for l in d[:1000] + b[:1000])
    shape, reason = KNOWN.get(name, (None, None))
    status = "DIFFERENT"
    detail = ""
    if shape is None:
        if is_rib:
            key = lambda l: "|".join(l.split("|")[3:7])
            dc, bc = Counter(map(key, d)), Counter(map(key, b))
            p2o = lambda c: {(k.split("|")[2], o) for k in c for o in origins(k.split("|")[3])}
            peers = lambda c: {"|".join(k.split("|")[:2]) for k in c}
            if dc == bc:
                status = "identical"
                detail = f"{len(p2o(dc))} prefix-origin pairs, {len(peers(dc))} peers"
            else:
                detail = f"only depeer {sum((dc - bc).values())}, only bgpdump {sum((bc - dc).values())}"
        else:
            if d == b:
                status = "identical"
                kinds = Counter(l.split("|")[2] for l in d)
                detail = " ".join(f"{k}={v}" for k, v in sorted(kinds.items()))
            else:
                i = next((i for i, (x, y) in enumerate(zip(d, b)) if x != y), min(len(d), len(b)))
                detail = f"first difference at line {i + 1}: depeer {d[i] if i < len(d) else '<end>'!r} bgpdump {b[i] if i < len(b) else '<end>'!r}"
    else:
        ok = False
        if shape == "bgpdump-prefix":
            ok = d[: len(b)] == b and len(d) >= len(b)
        elif shape == "depeer-subset":
            ok = set(l for l in d if "|A|" in l or "|B|" in l) <= set(b)
        elif shape == "legacy-withdraw":
            def w(x):
                out = []
                for l in x:
                    f = l.split("|")
                    if f[2] == "W":
                        f[5] = "/" + f[5].split("/")[-1]
                    out.append("|".join(f))
                return out
            ok = w(d) == w(b)
        elif shape == "unknown-peer":
            ok = not b and bool(d) and all(l.split("|")[3:5] == ["0.0.0.0", "0"] for l in d)
        elif shape == "states-equal":
            st = lambda x: [l for l in x if "|STATE|" in l]
            ok = st(d) == st(b)
        status = "documented" if ok else "DIFFERENT"
        detail = reason
    print(f"{status:10} {name}: depeer {len(d)} lines, bgpdump {len(b)} lines; {detail}")
    sys.exit(0 if status in ("identical", "documented") else 1)


if __name__ == "__main__":
    main()
