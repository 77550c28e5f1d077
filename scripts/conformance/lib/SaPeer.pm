# SpamAssassin as a conformance peer, shared by mail.d/sa_extract.pl and
# sim.d/sa_relays.pl: one instance in this process with a throw-away home,
# local tests only (no network test), and its metadata extraction (the
# Received chain with trust inference, URIs) run on one message at a time.
# No rules are run.
package SaPeer;
use strict;
use warnings;
use Exporter qw(import);
use File::Temp qw(tempdir);
use Mail::SpamAssassin;
use Mail::SpamAssassin::PerMsgStatus;

our @EXPORT_OK = qw(spamassassin with_metadata);

# A SpamAssassin instance; $post: configuration lines (e.g. trusted_networks).
sub spamassassin {
  my ($post) = @_;
  my $home = tempdir(CLEANUP => 1);
  my $sa = Mail::SpamAssassin->new({
    local_tests_only     => 1,
    dont_copy_prefs      => 1,
    userstate_dir        => $home,
    home_dir_for_helpers => $home,
    userprefs_filename   => "$home/user_prefs",
    post_config_text     => $post // '',
  });
  $sa->init(1);
  return $sa;
}

# Extracts the metadata of the raw message $raw and returns what
# $each->($pms) returns for it.
sub with_metadata {
  my ($sa, $raw, $each) = @_;
  my $msg = $sa->parse($raw, 1);
  my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $msg);
  $pms->extract_message_metadata();
  my $out = $each->($pms);
  $pms->finish();
  $msg->finish();
  return $out;
}

1;
