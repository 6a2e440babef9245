/**
 * `npm run diff -- --base <git-ref> [--head <git-ref>] [--markdown <file>] [--full]`
 *
 * The offline pull-request diff: synthesizes the base ref and the working tree (no AWS
 * credentials, temp dirs) and prints per environment and stack the resources added, removed,
 * replaced and modified, the IAM and security-group changes, the flows the change opens or
 * closes (the reachability model, forbidden openings first), and a unified diff of every
 * rendered Kubernetes manifest that changed. --markdown writes the same for a PR comment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main, parse, synthAndCompare } from './cli';
import { loadPlatformSpec } from '../../lib/spec';
import { compareReachability } from './reachability';
import { renderMarkdown, renderText } from './render';

const USAGE = `usage: npm run diff -- --base <git-ref> [--head <git-ref>] [--markdown <file>] [--full] [--keep]
  --base <ref>        what is deployed now (e.g. origin/main, HEAD~1)
  --head <ref>        compare this ref instead of the working tree
  --markdown <file>   also write the summary as Markdown (pull-request comment)
  --full              also print cloudformation-diff's full per-stack diff
  --keep              keep the synthesized outputs and print where they are`;

main(async () => {
  const args = parse(process.argv.slice(2), { markdown: { type: 'string' }, full: { type: 'boolean' } }, USAGE);
  const spec = loadPlatformSpec({ env: process.env });
  await synthAndCompare({ base: args.base, head: args.head, keep: Boolean(args.keep) }, ({ comparison: templates, labels, outputs }) => {
    const comparison = { ...templates, reachability: compareReachability(outputs.base, outputs.head, spec) };
    process.stdout.write(renderText(comparison, labels, { full: Boolean(args.full), columns: process.stdout.columns }));
    const markdown = args.markdown as string | undefined;
    if (markdown) {
      fs.mkdirSync(path.dirname(path.resolve(markdown)), { recursive: true });
      fs.writeFileSync(markdown, renderMarkdown(comparison, labels));
      console.error(`review: Markdown written to ${markdown}`);
    }
  });
  return 0;
});
