import { SIMPLE_TASKSERV } from './library.js';

/** A taskserv whose verify always reports a failed check: drives compensation. */
export const FAILING_VERIFY = SIMPLE_TASKSERV.replace(
  /def "main verify" \[\] \{[\s\S]*?\n\}\n/,
  `def "main verify" [] { $in | prvng step {|req| {checks: [(prvng check "always fails" false "fixture")]} } }\n`,
);
