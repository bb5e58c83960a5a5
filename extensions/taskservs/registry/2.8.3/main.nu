# registry taskserv: distribution's config.yml (filesystem storage) and its unit.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let config = {
      version: "0.1"
      log: {level: $s.log_level, fields: {service: "registry"}}
      storage: {
        filesystem: {rootdirectory: $s.root_dir}
        delete: {enabled: $s.delete_enabled}
        cache: {blobdescriptor: "inmemory"}
      }
      http: {addr: $":($s.port)", headers: {X-Content-Type-Options: ["nosniff"]}}
      health: {storagedriver: {enabled: true, interval: "10s", threshold: 3}}
    }
    let config = if ($s.proxy_remote_url | is-empty) { $config } else {
      $config | insert proxy {remoteurl: $s.proxy_remote_url}
    }
    let unit = [
      "[Unit]"
      $"Description=Distribution container registry \(($req.extension.version)\)"
      "Documentation=https://distribution.github.io/distribution/"
      "After=network-online.target"
      "Wants=network-online.target"
      ""
      "[Service]"
      "ExecStart=/usr/local/bin/registry serve /etc/docker/registry/config.yml"
      "Restart=on-failure"
      ""
      "[Install]"
      "WantedBy=multi-user.target"
    ]
    {files: (prvng stage $req [
      {path: "etc/docker/registry/config.yml", content: ($config | to yaml)}
      {path: "etc/systemd/system/registry.service", content: ($unit | to text)}
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
    let config = read-back $req "etc/docker/registry/config.yml"
    let root = $config.storage?.filesystem?.rootdirectory?
    {checks: (file-checks $req | append [
      (prvng check "listen address" ($config.http?.addr? == $":($s.port)") $"want :($s.port), found ($config.http?.addr?)")
      (prvng check "storage root" ($root == $s.root_dir) $"want ($s.root_dir), found ($root)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = merge-settings (open $MANIFEST | get settings) ($req.settings? | default {})
  want-port $s port
  want-one-of $s log_level [error warn info debug]
  if not ($s.root_dir | str starts-with "/") { error make {msg: "setting 'root_dir' must be an absolute path"} }
  if ($s.proxy_remote_url | is-not-empty) and not ($s.proxy_remote_url =~ '^https?://') {
    error make {msg: $"setting 'proxy_remote_url' must be an http\(s\) URL, got '($s.proxy_remote_url)'"}
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

def want-port [s: record, key: string] {
  let p = $s | get $key
  if $p < 1 or $p > 65535 { error make {msg: $"setting '($key)' must be a port in 1..65535, got ($p)"} }
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
