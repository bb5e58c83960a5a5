import { ApplicationFailure } from '@temporalio/workflow';
import { ExtensionError, InvalidInput } from '../src/errors.js';
import { parseName, parseServer, parseVersionRequest } from '../src/input.js';
import type { ClusterInstallInput, TaskservInstallInput } from './definitions.js';

const MAX_SETTINGS_BYTES = 64 * 1024;

/**
 * Workflow input arrives as raw JSON (from any client, the Temporal CLI included): check
 * it before it becomes a search attribute, a workflow id or a path. A bad input fails the
 * workflow at once with a typed, non-retryable failure; a plain Error would instead fail
 * the workflow task and retry forever.
 */
export function checkTaskservInput(input: TaskservInstallInput): void {
  typed(() => {
    object(input, 'input');
    parseName(input.name);
    parseVersionRequest(input.version);
    target(input.target);
    settings(input.settings, 'settings');
    if (input.installDependencies !== undefined && typeof input.installDependencies !== 'boolean') {
      throw new InvalidInput('installDependencies must be true or false', { field: 'installDependencies' });
    }
    if (input.requiredBy !== undefined && (!Array.isArray(input.requiredBy) || input.requiredBy.length > 256)) {
      throw new InvalidInput('requiredBy must be a list of names', { field: 'requiredBy' });
    }
  });
}

export function checkClusterInput(input: ClusterInstallInput): void {
  typed(() => {
    object(input, 'input');
    parseName(input.name);
    parseVersionRequest(input.version);
    target(input.target);
    const { maxParallel } = input;
    if (maxParallel !== undefined && (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64)) {
      throw new InvalidInput('maxParallel must be an integer from 1 to 64', { field: 'maxParallel' });
    }
    if (input.settings !== undefined) {
      settings(input.settings, 'settings');
      for (const [name, value] of Object.entries(input.settings)) settings(value, `settings.${parseName(name, 'settings key')}`);
    }
  });
}

function target(value: unknown): void {
  object(value, 'target');
  const t = value as { provider: unknown; server: unknown };
  parseName(t.provider, 'target provider');
  parseServer(t.server);
}

function settings(value: unknown, field: string): void {
  if (value === undefined) return;
  object(value, field);
  if (JSON.stringify(value).length > MAX_SETTINGS_BYTES) throw new InvalidInput(`${field} is larger than ${MAX_SETTINGS_BYTES} bytes`, { field });
}

function object(value: unknown, field: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInput(`${field} must be a JSON object`, { field });
}

function typed(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof ExtensionError) throw ApplicationFailure.nonRetryable(err.message, err.kind, err.details);
    throw err;
  }
}
