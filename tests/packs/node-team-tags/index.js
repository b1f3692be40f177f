// A Node.js policy pack (@pulumi/policy): one advisory policy with a config property, so
// Configure's per-policy properties reach a Node.js pack as the Pulumi CLI sends them.
"use strict";
const { PolicyPack } = require("@pulumi/policy");

new PolicyPack("node-team-tags", {
    policies: [{
        name: "aws-require-team-tag",
        description: "Every tagged AWS resource carries a tag naming its owning team.",
        enforcementLevel: "advisory",
        configSchema: { properties: { tagKey: { type: "string", default: "team" } } },
        validateResource: (args, reportViolation) => {
            const tags = args.props.tags;
            if (!args.type.startsWith("aws:") || tags === undefined || tags === null) {
                return;
            }
            const key = args.getConfig().tagKey;
            if (!(key in tags)) {
                reportViolation(`no '${key}' tag (tags: ${Object.keys(tags).sort().join(", ")})`);
            }
        },
    }],
});
