import { SIMPLE_TASKSERV } from './library.js';

/** A taskserv whose verify always reports a failed check: drives compensation. */
export const FAILING_VERIFY = SIMPLE_TASKSERV.replace(
  /def "main verify" \[\] \{[\s\S]*?\n\}\n/,
  `def "main verify" [] { $in | prvng step {|req| {checks: [(prvng check "always fails" false "fixture")]} } }\n`,
);

/** A taskserv whose install takes `seconds`: long enough to see installs overlap. */
export function sleepyTaskserv(seconds: number): string {
  return SIMPLE_TASKSERV.replace(
    'def "main install" [] { $in | prvng step {|req| {files: (prvng install-staged $req)} } }',
    `def "main install" [] { $in | prvng step {|req| sleep ${seconds * 1000}ms; {files: (prvng install-staged $req)} } }`,
  );
}
