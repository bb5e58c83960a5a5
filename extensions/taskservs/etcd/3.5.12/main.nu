# etcd taskserv: etcd.conf.yml and its unit. Serves 3.4 and 3.5 (see `configure`).
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let host = $req.target.server
    let member = if ($s.member_name | is-empty) { $host } else { $s.member_name }
    let peer_url = $"http://($host):($s.peer_port)"
    let config = {
      name: $member
      data-dir: $s.data_dir
      listen-client-urls: $"http://($s.listen_address):($s.client_port)"
      advertise-client-urls: $"http://($host):($s.client_port)"
      listen-peer-urls: $"http://($s.listen_address):($s.peer_port)"
      initial-advertise-peer-urls: $peer_url
      initial-cluster: (if ($s.initial_cluster | is-empty) { $"($member)=($peer_url)" } else { $s.initial_cluster })
      initial-cluster-token: $s.initial_cluster_token
      initial-cluster-state: $s.initial_cluster_state
      snapshot-count: $s.snapshot_count
      heartbeat-interval: $s.heartbeat_interval_ms
      election-timeout: $s.election_timeout_ms
      quota-backend-bytes: $s.quota_backend_bytes
      logger: "zap"
      log-level: $s.log_level
    }
    # 3.4 still serves the v2 API by default; 3.5 turned it off, so say so only for 3.4.
    let config = if ($req.extension.version | str starts-with "3.4.") { $config | insert enable-v2 false } else { $config }
    let unit = [
      "[Unit]"
      $"Description=etcd key-value store \(($req.extension.version)\)"
      "Documentation=https://etcd.io/docs/"
      "Wants=network-online.target"
      "After=network-online.target"
      ""
      "[Service]"
      "Type=notify"
      "ExecStart=/usr/local/bin/etcd --config-file /etc/etcd/etcd.conf.yml"
      "Restart=always"
      "RestartSec=10s"
      "LimitNOFILE=40000"
      ""
      "[Install]"
      "WantedBy=multi-user.target"
    ]
    {files: (prvng stage $req [
      {path: "etc/etcd/etcd.conf.yml", content: ($config | to yaml)}
      {path: "etc/systemd/system/etcd.service", content: ($unit | to text)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req|
    let s = settings $req
    mkdir ($req.target.root | path join ($s.data_dir | str trim --left --char '/'))
    {files: (prvng install-staged $req)}
  }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let config = read-back $req "etc/etcd/etcd.conf.yml"
    let want = $"http://($s.listen_address):($s.client_port)"
    let found = $config | get -o listen-client-urls
    {checks: (file-checks $req | append [
      (prvng check "client url" ($found == $want) $"want ($want), found ($found)")
      (prvng check "data dir" ($config | get -o data-dir | $in == $s.data_dir) $"want ($s.data_dir)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = merge-settings (open $MANIFEST | get settings) ($req.settings? | default {})
  for key in [client_port peer_port] { want-port $s $key }
  if $s.client_port == $s.peer_port { error make {msg: "settings 'client_port' and 'peer_port' must differ"} }
  want-one-of $s initial_cluster_state [new existing]
  want-one-of $s log_level [debug info warn error panic fatal]
  # etcd itself refuses to start otherwise.
  if $s.heartbeat_interval_ms < 1 or $s.election_timeout_ms < 5 * $s.heartbeat_interval_ms {
    error make {msg: $"setting 'election_timeout_ms' \(($s.election_timeout_ms)\) must be at least 5 times 'heartbeat_interval_ms' \(($s.heartbeat_interval_ms)\)"}
  }
  if not ($s.data_dir | str starts-with "/") { error make {msg: "setting 'data_dir' must be an absolute path"} }
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
