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
    let workers = prvng read-back $req "etc/buildkit/buildkitd.toml" | get -o worker
    let enabled = [oci containerd] | where {|w| $workers | get -o $w | get -o enabled | $in == true }
    {checks: (prvng file-checks $req | append [
      (prvng check "enabled worker" ($enabled == [$s.worker]) $"want ($s.worker), found ($enabled | str join ', ')")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = prvng settings $req $MANIFEST
  prvng want-one-of $s worker [containerd oci]
  prvng want-at-least $s gc_keep_storage_mb 0
  if ($s.registry_mirrors | any {|m| ($m | describe) != "string" }) {
    error make {msg: "setting 'registry_mirrors' must be a list of host names"}
  }
  $s
}
