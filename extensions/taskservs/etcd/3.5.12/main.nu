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
    let config = prvng read-back $req "etc/etcd/etcd.conf.yml"
    let want = $"http://($s.listen_address):($s.client_port)"
    let found = $config | get -o listen-client-urls
    {checks: (prvng file-checks $req | append [
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
  let s = prvng settings $req $MANIFEST
  for key in [client_port peer_port] { prvng want-port $s $key }
  if $s.client_port == $s.peer_port { error make {msg: "settings 'client_port' and 'peer_port' must differ"} }
  prvng want-one-of $s initial_cluster_state [new existing]
  prvng want-one-of $s log_level [debug info warn error panic fatal]
  # etcd itself refuses to start otherwise.
  if $s.heartbeat_interval_ms < 1 or $s.election_timeout_ms < 5 * $s.heartbeat_interval_ms {
    error make {msg: $"setting 'election_timeout_ms' \(($s.election_timeout_ms)\) must be at least 5 times 'heartbeat_interval_ms' \(($s.heartbeat_interval_ms)\)"}
  }
  prvng want-absolute $s data_dir
  $s
}
