// The devices the advisor can size a quantization for: memory and memory bandwidth from each vendor's
// specification page, its "GB" of memory read as GiB (the capacity of the memory stacks; an H200's 141 GB, where
// nvidia-smi's total is at hand, is that total instead); usable memory is a little less, the CUDA context takes some.
// "this-machine" is the memory available here now (memoryFit.ts), with no bandwidth: a CPU's is not known to us.
import { availableMemory } from './memoryFit';

export interface Device {
  id: string;
  label: string;
  memoryBytes: number;
  /** Bytes per second; undefined when unknown (no speed prediction then). */
  bandwidthBytesPerSecond?: number;
  /** Where the figures come from. */
  source: string;
}

const GIB = 2 ** 30;
const GBPS = 1e9;

export const DEVICES: readonly Device[] = [
  {
    id: 'rtx-4090',
    label: 'NVIDIA GeForce RTX 4090 (24 GB)',
    memoryBytes: 24 * GIB,
    bandwidthBytesPerSecond: 1008 * GBPS,
    source: 'NVIDIA Ada Lovelace architecture whitepaper: 24 GB GDDR6X, 1008 GB/s',
  },
  {
    id: 'rtx-3090',
    label: 'NVIDIA GeForce RTX 3090 (24 GB)',
    memoryBytes: 24 * GIB,
    bandwidthBytesPerSecond: 936 * GBPS,
    source: 'NVIDIA Ampere GA102 whitepaper: 24 GB GDDR6X, 936 GB/s',
  },
  {
    id: 'l4',
    label: 'NVIDIA L4 (24 GB)',
    memoryBytes: 24 * GIB,
    bandwidthBytesPerSecond: 300 * GBPS,
    source: 'nvidia.com/en-us/data-center/l4: 24 GB GDDR6, 300 GB/s',
  },
  {
    id: 't4',
    label: 'NVIDIA T4 (16 GB)',
    memoryBytes: 16 * GIB,
    bandwidthBytesPerSecond: 320 * GBPS,
    source: 'nvidia.com/en-us/data-center/tesla-t4: 16 GB GDDR6, 320+ GB/s',
  },
  {
    id: 'a100-40gb',
    label: 'NVIDIA A100 40 GB (PCIe)',
    memoryBytes: 40 * GIB,
    bandwidthBytesPerSecond: 1555 * GBPS,
    source: 'nvidia.com/en-us/data-center/a100: A100 40GB PCIe, HBM2 1,555 GB/s',
  },
  {
    id: 'a100-80gb',
    label: 'NVIDIA A100 80 GB (SXM)',
    memoryBytes: 80 * GIB,
    bandwidthBytesPerSecond: 2039 * GBPS,
    source: 'nvidia.com/en-us/data-center/a100: A100 80GB SXM, HBM2e 2,039 GB/s',
  },
  {
    id: 'h100-80gb',
    label: 'NVIDIA H100 80 GB (SXM)',
    memoryBytes: 80 * GIB,
    bandwidthBytesPerSecond: 3350 * GBPS,
    source: 'nvidia.com/en-us/data-center/h100: H100 SXM, 80 GB HBM3, 3.35 TB/s',
  },
  {
    id: 'h200',
    label: 'NVIDIA H200 (141 GB, SXM)',
    memoryBytes: 143771 * 2 ** 20,
    bandwidthBytesPerSecond: 4800 * GBPS,
    source: 'nvidia.com/en-us/data-center/h200: H200 SXM, 141 GB HBM3e, 4.8 TB/s; nvidia-smi memory.total on an H200: 143771 MiB',
  },
];

export const THIS_MACHINE = 'this-machine';

/** A device by id ("this-machine": the memory available now, bandwidth unknown), or undefined. */
export function deviceById(id: string, env: NodeJS.ProcessEnv = process.env): Device | undefined {
  if (id === THIS_MACHINE) {
    const available = availableMemory(env);
    return { id, label: 'this machine', memoryBytes: available.bytes, source: `${available.source}; memory bandwidth unknown` };
  }
  return DEVICES.find((d) => d.id === id);
}

/** "6GiB", "6.5 GB", "512MiB" → bytes, or an error string. */
export function parseBudget(text: string): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(GiB|GB|MiB|MB|TiB|TB)\s*$/i.exec(text);
  if (!m) return `budget '${text}' is not a size: write e.g. 6GiB, 24GB or 512MiB`;
  const unit = m[2]!.toLowerCase();
  const scale: Record<string, number> = { gib: GIB, gb: 1e9, mib: 2 ** 20, mb: 1e6, tib: 2 ** 40, tb: 1e12 };
  const bytes = Number(m[1]) * scale[unit]!;
  return bytes > 0 ? bytes : `budget '${text}' must be more than zero`;
}
