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
    {checks: (file-checks $req | append (prvng check "install finished" $done (if $done { "" } else { "no install.done marker" })))}
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
  let s = merge-settings (open $MANIFEST | get settings) ($req.settings? | default {})
  if $s.install_seconds < 0 { error make {msg: $"setting 'install_seconds' must not be negative, got ($s.install_seconds)"} }
  $s
}

def merge-settings [defaults: record, given: record] {
  for key in ($given | columns) {
    if $key not-in $defaults {
      error make {msg: $"unknown setting '($key)'; known settings: ($defaults | columns | str join ', ')"}
    }
    let value = $given | get $key
    let want = $defaults | get $key | describe | split row '<' | first
    let got = $value | describe | split row '<' | first
    if $got != $want { error make {msg: $"setting '($key)' must be of type ($want), got ($got)"} }
    # Values land on one line of a config file; a line break would inject more.
    if ([$value] | flatten | any {|x| ($x | describe) == "string" and $x =~ '[\r\n]' }) {
      error make {msg: $"setting '($key)' must not contain a line break"}
    }
  }
  $defaults | merge $given
}

# A check per recorded file, plus one that something was installed at all.
def file-checks [req: record] {
  let files = prvng recorded-files $req
  $files | each {|f| prvng check-parses $req $f }
    | prepend (prvng check "installed" ($files | is-not-empty) (if ($files | is-empty) { "no install record" } else { "" }))
}
