# local provider: a server's target root is <targets_dir>/<server> on this machine.
use prvng

def main [] {}

def "main target" [] {
  $in | prvng step {|req|
    # The server name becomes a folder name: keep it from climbing out of targets_dir.
    if not ($req.server =~ '^[a-z0-9][a-z0-9._-]{0,63}$') {
      error make {msg: $"local: server name '($req.server)' is not valid \(lower-case letters, digits, '.', '_', '-'; at most 64\)"}
    }
    if not ($req.targets_dir | str starts-with "/") {
      error make {msg: $"local: targets_dir must be an absolute path, got '($req.targets_dir)'"}
    }
    let root = $req.targets_dir | path join $req.server
    mkdir $root
    {root: $root}
  }
}
