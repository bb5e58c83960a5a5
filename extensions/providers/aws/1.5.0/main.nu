# aws provider: EC2 servers as targets. This build has no network access, so it
# checks the credentials and then refuses; it never acts on a remote machine.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main target" [] {
  $in | prvng step {|req|
    let creds = $req.credentials? | default {}
    let missing = open $MANIFEST | get credentials.required | transpose key env
      | where {|c| $creds | get -o $c.key | is-empty }
    if ($missing | is-not-empty) {
      error make {msg: $"aws: missing credentials ($missing.key | str join ', '); set ($missing.env | str join ' and ') in the worker's environment"}
    }
    let region = $creds.region? | default "us-east-1"
    error make {msg: $"aws: server '($req.server)' in ($region) is a remote target and cannot be reached from this build \(no network access\); use the local provider"}
  }
}
