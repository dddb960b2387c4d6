#!/bin/sh
# Puts a real llama.cpp llama-server (Debian unstable's build) in DIR without installing it and
# without touching this machine's apt configuration: the packages are downloaded with a private
# sources list (this machine's Debian mirror, suite sid) and unpacked; bin/llama-server runs the
# server with sid's own loader and libraries (sid's libc is newer than Debian 12's).
#
#	examples/llamacpp/fetch-llama-server.sh /tmp/llamacpp
#	/tmp/llamacpp/bin/llama-server -m MODEL.gguf --port 8080 -np 8
set -eu
dir=${1:-/tmp/llamacpp}
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list.d/debian.sources" >&2; exit 1; }
apt="$dir/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/debs" "$dir/root" "$dir/bin"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" >"$apt/sources.list"
opts="-o Dir::Etc::SourceList=$apt/sources.list -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache"
apt-get $opts update
cd "$dir/debs"
apt-get $opts download llama.cpp-tools libllama0 libggml0 libc6 libstdc++6 libgcc-s1 libgomp1 libssl3t64 zlib1g
for d in *.deb; do dpkg-deb -x "$d" "$dir/root"; done
lib="$dir/root/usr/lib/x86_64-linux-gnu"
cat >"$dir/bin/llama-server" <<SH
#!/bin/sh
# ggml loads its CPU backend from a file; haswell (AVX2) runs on any x86-64 CPU of the last decade.
export GGML_BACKEND_PATH=\${GGML_BACKEND_PATH:-$lib/ggml/backends0/libggml-cpu-haswell.so}
exec $dir/root/usr/lib64/ld-linux-x86-64.so.2 --library-path $lib:$lib/llama:$dir/root/lib/x86_64-linux-gnu $dir/root/usr/bin/llama-server "\$@"
SH
chmod +x "$dir/bin/llama-server"
"$dir/bin/llama-server" --version
