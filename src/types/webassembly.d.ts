// The WebAssembly names this project uses. TypeScript declares WebAssembly only in its DOM and
// web-worker libraries, which would also bring browser globals that do not exist in Node.
declare namespace WebAssembly {
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  // eslint-disable-next-line @typescript-eslint/no-extraneous-class
  const Memory: { prototype: Memory; new (descriptor: { initial: number; maximum?: number }): Memory };
  // A compiled module: opaque here, passed from the executor's main thread to its workers.
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Module {}
  const Module: { prototype: Module; new (bytes: BufferSource): Module };
  function compile(bytes: BufferSource): Promise<Module>;
}
