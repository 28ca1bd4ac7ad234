// Architectures shared by recipes and benchmarks.
export * from './conv_tasnet';
export * from './crn';
