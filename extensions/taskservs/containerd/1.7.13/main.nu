# containerd taskserv: config.toml (schema version 2, CRI plugin) and its unit.
use prvng

const MANIFEST = path self extension.toml
const CRI = "io.containerd.grpc.v1.cri"

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let config = {
      version: 2
      root: $s.root_dir
      state: $s.state_dir
      grpc: {address: $s.grpc_address}
      metrics: {address: $"127.0.0.1:($s.metrics_port)"}
      debug: {level: $s.log_level}
      plugins: {$CRI: {
        sandbox_image: $s.sandbox_image
        containerd: {
          default_runtime_name: "runc"
          runtimes: {runc: {runtime_type: "io.containerd.runc.v2", options: {SystemdCgroup: $s.systemd_cgroup}}}
        }
        registry: {config_path: "/etc/containerd/certs.d"}
      }}
    }
    let unit = [
      "[Unit]"
      $"Description=containerd container runtime \(($req.extension.version)\)"
      "Documentation=https://containerd.io"
      "After=network.target local-fs.target"
      ""
      "[Service]"
      "ExecStartPre=-/sbin/modprobe overlay"
      "ExecStart=/usr/local/bin/containerd --config /etc/containerd/config.toml"
      "Type=notify"
      "Delegate=yes"
      "KillMode=process"
      "Restart=always"
      "RestartSec=5"
      "LimitNOFILE=infinity"
      "TasksMax=infinity"
      "OOMScoreAdjust=-999"
      ""
      "[Install]"
      "WantedBy=multi-user.target"
    ]
    {files: (prvng stage $req [
      {path: "etc/containerd/config.toml", content: ($config | to toml)}
      {path: "etc/systemd/system/containerd.service", content: ($unit | to text)}
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
    let cri = read-back $req "etc/containerd/config.toml" | get -o plugins | get -o $CRI
    let image = $cri.sandbox_image?
    let cgroup = $cri.containerd?.runtimes?.runc?.options?.SystemdCgroup?
    {checks: (file-checks $req | append [
      (prvng check "sandbox image" ($image == $s.sandbox_image) $"want ($s.sandbox_image), found ($image)")
      (prvng check "runc SystemdCgroup" ($cgroup == $s.systemd_cgroup) $"want ($s.systemd_cgroup), found ($cgroup)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = merge-settings (open $MANIFEST | get settings) ($req.settings? | default {})
  want-port $s metrics_port
  want-one-of $s log_level [trace debug info warn error fatal panic]
  for key in [root_dir state_dir grpc_address] {
    if not ($s | get $key | str starts-with "/") { error make {msg: $"setting '($key)' must be an absolute path"} }
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
