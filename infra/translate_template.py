"""Translates a SAM template to CloudFormation offline, for cfn-lint.

Local CodeUri values (which `sam build` would upload) become s3:// placeholders, since the
translator only accepts S3 locations; nothing else is changed.
"""
import json
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    """The translator looks up AWS managed policy names through IAM; we name none."""

    def load(self):
        return {}


def main(source, target):
    with open(source, encoding="utf-8") as handle:
        template = yaml_parse(handle.read())
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            code_uri = resource.get("Properties", {}).get("CodeUri")
            if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
                resource["Properties"]["CodeUri"] = f"s3://placeholder-bucket/{name}.zip"
    try:
        translated = transform(template, {}, OfflinePolicyLoader())
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"SAM: {cause.message}", file=sys.stderr)
        sys.exit(1)
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(translated, handle, indent=1, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
