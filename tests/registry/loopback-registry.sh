#!/usr/bin/env bash
# Loopback test registry: builds tiny images with umoci, runs Debian's docker-registry on 127.0.0.1 and pushes with skopeo.
# Nothing here contacts a non-loopback host.
#   image DIR                         OCI layout DIR/oci with tags: mini (2 layers, whiteouts, ENV/WORKDIR), unique (random file)
#   start DIR none|basic USER PASS    start a registry (storage DIR/storage); prints its port; pid in DIR/registry.pid
#   start DIR token REALM SERVICE ISSUER CERT.pem
#   push DIR PORT TAG REPO:TAG [CREDS] [zstd]   skopeo copy oci:DIR/oci:TAG -> docker://127.0.0.1:PORT/REPO:TAG
#   blob-path DIR REPO_TAG            storage path of the (last) layer blob of OCI tag REPO_TAG
#   stop DIR
set -euo pipefail
cmd=$1; dir=$2; shift 2
mkdir -p "$dir"

mini_rootfs() {
  local root=$1 tool lib
  mkdir -p "$root/usr/bin" "$root/etc" "$root/srv" "$root/tmp"
  for tool in /usr/bin/dash /usr/bin/cat /usr/bin/ls /usr/bin/env /usr/bin/pwd /usr/bin/id /usr/bin/sleep; do
    cp -L "$tool" "$root$tool"
    for lib in $(ldd "$tool" | grep -o '/[^ ]*'); do
      [[ -e "$lib" ]] && mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
    done
  done
  ln -s usr/bin "$root/bin"
  ln -s dash "$root/usr/bin/sh"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
}

case "$cmd" in
  image)
    rm -rf "$dir/oci" "$dir/bundle" "$dir/bundle2"
    umoci init --layout "$dir/oci"
    umoci new --image "$dir/oci:mini"
    umoci unpack --image "$dir/oci:mini" "$dir/bundle" >/dev/null
    mini_rootfs "$dir/bundle/rootfs"
    echo "layer-one" >"$dir/bundle/rootfs/etc/marker"
    mkdir -p "$dir/bundle/rootfs/usr/share/doomed" "$dir/bundle/rootfs/opt/old"
    echo gone >"$dir/bundle/rootfs/usr/share/gone.txt"
    echo inner >"$dir/bundle/rootfs/opt/old/inner.txt"
    umoci repack --refresh-bundle --image "$dir/oci:mini" "$dir/bundle"
    # second layer: deletions become whiteouts
    rm "$dir/bundle/rootfs/usr/share/gone.txt"
    rm -r "$dir/bundle/rootfs/opt/old"
    echo "layer-two" >"$dir/bundle/rootfs/etc/layer2"
    umoci repack --image "$dir/oci:mini" "$dir/bundle"
    umoci config --image "$dir/oci:mini" --config.env FOO=from-image --config.workingdir /srv >/dev/null
    umoci new --image "$dir/oci:unique"
    umoci unpack --image "$dir/oci:unique" "$dir/bundle2" >/dev/null
    mini_rootfs "$dir/bundle2/rootfs"
    head -c 65536 /dev/urandom >"$dir/bundle2/rootfs/etc/random.bin"
    umoci repack --image "$dir/oci:unique" "$dir/bundle2"
    ;;
  start)
    mode=$1
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    {
      echo "version: 0.1"
      echo "log: {level: error, accesslog: {disabled: true}}"
      echo "storage: {filesystem: {rootdirectory: \"$dir/storage\"}, delete: {enabled: true}}"
      echo "http: {addr: \"127.0.0.1:$port\", secret: loopback-test}"
      case "$mode" in
        basic) htpasswd -Bbn "$2" "$3" >"$dir/htpasswd"; echo "auth: {htpasswd: {realm: loopback, path: \"$dir/htpasswd\"}}" ;;
        token) echo "auth: {token: {realm: \"$2\", service: \"$3\", issuer: \"$4\", rootcertbundle: \"$5\"}}" ;;
        none) ;;
      esac
    } >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    echo $! >"$dir/registry.pid"
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; exit 0; fi
      sleep 0.1
    done
    echo "registry did not start: $(cat "$dir/registry.log")" >&2; exit 1
    ;;
  push)
    port=$1 tag=$2 target=$3 creds=${4:-} format=${5:-}
    args=(--insecure-policy copy --quiet --dest-tls-verify=false)
    [[ -n "$creds" ]] && args+=(--dest-creds "$creds")
    source="oci:$dir/oci:$tag"
    if [[ "$format" == zstd ]]; then   # recompressed into a second layout (a push would reuse the registry's gzip blobs)
      rm -rf "$dir/zstd"
      skopeo --insecure-policy copy --quiet --dest-compress-format zstd "$source" "oci:$dir/zstd:$tag"
      source="oci:$dir/zstd:$tag"
    fi
    skopeo "${args[@]}" "$source" "docker://127.0.0.1:$port/$target"
    ;;
  blob-path)
    digest=$(python3 - "$dir/oci" "$1" <<'PY'
import json, sys
layout, tag = sys.argv[1], sys.argv[2]
blob = lambda d: f"{layout}/blobs/sha256/{d.split(':')[1]}"
index = json.load(open(f"{layout}/index.json"))
m = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
print(json.load(open(blob(m["digest"])))["layers"][-1]["digest"].split(":")[1])
PY
)
    echo "$dir/storage/docker/registry/v2/blobs/sha256/${digest:0:2}/$digest/data"
    ;;
  stop)
    [[ -f "$dir/registry.pid" ]] && kill "$(cat "$dir/registry.pid")" 2>/dev/null || true
    ;;
esac
