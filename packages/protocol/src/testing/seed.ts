import { randomInt } from 'node:crypto';

/**
 * Seed for the random-input tests: fresh each run so the properties are
 * checked on new inputs, printed in the suite name so a failure reproduces
 * with DTRAIN_TEST_SEED=<seed>.
 */
export const TEST_SEED = process.env['DTRAIN_TEST_SEED'] === undefined ? randomInt(2 ** 31) : Number(process.env['DTRAIN_TEST_SEED']);
