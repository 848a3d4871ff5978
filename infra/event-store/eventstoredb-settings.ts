/**
 * Whether an EventStoreDB connection string turns off throwOnAppendFailure. The client would then
 * answer a conflicting append as a result instead of an error, and optimistic concurrency needs the
 * error. Keys are read as the client reads them: case, `-` and `_` do not matter. No driver import,
 * so the configuration can check it before any client loads.
 */
export const disablesAppendFailures = (connectionString: string): boolean => {
  const query = connectionString.split('?')[1] ?? '';
  return query.split('&').some((pair) => {
    const [key = '', value = ''] = pair.split('=');
    return (
      key.trim().toLowerCase().replace(/[_-]/g, '') === 'throwonappendfailure' && value.trim() === 'false'
    );
  });
};

export const APPEND_FAILURES_REFUSED =
  'throwOnAppendFailure=false is not supported: optimistic concurrency needs a conflicting append to fail';
