// The job layer's face, shared by the extension and the CLI: job files → Job, the forked worker runner,
// the run store and exports. No `vscode` import anywhere under this folder.
export * from './benchmarkJobFile';
export * from './checkpointFolder';
export * from './errors';
export * from './export';
export * from './jobFileModel';
export * from './quantizeJobFile';
export * from './runLabels';
export * from './runStore';
export * from './runner';
export * from './quantizePreflight';
export * from './methodTemplates';
export * from './advisorJobs';
