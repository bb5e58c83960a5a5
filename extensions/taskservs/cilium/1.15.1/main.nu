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
    let values = prvng read-back $req "etc/cilium/values.yaml"
    # .conflist is JSON under a name `open` does not know.
    let cni = try { open --raw ($req.target.root | path join etc/cni/net.d/05-cilium.conflist) | from json } catch { null }
    let plugin = $cni.plugins?.0?.type?
    {checks: (prvng file-checks $req | append [
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
  let s = prvng settings $req $MANIFEST
  prvng want-port $s k8s_service_port
  prvng want-one-of $s routing_mode [tunnel native]
  prvng want-one-of $s tunnel_protocol [vxlan geneve]
  prvng want-one-of $s ipam_mode [kubernetes cluster-pool]
  if $s.cluster_id < 0 or $s.cluster_id > 255 { error make {msg: $"setting 'cluster_id' must be in 0..255, got ($s.cluster_id)"} }
  prvng want-at-least $s operator_replicas 1
  $s
}
