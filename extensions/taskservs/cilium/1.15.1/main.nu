# cilium taskserv: Helm values for the cilium chart at this version and the CNI conflist.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let values = {
      cluster: {name: $s.cluster_name, id: $s.cluster_id}
      k8sServiceHost: (if ($s.k8s_service_host | is-empty) { $req.target.server } else { $s.k8s_service_host })
      k8sServicePort: $s.k8s_service_port
      # The 1.15 chart still types this value as a string ("true"/"false").
      kubeProxyReplacement: ($s.kube_proxy_replacement | into string)
      routingMode: $s.routing_mode
      tunnelProtocol: (if $s.routing_mode == "tunnel" { $s.tunnel_protocol } else { "" })
      ipam: {mode: $s.ipam_mode, operator: {clusterPoolIPv4PodCIDRList: [$s.cluster_pool_cidr]}}
      hubble: {enabled: $s.hubble, relay: {enabled: $s.hubble}}
      operator: {replicas: $s.operator_replicas}
    }
    let cni = {
      cniVersion: "0.3.1"
      name: "cilium"
      plugins: [{type: "cilium-cni", enable-debug: false, log-file: "/var/run/cilium/cilium-cni.log"}]
    }
    {files: (prvng stage $req [
      {path: "etc/cilium/values.yaml", content: ($values | to yaml)}
      {path: "etc/cni/net.d/05-cilium.conflist", content: ($cni | to json)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req| {files: (prvng install-staged $req)} }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let values = read-back $req "etc/cilium/values.yaml"
    # .conflist is JSON under a name `open` does not know.
    let cni = try { open --raw ($req.target.root | path join etc/cni/net.d/05-cilium.conflist) | from json } catch { null }
    let plugin = $cni.plugins?.0?.type?
    {checks: (file-checks $req | append [
      (prvng check "API server port" ($values.k8sServicePort? == $s.k8s_service_port) $"want ($s.k8s_service_port), found ($values.k8sServicePort?)")
      (prvng check "CNI plugin" ($plugin == "cilium-cni") $"want cilium-cni, found ($plugin)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = merge-settings (open $MANIFEST | get settings) ($req.settings? | default {})
  want-port $s k8s_service_port
  want-one-of $s routing_mode [tunnel native]
  want-one-of $s tunnel_protocol [vxlan geneve]
  want-one-of $s ipam_mode [kubernetes cluster-pool]
  if $s.cluster_id < 0 or $s.cluster_id > 255 { error make {msg: $"setting 'cluster_id' must be in 0..255, got ($s.cluster_id)"} }
  if $s.operator_replicas < 1 { error make {msg: $"setting 'operator_replicas' must be at least 1, got ($s.operator_replicas)"} }
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
