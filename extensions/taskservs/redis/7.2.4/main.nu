# redis taskserv: redis.conf (run under systemd supervision) and its unit.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let conf = {
      bind: $s.bind
      protected-mode: $s.protected_mode
      port: $s.port
      tcp-keepalive: 300
      daemonize: false
      supervised: "systemd"
      pidfile: "/run/redis/redis-server.pid"
      loglevel: $s.loglevel
      logfile: ""
      databases: $s.databases
      dir: $s.dir
      dbfilename: "dump.rdb"
      appendonly: $s.appendonly
      maxmemory: $s.maxmemory
      maxmemory-policy: $s.maxmemory_policy
    }
    let conf = if ($s.requirepass | is-empty) { $conf } else { $conf | insert requirepass $s.requirepass }
    let unit = [
      "[Unit]"
      $"Description=Redis data store \(($req.extension.version)\)"
      "Documentation=https://redis.io/docs/"
      "After=network.target"
      ""
      "[Service]"
      "Type=notify"
      "ExecStart=/usr/bin/redis-server /etc/redis/redis.conf"
      "User=redis"
      "Group=redis"
      "RuntimeDirectory=redis"
      "LimitNOFILE=65535"
      "Restart=always"
      ""
      "[Install]"
      "WantedBy=multi-user.target"
    ]
    {files: (prvng stage $req [
      {path: "etc/redis/redis.conf", content: ($conf | items {|k, v| $"($k) (redis-value $v)" } | to text)}
      {path: "etc/systemd/system/redis.service", content: ($unit | to text)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req|
    mkdir ($req.target.root | path join ((settings $req).dir | str trim --left --char '/'))
    {files: (prvng install-staged $req)}
  }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let conf = try { open --raw ($req.target.root | path join etc/redis/redis.conf) | lines } catch { [] }
    {checks: (prvng file-checks $req | append [
      (prvng check "port" ($"port ($s.port)" in $conf) $"want port ($s.port)")
      (prvng check "maxmemory-policy" ($"maxmemory-policy ($s.maxmemory_policy)" in $conf) $"want ($s.maxmemory_policy)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# redis.conf arguments: yes/no for booleans, lists as several arguments,
# strings quoted (with escapes) unless they are one plain word.
def redis-value [v: any] {
  match ($v | describe | split row '<' | first) {
    "bool" => (if $v { "yes" } else { "no" })
    "list" => ($v | each {|x| redis-value $x } | str join " ")
    "string" => (if $v =~ '^[A-Za-z0-9._/:+-]+$' { $v } else { $v | to json })
    _ => ($v | into string)
  }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = prvng settings $req $MANIFEST
  prvng want-port $s port
  prvng want-one-of $s loglevel [debug verbose notice warning]
  prvng want-one-of $s maxmemory_policy [noeviction allkeys-lru allkeys-lfu allkeys-random volatile-lru volatile-lfu volatile-random volatile-ttl]
  if not ($s.maxmemory =~ '^(?i)\d+(kb|mb|gb)?$') { error make {msg: $"setting 'maxmemory' must be a size such as 256mb or 0, got '($s.maxmemory)'"} }
  prvng want-at-least $s databases 1
  if ($s.bind | is-empty) { error make {msg: "setting 'bind' must list at least one address"} }
  $s
}
