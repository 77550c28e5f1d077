"""Received lines as one-hop messages for SpamAssassin, and the relay it saw.

Shared by scripts/conformance/received (and its compare.py) and depeer-mail's
tests/corpus/received_vs_spamassassin.py: each Received line goes into a
message of its own, mail.d/sa_extract.pl reads the messages, and the relay
SpamAssassin found (trusted or untrusted) is compared with depeer's.
"""

import os
import re

SA_EXTRACT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mail.d", "sa_extract.pl")


def one_hop(header):
    """The message (bytes) whose only Received field is HEADER (bytes; CRLF
    made LF, the final line end dropped)."""
    h = header.rstrip(b"\r\n").replace(b"\r\n", b"\n")
    return b"Received: " + h + b"\nFrom: a@example.org\nSubject: x\n\nbody\n"


def sa_relay(rec):
    """SpamAssassin's relay in one sa_extract.pl record, trusted or untrusted:
    (ip, rdns, helo), or None."""
    m = re.search(r"\[ ip=(\S*) rdns=(\S*) helo=(\S*) ", rec["relays_untrusted"] + rec["relays_trusted"])
    return m.groups() if m else None


def print_report(figures, notes):
    """The report: the FIGURES lines, then every disagreement of NOTES, indented."""
    for line in figures:
        print(line)
    for x in notes:
        print("  " + x)
