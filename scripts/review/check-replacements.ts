/**
 * `npm run check:replacements -- --base <git-ref> [--head <git-ref>] [--allow-list <file>]`
 *
 * Synthesizes the base ref and the working tree (offline, into temp dirs) and fails (exit 1) if
 * any stateful resource (stateful-types.ts) would be replaced or deleted, naming stack, logical
 * id, type and the property forcing the replacement. A reviewed entry in the allow-list
 * (default review/replacements-allowed.json of the head tree) is the only way through.
 * Exit 0: nothing stateful replaced or deleted (or all allowed); 2: could not run.
 */
import * as path from 'node:path';
import { EXIT_FAILED, main, parse, synthAndCompare } from './cli';
import { applyAllowList, DEFAULT_ALLOW_LIST, findStatefulRisks, loadAllowList, todayUtc } from './guard';
import { renderGuard } from './render';
import { repoRoot } from './synth-trees';

const USAGE = `usage: npm run check:replacements -- --base <git-ref> [--head <git-ref>] [--allow-list <file>] [--keep]
  --base <ref>        what is deployed now (e.g. origin/main, HEAD~1)
  --head <ref>        compare this ref instead of the working tree
  --allow-list <file> reviewed exceptions (default: ${DEFAULT_ALLOW_LIST} in the head tree)
  --keep              keep the synthesized outputs and print where they are`;

main(async () => {
  const args = parse(process.argv.slice(2), { 'allow-list': { type: 'string' } }, USAGE);
  const allowListArg = args['allow-list'];
  // Known before synthesis unless it lives in a --head checkout: a broken allow-list fails fast.
  const earlyFile = typeof allowListArg === 'string' ? path.resolve(allowListArg)
    : args.head === undefined ? path.join(repoRoot(process.cwd()), DEFAULT_ALLOW_LIST) : undefined;
  const earlyEntries = earlyFile === undefined ? undefined : loadAllowList(earlyFile);
  let code = 0;
  await synthAndCompare({ base: args.base, head: args.head, keep: Boolean(args.keep) }, ({ comparison, labels, headRoot }) => {
    const allowListFile = earlyFile ?? path.join(headRoot, DEFAULT_ALLOW_LIST);
    const entries = earlyEntries ?? loadAllowList(allowListFile);
    const shown = path.relative(process.cwd(), allowListFile) || allowListFile;
    const result = applyAllowList(findStatefulRisks(comparison), entries, todayUtc());
    process.stdout.write(renderGuard(result, labels, shown));
    code = result.blocked.length ? EXIT_FAILED : 0;
  });
  return code;
});
