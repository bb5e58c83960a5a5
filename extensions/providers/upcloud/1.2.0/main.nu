# upcloud provider: UpCloud servers as targets. This build has no network access, so it
# checks the credentials and then refuses; it never acts on a remote machine.
# Both refusals are ProviderErrors: the target is unusable, the script did not fail.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main target" [] {
  $in | prvng step {|req|
    let creds = prvng want-credentials $req $MANIFEST upcloud
    let zone = $creds.zone? | default "fi-hel1"
    error make {msg: $"[ProviderError] upcloud: server '($req.server)' in ($zone) is a remote target and cannot be reached from this build \(no network access\); use the local provider"}
  }
}
