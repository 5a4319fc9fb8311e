# deps.sh: sourced by the GPU machine scripts (run_on_device.sh, run_bench_on_device.sh). That
# machine lacks the build's libraries (msgpack-c, cJSON) and reaches no package registry: the
# Debian packages come along in DEBS (default third_party/debs, git-ignored), fetched beforehand
# where apt works:
#   mkdir -p third_party/debs && (cd third_party/debs &&
#       apt-get download libmsgpackc2 libmsgpack-dev libcjson1 libcjson-dev)
# and are unpacked into PREFIX (default /tmp/of3-deps), never into /, found through CPATH,
# LIBRARY_PATH and LD_LIBRARY_PATH. Then the card is named.
debs=${DEBS:-third_party/debs}
prefix=${PREFIX:-/tmp/of3-deps}
if ! printf '#include <msgpack.h>\n#include <cjson/cJSON.h>\n' | cc -E - >/dev/null 2>&1; then
	for f in "$debs"/*.deb; do
		dpkg -x "$f" "$prefix"
	done
	lib=$prefix/usr/lib/$(cc -print-multiarch)
	export CPATH="$prefix/usr/include${CPATH:+:$CPATH}"
	export LIBRARY_PATH="$lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
	export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
