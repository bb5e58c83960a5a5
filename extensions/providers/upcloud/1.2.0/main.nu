# upcloud provider: UpCloud servers as targets. This build has no network access, so it
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
      error make {msg: $"upcloud: missing credentials ($missing.key | str join ', '); set ($missing.env | str join ' and ') in the worker's environment"}
    }
    let zone = $creds.zone? | default "fi-hel1"
    error make {msg: $"upcloud: server '($req.server)' in ($zone) is a remote target and cannot be reached from this build \(no network access\); use the local provider"}
  }
}
