#!/usr/bin/python3
"""deploy/kubernetes checked without a cluster (none can be had here, and
`kubectl apply --dry-run=client` needs an API server to map kinds):

1. `kubectl kustomize` renders it (Debian's kubectl, offline);
2. the rendered objects hold together: the StatefulSet's serviceName is the
   headless Service, every selector (Services, PodDisruptionBudget) matches
   the pod's labels, every mount has a volume or claim, the Secrets it
   mounts are the ones secrets.example.yaml shows, probes name declared
   ports, requests and a non-root security context are set, and the scrape
   annotation points at the admin port;
3. the ConfigMap's attributiond.conf uses only flags `attributiond --help`
   lists, its ports are the container's, and its files lie under the
   mounts.

  kubernetes_test.py ATTRIBUTIOND
"""
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIR = os.path.join(ROOT, "deploy", "kubernetes")


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def main():
    server = sys.argv[1]
    r = subprocess.run(["kubectl", "kustomize", DIR], capture_output=True, text=True)
    if r.returncode != 0:
        fail("kubectl kustomize: " + r.stderr)
    docs = [d for d in yaml.safe_load_all(r.stdout) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    for kind, n in (("StatefulSet", 1), ("Service", 2), ("ConfigMap", 1),
                    ("PodDisruptionBudget", 1)):
        if len(by_kind.get(kind, [])) != n:
            fail("expected %d %s, got %d" % (n, kind, len(by_kind.get(kind, []))))
    sts = by_kind["StatefulSet"][0]
    spec = sts["spec"]
    pod = spec["template"]
    labels = pod["metadata"]["labels"]

    def matches(selector):
        return all(labels.get(k) == v for k, v in selector.items())

    if not matches(spec["selector"]["matchLabels"]):
        fail("the StatefulSet's selector does not match its pods")
    services = {s["metadata"]["name"]: s for s in by_kind["Service"]}
    headless = services.get(spec["serviceName"])
    if headless is None or headless["spec"].get("clusterIP") != "None":
        fail("serviceName %r is not a headless Service" % spec["serviceName"])
    if not any(s["spec"].get("type") == "ClusterIP" for s in services.values()):
        fail("no ClusterIP Service")
    for s in services.values():
        if not matches(s["spec"]["selector"]):
            fail("Service %s selects no pod" % s["metadata"]["name"])
    if not matches(by_kind["PodDisruptionBudget"][0]["spec"]["selector"]["matchLabels"]):
        fail("the PodDisruptionBudget selects no pod")

    [container] = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        p = container.get(probe)
        if not p or p["httpGet"]["port"] not in ports:
            fail("%s missing or on an undeclared port" % probe)
    if container["readinessProbe"]["httpGet"]["path"] != "/readyz":
        fail("readiness is not /readyz")
    requests = container["resources"]["requests"]
    if "cpu" not in requests or "memory" not in requests:
        fail("resource requests missing")
    if not pod["spec"]["securityContext"].get("runAsNonRoot"):
        fail("the pod may run as root")
    annotations = pod["metadata"]["annotations"]
    if annotations.get("prometheus.io/scrape") != "true" or \
            int(annotations["prometheus.io/port"]) != ports["admin"]:
        fail("the scrape annotation does not point at the admin port")

    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    claims = {c["metadata"]["name"] for c in spec["volumeClaimTemplates"]}
    mounts = {}
    for m in container["volumeMounts"]:
        if m["name"] not in volumes and m["name"] not in claims:
            fail("mount %s has no volume" % m["name"])
        mounts[m["mountPath"]] = m["name"]
    configmaps = {c["metadata"]["name"]: c for c in by_kind["ConfigMap"]}
    example = [d for d in yaml.safe_load_all(open(os.path.join(DIR, "secrets.example.yaml"))) if d]
    secrets = {s["metadata"]["name"] for s in example}
    for v in volumes.values():
        if "configMap" in v and v["configMap"]["name"] not in configmaps:
            fail("volume %s: no ConfigMap %s" % (v["name"], v["configMap"]["name"]))
        if "secret" in v and v["secret"]["secretName"] not in secrets:
            fail("volume %s: Secret %s is not in secrets.example.yaml" %
                 (v["name"], v["secret"]["secretName"]))

    # The config: real flags, the container's ports, files under the mounts.
    conf = configmaps["attributiond-config"]["data"]["attributiond.conf"]
    help_text = subprocess.run([server, "--help"], capture_output=True, text=True).stdout
    flags = {}
    for line in conf.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line[2:].partition("=")
        if "  --%s=" % name not in help_text:
            fail("the config's --%s is not a flag of attributiond" % name)
        flags[name] = value
    if int(flags["listen"].rsplit(":", 1)[1]) != ports["grpc"]:
        fail("--listen is not the grpc port")
    if int(flags["admin_listen"].rsplit(":", 1)[1]) != ports["admin"]:
        fail("--admin_listen is not the admin port")
    for name in ("data_dir", "backup_root", "api_keys_file", "tls_cert_file", "tls_key_file"):
        path = flags[name]
        if not any(path.startswith(m.rstrip("/") + "/") for m in mounts):
            fail("--%s=%s is under no mount" % (name, path))
    if container["args"] != ["--config", "/etc/attributiond/attributiond.conf"] or \
            "/etc/attributiond/attributiond.conf" not in mounts:
        fail("the container does not read the ConfigMap's config")
    print("kubernetes: kubectl kustomize rendered %d objects; selectors, mounts, Secrets, "
          "probes, requests, security context, scrape annotation and the config's %d flags "
          "hold together" % (len(docs), len(flags)))


if __name__ == "__main__":
    main()
