#!/usr/bin/perl
# SpamAssassin peer for scripts/conformance/sim.
#
# Reads mboxrd files named on stdin (one path per line), splits them the way
# docs/sim.md defines (message = bytes after the `From ` line up to, not
# including, the empty line before the next `From ` line; one `>` removed
# from lines matching ^>+From ), and for every message prints one line
#   <sha256 of the message bytes> <first untrusted relay IP or -> <file>
# using SpamAssassin's own Received parsing and default trust inference
# (no trusted_networks configured), through its Perl API in one process.
# No rules and no network tests are run.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use FindBin;
use lib "$FindBin::Bin/../lib";
use SaPeer qw(spamassassin with_metadata);

my $sa = spamassassin();

# The first untrusted relay's IP, or '-'.
sub relay {
  my ($raw) = @_;
  return with_metadata($sa, $raw, sub {
    my $r = $_[0]->{relays_untrusted};
    return ($r && @$r) ? $r->[0]->{ip} : '-';
  });
}

while (my $path = <STDIN>) {
  chomp $path;
  next if $path eq '';
  open(my $fh, '<:raw', $path) or die "cannot read $path: $!\n";
  my $cur;
  my @msgs;
  while (my $line = <$fh>) {
    if ($line =~ /^From /) {
      if (defined $cur) { $cur =~ s/\n\z//; push @msgs, $cur; }
      $cur = '';
      next;
    }
    next unless defined $cur;
    $line =~ s/^>(>*From )/$1/;
    $cur .= $line;
  }
  if (defined $cur) { $cur =~ s/\n\z//; push @msgs, $cur; }
  close $fh;
  for my $m (@msgs) {
    print sha256_hex($m), ' ', relay($m), ' ', $path, "\n";
  }
}
