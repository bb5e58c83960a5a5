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
    let config = prvng read-back $req "etc/docker/registry/config.yml"
    let root = $config.storage?.filesystem?.rootdirectory?
    {checks: (prvng file-checks $req | append [
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
  let s = prvng settings $req $MANIFEST
  prvng want-port $s port
  prvng want-one-of $s log_level [error warn info debug]
  prvng want-absolute $s root_dir
  if ($s.proxy_remote_url | is-not-empty) and not ($s.proxy_remote_url =~ '^https?://') {
    error make {msg: $"setting 'proxy_remote_url' must be an http\(s\) URL, got '($s.proxy_remote_url)'"}
  }
  $s
}
