#!/usr/bin/env python3
"""Split a mail corpus into single messages the way depeer frames them.

Writes OUT/msgs/<sha256>.eml (one file per distinct message) and
OUT/index.jsonl with one line per framed message:
  {"sha256", "source_file", "source_index", "source_offset", "size"}

Framing rules (they must match depeer's, so sha256 values join):
  * compressed files (gzip, bzip2, xz, zstd) are sniffed by magic bytes and
    decompressed first;
  * a file whose first line starts with "From " is an mbox: a message starts
    after each "From " line found at the start of the file or after an empty
    line, and after each complete envelope line ("From sender Www Mmm dd
    hh:mm[:ss] [zone] yyyy") anywhere; the "From " line itself is not part of the message, neither is the
    one empty line that precedes the next separator or ends the file; mboxrd quoting is undone
    (">From " -> "From ", ">>From " -> ">From ", at line start);
  * any other file is one message, hashed as-is except that, like depeer,
    a leading UTF-8 BOM and leading empty lines are skipped and ">From "
    lines lose one ">" (depeer-mail framing.rs applies both to every stream);
  * Maildir folders need no special case: every file under cur/ and new/ is
    one message.
"""

import argparse
import bz2
import gzip
import hashlib
import json
import lzma
import os
import re
import sys

# A complete envelope line as ctime writes it (depeer-mail framing.rs
# `is_envelope_line`): such a line separates messages even without an empty
# line before it.
ENVELOPE = (
    rb"From [^ \t\x00-\x1f\x7f][^ \t\n]*[ \t]+"
    rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[ \t]+"
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]+"
    rb"\d{1,2}[ \t]+\d{1,2}:\d{2}(?::\d{2})?[ \t]+"
    rb"(?:[^ \t\n]+[ \t]+)?\d{4}(?:[ \t][^\n]*|[\t\x0c\r ]*)\n"
)
SEP_RE = re.compile(
    rb"(?:^|(?<=\n\n)|(?<=\n\r\n)|(?<=\n)(?=" + ENVELOPE + rb"))(From [^\n]*\n)"
)
QUOTED_FROM_RE = re.compile(rb"(?m)^>(>*From )")


def decompress(data):
    """Return the decompressed bytes of DATA when its magic bytes say so."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard  # only needed for .zst input

        return zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 31)
    return data


def skip_preamble(data):
    """Return the offset after an optional UTF-8 BOM and leading empty lines."""
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1
        else:
            return pos


def frame(data):
    """Yield (offset, message_bytes) for every message in DATA."""
    start = skip_preamble(data)
    if not data.startswith(b"From ", start):
        # One message; depeer unquotes ">From " lines here too.
        if start < len(data):
            yield start, QUOTED_FROM_RE.sub(rb"\1", data[start:])
        return
    data = data[start:]
    # Positions of the separator lines ("From ..." at BOF or after an empty line).
    seps = []
    for m in SEP_RE.finditer(data):
        seps.append((m.start(1), m.end(1)))
    for i, (line_start, body_start) in enumerate(seps):
        if i + 1 < len(seps):
            end = seps[i + 1][0]
        else:
            end = len(data)
        # The one empty line before the next separator, or the one at the
        # end of the file (mbox ends every message with one).
        if data[end - 2 : end] == b"\n\n":
            end -= 1
        elif data[end - 3 : end] == b"\n\r\n":
            end -= 2
        msg = QUOTED_FROM_RE.sub(rb"\1", data[body_start:end])
        yield start + line_start, msg


def walk(paths):
    """Yield every regular file under PATHS, sorted."""
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for root, dirs, files in os.walk(p):
            dirs.sort()
            for name in sorted(files):
                yield os.path.join(root, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    msgdir = os.path.join(args.out, "msgs")
    os.makedirs(msgdir, exist_ok=True)
    n = distinct = 0
    seen = set()
    with open(os.path.join(args.out, "index.jsonl"), "w") as idx:
        for path in walk(args.paths):
            with open(path, "rb") as f:
                data = decompress(f.read())
            for i, (off, msg) in enumerate(frame(data)):
                sha = hashlib.sha256(msg).hexdigest()
                n += 1
                if sha not in seen:
                    seen.add(sha)
                    distinct += 1
                    with open(os.path.join(msgdir, sha + ".eml"), "wb") as out:
                        out.write(msg)
                rec = {
                    "sha256": sha,
                    "source_file": os.path.abspath(path),
                    "source_index": i,
                    "source_offset": off,
                    "size": len(msg),
                }
                idx.write(json.dumps(rec) + "\n")
    print(f"framed {n} messages ({distinct} distinct) into {msgdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
