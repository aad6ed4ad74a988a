import { defineConfig } from '@playwright/test';
import config from './playwright.config';

// ./infra/bench-web.sh: the same browser and origin as the end-to-end tests, the bench folder.
export default defineConfig({
  ...config,
  testDir: 'bench',
  testMatch: '*.bench.ts',
  outputDir: 'test-results/bench-artifacts',
  reporter: [['list']],
  projects: config.projects?.filter((project) => project.name === 'desktop'),
});
