// AWSGuard as the archive team configures it: every policy mandatory, except two, each for a reason.
"use strict";
const { AwsGuard } = require("@pulumi/awsguard");

new AwsGuard({
  all: "mandatory",
  // Calls the ACM API for each certificate: it needs AWS credentials, which an offline check has not.
  acmCertificateExpiration: "disabled",
  // Reads the bucket's inline `loggings` (pulumi-aws 4); this program logs with the separate
  // aws.s3.BucketLogging resource of pulumi-aws 7, which Rampart's
  // aws-s3-bucket-require-server-access-logging checks instead.
  s3BucketLoggingEnabled: "disabled",
});
