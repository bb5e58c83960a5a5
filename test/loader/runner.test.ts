import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptFailure } from '../../src/errors.js';
import { NushellRunner } from '../../src/nushell/runner.js';
import { tempDir } from '../support/library.js';
import { isAlive } from '../support/processes.js';

/** Hostile and broken scripts against the runner's sandbox (DESIGN.md section 4). */
const runner = new NushellRunner({ timeoutMs: 1_500 });
afterAll(() => runner.close());

function script(body: string): string {
  const file = join(tempDir('script'), 'main.nu');
  writeFileSync(file, `use prvng\ndef main [] {}\n${body}\n`);
  return file;
}


async function waitForPid(file: string): Promise<number> {
  await expect.poll(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', { timeout: 5_000 }).toBe(true);
  return Number(readFileSync(file, 'utf8').trim());
}

describe('NushellRunner sandbox', () => {
  it('passes the request on stdin and returns the envelope data', async () => {
    const file = script('def "main configure" [] { $in | prvng step {|req| {echo: $req.value, argv_free: true} } }');
    const { data } = await runner.run(file, 'configure', { value: "it's $(not) `run`; \n ok" });
    expect(data).toEqual({ echo: "it's $(not) `run`; \n ok", argv_free: true });
  });

  it("does not let a script see the worker's environment", async () => {
    process.env.PRVNG_TEST_SECRET = 'hunter2';
    process.env.AWS_SECRET_ACCESS_KEY = 'hunter3';
    try {
      const file = script('def "main verify" [] { $in | prvng step {|req| $env | columns } }');
      const { data } = await runner.run<string[]>(file, 'verify', {}, { env: { PRVNG_STEP: 'verify' } });
      expect(data).not.toContain('PRVNG_TEST_SECRET');
      expect(data).not.toContain('AWS_SECRET_ACCESS_KEY');
      expect(data).toContain('PRVNG_STEP');
      expect(data).toContain('HOME');
    } finally {
      delete process.env.PRVNG_TEST_SECRET;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('kills a hanging script and its grandchildren at the timeout', async () => {
    const pidFile = join(tempDir('pid'), 'child.pid');
    const file = script('def "main install" [] { let req = $in | from json; ^sh -c $"sleep 300 & echo $! > ($req.pid_file); wait" }');
    const started = Date.now();
    const err = await runner.run(file, 'install', { pid_file: pidFile }).catch((e) => e);
    expect(err).toBeInstanceOf(ScriptFailure);
    expect(err.message).toMatch(/timed out after 1500 ms and was killed/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const grandchild = await waitForPid(pidFile);
    await expect.poll(() => isAlive(grandchild), { timeout: 3_000 }).toBe(false);
  });

  it('kills a background process a script leaves behind when it exits', async () => {
    const pidFile = join(tempDir('pid'), 'bg.pid');
    const file = script(
      'def "main install" [] { $in | prvng step {|req| ^sh -c $"sleep 300 > /dev/null 2>&1 & echo $! > ($req.pid_file)"; {forked: true} } }',
    );
    const { data } = await runner.run(file, 'install', { pid_file: pidFile });
    expect(data).toEqual({ forked: true });
    const background = await waitForPid(pidFile);
    await expect.poll(() => isAlive(background), { timeout: 3_000 }).toBe(false);
  });

  it('caps 100 MB of output and keeps only the tail', async () => {
    const file = script('def "main install" [] { $in | prvng step {|req| ^head -c 104857600 /dev/zero; {printed: true} } }');
    const big = new NushellRunner({ timeoutMs: 60_000 });
    try {
      const before = process.memoryUsage().rss;
      const result = await big.run(file, 'install', {});
      expect(result.data).toEqual({ printed: true });
      expect(result.stdoutTail.length).toBeLessThanOrEqual(64 * 1024);
      expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 * 1024);
    } finally {
      big.close();
    }
  });

  it('fails a script that exits 0 without a result', async () => {
    const file = script('def "main install" [] { print "did nothing" }');
    await expect(runner.run(file, 'install', {})).rejects.toThrow(/exited 0 without writing a result/);
  });

  it('reports a parse error clearly', async () => {
    const file = script('def "main install" [] { let x = (1 + }');
    const err = await runner.run(file, 'install', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ScriptFailure);
    expect(err.message).toMatch(/exited with code 1/);
    expect(err.details.stderr_tail).toMatch(/nu::parser/);
  });

  it("returns the script's own error message", async () => {
    const file = script('def "main configure" [] { $in | prvng step {|req| error make {msg: "port must be an int"} } }');
    await expect(runner.run(file, 'configure', {})).rejects.toThrow(/failed: port must be an int/);
  });

  it('refuses a subcommand outside the allowlist', async () => {
    const file = script('');
    await expect(runner.run(file, 'rm -rf' as never, {})).rejects.toThrow(/unknown subcommand/);
  });
});

describe('the no-network sandbox', () => {
  it('a script reaches a loopback server in the process sandbox, and nothing with no-network', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.end('secret data')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const file = script('def "main install" [] { $in | prvng step {|req| try { http get $"http://127.0.0.1:($req.port)/" } catch {|e| $"blocked: ($e.msg)" } } }');
    const confined = new NushellRunner({ sandbox: 'no-network' });
    try {
      expect((await runner.run(file, 'install', { port })).data).toBe('secret data');
      const { data } = await confined.run<string>(file, 'install', { port });
      expect(data).toMatch(/^blocked: /);
    } finally {
      confined.close();
      server.close();
    }
  });
});
