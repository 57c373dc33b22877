#!/bin/sh
# refresh.sh [VERSION] copies the Swagger UI files /api/docs/ embeds into swagger-ui/, from
# the swagger-ui-dist that package-lock.json pins; with VERSION it first pins that version.
# `go generate ./internal/httpapi/` runs it. Review and commit swagger-ui/ and the lock.
set -eu
cd "$(dirname "$0")"
if [ $# -gt 0 ]; then
	npm install --package-lock-only --ignore-scripts --save-exact --no-audit --no-fund "swagger-ui-dist@$1"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json "$tmp/"
# --ignore-scripts: the package's one dependency is an install-time analytics script.
npm ci --prefix "$tmp" --ignore-scripts --no-audit --no-fund --loglevel=error
src="$tmp/node_modules/swagger-ui-dist"
rm -rf swagger-ui
mkdir swagger-ui
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
	# The source maps are not shipped, so nothing may ask for them.
	sed '/^\/\/# sourceMappingURL=/d; s#/\*\# sourceMappingURL=[^*]*\*/##' "$src/$f" >"swagger-ui/$f"
done
# The script and style sheet are embedded and served compressed (schema.go); -n keeps
# the name and time out, so the same release gives the same bytes.
for f in swagger-ui-bundle.js swagger-ui.css; do
	gzip -9 -n -f "swagger-ui/$f"
done
node -p 'require(process.argv[1]).version' "$src/package.json" >swagger-ui/VERSION
echo "swagger-ui-dist $(cat swagger-ui/VERSION) copied into $(pwd)/swagger-ui"
