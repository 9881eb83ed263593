// The runtime-spec version tsrun implements: the ociVersion of the state it
// writes and of `tsrun spec`, the features' ociVersionMax, and `--version`.
export const specVersion = '1.3.0';
