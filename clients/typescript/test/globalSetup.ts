/** Starts a live ragkube API (the real Python app) once for the whole test run. */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

export interface LiveApi {
  url: string;
  limited_url: string;
  username: string;
  password: string;
  api_key: string;
  admin_key: string;
  query_only_key: string;
  limited_keys: string[];
  limited_requests: number;
  limited_window_seconds: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    live: LiveApi;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const python = process.env.RAGKUBE_PYTHON ?? join(repoRoot, ".venv/bin/python");
  const dir = mkdtempSync(join(tmpdir(), "ragkube-ts-"));
  const child = spawn(python, [join(here, "server.py"), dir], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const facts = await new Promise<LiveApi>((resolveFacts, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`the live API did not start:\n${stderr}`)), 240_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline !== -1) {
        clearTimeout(timer);
        resolveFacts(JSON.parse(stdout.slice(0, newline)) as LiveApi);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the live API exited with ${code}:\n${stderr}`));
    });
  });
  project.provide("live", facts);
  return async () => {
    const exited = new Promise((done) => child.once("exit", done));
    child.stdin.end();
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  };
}
