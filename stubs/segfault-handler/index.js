'use strict';
// naudiodon calls registerHandler('crash.log') at load; crash reporting is the host's job.
module.exports = { registerHandler() {}, causeSegfault() {}, causeAbort() {}, causeIllegal() {} };
