import type { InstallProgress } from '../../workflows/definitions.js';

/** One line per step as it advances, dependencies under the validate step that waits for them. */
export class ProgressPrinter {
  private readonly shown = new Set<string>();

  constructor(private readonly write: (line: string) => void = (line) => console.log(line)) {}

  print(progress: InstallProgress): void {
    const dependencies = () => {
      for (const dep of progress.dependencies) this.once(`dep:${dep.name}:${dep.status}`, `    dependency ${dep.name}: ${dep.status} (${dep.workflow_id})`);
    };
    for (const step of progress.steps) {
      if (step.status === 'pending') continue;
      const timing = step.duration_ms !== undefined && step.status !== 'running' ? ` in ${step.duration_ms} ms` : '';
      const detail = step.detail && step.status !== 'done' ? ` - ${step.detail}` : '';
      // Dependencies install while validate runs: their lines go between its start and its end.
      if (step.name === 'validate' && step.status !== 'running') dependencies();
      this.once(`${step.name}:${step.status}`, `  ${progress.name}: ${step.name} ${step.status}${timing}${detail}`);
      if (step.name === 'validate' && step.status === 'running') dependencies();
    }
  }

  private once(key: string, line: string): void {
    if (this.shown.has(key)) return;
    this.shown.add(key);
    this.write(line);
  }
}
