#!/usr/bin/perl
# SpamAssassin peer for scripts/conformance/mail.
#
# Runs SpamAssassin's own metadata extraction (Received-chain parsing with
# trust-boundary inference, URI extraction) through its Perl API in ONE
# process over every message file named on stdin (one path per line, the
# file name being <sha256>.eml), and prints one JSON object per message:
#   {"sha256", "relays_untrusted" (the _RELAYSUNTRUSTED_ tag), "relays_trusted",
#    "relay_ip",
#    "relay_helo", "relay_rdns", "uris": [{"uri", "hosts", "types"}]}
# No rules are run and no network test is made (local_tests_only).
#
# Usage: sa_extract.pl [--trust FILE] < list-of-files > sa.jsonl
# FILE holds SpamAssassin trust lines (trusted_networks / internal_networks /
# msa_networks), the same file that is given to depeer --trust.
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;
use File::Basename qw(basename);
use FindBin;
use lib "$FindBin::Bin/../lib";
use SaPeer qw(spamassassin with_metadata);

my $trust;
GetOptions('trust=s' => \$trust) or die "usage: $0 [--trust FILE] < files\n";

my $post = '';
if (defined $trust) {
  # depeer's trust file: SpamAssassin lines, or bare entries (= trusted),
  # '#' comments. SpamAssassin takes IPs and CIDRs only: host-name entries
  # (depeer matches them against the relay's rDNS) are left out, with a note.
  open(my $t, '<', $trust) or die "cannot read trust file $trust: $!\n";
  while (my $l = <$t>) {
    $l =~ s/#.*//;
    my @w = split ' ', $l;
    next unless @w;
    my $kw = 'trusted_networks';
    if ($w[0] =~ /^(trusted_networks|internal_networks|msa_networks)$/) {
      $kw = shift @w;
    }
    my @nets = grep { m{^!?[0-9a-fA-F:.]+(/\d+)?$} && /[.:]/ } @w;
    my @names = grep { !m{^!?[0-9a-fA-F:.]+(/\d+)?$} || !/[.:]/ } @w;
    print STDERR "sa_extract: host-name trust entries not given to SpamAssassin: @names\n" if @names;
    $post .= "$kw @nets\n" if @nets;
  }
  close $t;
}

my $sa = spamassassin($post);

# What SpamAssassin made of one message: its relays and URIs.
sub record {
  my ($sha, $pms) = @_;
  my $tag = $pms->get_tag('RELAYSUNTRUSTED') // '';
  my $trusted = $pms->get_tag('RELAYSTRUSTED') // '';
  my $first = $pms->{relays_untrusted} && @{$pms->{relays_untrusted}}
    ? $pms->{relays_untrusted}->[0] : undef;

  my @uris;
  my $detail = $pms->get_uri_detail_list();
  for my $uri (sort keys %$detail) {
    my $info = $detail->{$uri};
    push @uris, {
      uri   => $uri,
      hosts => [sort keys %{$info->{hosts} || {}}],
      types => [sort keys %{$info->{types} || {}}],
    };
  }

  return {
    sha256           => $sha,
    relays_untrusted => "$tag",
    relays_trusted   => "$trusted",
    relay_ip         => $first ? $first->{ip} : undef,
    relay_helo       => $first ? $first->{helo} : undef,
    relay_rdns       => $first ? $first->{rdns} : undef,
    uris             => \@uris,
  };
}

my $json = JSON::PP->new->canonical(1)->utf8(0);
binmode(STDOUT, ':utf8');
my $n = 0;
while (my $path = <STDIN>) {
  chomp $path;
  next if $path eq '';
  my $sha = basename($path);
  $sha =~ s/\.eml$//;
  open(my $fh, '<:raw', $path) or die "cannot read $path: $!\n";
  local $/;
  my $raw = <$fh>;
  close $fh;

  print $json->encode(with_metadata($sa, $raw, sub { record($sha, $_[0]) })), "\n";
  $n++;
}
print STDERR "spamassassin: $n messages\n";
