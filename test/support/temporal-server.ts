import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * vitest global setup: reuse a running dev server, or start one through temporal-dev.sh
 * and stop it afterwards. A server someone else started is left running.
 */
const script = fileURLToPath(new URL('../../temporal-dev.sh', import.meta.url));

function serving(): boolean {
  try {
    execFileSync(script, ['status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): () => void {
  if (serving()) return () => undefined;
  execFileSync(script, ['start'], { stdio: 'inherit' });
  return () => {
    execFileSync(script, ['stop'], { stdio: 'inherit' });
  };
}
