/** Registers, for the wasm backend, the training kernels tfjs's wasm backend lacks or runs naively. */
export async function registerWasmTraining(): Promise<void> {
  // filled in by the kernel work
}
