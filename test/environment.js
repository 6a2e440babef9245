// jest's Node environment, which also runs the local stack's clean-up when a test file ends
// (scripts/local-stack/process.ts): the server processes still running and the temporary
// folders still registered (CAs, servers' data) go with the file that made them, not at the
// worker's exit, which jest may end without running exit handlers.
const { TestEnvironment } = require('jest-environment-node');

const FILE_END_HOOK = Symbol.for('platform.local-stack.cleanUp');

class PlatformEnvironment extends TestEnvironment {
  async teardown() {
    const cleanUp = this.global[FILE_END_HOOK];
    if (typeof cleanUp === 'function') cleanUp();
    await super.teardown();
  }
}

module.exports = PlatformEnvironment;
