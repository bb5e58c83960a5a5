# kubernetes taskserv: kubelet config, kubeadm config and the kubelet unit.
# The Kubernetes version rendered is the extension's own version.
use prvng

const MANIFEST = path self extension.toml

def main [] {}

def "main configure" [] {
  $in | prvng step {|req|
    let s = settings $req
    let node = {name: $req.target.server, criSocket: $s.cri_socket}
    let init = {
      apiVersion: "kubeadm.k8s.io/v1beta3", kind: "InitConfiguration"
      localAPIEndpoint: {bindPort: $s.api_port}
      nodeRegistration: $node
    }
    let cluster = {
      apiVersion: "kubeadm.k8s.io/v1beta3", kind: "ClusterConfiguration"
      kubernetesVersion: $"v($req.extension.version)"
      clusterName: $s.cluster_name
      controlPlaneEndpoint: $"($req.target.server):($s.api_port)"
      networking: {podSubnet: $s.pod_subnet, serviceSubnet: $s.service_subnet, dnsDomain: $s.cluster_domain}
      # etcd is its own taskserv (a dependency), so kubeadm must not run a stacked one.
      etcd: {external: {endpoints: [$s.etcd_endpoint]}}
    }
    let kubelet = {
      apiVersion: "kubelet.config.k8s.io/v1beta1", kind: "KubeletConfiguration"
      port: $s.kubelet_port
      cgroupDriver: $s.cgroup_driver
      containerRuntimeEndpoint: $s.cri_socket
      clusterDNS: [$s.cluster_dns]
      clusterDomain: $s.cluster_domain
      maxPods: $s.max_pods
      staticPodPath: "/etc/kubernetes/manifests"
      authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: "/etc/kubernetes/pki/ca.crt"}}
      authorization: {mode: "Webhook"}
      rotateCertificates: true
    }
    let unit = [
      "[Unit]"
      $"Description=kubelet: the Kubernetes node agent \(v($req.extension.version)\)"
      "Documentation=https://kubernetes.io/docs/"
      "Wants=network-online.target containerd.service"
      "After=network-online.target containerd.service"
      ""
      "[Service]"
      "ExecStart=/usr/bin/kubelet --config=/etc/kubernetes/kubelet.yaml --kubeconfig=/etc/kubernetes/kubelet.conf --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"
      "Restart=always"
      "RestartSec=10"
      ""
      "[Install]"
      "WantedBy=multi-user.target"
    ]
    {files: (prvng stage $req [
      {path: "etc/kubernetes/kubelet.yaml", content: ($kubelet | to yaml)}
      # kubeadm reads both documents from one file.
      {path: "etc/kubernetes/kubeadm-config.yaml", content: ([$init $cluster] | each { to yaml } | str join "---\n")}
      {path: "etc/systemd/system/kubelet.service", content: ($unit | to text)}
    ])}
  }
}

def "main install" [] {
  $in | prvng step {|req|
    mkdir ($req.target.root | path join var lib kubelet) ($req.target.root | path join etc kubernetes manifests)
    {files: (prvng install-staged $req)}
  }
}

def "main verify" [] {
  $in | prvng step {|req|
    let s = settings $req
    let kubelet = prvng read-back $req "etc/kubernetes/kubelet.yaml"
    let cluster = prvng read-back $req "etc/kubernetes/kubeadm-config.yaml" | default [] | where kind? == "ClusterConfiguration" | get 0?
    let want_version = $"v($req.extension.version)"
    {checks: (prvng file-checks $req | append [
      (prvng check "kubelet port" ($kubelet.port? == $s.kubelet_port) $"want ($s.kubelet_port), found ($kubelet.port?)")
      (prvng check "kubernetes version" ($cluster.kubernetesVersion? == $want_version) $"want ($want_version), found ($cluster.kubernetesVersion?)")
    ])}
  }
}

def "main uninstall" [] {
  $in | prvng step {|req| {removed: (prvng uninstall-recorded $req)} }
}

# The manifest's [settings] with the request's overrides; a bad key or value fails naming it.
def settings [req: record] {
  let s = prvng settings $req $MANIFEST
  for key in [api_port kubelet_port] { prvng want-port $s $key }
  prvng want-one-of $s cgroup_driver [systemd cgroupfs]
  prvng want-at-least $s max_pods 1
  $s
}
