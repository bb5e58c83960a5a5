# aws provider: EC2 servers as targets. This build has no network access, so it
# checks the credentials and then refuses; it never acts on a remote machine.
# Both refusals are ProviderErrors: the target is unusable, the script did not fail.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main target" [] {
  $in | prvng step {|req|
    let creds = prvng want-credentials $req $MANIFEST aws
    let region = $creds.region? | default "us-east-1"
    error make {msg: $"[ProviderError] aws: server '($req.server)' in ($region) is a remote target and cannot be reached from this build \(no network access\); use the local provider"}
  }
}
