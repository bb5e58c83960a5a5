# buildkit taskserv: buildkitd.toml with one enabled worker (containerd by default) and its unit.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let containerd = $s.worker == "containerd"
    let config = {
      debug: $s.debug
      root: $s.root_dir
      grpc: {address: ["unix:///run/buildkit/buildkitd.sock"]}
      worker: {
        oci: {enabled: (not $containerd), gc: true, gckeepstorage: $s.gc_keep_storage_mb}
        containerd: {
          enabled: $containerd, address: $s.containerd_address, namespace: $s.containerd_namespace
          gc: true, gckeepstorage: $s.gc_keep_storage_mb
        }
      }
    }
    let config = if ($s.registry_mirrors | is-empty) { $config } else {
      $config | insert registry {"docker.io": {mirrors: $s.registry_mirrors}}
    }
    let unit = [
      "[Unit]"
      $"Description=BuildKit daemon \(($req.extension.version)\)"
      "Documentation=https://github.com/moby/buildkit"
      ...(if $containerd { ["After=containerd.service" "Requires=containerd.service"] } else { [] })
      ""
      "[Service]"
      "ExecStart=/usr/local/bin/buildkitd --config /etc/buildkit/buildkitd.toml"
      "Restart=always"
      ""
      "[Install]"
      "WantedBy=multi-user.target"
    ]
    {files: (prvng stage $req [
      {path: "etc/buildkit/buildkitd.toml", content: ($config | to toml)}
      {path: "etc/systemd/system/buildkit.service", content: ($unit | to text)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req|
    let s = settings $req
    mkdir ($req.target.root | path join ($s.root_dir | str trim --left --char '/'))
    {files: (prvng install-staged $req)}
  }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let workers = read-back $req "etc/buildkit/buildkitd.toml" | get -o worker
    let enabled = [oci containerd] | where {|w| $workers | get -o $w | get -o enabled | $in == true }
    {checks: (file-checks $req | append [
      (prvng check "enabled worker" ($enabled == [$s.worker]) $"want ($s.worker), found ($enabled | str join ', ')")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = merge-settings (open $MANIFEST | get settings) ($req.settings? | default {})
  want-one-of $s worker [containerd oci]
  if $s.gc_keep_storage_mb < 0 { error make {msg: $"setting 'gc_keep_storage_mb' must not be negative, got ($s.gc_keep_storage_mb)"} }
  if ($s.registry_mirrors | any {|m| ($m | describe) != "string" }) {
    error make {msg: "setting 'registry_mirrors' must be a list of host names"}
  }
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

def want-one-of [s: record, key: string, allowed: list] {
  let v = $s | get $key
  if $v not-in $allowed { error make {msg: $"setting '($key)' must be one of ($allowed | str join ', '), got '($v)'"} }
}

# A check per recorded file, plus one that something was installed at all.
def file-checks [req: record] {
  let files = prvng recorded-files $req
  $files | each {|f| prvng check-parses $req $f }
    | prepend (prvng check "installed" ($files | is-not-empty) (if ($files | is-empty) { "no install record" } else { "" }))
}

# An installed file parsed by its extension, or null when missing or unreadable.
def read-back [req: record, path: string] {
  try { open ($req.target.root | path join $path) } catch { null }
}
