# slowpoke taskserv: a fault-injection fixture. Install leaves markers under
# var/lib/slowpoke so a test can see how far it got, and can kill it by pid:
#   install.pid (the nu process), install.started, then after the sleep install.done.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    {files: (prvng stage $req [
      {path: "etc/slowpoke/slowpoke.toml", content: ({install_seconds: $s.install_seconds} | to toml)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req|
    let s = settings $req
    let state = $req.target.root | path join var lib slowpoke
    mkdir $state
    # A previous run's done marker must not vouch for this one.
    rm --force ($state | path join install.done)
    $nu.pid | into string | save --force ($state | path join install.pid)
    $"($req.extension.name) ($req.extension.version)\n" | save --force ($state | path join install.started)
    sleep ($s.install_seconds * 1sec)
    let files = prvng install-staged $req
    $"($req.extension.name) ($req.extension.version)\n" | save --force ($state | path join install.done)
    {files: $files}
  }
}

def "main verify" [] {
  $in | prvng step {|req|
    let done = $req.target.root | path join var lib slowpoke install.done | path exists
    {checks: (prvng file-checks $req | append (prvng check "install finished" $done (if $done { "" } else { "no install.done marker" })))}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req|
    let removed = prvng uninstall-recorded $req
    rm --recursive --force ($req.target.root | path join var lib slowpoke)
    {removed: $removed}
  }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = prvng settings $req $MANIFEST
  prvng want-at-least $s install_seconds 0
  $s
}
