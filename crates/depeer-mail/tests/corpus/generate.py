#!/usr/bin/env python3
"""Writes the inputs of the `received` and `url` golden suites.

    python3 tests/corpus/generate.py        (from crates/depeer-mail)

Each suite gets its seeds (hand-written or quoted lines, listed below with
their source and reason) as fixtures 001.., then deterministic mutations of
them as fixtures 101.. (xorshift64, fixed seed: the same files every run).
The mutations are the ones the parser and scanner react to (keywords,
brackets, entities, bytes), spliced, deleted or cut as the randomized tests
that compared the code with its previous version did. The script also
writes each suite's README.md (one row per fixture: source and reason).

It writes inputs only. The expected outputs (`NNN.json`) come from the code:
run `cargo test --release -p depeer-mail --test integration corpus`, check
the `NNN.failed` files it writes, and accept them with
`for f in tests/corpus/*/*.failed; do mv "$f" "${f%.failed}.json"; done`.
Inputs that are unchanged keep their `NNN.json`.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


class XorShift:
    def __init__(self, seed):
        self.x = seed

    def next(self):
        x = self.x
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        self.x = x
        return x


# --- Received ---------------------------------------------------------------

# Sources (the README's header says what they are).
SA_SRC = "SpamAssassin tests"
SYN = "synthetic"

# (line, source, reason)
RECEIVED_SEEDS = [
    ("from localhost (unknown [127.0.0.1]) by cabbage.jmason.org (Postfix) with ESMTP id A96E18BD97 for <jm@localhost>; Thu, 13 Mar 2003 15:23:15 -0500 (EST)",
     SA_SRC, "Postfix: rDNS `unknown` dropped, every field, zone-named date"),
    ("from mail1.insuranceiq.com (host66.insuranceiq.com [65.217.159.66] (may be forged)) by dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id h2F0c2x31856 for <jm@jmason.org>; Sat, 15 Mar 2003 00:38:03 GMT",
     SA_SRC, "Sendmail `(may be forged)` nested comment"),
    ("from ran-out.mx.develooper.com (IDENT:qmailr@one.develooper.com [64.81.84.115]) by dogma.slashnull.org (8.11.6/8.11.6) with SMTP id h381Vvf19860",
     SA_SRC, "Sendmail IDENT: prefix; no date"),
    ("from [192.168.1.10] (dsl.example.net [198.51.100.9]) by mx.example.org (8.13.8/8.13.8) with ESMTP id k1; Mon, 1 Jan 2007 00:00:00 +0000",
     SYN, "HELO literal: the comment's IP wins"),
    ("from [61.174.163.26] (helo=host) by sc8-sf-list1.sourceforge.net with smtp (Exim 3.31-VA-mm2 #1 (Debian)) id 18t2z0-0001NX-00 for <razor-users@lists.sourceforge.net>; Wed, 12 Mar 2003 01:57:10 -0800",
     SA_SRC, "Exim `from [ip] (helo=x)`"),
    ("from dsl092-072-213.bos1.dsl.speakeasy.net ([66.92.72.213] helo=blazing.arsecandle.org) by sc8-sf-list1.sourceforge.net with esmtp (Cipher TLSv1:DES-CBC3-SHA:168) (Exim 3.31-VA-mm2 #1 (Debian)) id 18lyuU-0007TI-00",
     SA_SRC, "Exim `([ip] helo=x)`: name is the rDNS"),
    ("from server040.webpack.hosteurope.de ([80.237.130.48]:52313) by vps.example with esmtps (Exim 4.50) id 1GzVLs",
     SA_SRC, "Exim literal with port"),
    ("from helene8.i.pinwand.net (helene.cats.ms) [10.0.8.6.13219] (mail) by lisbeth.i.pinwand.net with esmtp (Exim 3.35 #1 (Debian)) id 1CO5y7",
     SA_SRC, "old Exim `ip.port` outside the comments"),
    ("from andrew by trinity.supernews.net with local (Exim 4.12) id 18xeL6-000Dn1-00; Tue, 25 Mar 2003 02:39:00 +0000",
     SA_SRC, "`with local`: not a handover"),
    ("from itrqtnlnq (lucilleskinner@93.124.107.183 with login) by smtp111.mail.ne1.yahoo.com with SMTP; 17 Jan 2011 08:23:27 -0800 PST",
     SA_SRC, "Yahoo `(user@ip with login)`"),
    ("from customer254-217.iplannetworks.net (HELO AGAMENON) (baldusi@200.69.254.217 with plain) by smtp.mail.vip.sc5.yahoo.com with SMTP; 11 Mar 2003 21:03:28 -0000",
     SA_SRC, "Yahoo with an explicit HELO"),
    ("from smtp.greyware.com(208.14.208.51, HELO smtp.sff.net) by x.x.org via smap (V1.3) id xma002908; Fri, 27 Feb 04 14:16:56 -0800",
     SA_SRC, "smap `(ip, HELO name)`, two-digit year"),
    ("from av0001.technodiva.com (localhost [127.0.0.1])by  localhost.technodiva.com (Postfix) with ESMTP id 846CF2117for  <proftp-user@lists.sourceforge.net>; Mon,  7 Aug 2006 17:48:07 +0200 (MEST)",
     SA_SRC, "no space before `by` (SpamAssassin's `s/\\)by /) by /`)"),
    ("from 82.135.198.129 by FWM-M18.sysops.aol.com (64.12.168.82) with HTTP (WebMailUI); Tue, 19 Jun 2007 11:16:54 -0400",
     SA_SRC, "AOL WebMailUI: SpamAssassin's exception for `from IP by host (...)`"),
    ("from 157.54.8.23 by inet-vrs-05.redmond.corp.microsoft.com (InterScan E-Mail VirusWall NT); Thu, 06 Mar 2003 12:02:35 -0800",
     SA_SRC, "InterScan exception"),
    ("from 10.165.130.62 by CNNIMAIL12.CNN.COM (SMTPL release 1.0d) with TCP; Fri, 1 Sep 2006 20:28:14 -0400",
     SA_SRC, "SMTPL exception"),
    ("from no.name.available by [165.224.43.143] via smtpd (for [165.224.216.89]) with ESMTP; Fri, 28 Jan 2005 13:06:39 -0500",
     SA_SRC, "only literals are the `by` and `for` hosts': no relay"),
    ("from MATT_LINUX by hippo.star.co.uk via smtpd (for mail.webnote.net [193.120.211.219]) with SMTP; 3 Jul 2002 15:43:50 UT",
     SA_SRC, "only literal is the `for` host's; `UT` zone"),
    ("from no.name.available by [165.224.216.88] via smtpd (for lists.sourceforge.net [66.35.250.206]) with ESMTP",
     SA_SRC, "Raptor/TIS firewall form"),
    ("from pop3.mail.dk (195.41.46.251) by loki.valhalla with POP3; 14 Apr 2010 11:14:29 -0000",
     SA_SRC, "POP3 fetcher with a bare `(ip)`: not a handover"),
    ("from postfix3-2.free.fr (HELO machine.domain.com) (foobar@213.228.0.169) by totor.bouissou.net with SMTP; 14 Nov 2003 08:05:50 -0000",
     SA_SRC, "qmail `(HELO x) (ident@ip)`"),
    ("from unknown (HELO terpsichore.farfalle.com) (jdavid@[216.254.40.70]) (envelope-sender <jdavid@farfalle.com>) by mail13.speakeasy.net (qmail-ldap-1.03) with SMTP for <jm@jmason.org>; 12 Feb 2003 18:23:19 -0000",
     SA_SRC, "qmail-ldap, `unknown` rDNS, envelope-sender comment"),
    ("from network; 11 Nov 2008 21:30:00 -0000", SYN, "qmail `from network`: not a handover"),
    ("(qmail 1234 invoked from network); 11 Nov 2008 21:30:00 -0000", SYN, "qmail invocation line: date only"),
    ("from unknown (HELO [10.0.0.1]) (198.51.100.4) by mail.example with SMTP; 11 Nov 2008 21:30:00 -0000",
     SYN, "qmail: HELO literal is not the relay"),
    ("from EXC-DAG-02.global.net (10.45.252.152) by EXC-DAG-02.global.net (10.45.252.152) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) id 15.1.1261.35; Mon, 29 Oct 2018 11:17:19 +0100",
     "Exchange form", "Exchange bare `(ip)` with `Microsoft`: no rDNS"),
    ("from AM5PR0402MB2836.eurprd04.prod.outlook.com ([fe80::19bd:c588:dd17:5226]) by AM5PR0402MB2836.eurprd04.prod.outlook.com ([fe80::19bd:c588:dd17:5226%6]) with mapi id 15.20.1943.023; Wed, 5 Jun 2019 10:17:08 +0000",
     "Office 365 form", "IPv6 literal with a zone index"),
    ("from NAM12-BN8-obe.outbound.protection.outlook.com (2a01:111:f400:7e8a::200) by BN8NAM12FT003.mail.protection.outlook.com (2603:10b6:408:1b8::66) with Microsoft SMTP Server (version=TLS1_2) id 15.20.1; Mon, 1 Mar 2021 10:00:00 +0000",
     "Office 365 form", "bare IPv6 in a comment"),
    ("from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id a1sor; Tue, 1 Jan 2019 00:00:00 -0800 (PST)",
     "Gmail form", "rDNS with a trailing dot"),
    ("by 2002:a17:90a:d3d7:0:0:0:0 with SMTP id d23csp1; Tue, 1 Jan 2019 00:00:00 -0800 (PST)",
     "Gmail form", "`by` only: not a handover"),
    ("from inet-vrs-05.redmond.corp.microsoft.com ([157.54.6.157]) by INET-IMC-05.redmond.corp.microsoft.com with Microsoft SMTPSVC(5.0.2195.6624); Thu, 6 Mar 2003 12:02:35 -0800",
     SA_SRC, "Microsoft SMTPSVC"),
    ("from mail.example ([IPv6:2001:db8::1]) by mx.example (8.14/8.14) with ESMTP id x; Tue, 11 Nov 2008 21:30:00 +0000",
     SYN, "`IPv6:` literal"),
    ("from x (y [IPv6:::ffff:198.51.100.1]) by z with ESMTP", SYN, "IPv4-mapped IPv6 becomes IPv4"),
    ("from x (y [198.51.100.1]) by z with ESMTPSA id 1", SYN, "ESMTPSA: authenticated"),
    ("from 198.51.100.1 by webmail.example with HTTP; Tue, 11 Nov 2008 21:30:00 +0000", SYN, "webmail over HTTP: authenticated"),
    ("from x (y [198.51.100.1]) (Authenticated sender: bob) by z (Postfix) with ESMTP id 1", SYN, "Postfix `(Authenticated sender: …)`"),
    ("from rev.net (natpool62.rev.net [63.148.93.62] (may be forged)) (authenticated) by mail.rev.net (8.11.4/8.11.4) with ESMTP id h0",
     SA_SRC, "Sendmail `(authenticated)`"),
    ("from x (y [198.51.100.1]) by z with ESMTPS id 1", SYN, "ESMTPS is not authenticated"),
    ("by mx.example (Postfix, from userid 0) id 1; Tue, 11 Nov 2008 21:30:00 +0000", SYN, "local submission: not a handover"),
    ("from localhost [127.0.0.1] by phobos.labs.netnoteinc.com with IMAP (fetchmail-5.9.0) for jm@localhost (single-drop); Thu, 22 Aug 2002 12:36:23 +0100 (IST)",
     SA_SRC, "fetchmail IMAP: not a handover"),
    ("from somehost by mx.example; Tue, 11 Nov 2008 21:30:00 +0000", SYN, "`from x by y;` without IP"),
    ("from 198.51.100.1 by mx.example (8.1) id 1", SYN, "`from IP by y (...)` without `with`: dropped as SpamAssassin does"),
    ("from 213.123.174.21 by lw11fd.law11.hotmail.msn.com with HTTP; Wed, 24 Jul 2002 16:36:44 GMT",
     SA_SRC, "Hotmail `from IP by y with HTTP`"),
    ("from [198.51.100.1] by mx.example; Tue, 11 Nov 2008 21:30:00 +0000", SYN, "`from [ip] by y;` is a handover"),
    ("from list.brainbuzz.com (63.146.189.86:23198) by mx1.yourtech.net with [XMail 1.20 ESMTP Server] id <S72E>",
     SA_SRC, "XMail `(ip:port)`"),
    ("from DPLAPTOP ( 72.242.176.162) by mail.puryear-it.com (Scalix SMTP Relay 10.0.1.3) via ESMTP",
     SA_SRC, "Scalix `( ip)`"),
    ("from x(198.51.100.3) by y via smap (V2.1)", SYN, "smap without space before the comment"),
    ("from attbi.com (h000502e08144.ne.client2.attbi.com[24.128.27.103]) by rwcrmhc53.attbi.com (rwcrmhc53) with SMTP id <2003>",
     SA_SRC, "rDNS glued to the literal"),
    ("from 12-211-5-69.client.attbi.com (<unknown.domain>[12.211.5.69]) by rwcrmhc53.attbi.com (rwcrmhc53) with SMTP id <2002>",
     SA_SRC, "`<unknown.domain>` is not an rDNS"),
    ("(from x [198.51.100.5]) by y (NAVGW 2.5) with SMTP", SYN, "`(from …)` form"),
    ("from ([10.225.209.19:33672]) by ecelerity-va-1 (ecelerity HEAD) with SMTP id EE", SA_SRC, "ecelerity: no name, literal with port"),
    ("from bot (dsl.example.net [198.51.100.7]) by mx.trap.example with SMTP; Tue, 11 Nov 2008 21:30:02 +0000", SYN, "the crate doc example"),
    ("from mail.example (relay.example [192.0.2.7]) by mx.trap.example (Postfix)\r\n\twith ESMTP id 4A1B2;\r\n Tue, 11 Nov 2008 21:30:00 +0000",
     SYN, "folded with CRLF and tabs"),
    ("from unknown (HELO [1.2.3.4]) (user@[IPv6:2001:db8::1]:25) by mx (qmail) with ESMTPA; date", SYN, "IPv6 ident literal with port, ESMTPA, unreadable date"),
    ("from h\xc3\xa9lo.example (r\xc3\xa9v.example [198.51.100.8]) by mx.example with ESMTP; Tue, 11 Nov 2008 21:30:00 +0000", SYN, "UTF-8 names"),
    ("from x (y [198.51.100.9]) by z with ESMTP; Tue, 11 Nov 2008 21:30:00 \xff+0000\x00", SYN, "invalid UTF-8 and NUL in the date"),
    ("from", SYN, "hostile: keyword only"),
    ("from (", SYN, "hostile: open comment"),
    ("from ((((", SYN, "hostile: unbalanced comments"),
    ("from [", SYN, "hostile: open bracket"),
    ("from [1.2.3.4", SYN, "hostile: unclosed literal"),
    ("from x (y [", SYN, "hostile: cut inside the comment"),
    (";;;;", SYN, "hostile: separators only"),
    ("from x by", SYN, "hostile: `by` without host"),
    (" by ", SYN, "hostile: blank `by`"),
    ("from x ([) by y", SYN, "hostile: bracket in a comment"),
    ("from \x00\xef\xbf\xbf by \xc3\xa9", SYN, "hostile: NUL, U+FFFF, non-ASCII host"),
    ("", SYN, "empty value: no hop"),
]

RECEIVED_PIECES = [
    b"(", b")", b"[", b"]", b" by ", b" BY ", b" with ", b" id ", b" for ", b"from ",
    b"(from ", b"by ", b"helo=", b"ident=", b"HELO ", b"(EHLO)", b"authenticated",
    b"AUTH: ", b"(authenticated as ", b"(via HTTP", b"HTTP-DAV",
    b" with Microsoft Exchange Server HTTP-DAV", b"Exim", b"Microsoft", b"with POP3",
    b"with imap", b"local", b"1.2.3.4", b"[10.0.0.1]", b"@", b";", b" ", b"\r\n\t",
    "\u00a0".encode(), "\u00e9".encode(), b"\xff", b"unknown", b"IPv6:", b"::1", b"ESMTPA",
    b"\x00", b"(Authenticated sender: x)", b"198.51.100.7:25", b"x@[2001:db8::1]", b")by ",
    b" with login)", b", HELO ", b", ", b"fe80::1,", b"(SMTPL", b"(InterScan",
    b"(64.12.168.82) with HTTP (WebMailUI)", b" via smtpd (for ",
]


def mutate_received(rng, line):
    """1 to 4 edits: cut at, delete up to 11 bytes at, or splice a piece at."""
    m = bytearray(line)
    ops = []
    for _ in range(rng.next() % 4 + 1):
        at = rng.next() % (len(m) + 1)
        kind = rng.next() % 4
        if kind == 0:
            del m[at:]
            ops.append("cut@%d" % at)
        elif kind == 1:
            end = min(at + rng.next() % 12, len(m))
            del m[at:end]
            ops.append("del@%d+%d" % (at, end - at))
        else:
            p = RECEIVED_PIECES[rng.next() % len(RECEIVED_PIECES)]
            m[at:at] = p
            ops.append("ins@%d %s" % (at, ascii(p)[1:]))
    return bytes(m), ops


# --- URLs -------------------------------------------------------------------

URL_SEEDS = [
    ("see http://Example.COM./x, and www.foo.example.org! go to (https://a.example.net/path?q=1). ftp.example.com/pub",
     "absolute, www. and ftp. forms; trailing punctuation and dot"),
    ("http://paypal.com@evil.example/login http://user:pw@evil.example:8080/",
     "userinfo trick: the host is after the last @"),
    ("http://0xD0420C0A/ http://3493989386/ http://0320.0102.014.012/ http://208.66.12.10/ http://0xd0.66.0xc.10/ http://[2001:DB8::1]:80/x",
     "numeric hosts as browsers read them; IPv6 literal"),
    ("<a href=\"&#104;ttp&#58;//%77%77%77.example.com/&amp;x\">x</a> <a href='&#x68;ttp://e&#x78;ample.org'>x</a>",
     "entities and percent-encoded hosts"),
    ("<html><body background=\"//img.example.net/bg.gif\"><p style=\"font-size:10.5pt\">Visit shop.example.com or mail sales@example.biz</p><img src=http://1.2.3.4/a.gif></body>",
     "attributes, protocol-relative value, visible text, inert style tokens"),
    ("<p>Visit <b>Shop</b>.example.com<br>or <a href=www.x.example.org/p>x</a>",
     "inline markup joins text; unquoted www. attribute"),
    ("<!-- c --><script src=\"https://s.example.com/x.js\"></script><!-- http://hidden.example.com --><style>a{background:url(http://css.example.com/b.png)}</style>",
     "comments vanish; script and style are markup"),
    ("http://www.google.com/url?q=http://evil.example/x http://r.example/?u=http%3A%2F%2Fevil.example%2Fy http://g.example/s.php?n=http://www.a.example&e=x@b.example",
     "redirectors give both hosts; @ in a query"),
    ("\u4e2dhttp://hk.example.com/i www.aacsb.edu.\u53bb\u67e5 http://b\u00fccher.example/",
     "host running into CJK text; IDN to punycode"),
    ("write to Bob.Smith@Mail.Example.COM, or mailto:x%40y.example.org?subject=hi; not me@localhost nor a@b.zzzzunknown",
     "addresses and mailto"),
    ("readme.txt e.g. foo.zzz end. example.co.uk/path Une adresse @yahoo.fr gratuite",
     "schemeless needs a known TLD; start delimiter @"),
    ("From: Mike <eresrch*eskimo.com> newsgroup: news://news.freshmeat.net/fm.announce see example.com/docs/readme.io a*b.zzz x/y.txt",
     "SpamAssassin's schemeless start delimiters"),
    ("(8.7.3/8.6.10-MT4.00) and 192.0.2.7/x.html and 10.1.2.3:8080",
     "bare numeric host only as a dotted quad with a path or port"),
    ("http://a.example/ http://a.example/ HTTP://A.EXAMPLE/ http://a.example/#x",
     "duplicates collapse after normalisation"),
    ("<a href=\"http://www.weqonvb.c!n/\">x</a> www.zyra.org! .uk http://http://jupiterwatchs.net",
     "spammer filler characters; doubled scheme"),
    ("<img src=\"img/header.jpg\"><a href=\"mail.carvajal.co.cr/.updates\">relative</a><td background=\"bg.gif\">",
     "relative attribute values give nothing"),
    ("h\nttp://217.219.163.3:280/x ttp://198.51.100.20/y 1http://bad.example/",
     "split schemes; a digit before the scheme"),
    ("<a href=\"mailto:Info@Shop.Example.NET?subject=x\">mail</a> <a href=\"user@example.com\">u</a> <p>x@y.example</p>",
     "mailto and address attributes"),
    ("http://\uff45xample\uff0ecom/ http://xn--bcher-kva.example/ http://EXAMPLE.\u0441\u043e\u043c/",
     "fullwidth dot and letters, punycode, mixed script"),
    ("http://%31%30%2e%30%2e%30%2e%31/ http://%zz.example/ http://a..b.example/ http://.example.com/ http://localhost/",
     "percent-encoded IP, invalid escapes, empty labels, dotless host"),
    ("\u00a0www.nbsp.example\u00a0http://nbsp2.example/\u00a0",
     "no-break spaces delimit tokens"),
    ("<A HREF=\"HTTP://UPPER.EXAMPLE/PATH\">X</A><a\nhref=\nhttps://split.example/>y</a>",
     "upper-case markup, attributes over lines"),
    ("www2.example.com www-x.example.com wwwexample.com WWW.Caps.Example.Com",
     "www with digits; not www."),
    ("ftp://files.example.org/pub/ ftps://x.example/ gopher://g.example/ HTTPS://secure.example:443/a?b#c",
     "ftp scheme; unknown schemes ignored; port kept"),
    ("&lt;http://lt.example/&gt; &quot;http://q.example/&quot; &#x2F;&#x2F;nowhere &commat;x &colon; &period;",
     "named entities around and inside URLs"),
    ("Click here: http://track.example.net/c?u=https%3A%2F%2Fpharma.example%2Fbuy%3Fid%3D1&e=a%40b.example",
     "encoded redirect with an encoded address"),
    ("<a href=\"http://[::1]:8080/\">v6</a> <a href=\"http://[2001:db8::dead:beef]/\">v6</a> http://[fe80::1%25eth0]/",
     "IPv6 literals in attributes; zone index"),
    ("visit site.com, shop.net; news.info: and more.info) or [brackets.org] {curly.biz}",
     "bare domains with trailing punctuation and brackets"),
    ("<div>www.<span>split</span>.example.com</div> <td>http://</td><td>cut.example</td>",
     "markup splitting a host"),
    ("user@sub.example.co.uk,other@example.org;third@example.net> <fourth@example.info>",
     "address lists"),
]

URL_PIECES = [
    "http://", "https://x.example/", "www.", "ftp.", ".", "..", "@", ":", "&#104;", "&amp;",
    "<a href=", "<A HREF=\"", ">", "<br>", "<style>", "</style>", "<!--", "-->", "%2e",
    "%77%77%77.", "\u3002", " ", "\u00a0", "mailto:", "[", "]", "//", "0x7f.1", "3494513674",
    "x@y.com", "?u=http%3A%2F%2Fevil.example", ".com", "\u00e9", "xn--", "=", "\"", "'",
    "http://[2001:db8::1]/", "user@", ").",
]


def mutate_url(rng, text):
    """1 to 12 pieces spliced in at character positions."""
    t = text
    ops = []
    for _ in range(rng.next() % 12 + 1):
        at = rng.next() % (len(t) + 1)
        p = URL_PIECES[rng.next() % len(URL_PIECES)]
        t = t[:at] + p + t[at:]
        ops.append("ins@%d %s" % (at, ascii(p)))
    return t, ops


# --- writing ----------------------------------------------------------------

def clear_inputs(d, ext):
    for f in os.listdir(d):
        if f.endswith(ext) and f[:3].isdigit():
            os.remove(os.path.join(d, f))


def write_suite(name, ext, header, seeds, mutate, count, seed):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    clear_inputs(d, ext)
    rows = []
    seen = set()
    for i, (data, source, reason) in enumerate(seeds, 1):
        with open(os.path.join(d, "%03d%s" % (i, ext)), "wb") as f:
            f.write(data)
        seen.add(data)
        rows.append("| %03d | %s | %s |" % (i, source, reason.replace("|", "\\|")))
    rng = XorShift(seed)
    n = 101
    while n < 101 + count:
        k = rng.next() % len(seeds)
        data, ops = mutate(rng, seeds[k][0])
        if data in seen:
            continue
        seen.add(data)
        with open(os.path.join(d, "%03d%s" % (n, ext)), "wb") as f:
            f.write(data)
        rows.append("| %03d | mutation of %03d | %s |" % (n, k + 1, "; ".join(ops).replace("|", "\\|")))
        n += 1
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(header)
        f.write("\n| fixture | source | reason |\n|---|---|---|\n")
        f.write("\n".join(rows) + "\n")


RECEIVED_HEADER = """# Received lines

Golden fixtures for `parse_received` (written by `../generate.py`; do not
edit by hand). Each `NNN.txt` is one `Received:` field value (without the
field name; some hold CR, LF, NUL or invalid UTF-8, read as the code reads
raw header bytes: invalid sequences become U+FFFD). `NNN.json` beside it is
every field of the `ReceivedHop` the parser returns (`null`: no hop), taken
from the code when the suite was made, after checking that it equalled the
previous implementation's output on every fixture (the oracle code that
these files replace). A mismatch writes `NNN.failed`; accepting a change is
a `mv`.

`../received_vs_spamassassin.py` compares the expected relays with
SpamAssassin 4.0.1's (one-hop messages through
`scripts/conformance/mail.d/sa_extract.pl`). The seeds agree on 65 of 67:
051, ecelerity's `from ([ip:port])`, which SpamAssassin cannot read, is one
of the three disagreements docs/mail.md lists ("Other Received lines");
054 is a synthetic qmail line where SpamAssassin takes the HELO literal.
The mutations agree on 275 of 300: garbled lines, where the two sets of
heuristics part. The fixtures pin depeer's output, not SpamAssassin's.

Fixtures 001 on are the seeds: the forms the unit tests checked. Source
`SpamAssassin tests`: a line quoted from SpamAssassin's test suite, as
collected in mail-parser 1.0.1's `resources/received.json` (the file
`scripts/conformance/received` compares with SpamAssassin); `Exchange`,
`Office 365`, `Gmail form`: the header form those services write, as
published in their sample headers; `synthetic`: written for depeer with
documentation addresses and example names. Fixtures 101 on are deterministic mutations of a seed, as the
randomized comparison with the old parser made them: `cut@N` truncates at
byte N, `del@N+K` deletes K bytes at N, `ins@N 'x'` splices the bytes `x` in
at N (the keywords, brackets and bytes the parser reacts to).
"""

URL_HEADER = """# URL bodies

Golden fixtures for `UrlSet` (written by `../generate.py`; do not edit by
hand). Each `NNN.txt` is one decoded body. `NNN.json` beside it holds what
the scanner finds in it read as plain text (`text`: `[url, host, is_ip]` in
order of discovery), read as HTML (`html`), and the visible text of the HTML
(`rendered`), taken from the code when the suite was made, after checking
that it equalled the previous implementation's output on every fixture (the
oracle code that these files replace). The forms follow what SpamAssassin
and rspamd extract (docs/conformance-mail.md lists where they differ). A
mismatch writes `NNN.failed`; accepting a change is a `mv`.

Fixtures 001 on are the seeds, written for depeer (example names and
documentation addresses; the few real host names are quoted from the
conformance report's disagreement classes). Fixtures 101 on are
deterministic mutations of a seed, as the randomized comparison with the
old scanner made them: `ins@N 'x'` inserts `x` at character N (schemes,
entities, markup, dots, `@`, percent escapes, no-break spaces, IDN bytes).
"""


def main():
    # Seeds are written byte for byte: "\xNN" in them is the byte NN.
    received = [(l.encode("latin-1"), s, r) for (l, s, r) in RECEIVED_SEEDS]
    write_suite("received", ".txt", RECEIVED_HEADER, received, mutate_received, 300, 0x2545_F491_4F6C_DD1D)
    urls = [(t.encode("utf-8"), "synthetic", r) for (t, r) in URL_SEEDS]

    def mutate_u(rng, data):
        t, ops = mutate_url(rng, data.decode("utf-8"))
        return t.encode("utf-8"), ops

    write_suite("url", ".txt", URL_HEADER, urls, mutate_u, 270, 0x9E37_79B9_7F4A_7C15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
