// Classifies the changes to stateful resources between two CloudFormation templates with the CDK CLI's own
// diff engine (@aws-cdk/cloudformation-diff, pinned in package.json next to the CLI). Called by tmkit/guard.py.
//
// stdin:  {"current": <deployed template or {}>, "proposed": <synthesized template>, "types": [...], "impacts": [...]}
// stdout: [{"logicalId", "type", "impact", "properties": [{"name", "impact"}]}], one entry per resource of one of
//         `types` whose changeImpact is one of `impacts`; `properties` names the property changes that force it.
'use strict';

const { fullDiff } = require('@aws-cdk/cloudformation-diff');

function classify({ current, proposed, types, impacts }) {
  const wanted = new Set(types);
  const risky = new Set(impacts);
  const found = [];
  fullDiff(current || {}, proposed || {}).resources.forEachDifference((logicalId, change) => {
    const type = change.oldResourceType || change.newResourceType;
    const impact = change.changeImpact;
    if (!wanted.has(type) || !risky.has(impact)) return;
    const properties = Object.entries(change.propertyUpdates)
      .filter(([, diff]) => risky.has(diff.changeImpact))
      .map(([name, diff]) => ({ name, impact: diff.changeImpact }));
    found.push({ logicalId, type, impact, properties });
  });
  return found.sort((a, b) => a.logicalId.localeCompare(b.logicalId));
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(classify(JSON.parse(input))) + '\n');
});
