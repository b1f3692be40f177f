// AWSGuard as a team configures it in code: that config is the pack's initialConfig, which the Pulumi
// CLI reads from GetAnalyzerInfo and applies before any --policy-pack-config file.
"use strict";
const { AwsGuard } = require("@pulumi/awsguard");

new AwsGuard({ all: "advisory", acmCertificateExpiration: "disabled" });
