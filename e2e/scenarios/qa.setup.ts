// Runs once before the scenarios (a project dependency): the report starts empty for this run, and
// each scenario adds its section (also when a failed scenario makes Playwright start a new worker).
import { test } from '@playwright/test';
import { reportDir, resetReport } from './qa.js';

test('start an empty QA report', () => {
  resetReport();
  test.info().annotations.push({ type: 'QA report', description: reportDir });
});
