import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log warnings and errors only: state changes at INFO would bury test output.
Runtime.install({ logger: new DefaultLogger('WARN') });
