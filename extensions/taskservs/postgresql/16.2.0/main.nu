# postgresql taskserv: the "main" cluster's postgresql.conf and pg_hba.conf
# (Debian layout, /etc/postgresql/<major>/main) plus a cluster.toml describing it.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let p = paths $req
    let conf = {
      data_directory: $p.data
      hba_file: $"/($p.etc)/pg_hba.conf"
      port: $s.port
      listen_addresses: $s.listen_addresses
      max_connections: $s.max_connections
      shared_buffers: $s.shared_buffers
      password_encryption: (if $s.auth_method == "md5" { "md5" } else { "scram-sha-256" })
      unix_socket_directories: "/var/run/postgresql"
      cluster_name: $"($p.major)/main"
      log_timezone: $s.timezone
      timezone: $s.timezone
    }
    let hba = [
      "# TYPE  DATABASE  USER      ADDRESS  METHOD"
      "local   all       postgres           peer"
      "local   all       all                peer"
      $"host    all       all       ($s.allowed_cidr)  ($s.auth_method)"
      $"host    all       all       ::1/128  ($s.auth_method)"
    ]
    let cluster = {
      postgresql: {version: $req.extension.version, major: ($p.major | into int), cluster: "main"}
      server: {host: $req.target.server, port: $s.port, data_directory: $p.data, config_file: $"/($p.etc)/postgresql.conf"}
    }
    {files: (prvng stage $req [
      {path: $"($p.etc)/postgresql.conf", content: ($conf | items {|k, v| $"($k) = (pg-value $v)" } | to text)}
      {path: $"($p.etc)/pg_hba.conf", content: ($hba | to text)}
      {path: $"($p.etc)/cluster.toml", content: ($cluster | to toml)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req|
    mkdir ($req.target.root | path join ((paths $req).data | str trim --left --char '/'))
    {files: (prvng install-staged $req)}
  }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let p = paths $req
    let conf = try { open --raw ($req.target.root | path join $p.etc postgresql.conf) | lines | parse "{key} = {value}" } catch { [] }
    let port = $conf | where key == "port" | get -o 0.value
    let cluster = prvng read-back $req $"($p.etc)/cluster.toml"
    {checks: (prvng file-checks $req | append [
      (prvng check "postgresql.conf port" ($port == ($s.port | into string)) $"want ($s.port), found ($port)")
      (prvng check "cluster.toml port" ($cluster.server?.port? == $s.port) $"want ($s.port), found ($cluster.server?.port?)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# Where the cluster lives: config under the target root, data as an absolute server path.
def paths [req: record] {
  let major = $req.extension.version | split row "." | first
  {major: $major, etc: $"etc/postgresql/($major)/main", data: $"/var/lib/postgresql/($major)/main"}
}

# postgresql.conf values: strings quoted with '' escaping, numbers bare.
def pg-value [v: any] {
  if ($v | describe) == "string" { $"'($v | str replace --all "'" "''")'" } else { $v | into string }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = prvng settings $req $MANIFEST
  prvng want-port $s port
  prvng want-one-of $s auth_method [scram-sha-256 md5 trust reject]
  prvng want-at-least $s max_connections 1
  if not ($s.shared_buffers =~ '^\d+(kB|MB|GB|TB)$') {
    error make {msg: $"setting 'shared_buffers' must be a size such as 128MB, got '($s.shared_buffers)'"}
  }
  $s
}
