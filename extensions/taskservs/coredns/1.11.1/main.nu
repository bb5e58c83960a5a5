# coredns taskserv: the Corefile, and the kube-system ConfigMap that carries it into the cluster.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    # Corefile has no serializer; it is built line by line from the settings.
    let corefile = [
      $".:($s.port) {"
      "    errors"
      "    health {"
      "        lameduck 5s"
      "    }"
      "    ready"
      $"    kubernetes ($s.cluster_domain) in-addr.arpa ip6.arpa {"
      "        pods insecure"
      "        fallthrough in-addr.arpa ip6.arpa"
      "        ttl 30"
      "    }"
      $"    prometheus :($s.metrics_port)"
      $"    forward . ($s.upstreams | str join ' ') {"
      "        max_concurrent 1000"
      "    }"
      $"    cache ($s.cache_seconds)"
      "    loop"
      "    reload"
      "    loadbalance"
      "}"
    ] | to text
    let configmap = {
      apiVersion: "v1", kind: "ConfigMap"
      metadata: {name: "coredns", namespace: "kube-system"}
      data: {Corefile: $corefile}
    }
    {files: (prvng stage $req [
      {path: "etc/coredns/Corefile", content: $corefile}
      {path: "etc/coredns/coredns-configmap.yaml", content: ($configmap | to yaml)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req| {files: (prvng install-staged $req)} }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let corefile = try { open --raw ($req.target.root | path join etc/coredns/Corefile) | decode utf-8 } catch { null }
    let configmap = prvng read-back $req "etc/coredns/coredns-configmap.yaml"
    {checks: (prvng file-checks $req | append [
      (prvng check "Corefile port" ($corefile | default "" | str starts-with $".:($s.port) {") $"want a server block on port ($s.port)")
      (prvng check "ConfigMap matches Corefile" ($corefile != null and $configmap.data?.Corefile? == $corefile))
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = prvng settings $req $MANIFEST
  for key in [port metrics_port] { prvng want-port $s $key }
  if not ($s.cluster_domain =~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$') {
    error make {msg: $"setting 'cluster_domain' must be a DNS name such as cluster.local, got '($s.cluster_domain)'"}
  }
  prvng want-at-least $s cache_seconds 0
  if ($s.upstreams | is-empty) or ($s.upstreams | any {|u| ($u | describe) != "string" }) {
    error make {msg: "setting 'upstreams' must be a non-empty list of resolver addresses"}
  }
  $s
}
