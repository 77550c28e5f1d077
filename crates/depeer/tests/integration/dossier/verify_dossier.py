#!/usr/bin/env python3
"""An independent dossier verifier, written from docs/dossier-format.md alone
(standard library + the `cryptography` package for Ed25519).

    verify_dossier.py DIR [VKEY]

Prints `OK ...` and exits 0, or prints `FAIL <what>: <why>` and exits 1.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Fail(Exception):
    pass


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf, proof, root):
    # RFC 9162 section 2.1.3.2
    if index >= size:
        raise Fail("index out of range")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Fail("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fail("proof too short")
    if r != root:
        raise Fail("inclusion proof does not lead to the checkpoint's root")


def parse_vkey(text):
    name, keyid, key = text.strip().split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise Fail("vkey is not an Ed25519 key")
    kid = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if kid.hex() != keyid:
        raise Fail("vkey key ID does not match")
    return name, kid, Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note, vkey):
    name, kid, pub = vkey
    i = note.rfind("\n\n")
    if i < 0 or not note.endswith("\n"):
        raise Fail("malformed note")
    text, sigs = note[: i + 1], note[i + 2 :]
    ok = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise Fail("malformed signature line")
        sname, b64 = line[2:].split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        if sname != name or raw[:4] != kid:
            continue
        try:
            pub.verify(raw[4:], text.encode())
        except Exception:
            raise Fail("invalid signature for key %s" % name)
        ok = True
    if not ok:
        raise Fail("no signature by the trusted key")
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise Fail("checkpoint is not three lines")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if origin != name:
        raise Fail("checkpoint origin is not the key name")
    return size, root


def safe(rel):
    return rel and not os.path.isabs(rel) and ".." not in rel.split("/")


def read(d, rel):
    if not safe(rel):
        raise Fail("%s: path leaves the dossier" % rel)
    try:
        with open(os.path.join(d, rel), "rb") as f:
            return f.read()
    except OSError as e:
        raise Fail("%s: cannot read (%s)" % (rel, e.strerror))


def verify(d, vkey_text=None):
    m = json.loads(read(d, "manifest.json"))
    vkey = parse_vkey(vkey_text if vkey_text else read(d, "vkey").decode())
    note = read(d, "checkpoint").decode()
    try:
        size, root = open_note(note, vkey)
    except Fail as e:
        raise Fail("checkpoint: %s" % e)
    verified = set()
    for e in m["evidence"]:
        data = read(d, e["path"])
        if hashlib.sha256(data).hexdigest() != e["sha256"]:
            raise Fail("evidence %s: hash differs from the manifest" % e["path"])
        entry = "depeer-evidence/v1 %s %s %d\n" % (e["kind"], e["sha256"], e["observed"])
        proof = read(d, e["proof"]).decode()
        head, _, cp = proof.partition("\n\n")
        lines = head.split("\n")
        if lines[0] != "c2sp.org/tlog-proof@v1":
            raise Fail("evidence %s: %s is not a tlog-proof" % (e["path"], e["proof"]))
        k = 1
        if lines[k].startswith("extra "):
            k += 1
        if not lines[k].startswith("index "):
            raise Fail("evidence %s: no index line" % e["path"])
        index = int(lines[k][6:])
        hashes = [base64.b64decode(x, validate=True) for x in lines[k + 1 :]]
        if index != e["log_index"]:
            raise Fail("evidence %s: proof is for entry %d, manifest says %d" % (e["path"], index, e["log_index"]))
        if cp != note:
            raise Fail("evidence %s: proof is against another checkpoint" % e["path"])
        try:
            verify_inclusion(index, size, leaf_hash(entry.encode()), hashes, root)
        except Fail as err:
            raise Fail("evidence %s: %s" % (e["path"], err))
        if e["path"] in verified:
            raise Fail("evidence %s: listed twice" % e["path"])
        verified.add(e["path"])
    ev = os.path.join(d, "evidence")
    if os.path.isdir(ev):
        for f in sorted(os.listdir(ev)):
            if "evidence/" + f not in verified:
                raise Fail("evidence evidence/%s: not listed in manifest.json" % f)
    for c in m["claims"]:
        if not c["evidence"]:
            raise Fail("claim %s: cites no evidence" % c["id"])
        for p in c["evidence"]:
            if p not in verified:
                raise Fail("claim %s: cites %s, which is not verified evidence" % (c["id"], p))
    return len(verified), len(m["claims"])


def main():
    d = sys.argv[1]
    vk = sys.argv[2] if len(sys.argv) > 2 else None
    try:
        n, c = verify(d, vk)
    except Fail as e:
        print("FAIL %s" % e)
        sys.exit(1)
    except (ValueError, KeyError, TypeError) as e:
        print("FAIL malformed dossier: %r" % (e,))
        sys.exit(1)
    print("OK %d evidence files, %d claims" % (n, c))


if __name__ == "__main__":
    main()
