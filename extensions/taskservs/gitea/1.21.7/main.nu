# gitea taskserv: app.ini (PostgreSQL database, installer locked) and its unit.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let domain = if ($s.domain | is-empty) { $req.target.server } else { $s.domain }
    let app = {
      APP_NAME: $s.app_name, RUN_USER: "git", RUN_MODE: "prod", WORK_PATH: $s.work_path
      server: {
        PROTOCOL: "http", DOMAIN: $domain, HTTP_PORT: $s.http_port
        ROOT_URL: (if ($s.root_url | is-empty) { $"http://($domain):($s.http_port)/" } else { $s.root_url })
        SSH_DOMAIN: $domain, SSH_PORT: $s.ssh_port, APP_DATA_PATH: $"($s.work_path)/data"
      }
      database: {
        DB_TYPE: "postgres", HOST: $"($s.db_host):($s.db_port)"
        NAME: $s.db_name, USER: $s.db_user, PASSWD: $s.db_password, SSL_MODE: "disable"
      }
      repository: {ROOT: $"($s.work_path)/data/gitea-repositories"}
      log: {MODE: "console", LEVEL: $s.log_level, ROOT_PATH: $"($s.work_path)/log"}
      # Configuration comes from here, so the web installer must stay off.
      security: {INSTALL_LOCK: true}
    }
    let unit = [
      "[Unit]"
      $"Description=Gitea \(($req.extension.version)\)"
      "After=network.target postgresql.service"
      "Wants=postgresql.service"
      ""
      "[Service]"
      "User=git"
      "Group=git"
      $"WorkingDirectory=($s.work_path)"
      "ExecStart=/usr/local/bin/gitea web --config /etc/gitea/app.ini"
      $"Environment=USER=git HOME=/home/git GITEA_WORK_DIR=($s.work_path)"
      "Restart=always"
      ""
      "[Install]"
      "WantedBy=multi-user.target"
    ]
    {files: (prvng stage $req [
      {path: "etc/gitea/app.ini", content: ($app | to-ini)}
      {path: "etc/systemd/system/gitea.service", content: ($unit | to text)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req|
    let work = $req.target.root | path join ((settings $req).work_path | str trim --left --char '/')
    mkdir ($work | path join custom) ($work | path join data) ($work | path join log)
    {files: (prvng install-staged $req)}
  }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let ini = try { open --raw ($req.target.root | path join etc/gitea/app.ini) | lines } catch { [] }
    let want_db = $"HOST = ($s.db_host):($s.db_port)"
    {checks: (prvng file-checks $req | append [
      (prvng check "http port" ($"HTTP_PORT = ($s.http_port)" in $ini) $"want HTTP_PORT = ($s.http_port)")
      (prvng check "database host" ($want_db in $ini) $"want ($want_db)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# INI has no serializer in Nushell: top-level scalars first, then one [section] per record.
def to-ini [] {
  transpose key value | each {|it|
    if ($it.value | describe | str starts-with "record") {
      ["" $"[($it.key)]" ...($it.value | items {|k, v| $"($k) = ($v)" })]
    } else {
      [$"($it.key) = ($it.value)"]
    }
  } | flatten | to text
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = prvng settings $req $MANIFEST
  for key in [http_port ssh_port db_port] { prvng want-port $s $key }
  prvng want-one-of $s log_level [Trace Debug Info Warn Error Critical None]
  prvng want-absolute $s work_path
  $s
}
