import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 240_000,
    // One live server serves every file; run files one after another to keep timing tests honest.
    fileParallelism: false,
  },
});
