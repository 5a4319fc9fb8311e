#!/bin/sh
# setup.sh: installs what of3 needs on Debian 12 (or Ubuntu): a C compiler, make, msgpack-c and
# cJSON; Python with msgpack and numpy for the format test and gemmi for the mmCIF test;
# util-linux `script` for the terminal tests. Uses sudo when not root. The CUDA toolkit is not
# installed here: with nvcc on the PATH (or in /usr/local/cuda) `make` adds the GPU backend,
# without it the programs run on the CPU. biotite, which tests/writecif_biotite.py reads the
# structure files with, has no Debian 12 package: pip installs the version OpenFold3 pins into a
# virtual environment at build/pyenv (on the system Python, so it sees the apt packages), used
# only by the tests; `make clean` removes it, run setup.sh again after.
set -e
pkgs="build-essential libmsgpack-dev libcjson-dev python3 python3-msgpack python3-numpy python3-gemmi python3-venv bsdutils"
missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	echo "setup.sh: installing$missing"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi
cd "$(dirname "$0")"
if ! build/pyenv/bin/python -c 'import biotite, msgpack, numpy' 2>/dev/null; then
	echo "setup.sh: installing biotite 1.2.0 into build/pyenv"
	# without network pip fails: the build and the other tests do not need biotite, and
	# make test then says that the biotite read-back did not run
	if ! { /usr/bin/python3 -m venv --system-site-packages build/pyenv &&
		build/pyenv/bin/pip install -q --disable-pip-version-check biotite==1.2.0; }; then
		echo "setup.sh: warning: could not install biotite (no network?); make test will not run tests/writecif_biotite.py" >&2
	fi
fi
echo "setup.sh: build dependencies present"
