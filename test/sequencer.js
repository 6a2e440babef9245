// The order jest starts test files in: the local cluster's file first, then jest's own order
// (files that failed last time, then the longest by recorded duration, else the largest file).
// The cluster's file runs for minutes, the longest of all, but is small (it imports its suites),
// and a fresh clone has no recorded durations: by size alone it would start last and run alone.
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = ['test/cluster/local-cluster.test.ts'];

class PlatformSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const first = FIRST.flatMap((suffix) => sorted.filter((test) => test.path.endsWith(suffix)));
    return [...first, ...sorted.filter((test) => !first.includes(test))];
  }
}

module.exports = PlatformSequencer;
