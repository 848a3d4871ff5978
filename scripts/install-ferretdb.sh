#!/usr/bin/env bash
# Builds FerretDB (a MongoDB-wire server on SQLite) into $(go env GOPATH)/bin/ferretdb, for the
# MongoDB suites of `npm test` (infra/read-store/testing/ferretdb-server.ts finds it there).
#
# Not a plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: the binary that makes
# panics at start ("Invalid build/version/version.txt file content"), because FerretDB's own build
# generates that file and the module does not ship it. So: fetch the same module through the Go
# module proxy, write the version file into a copy, and build that.
set -euo pipefail

version="${FERRETDB_VERSION:-v1.24.2}"
if ! command -v go >/dev/null 2>&1; then
  echo "error: go is not installed; get it from https://go.dev/dl/ (or your package manager) and rerun" >&2
  exit 1
fi

module_dir="$(go mod download -json "github.com/FerretDB/FerretDB@${version}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
if [ -z "$module_dir" ] || [ ! -d "$module_dir" ]; then
  echo "error: go mod download did not give a source directory for FerretDB ${version}" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$module_dir/." "$work/src"
chmod -R u+w "$work/src"
echo "$version" >"$work/src/build/version/version.txt"

bin_dir="$(go env GOPATH)/bin"
mkdir -p "$bin_dir"
(cd "$work/src" && go build -trimpath -o "$bin_dir/ferretdb" ./cmd/ferretdb)
"$bin_dir/ferretdb" --version | sed -n 1p
echo "installed $bin_dir/ferretdb"
