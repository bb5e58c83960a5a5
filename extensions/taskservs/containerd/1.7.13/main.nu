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
    let cri = prvng read-back $req "etc/containerd/config.toml" | get -o plugins | get -o $CRI
    let image = $cri.sandbox_image?
    let cgroup = $cri.containerd?.runtimes?.runc?.options?.SystemdCgroup?
    {checks: (prvng file-checks $req | append [
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
  let s = prvng settings $req $MANIFEST
  prvng want-port $s metrics_port
  prvng want-one-of $s log_level [trace debug info warn error fatal panic]
  for key in [root_dir state_dir grpc_address] { prvng want-absolute $s $key }
  $s
}
