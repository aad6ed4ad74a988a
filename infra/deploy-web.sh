#!/usr/bin/env bash
# Publishes the web app to a deployed stack: builds web/ and uploads web/dist to the stack's
# private site bucket, then invalidates index.html at CloudFront.
#
#   ./infra/deploy-web.sh [stack-name]      (default: the samconfig.toml dev stack, anumi-dev)
#
# Cache headers: the hashed files of assets/ never change under their name (a year,
# immutable); index.html and the other unhashed files are revalidated on every load
# (no-cache), so a deploy shows at the next page load and only /index.html needs an
# invalidation. Needs the AWS CLI with credentials for the stack's account, and Node.js.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${1:-anumi-dev}"

output() {
  aws cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket="$(output SiteBucketName)"
distribution="$(output SiteDistributionId)"
if [[ -z "$bucket" || "$bucket" == "None" || -z "$distribution" || "$distribution" == "None" ]]; then
  echo "stack $STACK has no SiteBucketName/SiteDistributionId outputs: deploy template.yaml first" >&2
  exit 1
fi

echo "==> building web/"
(cd "$ROOT/web" && npm ci && npm run build)
dist="$ROOT/web/dist"

echo "==> uploading to s3://$bucket"
# Hashed assets first, so the new index.html never points at files not yet uploaded.
aws s3 sync "$dist/assets" "s3://$bucket/assets" \
  --cache-control "public, max-age=31536000, immutable"
aws s3 sync "$dist" "s3://$bucket" --exclude "assets/*" --exclude "index.html" \
  --cache-control "no-cache"
aws s3 cp "$dist/index.html" "s3://$bucket/index.html" \
  --cache-control "no-cache" --content-type "text/html; charset=utf-8"
# Files of older builds stay a while for pages still open on them; remove them later with
# `aws s3 sync "$dist" "s3://$bucket" --delete` once no old page can ask for them.

echo "==> invalidating /index.html at $distribution"
aws cloudfront create-invalidation --distribution-id "$distribution" --paths /index.html \
  --query Invalidation.Id --output text
echo "web app deployed: https://$(output SiteDomainName)"
